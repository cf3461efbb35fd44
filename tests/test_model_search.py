"""The Keras model search: every ready spec runs a 2-trial search; NaN candidates fail without
stopping the search; time_limit is honoured; learning-curve stopping says why; out of memory
retries at half the batch; user callbacks; regression target scaling; worker processes."""

import glob
import math
import os
import pickle
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from autoarch import load_spec
from autoarch.blocks import ClassificationHead, DenseBlock, ModelSpace, RegressionHead
from autoarch.blocks.base import Block, choice
from autoarch.data import load_data
from autoarch.engine.journal import Journal
from autoarch.engine.runtime import build_training_variables
from autoarch.engine.schedules import replay_callbacks
from autoarch.engine.search import ModelSearch
from autoarch.engine.worker import TrialWorker
from autoarch.estimation import CurveStopping, extrapolate
from autoarch.estimators import estimator_for_task

SPECS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "specs", "*.yaml")))


@pytest.mark.parametrize("path", SPECS, ids=[os.path.basename(p) for p in SPECS])
def test_ready_spec_runs_a_two_trial_search(path, tmp_path):
    """Each ready spec through the estimator its task names, all of it honoured (strategy,
    options, training), with the budget overridden to two one-epoch trials."""
    spec = load_spec(path)
    x, y = load_data(spec.data)
    rows = np.random.default_rng(0).permutation(len(y))[:150]
    x, y = (x.iloc[rows] if hasattr(x, "iloc") else x[rows]), y[rows]
    estimator = estimator_for_task(spec.task)(
        spec=path, max_trials=2, epochs=1, final_fit=False, directory=tmp_path)
    estimator.fit(x, y)
    assert len(estimator.search_results_) == 2
    assert estimator.config_.strategy == spec.config.strategy
    assert estimator.config_.strategy_options == spec.config.strategy_options
    assert estimator.config_.training.batch_size == spec.config.training.batch_size
    assert isinstance(estimator.best_model_, keras.Model)


class CountsTraces(keras.Sequential):
    """A model that counts how often its train step is traced (run as Python)."""

    traces = 0

    def train_step(self, data):
        self.traces += 1
        return super().train_step(data)


