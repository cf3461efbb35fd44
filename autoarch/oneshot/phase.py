"""The supernet phase of a one-shot search: what runs before the first trial of ``oneshot``,
``darts`` and ``gdas``, and hands the normal search its candidates (full parameter sets,
best first) to train from scratch.

Everything lives under ``DIR/oneshot/``: a checkpoint per supernet training (weights,
optimizer state, epochs done; written after every epoch), each round of shrinking's
outcome (``shrink_<round>.json``), the path search's own journal (``paths/``) and
``candidates.json`` once the phase is over. A resumed search picks up
there: finished phases are read back, an interrupted one continues from its checkpoint.
Each epoch and the phase's outcome are notes in the search's journal (``supernet`` events,
with the architecture weights or the supernet's accuracy), for reports.
"""

import itertools
import json
import os
import re
import time

import keras
import keras_tuner as kt
import numpy as np

from autoarch.blocks.layout import DEFAULT_INPUT
from autoarch.engine import data as data_ops
from autoarch.engine.runtime import distribution_strategy
from autoarch.engine.trainer import Deadline
from autoarch.files import write_json
from autoarch.oneshot.bilevel import bilevel_model, schedule, train_bilevel
from autoarch.oneshot.checkpoint import Checkpoint, load_checkpoint
from autoarch.oneshot.supernet import Supernet, fixed_hyperparameters

#: the shares of the time left (when the phase starts) by which its supernet training and
#: its path search end: the rest is for training the candidates from scratch
TRAINING_SHARE, SEARCH_SHARE = 0.5, 0.6


def _features(inputs):
    return inputs[DEFAULT_INPUT] if list(inputs) == [DEFAULT_INPUT] else inputs


def run_phase(strategy, ctx):
    """The candidates (parameter sets, best first) of ``strategy``'s supernet phase."""
    done = ctx.folder("candidates.json")
    if os.path.exists(done):
        with open(done) as handle:
            return json.load(handle)["candidates"]
    started = time.monotonic()
    keras.utils.set_random_seed(ctx.seed)  # the supernet's initial weights and draws
    with distribution_strategy(ctx.distribution).scope():
        if strategy.sampling is None:
            candidates, record = _single_path(strategy, ctx)
        else:
            candidates, record = _gradient(strategy, ctx)
    write_json(done, {"candidates": candidates, **record})
    ctx.note("supernet", stage="done", strategy=strategy.name, candidates=candidates,
             seconds=round(time.monotonic() - started, 2), **record)
    if ctx.verbose:
        print(f"{strategy.name}: supernet phase done in {time.monotonic() - started:.0f} s; "
              f"{len(candidates)} candidate(s) to train", flush=True)
    return candidates


def _epoch_notes(ctx, stage, extra=lambda: {}):
    """A callback noting each epoch's metrics (and ``extra()``) in the journal."""
    clock = {}

    def begin(epoch, logs=None):
        clock["start"] = time.monotonic()

    def end(epoch, logs=None):
        metrics = {k: round(float(v), 5) for k, v in (logs or {}).items()}
        ctx.note("supernet", stage=stage, epoch=epoch + 1, metrics=metrics,
                 seconds=round(time.monotonic() - clock["start"], 2), **extra())

    return keras.callbacks.LambdaCallback(on_epoch_begin=begin, on_epoch_end=end)


def _train_supernet(supernet, ctx, stage, epochs, seed, pinned=None, options=None):
    """Single-path training of ``supernet`` for ``epochs`` (paths of ``options`` where
    given), resumed from its checkpoint."""
    net = supernet.model
    optimizers = [(net.optimizer, net.trainable_variables)]
    checkpoint = ctx.folder(f"{stage}.npz")
    state = load_checkpoint(checkpoint, net, optimizers) or {"epochs_done": 0}
    if state["epochs_done"] >= epochs:
        return
    callbacks = [Deadline(ctx.until(TRAINING_SHARE)), _epoch_notes(ctx, stage),
                 Checkpoint(checkpoint, net, optimizers, lambda epoch: {"epochs_done": epoch + 1})]
    supernet.train(*ctx.train, epochs=epochs, batch_size=ctx.batch_size, seed=seed,
                   initial_epoch=state["epochs_done"], callbacks=callbacks, pinned=pinned,
                   verbose=max(0, ctx.verbose - 1), sample_weight=ctx.weights("train"),
                   options=options)


