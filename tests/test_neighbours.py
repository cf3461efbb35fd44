"""Nearest neighbours as a Keras model, and as a member of a raw signal's ensemble."""

import pickle

import numpy as np
import pytest
import tensorflow as tf
from sklearn.neighbors import KNeighborsClassifier

from export_helpers import assert_reloads_predict_the_same
from data_helpers import waves

from autoarch import AutoClassifier
from autoarch.engine import search
from autoarch.engine.journal import Journal
from autoarch.ensemble import loss
from autoarch.export import export_model
from autoarch.inputs.signal import SignalInput
from autoarch.neighbours import MAX_VALUES, NearestNeighbours, neighbours_model

TINY = dict(strategy="random", seed=0, early_stopping_patience=None, curve_stopping=False,
            isolate_trials=False)


@pytest.mark.parametrize("classes", [2, 3])
def test_the_keras_model_computes_the_nearest_neighbours(classes):
    x, y = waves(classes=classes)
    kind = SignalInput("input").fit(x[:80])
    fitted = NearestNeighbours(kind.scaled(x[:80]), y[:80], classes)
    got = neighbours_model(kind, fitted).predict(x[80:], verbose=0)
    expected = fitted.outputs(kind.scaled(x[80:]))
    assert got.shape == (40, 1 if classes == 2 else classes)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    reference = KNeighborsClassifier(1).fit(x[:80], y[:80]).predict(x[80:])
    predicted = got.argmax(axis=1) if classes > 2 else (got[:, 0] > 0.5).astype(int)
    np.testing.assert_array_equal(predicted, reference)  # one scale for all columns: same order


def test_the_temperature_is_the_lowest_log_loss_leaving_each_row_out():
    x, y = waves(rows=90, noise=2.0)  # noisy enough that some rows' neighbour is wrong
    fitted = NearestNeighbours(x, y, 3)
    assert 0 < np.mean(fitted.distances(x, leave_out=True).argmin(axis=1) != y) < 0.5
    brute = np.array([[np.min(np.linalg.norm(x[(y == c) & (np.arange(90) != i)] - x[i], axis=1))
                       for c in range(3)] for i in range(90)])  # each row against the others

    def log_loss(t):
        scores = -t * brute
        shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
        return loss(shifted / shifted.sum(axis=1, keepdims=True), y, True)

    best = log_loss(fitted.temperature)
    for factor in (0.8, 1.25):
        assert best < log_loss(factor * fitted.temperature)
    np.testing.assert_allclose(fitted.distances(x, leave_out=True), brute, rtol=1e-4, atol=1e-4)


def test_wide_rows_keep_at_most_max_values():
    """So that the member of large images stays small enough to export."""
    x = np.random.default_rng(0).normal(size=(300, 20_000)).astype("float32")
    fitted = NearestNeighbours(x, np.arange(300) % 3, 3)
    assert fitted.rows.shape == (MAX_VALUES // 20_000, 20_000)
    assert len(fitted.labels) == MAX_VALUES // 20_000


@pytest.mark.parametrize("kind,shape", [("signal", (48,)), ("image", (6, 8, 1)),
                                        ("sequence", (24, 2))])
def test_a_search_on_arrays_weighs_nearest_neighbours_and_the_result_exports(tmp_path, kind,
                                                                             shape):
    """Networks trained for one epoch at a learning rate of 1e-9 learn nothing; the
    nearest neighbours make the final model, with the validation rows added. The same
    waves given flat, as images and as two-channel sequences: the last two are flattened,
    inside the model too."""
    x, y = waves(rows=160)
    x = x.reshape(len(x), *shape)
    clf = AutoClassifier(max_trials=2, epochs=1, learning_rate=1e-9,
                         directory=str(tmp_path / "search"), **TINY).fit(x[:120], y[:120])
    assert clf.input_kind_ == kind
    (note,) = [r for r in Journal(str(tmp_path / "search")).read()
               if r["event"] == "nearest_neighbours"]
    assert note["rows"] == 96 and note["temperature"] > 0  # the training rows, not validation
    assert note["validation_score"][0] > 0.8
    assert "nearest neighbours among 96 rows" in clf.search_summary_["nearest_neighbours"]
    final = clf.search_summary_["final_model"]
    members = {m["trial"] for m in clf.ensemble_["members"] if m["weight"]} if \
        clf.ensemble_ else set()
    assert final == "nearest neighbours retrained on all rows" or members == {"neighbours"}
    assert clf.best_model_.get_layer("class_distances").n_rows == 120
    assert clf.score(x[120:], y[120:]) > 0.8  # the networks alone: chance, 0.33
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict(x[120:]),
                                  clf.predict(x[120:]))
    sample = x[120:125]
    expected = assert_reloads_predict_the_same(clf.best_model_, tf.constant(sample), tmp_path)
    export_model(clf.best_model_, str(tmp_path / "m.tflite"), "tflite")
    runner = tf.lite.Interpreter(model_path=str(tmp_path / "m.tflite")).get_signature_runner()
    (name,) = runner.get_input_details()
    got = np.concatenate([next(iter(runner(**{name: sample[i:i + 1]}).values()))
                          for i in range(5)])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_signal_neighbours_off_leaves_them_out_few_series_get_trees_many_a_linear_model(
        tmp_path):
    x, y = waves(rows=100)
    clf = AutoClassifier(max_trials=1, epochs=1, directory=str(tmp_path / "a"),
                         signal_neighbours=False, **TINY).fit(x, y)
    events = {r["event"] for r in Journal(str(tmp_path / "a")).read()}
    assert "nearest_neighbours" not in events and "boosted_trees" in events
    assert "nearest_neighbours" not in clf.search_summary_
    assert "neighbours" not in clf.search_summary_["final_model"]
    assert "table_linear" not in events  # with classes, the linear model stands in for trees
    x, y = waves(rows=1300)  # 1,040 training series: more than SIGNAL_TREES_ROWS
    assert int(0.8 * len(y)) > search.SIGNAL_TREES_ROWS
    clf = AutoClassifier(max_trials=1, epochs=1, directory=str(tmp_path / "b"),
                         signal_neighbours=False, **TINY).fit(x, y)
    events = {r["event"] for r in Journal(str(tmp_path / "b")).read()}
    assert not {"boosted_trees", "nearest_neighbours"} & events and "table_linear" in events
    clf = AutoClassifier(max_trials=1, epochs=1, directory=str(tmp_path / "c"),
                         signal_neighbours=False, table_linear=False, **TINY).fit(x, y)
    assert not {"boosted_trees", "nearest_neighbours", "table_linear"} & {
        r["event"] for r in Journal(str(tmp_path / "c")).read()}
    assert clf.search_summary_["final_model"].startswith("trial 0")
