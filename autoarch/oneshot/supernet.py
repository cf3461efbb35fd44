"""One supernet for a whole space: every searched operation a switch over shared weights.

A space's searched operations (the edges of ``CellBlock``, the layers of ``ChainBlock``)
and its ``BlockChoice``s (whole blocks of one output shape)
become :class:`~autoarch.blocks.layers.Switch` layers, built by the blocks' own code, so a
supernet comes from the same YAML specs and Python blocks as any search. The other
parameters (widths, depths) are fixed for the supernet: their defaults unless given.

Single-path one-shot (Guo et al., 2020): ``train`` samples one path uniformly per batch;
``score`` sets a candidate's path, re-estimates batch-norm statistics on a few hundred training
rows (the shared statistics belong to no path in particular) and evaluates it with the
inherited weights; ``extract`` returns the candidate alone as an ordinary Keras model with
those weights.
"""

import contextlib
import heapq
import itertools
import math

import keras
import keras_tuner as kt
import numpy as np
import tensorflow as tf

from autoarch.blocks.layers import Switch
from autoarch.blocks.ops import SUPERNET, SupernetBuild
from autoarch.engine import data as data_ops
from autoarch.engine.runtime import build_training_variables


class Supernet:
    """``space``: a fitted ``ModelSpace`` (inputs set); ``fixed``: values of the parameters
    that are not operation choices (their defaults otherwise); ``sampling``: None for
    switches (one path per step), "softmax" (DARTS) or "gumbel" (GDAS) for
    :class:`~autoarch.blocks.layers.MixedOp` choices with architecture weights."""

    def __init__(self, space, fixed=None, sampling=None):
        self.space, self.fixed, self.sampling = space, dict(fixed or {}), sampling
        self.model, self.switches = self._build(sampling=sampling)
        if not self.switches:
            raise ValueError("the space searches no operation (a CellBlock or ChainBlock "
                             "choice) and no BlockChoice: there is nothing for a supernet to "
                             "share")
        self.choices = {name: layers[0].options for name, layers in self.switches.items()}
        self._forward = None

    def _build(self, only=None, sampling=None):
        """The supernet, or with ``only`` ({choice: [option]}) one path of it."""
        hp = fixed_hyperparameters(self.parameters({}))
        build = SupernetBuild(only, sampling)
        token = SUPERNET.set(build)
        try:
            model = self.space.build(hp)
        finally:
            SUPERNET.reset(token)
        return model, build.switches

    def parameters(self, path):
        """A full parameter set of the space for ``path``: the path's operations, the fixed
        values for everything else (what a trial of the normal search trains)."""
        return path_parameters(self.space, path, self.fixed)

    def state(self):
        """The weights and the optimizer's state, as arrays: what a few-shot child starts
        from (``restore`` puts them back)."""
        optimizer = self.model.optimizer
        return (self.model.get_weights(),
                [keras.ops.convert_to_numpy(v) for v in optimizer.variables]
                if optimizer.built else None)

    def restore(self, state, optimizer=True):
        """Put back a ``state``; ``optimizer=False`` leaves the optimizer's own (scoring
        needs only the weights: two thirds fewer variables to assign under Adam)."""
        weights, optimizer_state = state
        self.model.set_weights(weights)
        if optimizer and optimizer_state is not None:
            for variable, value in zip(self.model.optimizer.variables, optimizer_state):
                variable.assign(value)

    def weighted_options(self):
        """``{choice: [option]}``: each choice's options that hold trainable weights (not
        "none", "skip" or pooling)."""
        return {name: [o for o, branch in zip(self.choices[name], layers[0].branches)
                       if branch is not None and branch.trainable_weights]
                for name, layers in self.switches.items()}

    # -- architecture weights (MixedOp supernets) --------------------------------------
    def architecture(self):
        """``{choice: {option: weight}}``: each choice's softmax weights (its positions in
        the network share them)."""
        return {name: dict(zip(self.choices[name], np.round(keras.ops.convert_to_numpy(
                    keras.ops.softmax(layers[0].logits)).astype(float), 4).tolist()))
                for name, layers in self.switches.items()}

    def strengths(self):
        """``{choice: {option: log weight}}``: the architecture weights as additive
        strengths (a path's is the sum of its options', the log of their product)."""
        return {name: {o: float(np.log(max(w, 1e-12))) for o, w in weights.items()}
                for name, weights in self.architecture().items()}

    @contextlib.contextmanager
    def removed(self, name, option):
        """Within: ``option`` left out of choice ``name``'s mix at every position of it, the
        other options keeping their weights (no renormalization), as perturbation-based
        selection removes an operation."""
        layers = self.switches[name]
        mask = np.ones(len(self.choices[name]), "float32")
        mask[self.choices[name].index(option)] = 0.0
        for layer in layers:
            layer.mask.assign(mask)
        try:
            yield
        finally:
            for layer in layers:
                layer.mask.assign(np.ones_like(mask))

    def importance(self, evaluate, excluded=("none",), stop=lambda: False):
        """``{choice: {option: importance}}``: how much ``evaluate()`` (the supernet's
        validation objective, higher better) falls when the option is :meth:`removed`:
        perturbation-based selection (Wang et al., 2021, DARTS-PT). What an operation adds
        to the supernet is measured, not read off its weight, which need not say it (on
        the one-shot benchmark's cells the weights end 0.01 apart, where removing an
        operation moves the accuracy by up to 0.5). Options in ``excluded`` are not removed
        (0); None where ``stop()`` turned true first."""
        base = float(evaluate())
        found = {}
        for name, options in self.choices.items():
            found[name] = {}
            for option in options:
                if stop():
                    return None
                if option in excluded:
                    found[name][option] = 0.0
                    continue
                with self.removed(name, option):
                    value = float(evaluate())
                found[name][option] = round(base - value, 5) if np.isfinite(value) else \
                    float(np.finfo("float32").max)  # removing it broke the supernet
        return found

    def derive(self, excluded=("none",), max_skips=None, strengths=None):
        """The strongest option per choice, by ``strengths`` (``{choice: {option: value}}``,
        higher stronger: :meth:`importance`) or else by architecture weight: options in
        ``excluded`` never win (DARTS's own rule for "none"), and with ``max_skips`` at
        most that many choices keep "skip" (the strongest skips stay; the others take
        their next option)."""
        strengths = strengths or self.strengths()
        ranked = _ranked(strengths, excluded)
        path = {name: options[0] for name, options in ranked.items() if options}
        if max_skips is not None:
            skips = sorted((n for n, o in path.items() if o == "skip"),
                           key=lambda n: -strengths[n]["skip"])
            for name in skips[max_skips:]:
                if len(ranked[name]) > 1:
                    path[name] = ranked[name][1]
        return path

    def derive_several(self, count, excluded=("none",), max_skips=None, strengths=None):
        """:meth:`derive`'s path, then the next strongest paths that the same rules allow
        (:func:`strongest_paths`: by the sum of their options' ``strengths``, by default
        the log of the product of their weights), ``count`` in all at most. DARTS picks
        among several derived cells by training each (Liu et al., 2019); a strategy's
        ``top_k`` trains them."""
        strengths = strengths or self.strengths()
        first = self.derive(excluded, max_skips, strengths)
        rest = strongest_paths(strengths, count, excluded, max_skips)
        return [first] + [path for path in rest if path != first][:count - 1]

    # -- paths -------------------------------------------------------------------------
    def sample(self, rng, options=None):
        """A uniformly drawn path, ``{choice name: option}``: of every option, or of those in
        ``options`` ({choice: [option]}, a shrunk space) for the choices it names."""
        return {name: drawn[int(rng.integers(len(drawn)))]
                for name, drawn in {**self.choices, **(options or {})}.items()}

    def set_path(self, path):
        for name, layers in self.switches.items():
            index = self.choices[name].index(path[name])
            for layer in layers:
                layer.active.assign(index)

    # -- training and scoring ------------------------------------------------------------
    def train(self, x, y, epochs=1, batch_size=32, seed=0, verbose=0, initial_epoch=0,
              callbacks=(), pinned=None, sample_weight=None, options=None):
        """Train the shared weights, one uniformly sampled path per batch (of ``options``
        where given, a shrunk space; ``pinned`` choices keep one option: a few-shot child's
        share of the space), on the loss weighted by ``sample_weight`` where given. Each
        epoch draws its paths from ``(seed, epoch)``, so a resumed training draws what an
        uninterrupted one would have."""
        supernet, pinned = self, dict(pinned or {})

        class SamplePath(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.rng = np.random.default_rng([seed, epoch])

            def on_train_batch_begin(self, batch, logs=None):
                supernet.set_path({**supernet.sample(self.rng, options), **pinned})

        inputs = data_ops.as_input_dict(x)
        build_training_variables(self.model, inputs, y)
        data = data_ops.make_dataset(inputs, y, batch_size, shuffle_seed=seed + initial_epoch,
                                     sample_weight=sample_weight)
        return self.model.fit(data, epochs=epochs, initial_epoch=initial_epoch,
                              verbose=verbose, callbacks=[SamplePath(), *callbacks],
                              shuffle=False).history

    def calibrate(self, x):
        """Batch-norm statistics of the current path, as single-path one-shot re-estimates
        them: those of the training rows ``x`` (a few hundred), taken in one traced forward
        pass at momentum 0, so each norm holds exactly their mean and variance (the shared
        statistics belong to no path in particular)."""
        norms = [layer for layer in _walk(self.model)
                 if isinstance(layer, keras.layers.BatchNormalization)]
        saved = [layer.momentum for layer in norms]
        for layer in norms:
            layer.momentum = 0.0
        if self._forward is None:  # traced at momentum 0, the only momentum it runs at
            self._forward = tf.function(lambda inputs: self.model(inputs, training=True))
        try:
            self._forward(x)
        finally:
            for layer, momentum in zip(norms, saved):
                layer.momentum = momentum

    def score(self, path, x_val, y_val, calibration=None):
        """The path's validation metrics with the inherited weights (``calibration``: training
        inputs whose batches re-estimate batch norm first)."""
        self.set_path(path)
        if calibration is not None:
            self.calibrate(calibration)
        return self.model.evaluate(x_val, y_val, verbose=0, return_dict=True)

    def extract(self, path):
        """The path alone: an ordinary Keras model (its switches hold one option each) with
        the supernet's weights for that path."""
        single, _ = self._build({name: [option] for name, option in path.items()})
        _copy_path(single, self.model)
        if single.optimizer is not None and not single.optimizer.built:
            # its slots made now: a model saved with an unbuilt optimizer reloads with a
            # warning that Keras skipped the optimizer's variables
            single.optimizer.build(single.trainable_variables)
        return single


def _ranked(strengths, excluded):
    """``{choice: [option]}``: each choice's options not in ``excluded``, strongest first by
    ``strengths`` ({choice: {option: strength}})."""
    return {name: sorted((o for o in values if o not in excluded),
                         key=lambda o, values=values: -values[o])
            for name, values in strengths.items()}


#: at most this many sets of choices that take "skip" are searched by strongest_paths
SKIP_SETS = 10_000


def strongest_paths(strengths, count, excluded=("none",), max_skips=None):
    """The ``count`` paths of highest total strength (``{choice: {option: strength}}``,
    summed over the path's options), strongest first, none of them taking an option in
    ``excluded``, and with ``max_skips`` at most that many choices taking "skip" (a choice
    whose only option left is "skip" takes it uncounted). Exact: one best-first search over
    index vectors into each choice's options, strongest first, for each set of choices
    that take "skip" (the others then never do); all of them share one heap, so the paths
    come in order. Where the sets would be more than ``SKIP_SETS``, the larger ones are
    left out (paths with fewer skips only)."""
    ranked = _ranked(strengths, excluded)
    names = [n for n in ranked if ranked[n]]
    skippable = [n for n in names if "skip" in ranked[n] and len(ranked[n]) > 1]
    if max_skips is None or max_skips >= len(skippable):
        sets = [None]  # no limit that binds: "skip" is an option like the others
    else:
        sets = []
        for size in range(max_skips + 1):
            if sets and len(sets) + math.comb(len(skippable), size) > SKIP_SETS:
                break
            sets += [frozenset(c) for c in itertools.combinations(skippable, size)]

    def options(name, skips):
        if skips is None or name not in skippable:
            return ranked[name]
        return ["skip"] if name in skips else [o for o in ranked[name] if o != "skip"]

    lists = [[options(n, skips) for n in names] for skips in sets]
    values = [[[strengths[n][o] for o in row] for n, row in zip(names, rows)] for rows in lists]

    def total(k, at):
        return -sum(row[i] for row, i in zip(values[k], at))

    start = (0,) * len(names)
    frontier = [(total(k, start), k, start) for k in range(len(sets))]
    heapq.heapify(frontier)
    seen, paths = {(k, start) for k in range(len(sets))}, []
    while frontier and len(paths) < count:
        _, k, at = heapq.heappop(frontier)
        paths.append({n: row[i] for n, row, i in zip(names, lists[k], at)})
        for j in range(len(at)):
            step = at[:j] + (at[j] + 1,) + at[j + 1:]
            if step[j] < len(lists[k][j]) and (k, step) not in seen:
                seen.add((k, step))
                heapq.heappush(frontier, (total(k, step), k, step))
    return paths


def path_parameters(space, path, fixed=None):
    """``path``'s operations and, for every other parameter of ``space``, its ``fixed`` value
    or its default."""
    values = {p.name: (fixed or {}).get(p.name, p.default) for p in space.hyperparameters().space}
    return {**values, **path}


def fixed_hyperparameters(values):
    """keras-tuner ``HyperParameters`` holding ``values`` ({name: value}) as fixed ones."""
    hp = kt.HyperParameters()
    for name, value in values.items():
        hp.Fixed(name, value)
    return hp


def _copy_path(single, source):
    """``source``'s weights into ``single``, one path of it built in the same order: layer
    by layer, each switch's one option from the source's same option (a block choice's
    options may hold switches of their own)."""
    if isinstance(single, Switch):
        branch = source.branches[source.options.index(single.options[0])]
        if branch is not None:
            _copy_path(single.branches[0], branch)
    elif isinstance(single, keras.Model):
        for layer, original in zip(single.layers, source.layers):
            _copy_path(layer, original)
    else:
        single.set_weights(source.get_weights())


def _walk(layer):
    """``layer`` and every layer inside it (models' layers, switches' branches)."""
    yield layer
    inner = list(getattr(layer, "layers", [])) if isinstance(layer, keras.Model) else []
    if isinstance(layer, Switch):
        inner = [branch for branch in layer.branches if branch is not None]
    for child in inner:
        yield from _walk(child)