def _single_path(strategy, ctx):
    """Single-path one-shot (and few-shot): the best ``top_k`` distinct paths of
    :func:`single_path_search`."""
    supernet, _, splits, options, ranked = single_path_search(strategy, ctx)
    top, same = distinct_paths(supernet, ranked, strategy.top_k)
    return [supernet.parameters(path) for path, _ in top], {
        "paths_scored": len(ranked), "few_shot_splits": list(splits),
        "top": [{"path": p, "score": s} for p, s in top], "same_model": same,
        **({"shrunk": options} if strategy.shrink_rounds else {})}


def single_path_search(strategy, ctx):
    """Train the supernet, shrink its space (``shrink_rounds``, while a choice has more
    than two options left), split it (few-shot) and search its paths on inherited
    weights: ``(supernet, scorers {split options: supernet or child}, split choices, the
    options left {choice: [option]}, [(path, score)])``: the shrinking's own path first
    where the last round scored every path it had (:func:`shrunk_path`; its score None
    where the search did not score it), then the others best first."""
    supernet = Supernet(ctx.space, strategy.fixed)
    epochs = strategy.epochs_for(ctx.epochs)
    _train_supernet(supernet, ctx, "supernet", epochs, ctx.seed)
    options, paired = dict(supernet.choices), False
    for round_ in range(1, strategy.shrink_rounds + 1):
        if all(len(values) <= 2 for values in options.values()):
            break  # nothing left to drop
        kept, scored = _shrink_round(supernet, options, round_, strategy, ctx)
        if kept == options:
            break  # cut short by the time: nothing dropped, nothing to train for
        paired = scored == path_count(options)  # every path of the round scored
        options = kept
        _train_supernet(supernet, ctx, f"shrink_{round_}", strategy.shrink_epochs,
                        ctx.seed + 1 + round_, options=options)
    splits = split_choices(options, strategy.few_shot_splits)
    scorers = few_shot_children(
        supernet, splits, options, lambda pinned: _train_supernet(
            supernet, ctx, "few_shot_" + "_".join(str(supernet.choices[n].index(v))
                                                  for n, v in pinned.items()),
            strategy.few_shot_epochs, ctx.seed + 1, pinned, options)) \
        if splits else {(): supernet}
    ranked = search_paths(supernet, scorers, splits, strategy, ctx, options)
    if paired:
        first = shrunk_path(options)
        score = next((s for p, s in ranked if p == first), None)
        ranked = [(first, score)] + [(p, s) for p, s in ranked if p != first]
        ctx.note("supernet", stage="shrunk_path", path=first, score=score)
    return supernet, scorers, splits, options, ranked


def shrunk_path(kept):
    """Each choice's best option by the means of the round of shrinking that kept ``kept``
    ({choice: [option]}): the first it kept (:func:`shrink_options` keeps them best first,
    and its guard only ever replaces the last). The phase takes it where that round, the
    last, scored every path it had. The path search after shrinking scores single paths
    of a supernet trained its last epochs on the few paths left, and its best path leans
    on how those happen to fit together. Over every path, each option's mean is over the
    same paths of the other choices as its rivals', a paired comparison; over a sample,
    the other choices' draws differ between options, and on an under-trained supernet
    that outweighed the options' small differences (``docs/design.md``, "The shrinking's
    own path")."""
    return {choice: values[0] for choice, values in kept.items()}


def _shrink_round(supernet, options, round_, strategy, ctx):
    """One round of shrinking, recorded in ``shrink_<round>.json`` (a resumed phase reads
    it back): ``(the options kept, best first, paths scored)``; every option where the
    time ran out while scoring."""
    record = ctx.folder(f"shrink_{round_}.json")
    if os.path.exists(record):
        with open(record) as handle:
            done = json.load(handle)
            return done["kept"], done["scored"]
    started = time.monotonic()
    score = path_scorer({(): supernet}, [], strategy, ctx)
    rng = np.random.default_rng([ctx.seed, round_])
    kept, means, scored = shrink_options(options, score, ctx.objective, strategy.shrink_samples,
                                         rng, stop=lambda: ctx.past(SEARCH_SHARE),
                                         weighted=supernet.weighted_options())
    write_json(record, {"kept": kept, "means": means, "scored": scored})
    ctx.note("supernet", stage="shrink", round=round_, scored=scored, kept=kept, means=means,
             seconds=round(time.monotonic() - started, 2))
    return kept, scored


