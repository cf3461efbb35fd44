"""Fairness in a search: sensitive features, the measures on validation predictions,
reweighing as a searched training choice, and the estimators' handling of the column."""

import numpy as np
import pandas as pd
import pytest

from autoarch import AutoClassifier, measures
from autoarch.fairness import group_labels, predicted_labels, reweighing


def biased_table(n=600, seed=0):
    """A binary target that depends on x and, unfairly, on the group."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], size=n, p=[0.7, 0.3])
    x = rng.normal(size=(n, 3))
    logit = 1.5 * x[:, 0] - x[:, 1] + np.where(group == "a", 1.0, -1.0)
    y = (logit + rng.normal(scale=0.5, size=n) > 0).astype(int)
    frame = pd.DataFrame(x, columns=["x0", "x1", "x2"])
    frame["group"] = group
    return frame, y


def test_reweighing_makes_the_label_independent_of_the_group():
    y = np.array([1, 1, 1, 0, 1, 0, 0, 0])
    groups = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])
    weights = reweighing(y, groups)
    # P(a)=1/2, P(y=1)=1/2, P(a, y=1)=3/8 -> 2/3; P(a, y=0)=1/8 -> 2
    np.testing.assert_allclose(weights, [2 / 3] * 3 + [2, 2] + [2 / 3] * 3)
    for g in ("a", "b"):
        in_group = groups == g
        assert np.sum(weights[in_group] * y[in_group]) / np.sum(weights[in_group]) == \
            pytest.approx(0.5)


def test_group_labels_and_predicted_labels():
    assert list(group_labels([1, 0, 1], 3)) == ["1", "0", "1"]
    assert list(group_labels([["f", 1], ["m", 1]], 2)) == ["f|1", "m|1"]
    with pytest.raises(ValueError, match="one value per row"):
        group_labels([1, 0], 3)
    with pytest.raises(ValueError, match="missing values"):
        group_labels(["a", None], 2)
    assert list(predicted_labels(np.array([[0.2, 0.8], [0.9, 0.1]]))) == [1, 0]
    assert list(predicted_labels(np.array([[0.7], [0.2]]))) == [1, 0]


def test_a_search_measures_fairness_on_validation_rows_and_searches_reweighing(tmp_path):
    from autoarch.blocks import ClassificationHead, DenseBlock, ModelSpace
    from autoarch.engine.search import ModelSearch

    frame, y = biased_table()
    x = frame[["x0", "x1", "x2"]].to_numpy("float32")
    search = ModelSearch(ModelSpace([DenseBlock(num_layers=1), ClassificationHead(
        num_classes=2)]), strategy="random", seed=0, max_trials=4, epochs=3,
        objectives=["val_accuracy", "demographic_parity_difference"],
        constraints={"demographic_parity_difference": 0.25}, directory=str(tmp_path),
        final_fit=False, isolate_trials=False)
    search.fit(x, y, sensitive_features=frame["group"].to_numpy())
    done = [t for t in search.study.trials if t.is_finite()]
    assert {t.params["training/reweigh"] for t in search.study.trials} <= {True, False}
    # groups given as values, not as an input column: no thresholds to search
    assert "training/parity_thresholds" not in search.study.trials[0].params
    y_val = search._trainer.val[1]
    for trial in done:  # the recorded measure is the one computed by hand from the record
        predictions = np.load(tmp_path / "trials" / f"trial_{trial.number}.val.npy")
        assert predictions.shape == (len(y_val), 1)  # a binary head: P(class 1)
        expected = measures.demographic_parity_difference(
            y_val, (predictions[:, 0] > 0.5).astype(int), search._val_groups)
        assert trial.metrics["demographic_parity_difference"] == pytest.approx(expected)
    majority = max(np.mean(y_val == c) for c in np.unique(y_val))  # a constant model's
    assert search.study.useful_from == pytest.approx(majority)
    feasible = [t for t in done if t.metrics["demographic_parity_difference"] <= 0.25
                and t.value > majority]
    if feasible:  # the final model is the most accurate useful trial within the bound
        assert search.study.best_trial is max(feasible, key=lambda t: (t.value, -t.number))
    # without sensitive features the space has no reweighing choice
    plain = ModelSearch(ModelSpace([DenseBlock(num_layers=1), ClassificationHead(
        num_classes=2)]), max_trials=1, epochs=1, final_fit=False, isolate_trials=False)
    plain.fit(x, y)
    assert "training/reweigh" not in plain.study.trials[0].params


def test_estimators_take_a_column_name_and_can_drop_it():
    frame, y = biased_table(n=300)
    clf = AutoClassifier(objectives=["val_accuracy", "worst_group_accuracy"], max_trials=1,
                         epochs=1, seed=0)
    clf.fit(frame, y, sensitive_features="group", sensitive_as_input=False)
    assert clf.n_features_in_ == 3
    assert "worst_group_accuracy" in clf.search_results_[0]["metrics"]
    assert clf.predict(frame.drop(columns="group")).shape == (300,)
    # the final model is the trial whose fairness was measured, not a refit on all rows
    assert "not retrained" in clf.search_summary_["final_model"]
    before = clf.predict_proba(frame.drop(columns="group"))
    clf.select(clf.selected_trial_)
    np.testing.assert_allclose(clf.predict_proba(frame.drop(columns="group")), before,
                               atol=1e-6)
    with pytest.raises(ValueError, match="no column 'grup'.*group"):
        clf.fit(frame, y, sensitive_features="grup")
    with pytest.raises(ValueError, match="give sensitive_features as column names"):
        clf.fit(frame, y, sensitive_features=frame["group"].to_numpy(),
                sensitive_as_input=False)


def test_parity_thresholds_give_every_group_the_most_accurate_common_rate():
    from autoarch.engine.parity import RATES, parity_thresholds

    rng = np.random.default_rng(0)
    groups = rng.choice(["a", "b"], size=2000, p=[0.8, 0.2])
    y = (rng.random(2000) < np.where(groups == "a", 0.4, 0.15)).astype(int)
    p = np.clip(0.5 * y + 0.5 * rng.random(2000) + np.where(groups == "a", 0.1, 0.0), 0, 1)
    thresholds = parity_thresholds(p, groups, y)
    predicted = p > np.array([thresholds[g] for g in groups])
    rates = [predicted[groups == g].mean() for g in ("a", "b")]
    assert abs(rates[0] - rates[1]) < 0.01  # the same positive rate in both groups
    assert abs((p > 0.5)[groups == "a"].mean() - (p > 0.5)[groups == "b"].mean()) > 0.1

    def accuracy(rate):
        cut = {g: np.quantile(p[groups == g], 1 - rate) for g in ("a", "b")}
        return np.mean((p > np.array([cut[g] for g in groups])) == y)

    # no rate of the grid is more accurate than the one chosen
    assert np.mean(predicted == y) == pytest.approx(max(accuracy(r) for r in RATES))


@pytest.mark.parametrize("column", [np.array([["a"], ["b"], ["c"]]),
                                    np.array([[0.0], [1.0], [2.0]], "float32")])
def test_group_thresholds_move_each_groups_cut_to_one_half(column):
    from autoarch.engine.parity import GroupThresholds

    values = ["a", "b"] if column.dtype.kind == "U" else [0.0, 1.0]
    layer = GroupThresholds(values, [0.3, 0.8])
    p = np.array([[0.35], [0.75], [0.6]], "float32")  # the third row's value has no group
    moved = np.asarray(layer([p, column]))
    assert list(moved[:, 0] > 0.5) == [True, False, True]  # 0.35 > 0.3, 0.75 < 0.8
    np.testing.assert_allclose(moved[2], p[2], atol=1e-6)
    two = np.asarray(layer([np.concatenate([1 - p, p], axis=1), column]))  # softmax output
    np.testing.assert_allclose(two[:, 1], moved[:, 0], atol=1e-6)
    np.testing.assert_allclose(two.sum(axis=1), 1.0, atol=1e-6)


def test_a_search_can_give_the_groups_thresholds_that_the_saved_model_applies(tmp_path):
    from autoarch import load_model
    from autoarch.blocks import ClassificationHead, DenseBlock, ModelSpace
    from autoarch.engine.data import make_dataset
    from autoarch.engine.parity import without_thresholds
    from autoarch.engine.search import ModelSearch
    from autoarch.estimators.base import _sensitive
    from autoarch.inputs.tabular import TabularInput

    frame, y = biased_table()
    frame = frame.rename(columns={"group": "the group"})  # the input is named "the_group"
    assert _sensitive(frame, "the group", True)[2] == "the_group"
    assert _sensitive(frame, "the group", False)[2] is None
    kind = TabularInput("input").fit(frame)
    first = [{"training/parity_thresholds": True}, {"training/parity_thresholds": False}]
    space = ModelSpace([DenseBlock(num_layers=1, first_trials=first),
                        ClassificationHead(num_classes=2)], inputs={"input": kind})
    search = ModelSearch(space, strategy="random", seed=0, max_trials=2, epochs=5,
                         objectives=["val_accuracy", "demographic_parity_difference"],
                         directory=str(tmp_path), isolate_trials=False, curve_stopping=False)
    search.fit({"input": frame}, y, sensitive_features=frame["the group"].to_numpy(),
               sensitive_input="the_group")
    fair, plain = search.study.trials
    assert fair.params["training/parity_thresholds"]
    assert not plain.params["training/parity_thresholds"]
    thresholds = fair.info["parity_thresholds"]
    assert set(thresholds) == {"a", "b"} and thresholds["a"] > thresholds["b"]
    parity = "demographic_parity_difference"
    assert fair.metrics[parity] < plain.metrics[parity] - 0.2
    # the recorded accuracy and parity are the thresholded model's, on the validation rows
    y_val = search._trainer.val[1]
    predicted = (np.load(tmp_path / "trials" / "trial_0.val.npy")[:, 0] > 0.5).astype(int)
    assert fair.value == pytest.approx(np.mean(predicted == y_val), abs=1e-6)
    assert fair.metrics[parity] == pytest.approx(measures.demographic_parity_difference(
        y_val, predicted, search._val_groups))
    # the saved model applies the thresholds itself, from the column, after a reload
    model = load_model(tmp_path / "trials" / "trial_0.keras")
    inner = without_thresholds(model)
    rows = make_dataset(space.arrays({"input": frame}), None, batch_size=256)
    p, moved = inner.predict(rows, verbose=0)[:, 0], model.predict(rows, verbose=0)[:, 0]
    cut = np.array([thresholds[g] for g in frame["the group"]])
    assert np.mean((moved > 0.5) == (p > cut)) > 0.995  # rounding at the cut aside
