"""Cross-validated selection of the final model on small data (autoarch.engine.crossval)."""

import time

import numpy as np
import pytest
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from data_helpers import topic_texts, waves

from autoarch import AutoClassifier, AutoRegressor
from autoarch.blocks import ClassificationHead, DenseBlock, ModelSpace
from autoarch.engine.crossval import FOLDS, TRIALS, fold_rows, out_of_fold, shortlist
from autoarch.engine.journal import Journal
from autoarch.engine.search import ModelSearch
from autoarch.splits import stratify_labels

TINY = dict(strategy="random", seed=0, early_stopping_patience=None, curve_stopping=False,
            isolate_trials=False)


def test_folds_hold_out_every_row_once_and_leave_every_class_to_fit_on():
    y = np.repeat([0, 1, 2], [10, 7, 5])
    folds = fold_rows(y, seed=0)
    assert len(folds) == FOLDS
    held = np.concatenate([h for _, h in folds])
    np.testing.assert_array_equal(np.sort(held), np.arange(len(y)))
    for fitting, held_out in folds:
        assert not set(fitting) & set(held_out)
        assert set(y[fitting]) == {0, 1, 2}
    assert fold_rows(np.repeat([0, 1], [10, FOLDS - 1]), seed=0) is None


def test_each_row_is_predicted_by_the_fold_that_held_it_out():
    folds = fold_rows(np.arange(20) % 2, seed=1)
    fitted = []

    def fit_predict(fitting, held_out):
        fitted.append(set(fitting))
        return np.full((len(held_out), 2), len(fitted) - 1)

    outputs = out_of_fold(fit_predict, folds)
    for k, (_, held_out) in enumerate(folds):
        assert (outputs[held_out] == k).all() and not fitted[k] & set(held_out)
    assert out_of_fold(lambda fitting, held_out: None, folds) is None


def test_the_shortlist_is_the_validation_choice_then_the_lowest_losses():
    weights = {3: 0.5, "trees": 0.2, 7: 0.3}
    losses = {1: 0.2, 3: 0.9, 7: 0.5, 8: 0.1, 9: 0.3, 10: 0.4}
    assert shortlist(weights, losses) == [3, 7, 8, 1, 9][:TRIALS]


def _noise(rows=120, classes=3, length=40, seed=0):
    """Standard normal series with random classes: the nearest neighbour of a row is itself
    when it is not held out, so any leak shows as accuracy far above chance."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(rows, length)).astype("float32"), rng.integers(0, classes, rows)


def _search_rows(y, seed=0):
    """The rows as the search orders them for the folds: its training rows, then its
    validation rows (its split of a fifth, stratified)."""
    train, val = train_test_split(np.arange(len(y)), test_size=0.2, random_state=seed,
                                  stratify=stratify_labels(y, 0.2))
    return np.concatenate([train, val])


@pytest.mark.parametrize("make", [_noise, waves])
def test_a_small_signal_search_selects_on_out_of_fold_outputs_of_every_row(tmp_path, make):
    """Networks at a learning rate of 1e-9 learn nothing; the nearest neighbours' out-of-fold
    accuracy is sklearn's 1-NN fitted on each fold's other rows, and the final model is
    selected on those outputs. Without a time limit the folds may take half the seconds
    the search took (a machine twice as slow takes twice as long for both)."""
    x, y = make()
    started = time.monotonic()
    clf = AutoClassifier(max_trials=16, epochs=1, learning_rate=1e-9,
                         directory=str(tmp_path / "search"), **TINY).fit(x, y)
    summary = clf.search_summary_
    # half of it as estimated, with room for the estimates' error
    assert summary["cross_validation"]["seconds"] <= 0.75 * summary["search_seconds"] + 2
    assert time.monotonic() - started < 2 * summary["search_seconds"] + 10
    (note,) = [r for r in Journal(str(tmp_path / "search")).read()
               if r["event"] == "cross_validation"]
    assert note["rows"] == 120 and note["folds"] == FOLDS
    trials = [k for k in note["scores"] if k.isdigit()]
    assert 1 <= len(trials) <= TRIALS and "neighbours" in note["scores"]
    order = _search_rows(y)
    xs, ys = x[order], y[order]
    right = 0
    for fitting, held_out in fold_rows(ys, seed=0):
        knn = KNeighborsClassifier(1).fit(xs[fitting], ys[fitting])
        right += int(np.sum(knn.predict(xs[held_out]) == ys[held_out]))
    assert note["scores"]["neighbours"][0] == pytest.approx(right / 120, abs=1e-4)
    assert clf.search_summary_["cross_validation"]["weights"] == note["weights"]
    assert sum(note["weights"].values()) == pytest.approx(1.0, abs=1e-3)
    if make is waves:  # the neighbours are right; networks that learned nothing are not
        assert note["scores"]["neighbours"][0] > 0.9 > max(note["scores"][k][0] for k in trials)
        assert note["weights"].get("neighbours", 0) >= 0.5
        assert clf.score(*waves(seed=1)) > 0.8
        page = open(clf.report(str(tmp_path / "report.html")), encoding="utf-8").read()
        assert f"{FOLDS} folds of 120 rows" in page and "out-of-fold accuracy: nearest " \
            f"neighbours {note['scores']['neighbours'][0]:.4f}" in page
    else:  # nothing to learn: held-out rows are at chance, as a leak would not be
        assert note["scores"]["neighbours"][0] < 0.6


def test_no_cross_validation_above_crossval_rows_for_a_regression_or_given_validation_rows(
        tmp_path):
    x, y = waves()
    AutoClassifier(time_limit=12, epochs=1, crossval_rows=100,
                   directory=str(tmp_path / "a"), **TINY).fit(x, y)
    space = ModelSpace([DenseBlock(num_layers=1, units=[4, 8, 16]),
                        ClassificationHead(num_classes=3)])
    ModelSearch(space, time_limit=12, epochs=1, directory=str(tmp_path / "b"), **TINY).fit(
        {"input": x[:100]}, y[:100], validation_data=({"input": x[100:]}, y[100:]))
    AutoRegressor(time_limit=12, epochs=1, directory=str(tmp_path / "c"), **TINY).fit(
        x, x[:, 0] + y)
    for name in "abc":
        assert "cross_validation" not in {r["event"] for r in Journal(
            str(tmp_path / name)).read()}


def test_a_small_text_search_cross_validates_its_linear_members(tmp_path):
    """The tf-idf members refit per fold, each with its own vocabulary, and score far above
    chance out of fold."""
    texts, y = topic_texts(rows=200)
    clf = AutoClassifier(max_trials=12, epochs=1, directory=str(tmp_path / "t"),
                         **TINY).fit(texts[:150], y[:150])
    (note,) = [r for r in Journal(str(tmp_path / "t")).read()
               if r["event"] == "cross_validation"]
    assert note["rows"] == 150 and {"linear", "nb_linear"} <= set(note["scores"])
    assert min(note["scores"]["linear"][0], note["scores"]["nb_linear"][0]) > 0.6  # chance 0.33
    assert clf.score(texts[150:], y[150:]) > 0.6