def shrink_options(options, score, objective, samples, rng, stop=lambda: False,
                   weighted=None):
    """Successive halving of each choice's options (search-space shrinking: Chen et al.,
    2019, P-DARTS; Hu et al., 2020, ABS): score ``samples`` paths of ``options``
    ({choice: [option]}; every path where there are no more), drawn so that each option
    of a choice is in as many of them as the others, and keep the better half of each
    choice's options (two at least) by their paths' mean score. A supernet's best single
    paths lean on how its other choices happen to fit them (an operation fed by one
    working edge trains best); an option's mean over all the paths it is in does not.
    ``score(path)`` gives metrics; ``objective``: ``(name, "max" or "min")``. ``weighted``
    ({choice: [option with weights]}): a choice that had options with weights keeps its
    best one in place of its weakest kept option where none would be kept otherwise: an
    under-trained supernet's means favour the parameter-free options (pooling, skip), whose
    outputs need no training (the drift DARTS's guards are for).
    ``(kept, {choice: {option: mean}}, paths scored)``; everything is kept where ``stop()``
    turned true before every path was scored."""
    metric, direction = _scored(objective)
    paths = balanced_paths(options, samples, rng)
    values = []
    for path in paths:
        if stop():
            return dict(options), {}, len(values)
        values.append(float(score(path)[metric]))
    sign = 1 if direction == "max" else -1
    finite = [v for v in values if np.isfinite(v)] or [0.0]
    worst = min(finite) if sign > 0 else max(finite)  # a diverged path counts as the worst
    values = [v if np.isfinite(v) else worst for v in values]
    kept, means = {}, {}
    for choice, choices in options.items():
        means[choice] = {o: round(float(np.mean([v for p, v in zip(paths, values)
                                                 if p[choice] == o])), 5) for o in choices}
        best = sorted(choices, key=lambda o: -sign * means[choice][o])
        kept[choice] = best[:max(2, (len(choices) + 1) // 2)]
        trained = [o for o in best if o in (weighted or {}).get(choice, ())]
        if trained and not set(trained) & set(kept[choice]):
            kept[choice][-1] = trained[0]
    return kept, means, len(paths)


def path_count(options):
    """How many paths ``options`` ({choice: [option]}) holds."""
    return int(np.prod([len(values) for values in options.values()]))


def balanced_paths(options, count, rng):
    """``count`` paths of ``options``, each option of a choice in as many as the others
    (each choice's options repeated to ``count`` and shuffled on their own), or every path
    where there are at most ``count``."""
    names = list(options)
    if path_count(options) <= count:
        return [dict(zip(names, values)) for values in itertools.product(
            *(options[n] for n in names))]
    columns = {n: [options[n][i] for i in rng.permutation(np.arange(count) % len(options[n]))]
               for n in names}
    return [{n: columns[n][i] for n in names} for i in range(count)]


#: how many of the best paths, per candidate wanted, are built to find distinct ones
DISTINCT_SCAN = 10


def distinct_paths(supernet, ranked, count):
    """The best ``count`` of ``ranked`` (``[(path, score)]``, best first) that build
    different Keras models, and ``[{"path", "as"}]`` for each path passed over as building
    the same model as the kept path ``as``. Paths differ without their models differing
    where an operation's input or output reaches nothing, or "skip" makes two placements
    one (the benchmark's 343 cells build 217 models; its supernets' favourite is one model
    of 15 cells), and training one model twice would waste a candidate. At most
    ``DISTINCT_SCAN`` x ``count`` paths are built."""
    kept, keys, same = [], {}, []
    for path, score in ranked[:DISTINCT_SCAN * count]:
        try:
            key = model_key(supernet.space.build(fixed_hyperparameters(
                supernet.parameters(path))))
        except Exception:  # noqa: BLE001 - kept: its trial fails, with the reason recorded
            key = json.dumps(path, sort_keys=True)
        if key in keys:
            same.append({"path": path, "as": keys[key]})
            continue
        keys[key] = path
        kept.append((path, score))
        if len(kept) == count:
            break
    return kept, same


def model_key(model):
    """``model``'s architecture as a string, the same for two models built alike whatever
    their layers' generated names."""
    names = {name: f"#{k}" for k, name in enumerate([model.name] + [
        layer.name for layer in model.layers])}
    return re.sub(r'"([^"]+)"', lambda m: f'"{names.get(m.group(1), m.group(1))}"',
                  json.dumps(model.get_config(), sort_keys=True))


class Child:
    """A few-shot child: the parent's model (one graph, traced once) with the child's own
    weights, loaded when a path of the child is scored (its optimizer state is not: the
    children are trained by then). ``loaded`` is shared by the siblings: it holds the child
    whose weights are in the model now."""

    def __init__(self, supernet, state, loaded):
        self.supernet, self.state, self.loaded = supernet, state, loaded
        self.model = supernet.model

    def set_path(self, path):
        if self.loaded[0] is not self:
            self.supernet.restore(self.state, optimizer=False)
            self.loaded[0] = self
        self.supernet.set_path(path)

    def calibrate(self, x):
        self.supernet.calibrate(x)


def few_shot_children(supernet, splits, options, train):
    """``{options of the split choices: Child}``, one per combination of their
    ``options``: each child starts from the parent's weights and optimizer state and is
    trained by ``train(pinned)`` on its share of the paths (the split choices pinned)."""
    parent, children, loaded = supernet.state(), {}, [None]
    for values in itertools.product(*(options[n] for n in splits)):
        supernet.restore(parent)
        train(dict(zip(splits, values)))
        children[values] = Child(supernet, supernet.state(), loaded)
    return children


def split_choices(options, count):
    """The ``count`` choices a few-shot split divides on: those with the most ``options``
    ({choice: [option]}; earliest first among equals)."""
    names = list(options)
    return sorted(names, key=lambda n: (-len(options[n]), names.index(n)))[:count]


def _scored(objective):
    """``(metric, direction)``: the search's validation objective as a path's score names
    it (``val_accuracy`` is the ``accuracy`` of evaluating on the validation rows)."""
    name, direction = objective
    return (name[len("val_"):] if name.startswith("val_") else name), direction


def _validation_batches(ctx):
    """The validation rows (and their weights) in evaluation batches: what a supernet's
    paths and options are scored on."""
    return data_ops.make_dataset(*ctx.val, data_ops.EVAL_BATCH, sample_weight=ctx.weights("val"))


def path_scorer(scorers, splits, strategy, ctx):
    """``score(path)``: the path's validation metrics with inherited weights (from the
    scorer of its split options: the supernet, or a few-shot child), after batch-norm
    recalibration on ``strategy.calibration_rows`` training rows."""
    x_train, _ = ctx.train
    calibration = _features(data_ops.take_rows(x_train, np.random.default_rng(
        ctx.seed).permutation(data_ops.n_rows(x_train))[:strategy.calibration_rows]))
    val = _validation_batches(ctx)

    def score(path):
        scorer = scorers[tuple(path[n] for n in splits)]
        scorer.set_path(path)
        scorer.calibrate(calibration)
        return scorer.model.evaluate(val, verbose=0, return_dict=True)

    return score


def search_paths(supernet, scorers, splits, strategy, ctx, options=None):
    """Search the supernet's paths (of ``options`` where given, a shrunk space) with
    ``strategy.search`` (any autoarch strategy, through ask/tell; every path, by grid,
    where there are at most ``search_trials``), each scored by its inherited-weight
    validation objective after batch-norm recalibration; ``[(path, score)]`` best first.
    It scores ``top_k`` paths at least, whatever the time (a search with a short
    ``time_limit`` still has candidates to train). The path search keeps its own journal,
    so a resumed phase does not score a path twice."""
    from autoarch.engine.study import Study

    options = options or supernet.choices
    space = kt.HyperParameters()
    for name, values in options.items():
        space.Choice(name, list(values))
    every = path_count(options) <= strategy.search_trials
    metric, direction = _scored(ctx.objective)
    study = Study(space, strategy="grid" if every else strategy.search,
                  objective=(metric, direction), seed=ctx.seed, directory=ctx.folder("paths"))
    path_score = path_scorer(scorers, splits, strategy, ctx)

    def score(trial):
        return path_score({n: trial.params[n] for n in supernet.choices})

    started = time.monotonic()
    try:  # past the deadline, still enough paths for the candidates wanted
        study.optimize(score, max_trials=strategy.search_trials,
                       stop=lambda: ctx.past(SEARCH_SHARE) and
                       len(study.trials) >= strategy.top_k)
    finally:
        study.close()
    ctx.note("supernet", stage="paths", scored=len(study.trials),
             seconds=round(time.monotonic() - started, 2))
    sign = 1 if direction == "max" else -1
    done = sorted((t for t in study.trials if t.is_finite()), key=lambda t: -sign * t.value)
    ranked, seen = [], set()
    for trial in done:
        path = {n: trial.params[n] for n in supernet.choices}
        key = json.dumps(path, sort_keys=True)
        if key not in seen:
            seen.add(key)
            ranked.append((path, trial.value))
    return ranked


def _gradient(strategy, ctx):
    """DARTS or GDAS: alternate network and architecture updates, then derive ``top_k``
    paths (the strongest operations, by ``selection``, then the next strongest paths)."""
    supernet = Supernet(ctx.space, strategy.fixed, sampling=strategy.sampling)
    net = supernet.model
    model = bilevel_model(supernet, net.optimizer, strategy.architecture_learning_rate)
    epochs = strategy.epochs_for(ctx.epochs)
    mixed = [layer for layers in supernet.switches.values() for layer in layers]
    optimizers = [(model.optimizer, model.network_variables),
                  (model.architecture_optimizer, [layer.logits for layer in mixed])]
    checkpoint = ctx.folder("supernet.npz")
    state = load_checkpoint(checkpoint, net, optimizers) or {"epochs_done": 0}
    callbacks = schedule(model, mixed, strategy, epochs) + [
        Deadline(ctx.until(TRAINING_SHARE)),
        _epoch_notes(ctx, "architecture", lambda: {"weights": supernet.architecture()}),
        Checkpoint(checkpoint, net, optimizers, lambda epoch: {"epochs_done": epoch + 1})]
    if state["epochs_done"] < epochs:
        train_bilevel(model, ctx.train, ctx.val, epochs, ctx.batch_size, ctx.seed,
                      initial_epoch=state["epochs_done"], callbacks=callbacks,
                      verbose=max(0, ctx.verbose - 1), sample_weight=ctx.sample_weight)
    strengths = selection_strengths(supernet, strategy, ctx)
    top, same = derived_paths(supernet, strategy.top_k, strategy.max_skips, strengths)
    return [supernet.parameters(path) for path in top], {
        "derived": top[0], "weights": supernet.architecture(), "same_model": same,
        "selection": "weight" if strengths is None else "perturbation",
        **({"importance": strengths} if strengths else {})}


def selection_strengths(supernet, strategy, ctx):
    """Each option's strength for deriving the paths: with ``selection: perturbation``,
    how much the supernet's validation objective worsens without it
    (:meth:`Supernet.importance`); None (the architecture weights) for ``selection:
    weight``, or where the time ran out first."""
    if strategy.selection != "perturbation":
        return None
    metric, direction = _scored(ctx.objective)
    sign = 1.0 if direction == "max" else -1.0
    val = _validation_batches(ctx)

    def evaluate():
        return sign * supernet.model.evaluate(val, verbose=0, return_dict=True)[metric]

    started = time.monotonic()
    strengths = supernet.importance(evaluate, stop=lambda: ctx.past(SEARCH_SHARE))
    ctx.note("supernet", stage="selection", importance=strengths,
             seconds=round(time.monotonic() - started, 2))
    return strengths


def derived_paths(supernet, count, max_skips, strengths=None):
    """A DARTS/GDAS supernet's ``count`` strongest paths (by ``strengths``, else the
    architecture weights) that build different models (:meth:`Supernet.derive_several`,
    :func:`distinct_paths`), its derived path first, and the paths passed over as building
    a kept one's model."""
    ranked = supernet.derive_several(DISTINCT_SCAN * count, max_skips=max_skips,
                                     strengths=strengths)
    top, same = distinct_paths(supernet, [(path, None) for path in ranked], count)
    return [path for path, _ in top], same
