"""One-shot NAS: a supernet built from a space's own blocks, single-path training over shared
weights, batch-norm recalibration, sub-models extracted with inherited weights; mixed
operations, DARTS and GDAS; the strategies end to end, and a killed supernet phase resumed."""

import itertools
import json
import os
import signal
import subprocess
import sys
import time
import warnings

import keras
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits

from autoarch import AutoClassifier
from autoarch.blocks import (BlockChoice, CellBlock, ChainBlock, ClassificationHead, ConvBlock,
                             DenseBlock, ModelSpace)
from autoarch.blocks.layers import MixedOp, Switch
from autoarch.config import ConfigError
from autoarch.inputs import ImageInput, SequenceInput, SignalInput
from autoarch.oneshot import Supernet
from autoarch.oneshot.bilevel import Warmup, bilevel_model, train_bilevel
from autoarch.oneshot.phase import (balanced_paths, few_shot_children, run_phase,
                                    shrink_options, shrunk_path, split_choices)
from autoarch.oneshot.supernet import _walk
from autoarch.strategies.options import OPTIONS


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return (x / 16.0).reshape(-1, 8, 8, 1).astype("float32"), y


def _space(block, x):
    return ModelSpace([block, ClassificationHead(num_classes=10)],
                      training={"learning_rate": 0.01},
                      inputs={"input": ImageInput("input").fit(x)})


def test_a_cell_supernet_shares_weights_and_extracts_paths_with_them(digits, tmp_path):
    x, y = digits
    supernet = Supernet(_space(CellBlock(num_nodes=3, stacks=1, filters=16), x))
    assert sorted(supernet.choices) == ["cell_1/normal_0_1", "cell_1/normal_0_2",
                                        "cell_1/normal_1_2"]
    history = supernet.train(x[:1200], y[:1200], epochs=4, seed=0)
    assert history["loss"][-1] < history["loss"][0] - 0.1  # the shared weights learn
    rng = np.random.default_rng(0)
    for path in [supernet.sample(rng) for _ in range(3)] + [
            {name: "none" for name in supernet.choices}]:
        inherited = supernet.score(path, x[1200:], y[1200:], calibration=x[:640])
        alone = supernet.extract(path)
        assert sum(isinstance(layer, Switch) for layer in alone.layers) == 3
        assert all(len(layer.options) == 1 for layer in alone.layers if isinstance(layer, Switch))
        got = alone.evaluate(x[1200:], y[1200:], verbose=0, return_dict=True)
        assert got["accuracy"] == pytest.approx(inherited["accuracy"], abs=1e-6)
        np.testing.assert_allclose(alone.predict(x[1200:1300], verbose=0),  # path fixed
                                   supernet.model.predict(x[1200:1300], verbose=0),
                                   rtol=1e-5, atol=1e-6)
    alone.save(tmp_path / "path.keras")
    reloaded = keras.models.load_model(tmp_path / "path.keras", safe_mode=True)
    np.testing.assert_allclose(reloaded.predict(x[:8], verbose=0),
                               alone.predict(x[:8], verbose=0), rtol=1e-5, atol=1e-6)


