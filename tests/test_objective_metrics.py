"""Objectives that name a metric beyond the head's own (``val_auc``, ``val_r2_score``): every
candidate computes it, the search optimises it, and a name no head computes is refused
before training."""

import json

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.metrics import r2_score, roc_auc_score

from autoarch import AutoClassifier, AutoRegressor
from autoarch.blocks import ClassificationHead, DenseBlock, ModelSpace, RegressionHead
from autoarch.engine.search import ModelSearch
from autoarch.export import load_model

TINY = dict(strategy="random", seed=0, early_stopping_patience=None, curve_stopping=False,
            isolate_trials=False, ensemble_size=1, final_fit=False)


def _searched(tmp_path, head, x, y, objective, **settings):
    """A two-trial search with ``objective`` on a fixed validation split; each trial's
    value, saved validation outputs and the validation targets."""
    space = ModelSpace([DenseBlock(num_layers=1, units=[8, 16], dropout=0.0,
                                   batch_norm=False), head])
    cut = int(0.75 * len(y))
    search = ModelSearch(space, max_trials=2, epochs=3, objective=objective,
                         directory=str(tmp_path), **TINY, **settings).fit(
        {"input": x[:cut]}, y[:cut], validation_data=({"input": x[cut:]}, y[cut:]))
    return [(t, np.load(tmp_path / "trials" / f"trial_{t.number}.val.npy"))
            for t in search.study.trials], y[cut:]


@pytest.mark.parametrize("data", ["binary", "multiclass"])
def test_an_auc_objective_is_each_trials_validation_auc(tmp_path, data):
    x, y = (load_breast_cancer if data == "binary" else load_iris)(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    x, y = ((x - x.mean(axis=0)) / x.std(axis=0)).astype("float32")[order], y[order]
    trials, y_val = _searched(tmp_path, ClassificationHead(num_classes=len(set(y)),
                                                           dropout=0.0), x, y, "val_auc")
    for trial, outputs in trials:
        expected = roc_auc_score(y_val, outputs.reshape(-1)) if data == "binary" else \
            roc_auc_score(y_val, outputs, multi_class="ovr")
        # Keras interpolates its curve over 200 thresholds
        assert trial.value == pytest.approx(expected, abs=0.01)
        assert trial.value != pytest.approx(trial.metrics["val_accuracy"], abs=1e-3)
        saved = load_model(tmp_path / "trials" / f"trial_{trial.number}.keras")  # safe mode
        assert ("SparseAUC" if data == "multiclass" else "AUC") in \
            json.dumps(saved.get_compile_config()["metrics"])


def test_an_r2_objective_is_maximised_and_each_trials_validation_r2(tmp_path):
    x, y = load_diabetes(return_X_y=True)
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype("float32")
    trials, y_val = _searched(tmp_path / "r2", RegressionHead(), x, y, "val_r2_score",
                              learning_rate=0.01)
    for trial, outputs in trials:
        assert trial.value == pytest.approx(r2_score(y_val, outputs.reshape(-1)), abs=1e-3)
    clf = AutoRegressor(max_trials=1, epochs=2, objective="val_r2_score", **TINY).fit(x, y)
    assert clf._search_settings["objective"] == ["val_r2_score", "max"]


@pytest.mark.parametrize("objective, message", [
    ("val_aucc", "did you mean 'val_auc'"),
    ("val_precision", "precision is for two classes"),
    ("val_r2_score", "no metric a classification_head computes"),
])
def test_an_objective_no_head_computes_is_refused_before_training(objective, message):
    x, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="objective|two classes") as caught:
        AutoClassifier(max_trials=1, objective=objective).fit(x, y)
    assert message in str(caught.value)


def test_multiclass_auc_is_scikit_learns_one_vs_rest_macro_weighted_or_not():
    from autoarch.blocks.metrics import SparseAUC

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 500)
    p = rng.dirichlet([1, 1, 1], 500)
    p[np.arange(500), y] += 0.3
    p = (p / p.sum(axis=1, keepdims=True)).astype("float32")
    weights = rng.uniform(0, 3, 500)
    for w in (None, weights):
        metric = SparseAUC(3, num_thresholds=2000)
        metric.update_state(y, p, sample_weight=w)
        assert float(metric.result()) == pytest.approx(
            roc_auc_score(y, p, multi_class="ovr", sample_weight=w), abs=1e-3)
