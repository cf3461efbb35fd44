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