def test_calibration_gives_batch_norm_the_paths_own_statistics(digits):
    x, y = digits
    with pytest.raises(ValueError, match="must give one output shape"):  # skip keeps 1 channel
        Supernet(_space(ChainBlock(max_layers=2), x), fixed={"chain_1/num_layers": 2})
    supernet = Supernet(_space(ChainBlock(max_layers=2, operations=("conv3x3", "conv5x5",
                                                                    "maxpool3x3")), x),
                        fixed={"chain_1/num_layers": 2})
    assert sorted(supernet.choices) == ["chain_1/op_0", "chain_1/op_1"]
    supernet.train(x[:600], y[:600], epochs=1)
    for op, index in (("conv3x3", 0), ("conv5x5", 1)):  # one traced pass follows the path
        supernet.set_path({"chain_1/op_0": op, "chain_1/op_1": "conv3x3"})
        branch = supernet.switches["chain_1/op_0"][0].branches[index]  # relu, conv, norm
        norm = branch.layers[-1]
        assert isinstance(norm, keras.layers.BatchNormalization)
        trained = norm.moving_mean.numpy().copy()
        supernet.calibrate(x[:640])
        # the statistics are those of what the path's norm sees on those rows
        seen = keras.Model(branch.inputs, norm.input).predict(x[:640], verbose=0)
        assert np.abs(trained - seen.mean(axis=(0, 1, 2))).max() > 1e-3  # they changed
        np.testing.assert_allclose(norm.moving_mean.numpy(), seen.mean(axis=(0, 1, 2)),
                                   rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(norm.moving_variance.numpy(), seen.var(axis=(0, 1, 2)),
                                   rtol=1e-3, atol=1e-4)


def _stem_choice(**second):
    """A choice between two stems: plain and separable convolutions (16 filters, no pooling:
    one output shape), or ``second``'s variant of the separable one."""
    fixed = {"num_blocks": 1, "num_layers": 1, "pooling": "none", "filters": 16}
    return BlockChoice([ConvBlock(name="plain", **fixed),
                        ConvBlock(name="separable", **{**fixed, "separable": True, **second})],
                       name="stem")


def test_a_block_choice_is_a_switch_between_whole_blocks(digits, tmp_path):
    x, y = digits
    space = ModelSpace([_stem_choice(), CellBlock(num_nodes=2, stacks=1, filters=8,
                                                  operations=("skip", "conv3x3")),
                        ClassificationHead(num_classes=10)], training={"learning_rate": 0.01},
                       inputs={"input": ImageInput("input").fit(x)})
    supernet = Supernet(space)
    assert supernet.choices == {"stem/block": ["plain", "separable"],
                                "cell_1/normal_0_1": ["skip", "conv3x3"]}
    supernet.train(x[:1200], y[:1200], epochs=2, seed=0)
    scores = []
    for stem in ("plain", "separable"):
        path = {"stem/block": stem, "cell_1/normal_0_1": "conv3x3"}
        scores.append(supernet.score(path, x[1200:], y[1200:], calibration=x[:640]))
        alone = supernet.extract(path)  # the chosen block alone, inherited weights and all
        stems = [layer for layer in alone.layers if isinstance(layer, Switch)
                 and layer.options == [stem]]
        assert len(stems) == 1 and len(stems[0].branches[0].layers) == 3  # input, conv, relu
        np.testing.assert_allclose(alone.predict(x[1200:1300], verbose=0),
                                   supernet.model.predict(x[1200:1300], verbose=0),
                                   rtol=1e-5, atol=1e-6)
        alone.save(tmp_path / f"{stem}.keras")
        with warnings.catch_warnings(record=True) as caught:  # its optimizer's too
            warnings.simplefilter("always")
            reloaded = keras.models.load_model(tmp_path / f"{stem}.keras", safe_mode=True)
        assert not [w for w in caught if "Skipping variable loading" in str(w.message)]
        np.testing.assert_allclose(reloaded.predict(x[:8], verbose=0),
                                   alone.predict(x[:8], verbose=0), rtol=1e-5, atol=1e-6)
        parameters = supernet.parameters(path)  # what a trial trains from scratch
        assert parameters["stem/block"] == stem and parameters["plain/kernel_size"] == 3
    assert scores[0] != scores[1]  # each stem its own weights
    # an option with choices of its own: switches inside a switch, one path extracted
    cells = CellBlock(name="cells", num_nodes=2, stacks=2, filters=8,
                      operations=("skip", "conv3x3"))
    convs = ConvBlock(name="convs", num_blocks=1, num_layers=1, filters=16, pooling="max")
    nested = Supernet(ModelSpace([BlockChoice([cells, convs], name="body"),
                                  ClassificationHead(num_classes=10)],
                                 inputs={"input": ImageInput("input").fit(x)}))
    assert sorted(nested.choices) == ["body/block", "cells/normal_0_1", "cells/reduce_0_1"]
    nested.train(x[:600], y[:600], epochs=1, seed=0)
    path = {"body/block": "cells", "cells/normal_0_1": "conv3x3", "cells/reduce_0_1": "skip"}
    nested.set_path(path)
    np.testing.assert_allclose(nested.extract(path).predict(x[:100], verbose=0),
                               nested.model.predict(x[:100], verbose=0), rtol=1e-5, atol=1e-6)
    mixed = Supernet(space, sampling="softmax")
    assert mixed.architecture()["stem/block"] == {"plain": 0.5, "separable": 0.5}
    # options of different output shapes cannot share a place
    with pytest.raises(ValueError, match=r"stem_block_0: the options .* must give one output "
                                         r"shape.*'separable' gives \(4, 4, 16\)"):
        Supernet(ModelSpace([_stem_choice(pooling="max"), ClassificationHead(num_classes=10)],
                            inputs={"input": ImageInput("input").fit(x)}))


def test_a_space_without_operation_choices_has_no_supernet(digits):
    x, _ = digits
    with pytest.raises(ValueError, match="nothing for a supernet to share"):
        Supernet(_space(DenseBlock(), x))


# -- mixed operations, DARTS and GDAS ---------------------------------------------------------
SMALL_OPS = ("none", "skip", "conv3x3", "maxpool3x3")
CELL_EDGES = ["cell_1/normal_0_1", "cell_1/normal_0_2", "cell_1/normal_1_2"]


def test_a_few_shot_child_scores_its_paths_with_its_own_weights(digits):
    x, y = digits
    supernet = Supernet(_space(CellBlock(num_nodes=3, stacks=1, filters=8,
                                         operations=SMALL_OPS), x))
    supernet.train(x[:320], y[:320], epochs=1, seed=0)
    splits = split_choices(supernet.choices, 1)
    children = few_shot_children(supernet, splits, supernet.choices, lambda pinned: supernet.train(
        x[:320], y[:320], epochs=1, seed=1, pinned=pinned))
    assert list(children) == [(op,) for op in SMALL_OPS]
    optimizer = [v.numpy().copy() for v in supernet.model.optimizer.variables]
    base = {name: "conv3x3" for name in supernet.choices}
    for op in ("skip", "conv3x3", "skip"):  # switching back and forth loads each child
        child = children[(op,)]
        child.set_path({**base, splits[0]: op})
        for got, own in zip(supernet.model.get_weights(), child.state[0]):
            if own.dtype.kind == "f":  # not the switches' path indices, set after loading
                np.testing.assert_array_equal(got, own)
    assert any(not np.array_equal(a, b) for a, b in zip(children[("skip",)].state[0],
                                                         children[("conv3x3",)].state[0]))
    for variable, before in zip(supernet.model.optimizer.variables, optimizer):
        np.testing.assert_array_equal(variable.numpy(), before)  # scoring trains nothing


def test_a_mixed_operation_is_the_weighted_sum_of_its_operations():
    import tensorflow as tf

    x = np.random.default_rng(0).normal(size=(6, 8, 8, 8)).astype("float32")
    mixed = MixedOp(SMALL_OPS, filters=8)
    mixed(x)
    mixed.logits.assign([0.3, -1.0, 2.0, 0.5])
    weights = keras.ops.convert_to_numpy(keras.ops.softmax(mixed.logits))
    expected = sum(weights[k] * branch(x).numpy() for k, branch in enumerate(mixed.branches)
                   if branch is not None)
    np.testing.assert_allclose(mixed(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    mixed.mask.assign([1.0, 1.0, 0.0, 1.0])  # an option removed: the others keep their weights
    expected -= weights[2] * mixed.branches[2](x).numpy()
    np.testing.assert_allclose(mixed(x).numpy(), expected, rtol=1e-5, atol=1e-6)

    # pooling enters the mix batch-normalized, at the scale of the convolutions' batch norm
    scaled = 10.0 * x + 3.0
    pooled = keras.ops.convert_to_numpy(mixed.branches[3](scaled, training=True))
    raw = keras.ops.convert_to_numpy(keras.layers.MaxPooling2D(3, 1, "same")(scaled))
    assert raw.std() > 5.0
    np.testing.assert_allclose(pooled.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(pooled.std(axis=(0, 1, 2)), 1.0, atol=1e-2)
    assert not mixed.branches[3].trainable_weights  # still parameter-free (max_skips, ...)

    # GDAS: in training one drawn option alone gives the output, and every logit learns
    gumbel = MixedOp(SMALL_OPS, filters=8, sampling="gumbel", seed=1)
    gumbel(x)
    np.testing.assert_allclose(gumbel.branches[3](scaled, training=True).numpy(), raw)  # as is
    alone = [np.zeros((6, 8, 8, 8), "float32") if b is None else b(x, training=True).numpy()
             for b in gumbel.branches]
    for _ in range(5):
        with tf.GradientTape() as tape:
            out = gumbel(x, training=True)
            loss = keras.ops.sum(out * x)
        gaps = [np.abs(out.numpy() - a).max() for a in alone]
        assert sorted(gaps)[0] < 1e-4 < sorted(gaps)[1]  # exactly one option matches
        assert np.all(tape.gradient(loss, gumbel.logits).numpy() != 0)


def test_paths_that_build_the_same_model_are_one_candidate(digits):
    from autoarch.oneshot.phase import distinct_paths

    x, _ = digits
    supernet = Supernet(_small_cell_space(x))

    def path(a, b, c):
        return {"cell_1/normal_0_1": a, "cell_1/normal_0_2": b, "cell_1/normal_1_2": c}

    # with "none" into node 1 its edge out is left out of the model, and with "none" out of
    # node 1 its edge in: the first three build one model
    ranked = [(path("none", "conv3x3", "skip"), 0.9), (path("none", "conv3x3", "conv3x3"), 0.8),
              (path("maxpool3x3", "conv3x3", "none"), 0.7),
              (path("conv3x3", "none", "conv3x3"), 0.6), (path("skip", "skip", "skip"), 0.5)]
    kept, same = distinct_paths(supernet, ranked, 2)
    assert kept == [ranked[0], ranked[3]]
    assert same == [{"path": ranked[i][0], "as": ranked[0][0]} for i in (1, 2)]
    assert distinct_paths(supernet, ranked, 1) == ([ranked[0]], [])


def test_shrinking_keeps_the_better_half_of_each_choices_options_by_their_mean_score():
    options = {"a": ["p", "q", "r", "s", "t"], "b": ["u", "v"], "c": ["w", "x", "y"]}
    rng = np.random.default_rng(0)
    paths = balanced_paths(options, 20, rng)
    assert len(paths) == 20 and paths != balanced_paths(options, 20, rng)  # drawn
    for name, choices in options.items():  # each option in as many paths as the others
        counts = [sum(p[name] == o for p in paths) for o in choices]
        assert max(counts) - min(counts) <= 1
    every = balanced_paths(options, 30, rng)  # 30 paths in all: each once
    assert sorted(map(str, every)) == sorted(map(str, (dict(zip("abc", v)) for v in
                                                       itertools.product(*options.values()))))
    # a score whose best single path ("p", "u", "w": 1.0) holds options that are poor
    # elsewhere: by their means "q", "r" and "s" beat "p", which only wins beside "w"
    effect = {"p": 0.0, "q": 0.3, "r": 0.25, "s": 0.2, "t": -0.2, "u": 0.0, "v": 0.1,
              "w": 0.0, "x": 0.2, "y": 0.15}

    def score(path):
        best = path == {"a": "p", "b": "u", "c": "w"}
        return {"accuracy": 1.0 if best else sum(effect[v] for v in path.values())}

    kept, means, scored = shrink_options(options, score, ("val_accuracy", "max"), 100, rng)
    assert scored == 30 and max(score(p)["accuracy"] for p in every) == 1.0
    assert kept == {"a": ["q", "r", "s"], "b": ["v", "u"], "c": ["x", "y"]}
    assert means["a"]["q"] == pytest.approx(0.3 + 0.05 + 0.35 / 3, abs=1e-5)
    assert means["a"]["p"] == pytest.approx(0.05 + 0.35 / 3 + 1.0 / 6, abs=1e-5)
    lowest, _, _ = shrink_options(options, lambda p: {"loss": -score(p)["accuracy"]},
                                  ("val_loss", "min"), 100, rng)
    assert lowest == kept  # the loss, lowest first
    # the shrinking's own path: each choice's best by its means, whatever the direction
    assert shrunk_path(kept) == shrunk_path(lowest) == {"a": "q", "b": "v", "c": "x"}
    # an option with weights ("p", "t" on a; "w" on c) is kept in place of the weakest
    # where none would be; b had none, and "x" is kept on its mean
    guarded, _, _ = shrink_options(options, score, ("val_accuracy", "max"), 100, rng,
                                   weighted={"a": ["t", "p"], "c": ["w", "x"]})
    assert guarded == {"a": ["q", "r", "p"], "b": ["v", "u"], "c": ["x", "y"]}
    assert shrunk_path(guarded) == shrunk_path(kept)  # the guard never displaces the best
    calls = []
    left, means, scored = shrink_options(options, lambda p: calls.append(p) or score(p),
                                         ("val_accuracy", "max"), 100, rng,
                                         stop=lambda: len(calls) >= 5)
    assert left == options and means == {} and scored == 5  # cut short: nothing dropped


def test_a_supernet_knows_which_options_hold_weights(digits):
    x, _ = digits
    for sampling in (None, "softmax"):
        supernet = Supernet(_small_cell_space(x), sampling=sampling)
        assert supernet.weighted_options() == {n: ["conv3x3"] for n in CELL_EDGES}


def test_a_supernet_trains_only_the_options_it_is_given(digits):
    x, y = digits
    supernet = Supernet(_small_cell_space(x))
    keep = {name: ["skip", "maxpool3x3"] for name in supernet.choices}
    assert all(supernet.sample(np.random.default_rng(i), keep)[name] in keep[name]
               for i in range(20) for name in keep)
    convs = {name: layers[0].branches[SMALL_OPS.index("conv3x3")]
             for name, layers in supernet.switches.items()}
    before = {name: [w.copy() for w in conv.get_weights()] for name, conv in convs.items()}
    supernet.train(x[:320], y[:320], epochs=1, seed=0, options=keep)
    for name, conv in convs.items():  # never drawn: no gradient, no Adam moments, no change
        for got, was in zip(conv.get_weights(), before[name]):
            np.testing.assert_array_equal(got, was)
    supernet.train(x[:320], y[:320], epochs=1, seed=0)
    assert any(not np.array_equal(got, was) for name, conv in convs.items()
               for got, was in zip(conv.get_weights(), before[name]))


def test_a_shrinking_phase_halves_the_options_and_a_resumed_one_reads_its_rounds(digits,
                                                                                 tmp_path):
    from autoarch.engine.context import PhaseContext
    from autoarch.strategies.oneshot import OneShot

    x, y = digits
    notes = []
    strategy = OneShot(supernet_epochs=1, shrink_epochs=1, shrink_samples=27, search_trials=4,
                       top_k=2, seed=0)
    five = SMALL_OPS + ("avgpool3x3",)

    def context(directory=tmp_path, deadline=None):
        return PhaseContext(space=_space(CellBlock(num_nodes=3, stacks=1, filters=8,
                                                   operations=five), x),
                            train=({"input": x[:400]}, y[:400]),
                            val=({"input": x[400:600]}, y[400:600]),
                            objective=("val_accuracy", "max"), epochs=1, batch_size=32,
                            distribution="auto", seed=0, directory=str(directory),
                            note=lambda event, **fields: notes.append(fields),
                            deadline=deadline)

    candidates = run_phase(strategy, context())
    rounds = [n for n in notes if n["stage"] == "shrink"]
    # 125 paths, 27 of them scored; then 27 paths, each scored
    assert [r["round"] for r in rounds] == [1, 2] and [r["scored"] for r in rounds] == [27, 27]
    first, second = (r["kept"] for r in rounds)
    assert all(len(first[n]) == 3 and len(second[n]) == 2 and set(second[n]) <= set(first[n])
               for n in CELL_EDGES)
    for kept, record in zip((first, second), rounds):
        means = record["means"]
        for name in CELL_EDGES:  # the best by their means, and the one conv kept (the guard)
            best = sorted(means[name], key=lambda o: -means[name][o])[:len(kept[name])]
            assert kept[name] == best if "conv3x3" in best else \
                kept[name] == best[:-1] + ["conv3x3"]
    done = [n for n in notes if n["stage"] == "done"][0]
    assert done["shrunk"] == second and len(candidates) == 2
    # the first candidate: each edge's best option by the last round's means, whatever
    # its own score on the supernet the path search scored it on
    last = rounds[-1]["means"]
    assert done["top"][0]["path"] == {n: max(last[n], key=last[n].get) for n in CELL_EDGES}
    assert done["top"][0]["path"] == shrunk_path(second)
    assert [n["path"] for n in notes if n["stage"] == "shrunk_path"] == [done["top"][0]["path"]]
    assert all(c[n] in second[n] for c in candidates for n in CELL_EDGES)
    assert [n["stage"] for n in notes if "epoch" in n] == ["supernet", "shrink_1", "shrink_2"]
    os.remove(tmp_path / "oneshot" / "candidates.json")  # as if killed before the phase ended
    notes.clear()
    assert run_phase(strategy, context()) == candidates
    # nothing trained or scored again
    assert [n["stage"] for n in notes] == ["paths", "shrunk_path", "done"]

    # out of time from the start: one epoch (a training's least), a first round cut short
    # that ends the shrinking, and still top_k paths scored for the candidates
    notes.clear()
    late = run_phase(OneShot(supernet_epochs=3, shrink_samples=27, search_trials=20, top_k=2,
                             seed=0), context(tmp_path / "late", deadline=time.monotonic()))
    assert [n["stage"] for n in notes if "epoch" in n] == ["supernet"]
    assert [(n["round"], n["scored"]) for n in notes if n["stage"] == "shrink"] == [(1, 0)]
    assert [n["scored"] for n in notes if n["stage"] == "paths"] == [2] and 1 <= len(late) <= 2

    # a last round that scored a sample of its paths (20 of 27): its means are not paired,
    # so the path search's best path comes first, as without shrinking
    notes.clear()
    run_phase(OneShot(supernet_epochs=1, shrink_epochs=1, shrink_samples=20, search_trials=8,
                      top_k=2, seed=0), context(tmp_path / "sampled"))
    assert [(n["round"], n["scored"]) for n in notes if n["stage"] == "shrink"] == [(1, 20),
                                                                                    (2, 20)]
    top = [n for n in notes if n["stage"] == "done"][0]["top"]
    assert top[0]["score"] == max(c["score"] for c in top)
    assert not [n for n in notes if n["stage"] == "shrunk_path"]


def test_gdas_trains_its_supernet_longer_than_the_search_unless_told(digits, tmp_path):
    """GDAS trains a drawn operation only, so its supernet gets 1.2 times the search's
    epochs (3 -> 4) where DARTS's gets the search's; ``supernet_epochs`` overrides both."""
    from autoarch.engine.context import PhaseContext
    from autoarch.strategies.oneshot import Darts, Gdas

    x, y = digits
    for strategy, expected in ((Gdas(top_k=1, seed=0), 4),
                               (Darts(top_k=1, warmup_epochs=0, selection="weight", seed=0), 3),
                               (Gdas(supernet_epochs=2, top_k=1, seed=0), 2)):
        notes = []
        run_phase(strategy, PhaseContext(
            space=_space(CellBlock(num_nodes=2, stacks=1, filters=4, operations=SMALL_OPS), x),
            train=({"input": x[:160]}, y[:160]), val=({"input": x[160:224]}, y[160:224]),
            objective=("val_accuracy", "max"), epochs=3, batch_size=32, distribution="auto",
            seed=0, directory=str(tmp_path / f"{strategy.name}{expected}"),
            note=lambda event, **fields: notes.append(fields)))
        epochs = [n["epoch"] for n in notes if n["stage"] == "architecture"]
        assert epochs == list(range(1, expected + 1)), (strategy.name, epochs)


def _small_cell_space(x):
    return _space(CellBlock(num_nodes=3, stacks=1, filters=8, operations=SMALL_OPS), x)


def test_darts_moves_the_architecture_weights_and_derives_their_argmax(digits):
    x, y = digits
    train, val = ({"input": x[:1000]}, y[:1000]), ({"input": x[1000:1400]}, y[1000:1400])
    supernet = Supernet(_small_cell_space(x), sampling="softmax")
    model = bilevel_model(supernet, supernet.model.optimizer, 0.05)
    before = supernet.architecture()
    train_bilevel(model, train, val, epochs=1, batch_size=64, seed=0,
                  callbacks=[Warmup(model, 1)])
    assert supernet.architecture() == before  # warm-up: the operations learn first
    history = train_bilevel(model, train, val, epochs=3, batch_size=64, seed=0,
                            initial_epoch=1, callbacks=[Warmup(model, 1)])
    assert history["loss"][-1] < history["loss"][0]
    after = supernet.architecture()
    moved = max(abs(after[n][o] - before[n][o]) for n in after for o in after[n])
    assert moved > 0.02
    assert supernet.derive(excluded=()) == {n: max(w, key=w.get) for n, w in after.items()}
    guarded = supernet.derive(max_skips=0)
    assert all(o not in ("none", "skip") for o in guarded.values())
    for name, option in guarded.items():  # the strongest of what the guard allows
        allowed = {o: v for o, v in after[name].items() if o not in ("none", "skip")}
        assert option == max(allowed, key=allowed.get)


def test_perturbation_selection_derives_the_options_whose_removal_hurts_most(digits):
    x, y = digits
    train, val = ({"input": x[:1000]}, y[:1000]), ({"input": x[1000:1400]}, y[1000:1400])
    keras.utils.set_random_seed(0)
    supernet = Supernet(_small_cell_space(x), sampling="softmax")
    train_bilevel(bilevel_model(supernet, supernet.model.optimizer, 0.05), train, val,
                  epochs=5, batch_size=32, seed=0)

    def evaluate():
        return supernet.model.evaluate(*val, verbose=0, return_dict=True)["accuracy"]

    before = supernet.model.predict(val[0], verbose=0)
    importance = supernet.importance(evaluate)
    np.testing.assert_array_equal(supernet.model.predict(val[0], verbose=0), before)
    assert sorted(importance) == CELL_EDGES
    assert all(importance[n]["none"] == 0.0 for n in CELL_EDGES)  # not removed
    base = evaluate()
    for name in CELL_EDGES:  # each: the accuracy lost with the option out of every position
        option = max(importance[name], key=importance[name].get)
        mask = [0.0 if o == option else 1.0 for o in supernet.choices[name]]
        for layer in supernet.switches[name]:
            layer.mask.assign(mask)
        assert importance[name][option] == pytest.approx(base - evaluate(), abs=1e-4)
        for layer in supernet.switches[name]:
            layer.mask.assign(np.ones(len(mask)))
    assert max(v for values in importance.values() for v in values.values()) > 0.1
    derived = supernet.derive(excluded=(), strengths=importance)
    assert derived == {n: max(v, key=v.get) for n, v in importance.items()}
    paths = supernet.derive_several(4, strengths=importance)
    totals = [sum(importance[n][o] for n, o in p.items()) for p in paths]
    assert paths[0] == supernet.derive(strengths=importance) and \
        totals == sorted(totals, reverse=True)
    assert supernet.importance(evaluate, stop=lambda: True) is None


def test_the_strongest_paths_are_found_exactly_within_the_skip_limit():
    from autoarch.oneshot.supernet import strongest_paths

    rng = np.random.default_rng(0)
    ops = ("none", "skip", "conv", "pool")
    strengths = {f"c{i}": dict(zip(ops, rng.normal(size=4).round(3))) for i in range(4)}
    strengths["c0"]["skip"] = 5.0  # "skip" the strongest on two choices
    strengths["c1"]["skip"] = 4.0
    allowed = [dict(zip(strengths, o)) for o in itertools.product(ops[1:], repeat=4)
               if sum(v == "skip" for v in o) <= 1]

    def total(path):
        return sum(strengths[n][o] for n, o in path.items())

    best = sorted(allowed, key=lambda p: -total(p))[:12]
    found = strongest_paths(strengths, 12, max_skips=1)
    assert [total(p) for p in found] == pytest.approx([total(p) for p in best])
    assert all(p in allowed for p in found) and len({str(p) for p in found}) == 12
    # DARTS's collapse: "skip" strongest on each of 12 choices, at most two of them kept
    collapsed = {f"c{i}": {"none": 0.0, "skip": 1.0, "conv": 0.5 - 0.01 * i, "pool": 0.2}
                 for i in range(12)}
    paths = strongest_paths(collapsed, 5, max_skips=2)
    assert len(paths) == 5 and all(sum(o == "skip" for o in p.values()) == 2 for p in paths)
    assert paths[0] == {**{f"c{i}": "conv" for i in range(12)}, "c10": "skip", "c11": "skip"}


def test_several_derived_paths_come_in_order_of_their_weights_and_keep_the_guards(digits):
    x, _ = digits
    supernet = Supernet(_small_cell_space(x), sampling="softmax")
    logits = {"none": 3.0, "skip": 2.0, "conv3x3": 1.0, "maxpool3x3": 0.0}
    margins = dict(zip(sorted(supernet.switches), (0.0, 0.5, 1.0)))  # 1.0: one edge sure
    for name, layers in supernet.switches.items():
        values = [logits[o] * (1 + margins[name]) for o in supernet.choices[name]]
        for layer in layers:
            layer.logits.assign(values)
    weights = supernet.architecture()
    paths = supernet.derive_several(6, max_skips=1)
    assert paths[0] == supernet.derive(max_skips=1) and len(paths) == 6
    assert len({json.dumps(p, sort_keys=True) for p in paths}) == 6
    for path in paths:  # "none" never, at most one "skip"
        assert "none" not in path.values() and sum(o == "skip" for o in path.values()) <= 1
    probability = [np.prod([weights[n][o] for n, o in p.items()]) for p in paths[1:]]
    assert probability == sorted(probability, reverse=True)
    # every allowed path more probable than the last one given is among them
    allowed = [dict(zip(weights, ops)) for ops in itertools.product(
        *[[o for o in weights[n] if o != "none"] for n in weights])]
    more = [p for p in allowed if sum(o == "skip" for o in p.values()) <= 1 and
            np.prod([weights[n][o] for n, o in p.items()]) > probability[-1] + 1e-9]
    assert more and all(p in paths for p in more)
    assert supernet.derive_several(1, max_skips=1) == [paths[0]]


# -- the strategies through the estimators, the command and a kill ----------------------------
def _journal(directory):
    with open(os.path.join(directory, "journal.jsonl")) as handle:
        return [json.loads(line) for line in handle]


@pytest.mark.parametrize("strategy, options", [
    ("oneshot", {"search_trials": 6, "top_k": 2, "few_shot_splits": 1,
                 "few_shot_epochs": 1}),
    ("darts", {"warmup_epochs": 0, "top_k": 2}),
    ("gdas", {"selection": "weight"}),
])
def test_a_tiny_one_shot_search_returns_a_model(digits, tmp_path, strategy, options):
    x, y = digits
    clf = AutoClassifier(spec=[CellBlock(num_nodes=3, stacks=1, filters=8,
                                         operations=SMALL_OPS), ClassificationHead()],
                         strategy=strategy, strategy_options={"supernet_epochs": 2, **options},
                         epochs=6, learning_rate=0.01, seed=0, directory=str(tmp_path),
                         final_fit=False, ensemble_size=1).fit(x[:900], y[:900])
    assert clf.predict(x[900:950]).shape == (50,)
    # ten classes: chance is 0.1 (a spread of 0.012 on these 897 rows)
    assert clf.score(x[900:], y[900:]) > 0.15
    notes = [r for r in _journal(tmp_path) if r["event"] == "supernet"]
    done = [n for n in notes if n["stage"] == "done"]
    main = "supernet" if strategy == "oneshot" else "architecture"
    assert len(done) == 1 and [n["epoch"] for n in notes if n["stage"] == main] == [1, 2]
    if strategy == "oneshot":  # one round of shrinking (4 options to 2: the second would
        # drop nothing), then one child per option left on the split edge, one epoch each
        assert isinstance(done[0]["same_model"], list)
        assert [n["round"] for n in notes if n["stage"] == "shrink"] == [1]
        left = done[0]["shrunk"]
        assert sorted(left) == sorted(CELL_EDGES) and all(len(v) == 2 for v in left.values())
        means = [n for n in notes if n["stage"] == "shrink"][0]["means"]
        assert done[0]["top"][0]["path"] == {n: max(means[n], key=means[n].get)
                                             for n in CELL_EDGES}
        children = [n["stage"] for n in notes if n["stage"].startswith("few_shot_")]
        assert children == [f"few_shot_{SMALL_OPS.index(o)}" for o in left[CELL_EDGES[0]]]
        assert done[0]["few_shot_splits"] == [CELL_EDGES[0]]
    trials = clf.search_results_
    top_k = options.get("top_k", OPTIONS[strategy]["top_k"])
    assert len(trials) == len(done[0]["candidates"]) == top_k
    for trial, candidate in zip(trials, done[0]["candidates"]):
        assert all(trial["params"][k] == v for k, v in candidate.items()
                   if k in trial["params"])
    page = open(clf.report(tmp_path / "report.html")).read()
    assert "Supernet phase" in page and "Candidates trained from scratch" in page
    if strategy == "oneshot":  # each round's options, kept and dropped, with their means
        means = means[CELL_EDGES[0]]
        assert "Shrinking" in page and ", ".join(
            f"{o} ({means[o]:.4f})" for o in done[0]["shrunk"][CELL_EDGES[0]]) in page
        assert "best option by the last round" in page
    if strategy != "oneshot":
        weights = [n for n in notes if n["stage"] == "architecture"][-1]["weights"]
        assert sorted(weights) == CELL_EDGES
        assert all(name in page for name in weights)  # how each choice evolved
        assert "none" not in done[0]["derived"].values()
        strengths = done[0].get("importance") or weights  # by perturbation, or by weight
        assert done[0]["selection"] == options.get("selection", "perturbation")
        for name, option in done[0]["derived"].items():  # the strongest, or the next where
            ranked = sorted((o for o in strengths[name] if o != "none"),  # a skip was one
                            key=lambda o, v=strengths[name]: -v[o])  # too many
            assert option == ranked[0] or (ranked[0] == "skip" and option == ranked[1])
        if strategy == "darts":  # each choice's options by how much their removal hurt
            importance = [n for n in notes if n["stage"] == "selection"][0]["importance"]
            assert importance == done[0]["importance"] and "Selection" in page
            best = max(importance[CELL_EDGES[0]].items(), key=lambda item: item[1])
            assert f"{best[0]} ({best[1]:+.4f})" in page


def test_a_one_shot_strategy_given_no_blocks_searches_the_inputs_cell(digits, tmp_path):
    """Images given as (N, H, W) and no spec: DARTS searches the image kind's default cell,
    of 2-D operations; a sequence's cell is of 1-D ones, a flat signal's too unless its
    columns make a square; tables have none, and say so."""
    x, y = digits
    clf = AutoClassifier(strategy="darts", strategy_options={
                             "supernet_epochs": 1, "warmup_epochs": 0, "top_k": 1},
                         epochs=1, seed=0, directory=str(tmp_path), final_fit=False,
                         ensemble_size=1).fit(x[:300, :, :, 0], y[:300])
    edges = [k for k in clf.best_params_ if k.startswith("cell_1/normal_")]
    assert len(edges) == 6  # the 4-node cell of specs/oneshot.yaml
    convolutions = {type(layer).__name__ for layer in clf.best_model_.layers
                    if isinstance(layer, keras.layers.Conv1D | keras.layers.Conv2D)}
    assert convolutions and all(name.endswith("2D") for name in convolutions)
    for kind, rows in [(SequenceInput("input"), x[:50, :, :, 0].reshape(50, 32, 2)),
                       (SignalInput("input"), x[:50, :5, :, 0].reshape(50, 40)),
                       (SignalInput("input"), x[:50, :, :, 0].reshape(50, 64))]:
        kind.fit(rows)
        supernet = Supernet(ModelSpace(kind.supernet_blocks() + [ClassificationHead(
            num_classes=10)], inputs={"input": kind}))
        assert supernet.model.output_shape == (None, 10) and len(supernet.choices) == 12
        dims = "2D" if rows.shape[1:] == (64,) else "1D"  # 64 columns make an 8 x 8 square
        assert {type(layer).__name__ for layer in _walk(supernet.model)} >= \
            {f"Conv{dims}", f"SeparableConv{dims}", f"MaxPooling{dims}"}
    table, labels = load_breast_cancer(return_X_y=True)
    with pytest.raises(ConfigError, match="strategy: 'gdas' shares weights .* default space "
                                          "for tabular data has none"):
        AutoClassifier(strategy="gdas", directory=str(tmp_path / "table")).fit(table, labels)


@pytest.mark.parametrize("strategy, options", [("oneshot", {"search_trials": 4, "top_k": 2}),
                                               ("darts", {"warmup_epochs": 0})])
def test_a_one_shot_search_chooses_between_blocks(digits, tmp_path, strategy, options):
    x, y = digits
    clf = AutoClassifier(spec=[_stem_choice(), CellBlock(num_nodes=2, stacks=1, filters=8,
                                                         operations=("skip", "conv3x3")),
                               ClassificationHead()],
                         strategy=strategy, strategy_options={"supernet_epochs": 2, **options},
                         epochs=4, learning_rate=0.01, seed=0, directory=str(tmp_path),
                         final_fit=False, ensemble_size=1).fit(x[:900], y[:900])
    assert clf.score(x[900:], y[900:]) > 0.15
    done = [r for r in _journal(tmp_path) if r.get("stage") == "done"][0]
    chosen = [c["stem/block"] for c in done["candidates"]]
    assert len(chosen) == options.get("top_k", OPTIONS[strategy]["top_k"])
    assert set(chosen) <= {"plain", "separable"}
    if strategy == "darts":
        assert sorted(done["weights"]["stem/block"]) == ["plain", "separable"]
    trials = clf.search_results_
    assert [t["params"]["stem/block"] for t in trials] == chosen  # trained as chosen


MISMATCHED_STEMS = """
from sklearn.datasets import load_digits
from autoarch import AutoClassifier
from autoarch.blocks import BlockChoice, CellBlock, ClassificationHead, ConvBlock
x, y = load_digits(return_X_y=True)
stems = [ConvBlock(name="a", num_blocks=1, num_layers=1, pooling="none"),
         ConvBlock(name="b", num_blocks=1, num_layers=1, pooling="max")]
try:
    AutoClassifier(spec=[BlockChoice(stems, name="stem"), CellBlock(num_nodes=2, stacks=1,
                         operations=("skip", "conv3x3")), ClassificationHead()],
                   strategy="oneshot", epochs=1, directory=DIRECTORY).fit(
        (x[:300] / 16).reshape(-1, 8, 8, 1), y[:300])
except ValueError as err:
    print(err)
"""


def test_a_supernet_that_cannot_be_built_ends_the_search_with_its_reason_alone(tmp_path):
    # the trial worker, still starting when the search ends, leaves without a traceback
    result = subprocess.run(
        [sys.executable, "-c", MISMATCHED_STEMS.replace("DIRECTORY", repr(str(tmp_path)))],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(
            __file__)))))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "stem_block_0: the options of one choice must give one output shape" in \
        result.stdout
    assert "Traceback" not in result.stderr, result.stderr[-3000:]


def test_a_study_of_a_plain_function_cannot_run_a_supernet_strategy():
    from autoarch import Study

    study = Study({"a": {"type": "choice", "values": [1, 2]}}, strategy="oneshot")
    with pytest.raises(RuntimeError, match="evaluates Keras models built from a model space"):
        study.ask()


CELL_SPEC = """
name: tiny_cell
task: classification
data: sklearn:digits
seed: 0
strategy: {name: STRATEGY, supernet_epochs: 1}
budget: {epochs: 1}
training: {learning_rate: 0.01}
space:
  blocks:
    - {block: cell, num_nodes: 2, stacks: 1, filters: 8, operations: [skip, conv3x3]}
    - {block: classification_head}
"""


@pytest.mark.parametrize("strategy", ["oneshot", "darts"])
def test_the_command_runs_a_one_shot_search(tmp_path, strategy):
    from test_cli import autoarch

    spec = tmp_path / "cell.yaml"  # darts by --strategy over a spec written for oneshot
    spec.write_text(CELL_SPEC.replace("STRATEGY", "oneshot, search_trials: 3"))
    result = autoarch("search", str(spec), "--dir", str(tmp_path / "run"),
                      *(["--strategy", strategy] if strategy != "oneshot" else []))
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{strategy}: supernet phase done" in result.stdout
    assert "test accuracy:" in result.stdout
    assert (tmp_path / "run" / "best_model.keras").exists()
    epochs = [r for r in _journal(tmp_path / "run") if r["event"] == "supernet" and "epoch" in r
              and r["stage"] in ("supernet", "architecture")]
    assert len(epochs) == 1  # the spec's supernet_epochs: 1, whichever strategy
    if strategy == "darts":  # the option darts does not take is left out, and said so
        assert "--strategy darts: the spec's options for 'oneshot' that it does not take " \
            "are not used: search_trials" in result.stdout


RESUME_CHILD = """
import sys
from sklearn.datasets import load_digits
from autoarch import AutoClassifier
from autoarch.blocks import CellBlock, ClassificationHead
x, y = load_digits(return_X_y=True)
AutoClassifier(spec=[CellBlock(num_nodes=3, stacks=1, filters=8,
                               operations=("none", "skip", "conv3x3", "maxpool3x3")),
                     ClassificationHead()],
               strategy="darts", strategy_options={"supernet_epochs": 6, "warmup_epochs": 0},
               epochs=1, seed=0, directory=sys.argv[1], final_fit=False,
               ensemble_size=1).fit((x / 16).reshape(-1, 8, 8, 1), y)
"""


def test_a_killed_supernet_phase_resumes_from_its_checkpoint(tmp_path):
    run_dir = tmp_path / "run"
    checkpoint = run_dir / "oneshot" / "supernet.npz"
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(
        __file__))))
    child = subprocess.Popen([sys.executable, "-c", RESUME_CHILD, str(run_dir)], env=env)
    try:
        deadline = time.monotonic() + 300
        while not checkpoint.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checkpoint.exists(), "the child never saved a checkpoint"
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    with np.load(checkpoint) as data:
        done = json.loads(bytes(data["state"]).decode())["epochs_done"]
    assert 1 <= done < 6
    noted = [r["epoch"] for r in _journal(run_dir) if r.get("stage") == "architecture"]
    assert noted and max(noted) <= done + 1  # killed in the phase, before its end
    exec(RESUME_CHILD.replace("sys.argv[1]", repr(str(run_dir))), {})  # resume here
    epochs = [r["epoch"] for r in _journal(run_dir) if r.get("stage") == "architecture"]
    resumed = epochs[len(noted):]
    assert resumed == list(range(done + 1, 7))  # from the checkpoint on, not from zero
    assert sum(r.get("stage") == "done" for r in _journal(run_dir)) == 1
