"""The Keras model search: every ready spec runs a 2-trial search; NaN candidates fail without
stopping the search; time_limit is honoured; learning-curve stopping says why."""

import glob
import math
import os
import time

import keras
import numpy as np
import pytest

from autoarch import load_spec
from autoarch.blocks import ClassificationHead, DenseBlock, ModelSpace, RegressionHead
from autoarch.data import load_data
from autoarch.engine.journal import Journal
from autoarch.engine.search import ModelSearch
from autoarch.estimation import CurveStopping, extrapolate
from autoarch.estimators.inputs import check_x, infer_kind, make_space, model_inputs

SPECS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "specs", "*.yaml")))


@pytest.mark.parametrize("path", SPECS, ids=[os.path.basename(p) for p in SPECS])
def test_ready_spec_runs_a_two_trial_search(path, tmp_path):
    spec = load_spec(path)
    x, y = load_data(spec.data)
    rows = np.random.default_rng(0).permutation(len(y))[:150]
    x, y = (x.iloc[rows] if hasattr(x, "iloc") else x[rows]), y[rows]
    classification = spec.task != "regression"
    kind = infer_kind(x)
    x = check_x(x, kind)
    if classification:
        y = np.unique(y, return_inverse=True)[1]
    space = make_space(kind, spec.blocks, classification,
                       len(np.unique(y)) if classification else 1, frame=x if kind == "tabular"
                       else None)
    search = ModelSearch(space, strategy=spec.strategy, max_trials=2, epochs=1, seed=0,
                         directory=tmp_path, strategy_options=spec.strategy_options,
                         final_fit=False)
    search.fit(model_inputs(x, kind, space), y.astype("float32" if not classification else "int32"))
    assert search.study.n_finished == 2
    assert search.study.best_trial is not None
    assert isinstance(search.best_model, keras.Model)


def _regression_data(n=64):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 4)).astype("float32")
    return {"input": x}, (x @ np.array([1.0, 2.0, -1.0, 0.5]) * 1000).astype("float32")


def test_diverging_candidate_is_failed_and_search_goes_on(tmp_path):
    space = ModelSpace([DenseBlock(num_layers=1, units=16), RegressionHead()],
                       training={"optimizer": "sgd", "learning_rate": [1e12, 1e-3]})
    x, y = _regression_data()
    search = ModelSearch(space, strategy="grid", max_trials=2, epochs=2, seed=0,
                         directory=tmp_path, final_fit=False)
    search.fit(x, y)
    statuses = [t.status for t in search.study.trials]
    assert statuses == ["FAILED", "COMPLETED"]
    failed = search.study.trials[0]
    assert failed.params["training/learning_rate"] == 1e12
    assert "diverged" in failed.message or "nan" in failed.message.lower()
    tells = [r for r in Journal(tmp_path).read() if r["event"] == "tell"]
    assert tells[0]["status"] == "FAILED" and tells[1]["status"] == "COMPLETED"


def test_time_limit_is_honoured(tmp_path):
    space = ModelSpace([DenseBlock(), ClassificationHead(num_classes=2)])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 5)).astype("float32")  # 50 epochs take longer than the limit
    y = (x[:, 0] > 0).astype("int32")
    started = time.monotonic()
    search = ModelSearch(space, strategy="random", max_trials=200, epochs=50, time_limit=4,
                         seed=0, directory=tmp_path, final_fit=False, early_stopping_patience=None,
                         curve_stopping=False)
    search.fit({"input": x}, y)
    elapsed = time.monotonic() - started
    assert search.study.n_finished < 200
    assert elapsed < 4 + 25  # the deadline also stops the trial in flight
    last = search.study.trials[-1]
    assert last.info.get("stopped") == "time_limit reached"
    assert last.metrics["epochs_run"] < 50


def test_extrapolation_and_curve_stopping_reason():
    assert math.isclose(extrapolate([0.5, 0.6], 4), 0.5 + 0.1 / math.log(2) * math.log(4))
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    curve = CurveStopping("val_accuracy", "max", best_so_far=0.95, final_epoch=20, min_epochs=3)
    curve.set_model(model)
    for epoch, value in enumerate([0.30, 0.31, 0.315]):
        curve.on_epoch_end(epoch, {"val_accuracy": value})
    assert model.stop_training is True
    assert "cannot beat the best so far (0.95)" in curve.reason
    rising = CurveStopping("val_accuracy", "max", best_so_far=0.95, final_epoch=20, min_epochs=3)
    rising.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    for epoch, value in enumerate([0.3, 0.6, 0.8]):
        rising.on_epoch_end(epoch, {"val_accuracy": value})
    assert rising.reason is None


def test_low_fidelity_search_then_full_training(tmp_path):
    space = ModelSpace([DenseBlock(num_layers=1), ClassificationHead(num_classes=2)])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 5)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    search = ModelSearch(space, strategy="random", max_trials=2, epochs=3, search_epochs=1,
                         search_data_fraction=0.5, seed=0, directory=tmp_path)
    search.fit({"input": x}, y)
    assert all(t.metrics["epochs_run"] == 1 for t in search.study.trials)
    reports = [r for r in Journal(tmp_path).read() if r["event"] == "report"]
    assert len(reports) == 2
    assert search.best_model.predict(x, verbose=0).shape == (120, 1)