def _traced_fit(prebuilt):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(40, 5)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = CountsTraces([keras.Input((5,)), keras.layers.Dense(8, activation="relu"),
                           keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    if prebuilt:
        build_training_variables(model, {"input": x}, y)
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    return model, history


def test_training_variables_made_before_fit_trace_the_train_step_once_and_train_the_same():
    """Keras makes the optimizer's and metrics' variables in the first trace, which makes
    tf.function trace again; made beforehand, one trace, and the same training."""
    plain, plain_history = _traced_fit(prebuilt=False)
    prebuilt, prebuilt_history = _traced_fit(prebuilt=True)
    assert prebuilt.traces == 1 < plain.traces
    assert set(prebuilt_history) == set(plain_history)  # metrics reset before fit:
    for name, values in plain_history.items():  # (pytest 9.2's approx takes no nested dict)
        assert prebuilt_history[name] == pytest.approx(values)
    for a, b in zip(prebuilt.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_new_session_collects_garbage_at_most_once_per_collect_seconds():
    """A full collection scans TensorFlow's heap (about 0.25 s): twenty models built in a
    row collect once, and the next one after COLLECT_SECONDS collects again, so a dropped
    model's cycles are freed within seconds."""
    import gc

    from autoarch.engine import runtime

    full = []

    def count(phase, info):
        if phase == "start" and info["generation"] == 2:
            full.append(time.monotonic())

    time.sleep(runtime.COLLECT_SECONDS)
    gc.callbacks.append(count)
    try:
        for _ in range(20):
            runtime.clear_session()
            keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        in_a_row = len(full)
        time.sleep(runtime.COLLECT_SECONDS)
        runtime.clear_session()
    finally:
        gc.callbacks.remove(count)
    assert 1 <= in_a_row <= 2  # the first call's (and at most one of Python's own)
    assert len(full) == in_a_row + 1


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


@pytest.mark.parametrize("limit", [2, 0])
def test_consecutive_failures_stop_the_search_unless_the_limit_is_zero(limit, tmp_path):
    """``max_consecutive_failures=0`` never stops for failures (an estimator's None keeps 5)."""
    from autoarch import TooManyFailures

    space = ModelSpace([DenseBlock(num_layers=1), RegressionHead()],
                       training={"optimizer": "sgd", "learning_rate": 1e12})
    search = ModelSearch(space, strategy="random", max_trials=3, epochs=1, seed=0,
                         directory=tmp_path, final_fit=False, max_consecutive_failures=limit)
    with pytest.raises(TooManyFailures if limit else RuntimeError):
        search.fit(*_regression_data())
    assert [t.status for t in search.study.trials] == ["FAILED"] * (limit or 3)


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
    assert last.info.get("stopped", "").startswith("time_limit reached")  # within an epoch
    assert last.metrics["epochs_run"] < 50


def test_time_limit_counts_from_the_callers_start(tmp_path):
    """``started``: where the caller's fit began (an estimator checks and fits its inputs
    first: 3.4 s of a 60 s limit on 240,000 rows). A caller that spent the whole limit
    leaves no time for a trial."""
    space = ModelSpace([DenseBlock(), ClassificationHead(num_classes=2)])
    x, y = np.zeros((60, 3), "float32"), np.arange(60) % 2
    search = ModelSearch(space, strategy="random", max_trials=3, epochs=1, time_limit=30,
                         seed=0, directory=tmp_path)
    with pytest.raises(RuntimeError, match=r"no trial completed in time_limit=30 s \(the "
                       r"data's preparation and the classical members took 6\d s"):
        search.fit({"input": x}, y, started=time.monotonic() - 60)
    assert search.study.n_finished == 0


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


def test_out_of_memory_retries_at_half_batch_then_fails_the_trial(tmp_path):
    """A real allocator failure (address space capped in a child process): the first
    candidate trains at half the batch size, the second fails, the search finishes."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the address-space cap needs Linux's /proc and RLIMIT_AS")
    here = os.path.dirname(__file__)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([here, os.path.dirname(here)]),
               TF_ENABLE_ONEDNN_OPTS="0")  # oneDNN kernels abort on a failed allocation
    child = subprocess.run([sys.executable, os.path.join(here, "oom_child.py"), str(tmp_path)],
                           env=env, capture_output=True, text=True, timeout=300)
    assert child.returncode == 0, child.stdout[-2000:] + child.stderr[-3000:]
    assert "final model predicts (40, 1)" in child.stdout
    first, second = sorted((r for r in Journal(tmp_path / "search").read()
                            if r["event"] == "tell"), key=lambda r: r["number"])
    assert first["status"] == "COMPLETED"
    assert first["info"]["batch_size_halved_to"] == 8 and first["metrics"]["batch_size"] == 8
    assert second["status"] == "FAILED"
    assert second["info"]["batch_size_halved_to"] == 8
    assert "ResourceExhaustedError" in second["traceback"]


@pytest.mark.parametrize("schedule", ["plateau", "constant"])
def test_plateau_schedule_lowers_the_rate_and_the_final_fit_ends_at_the_best_epochs(
        schedule, tmp_path):
    """Noisy labels: the validation loss stops improving within ten epochs, so under
    ``plateau`` the rate falls (one epoch's rate per record); the winner, retrained on all
    rows for its best epoch count, ends at the rate its best epoch had."""
    space = ModelSpace([DenseBlock(num_layers=1, units=32), ClassificationHead(num_classes=2)],
                       training={"learning_rate": 0.01, "lr_schedule": schedule})
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 8)).astype("float32")
    y = ((x[:, 0] + rng.normal(size=400)) > 0).astype("int32")
    search = ModelSearch(space, strategy="random", max_trials=1, epochs=10, seed=0,
                         directory=tmp_path, early_stopping_patience=None, curve_stopping=False,
                         ensemble_size=1, isolate_trials=False)
    search.fit({"input": x}, y)
    trial = search.study.trials[0]
    final_rate = float(search.best_model.optimizer.learning_rate)
    if schedule == "constant":
        assert not any("learning_rate" in r for r in trial.intermediate)
        assert final_rate == pytest.approx(0.01)
        return
    rates = [r["learning_rate"] for r in trial.intermediate]
    losses = [r["val_loss"] for r in trial.intermediate]
    assert len(rates) == 10 and rates[0] == pytest.approx(0.01)
    assert all(b <= a for a, b in zip(rates, rates[1:])) and rates[-1] < 0.01 / 10
    for epoch in range(1, 9):  # a drop follows each epoch that did not improve the loss
        improved = losses[epoch] < min(losses[:epoch]) - 1e-4
        assert (rates[epoch + 1] < rates[epoch]) == (not improved), (epoch, losses, rates)
    assert final_rate == pytest.approx(rates[trial.metrics["best_epoch"] - 1])


def test_replayed_rates_are_set_at_each_epochs_start():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    seen = []
    watch = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(
        float(model.optimizer.learning_rate)))
    record = [{"step": 1, "learning_rate": 0.01, "val_loss": 1.0},
              {"step": 2, "learning_rate": 0.003, "val_loss": 1.0},
              {"step": 3, "learning_rate": 0.0009, "val_loss": 1.0}]
    model.fit(np.ones((8, 2)), np.ones(8), epochs=4, verbose=0,
              callbacks=[*replay_callbacks(record), watch])
    assert seen == pytest.approx([0.01, 0.003, 0.0009, 0.0009])  # past the record: kept
    assert replay_callbacks([{"step": 1, "val_loss": 1.0}]) == []


def test_weight_decay_shrinks_the_weights_and_is_the_optimizers_own():
    """The same seeded training with and without decoupled weight decay: a strong decay
    leaves far smaller weights; None keeps the optimizer's default (adamw's 0.004)."""
    import keras_tuner as kt

    from autoarch.blocks.layout import TrainingChoices

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = x @ rng.normal(size=8).astype("float32")
    norms = {}
    for decay in (None, 2.0):
        optimizer = TrainingChoices(learning_rate=0.01, weight_decay=decay).optimizer(
            kt.HyperParameters())
        assert optimizer.weight_decay == decay
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16),
                                  keras.layers.Dense(1)])
        model.compile(optimizer=optimizer, loss="mse")
        model.fit(x, y, epochs=5, batch_size=16, verbose=0)
        norms[decay] = sum(float(np.sum(w ** 2)) for w in model.get_weights())
    assert norms[2.0] < 0.5 * norms[None]
    adamw = TrainingChoices(optimizer="adamw", learning_rate=0.01).optimizer(kt.HyperParameters())
    assert adamw.weight_decay == pytest.approx(0.004)


def test_user_callbacks_run_in_every_trial_but_not_the_final_fit(tmp_path):
    epochs_seen = []
    callback = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: epochs_seen.append(epoch))
    space = ModelSpace([DenseBlock(num_layers=1, units=[4, 8]), ClassificationHead(num_classes=2)])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3)).astype("float32")
    search = ModelSearch(space, strategy="grid", max_trials=2, epochs=2, seed=0,
                         directory=tmp_path, early_stopping_patience=None, curve_stopping=False)
    search.fit({"input": x}, (x[:, 0] > 0).astype("int32"), callbacks=[callback])
    assert epochs_seen == [0, 1, 0, 1]  # two trials of two epochs; the final fit adds none


def test_regression_head_learns_the_target_scale(tmp_path):
    """Targets around 5,000 with a spread of hundreds: the head standardizes them, so a few
    epochs reach a good fit, and the model predicts in the targets' own units."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3)).astype("float32")
    y = (5000 + x @ np.array([300.0, -200.0, 100.0])).astype("float32")
    space = ModelSpace([DenseBlock(num_layers=1, units=32, dropout=0.0, batch_norm=False),
                        RegressionHead(dropout=0.0)], training={"learning_rate": 0.01})
    search = ModelSearch(space, max_trials=1, epochs=15, seed=0, directory=tmp_path,
                         final_fit=False, early_stopping_patience=None, curve_stopping=False)
    search.fit({"input": x}, y)
    predicted = search.best_model.predict(x, verbose=0).reshape(-1)
    r2 = 1 - np.mean((predicted - y) ** 2) / np.var(y)
    assert r2 > 0.9, r2
    assert abs(predicted.mean() - y.mean()) < 50


def _kill_this_process():
    os.kill(os.getpid(), signal.SIGKILL)
    return np.float32(0.0)


class KillProcess(keras.layers.Layer):
    """Kills its own process when it first runs on data."""

    def call(self, x):
        import tensorflow as tf

        zero = tf.py_function(_kill_this_process, [], tf.float32)
        zero.set_shape(())
        return x + zero


class CrashBlock(Block):
    """Crashes the process while training when ``mode="crash"`` (as a native crash would);
    module-level, so worker processes can unpickle it."""

    kind = "crash"

    def search_space(self):
        return {"mode": choice("crash", "train")}

    def build(self, hp, inputs):
        return KillProcess()(inputs) if self.declare(hp)["mode"] == "crash" else inputs


def _isolated_search(tmp_path, blocks, **kwargs):
    space = ModelSpace(blocks + [DenseBlock(num_layers=1, units=8, activation="relu",
                                            dropout=0.0, batch_norm=False),
                                 ClassificationHead(num_classes=2, dropout=0.0)],
                       training={"learning_rate": 1e-2})
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 4)).astype("float32")
    settings = dict(strategy="grid", epochs=2, seed=0, directory=tmp_path,
                    early_stopping_patience=None, curve_stopping=False, final_fit=False)
    settings.update(kwargs)
    return ModelSearch(space, **settings).fit({"input": x}, (x[:, 0] > 0).astype("int32"))


def test_isolated_trials_give_the_same_results_as_in_process(tmp_path):
    blocks = [DenseBlock(name="searched", num_layers=1, units=[4, 16], activation="relu",
                         dropout=0.0, batch_norm=False)]
    here = _isolated_search(tmp_path / "here", blocks, max_trials=2)
    isolated = _isolated_search(tmp_path / "isolated", blocks, max_trials=2,
                                isolate_trials=True, trials_per_worker=1)
    assert [t.status for t in isolated.study.trials] == ["COMPLETED", "COMPLETED"]
    for a, b in zip(here.study.trials, isolated.study.trials):
        assert a.params == b.params
        assert b.value == pytest.approx(a.value, abs=1e-6)
        assert [r["val_loss"] for r in b.intermediate] == \
            pytest.approx([r["val_loss"] for r in a.intermediate], rel=1e-4)
    assert isolated.best_model.predict(np.zeros((2, 4), "float32"), verbose=0).shape == (2, 1)


def test_auto_isolation_trains_here_until_the_worker_is_ready_then_in_it(tmp_path):
    """The default: no wait for the worker's start-up, later trials in worker processes, and
    the same results as in process through the first of them (sixteen distinct points: the
    search outlasts the worker's start)."""
    blocks = [DenseBlock(name="searched", num_layers=1, units=list(range(4, 36, 2)),
                         activation="relu", dropout=0.0, batch_norm=False)]
    search = _isolated_search(tmp_path / "auto", blocks, max_trials=16, strategy="random",
                              epochs=4, isolate_trials="auto", trials_per_worker=4)
    trials = search.study.trials
    assert len(trials) == 16 and all(t.status == "COMPLETED" for t in trials)
    where = [t.info.get("trained_in", "here") for t in trials]
    assert where[0] == "here" and "worker process" in where, where
    upto = where.index("worker process") + 1  # through the first trial of a worker
    here = _isolated_search(tmp_path / "here", blocks, max_trials=upto, strategy="random",
                            epochs=4, isolate_trials=False)
    assert len(here.study.trials) == upto
    for a, b in zip(here.study.trials, trials):
        assert a.params == b.params and b.value == pytest.approx(a.value, abs=1e-6)


def test_starting_or_ending_a_worker_never_waits_for_it():
    """Sending a worker its trainer returns at once, however large (here 16 MB, far beyond
    the socket's buffer): the worker takes it before TensorFlow loads. Sending it used to
    wait for that load, so the search stood still while the worker started (8.5 s of a
    60-s search on the churn table). Ending it returns at once too (its TensorFlow winds
    down for 1.5 s, the final model's time), and the process does end."""
    worker = TrialWorker(None, payload=pickle.dumps(np.zeros(2_000_000)))
    began = time.monotonic()
    worker.start()
    sent = time.monotonic() - began
    process = worker._process
    try:
        while not worker.ready() and time.monotonic() - began < 300:
            time.sleep(0.05)
        loaded = time.monotonic() - began
        assert worker.ready()
    finally:
        began = time.monotonic()
        worker.close()
        closed = time.monotonic() - began
    assert sent < loaded / 4, (sent, loaded)
    assert process.wait(timeout=60) == 0
    assert closed < (time.monotonic() - began) / 4, closed


def test_a_crashing_worker_fails_only_its_trial(tmp_path):
    search = _isolated_search(tmp_path, [CrashBlock(name="crash")], max_trials=2,
                              isolate_trials=True)
    first, second = search.study.trials
    assert first.params["crash/mode"] == "crash" and first.status == "FAILED"
    assert "worker process" in first.message and "exit status -9" in first.message
    assert second.status == "COMPLETED"
