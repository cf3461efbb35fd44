"""The model search: a :class:`Study` whose objective trains a Keras candidate.

Per trial: clear Keras state, build the candidate from its parameters inside the
``tf.distribute`` strategy's scope, train on ``tf.data`` pipelines with early stopping,
learning-curve stopping and the search deadline, and report every epoch to the journal. A NaN
loss fails the trial; running out of memory retries once with half the batch size. The winner
is then retrained on training + validation data (``final_fit``).
"""

import gc
import math
import os
import time

import keras
import keras_tuner as kt
import numpy as np

from autoarch.engine import data as data_ops
from autoarch.engine.runtime import configure_threads, distribution_strategy
from autoarch.engine.study import Study, make_objective
from autoarch.estimation import CurveStopping, subsample


class TrialDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class _Report(keras.callbacks.Callback):
    """Journal every epoch's metrics and stop at the search's deadline."""

    def __init__(self, study, trial, deadline):
        super().__init__()
        self.study, self.trial, self.deadline = study, trial, deadline
        self.stopped_by_deadline = False

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: float(v) for k, v in (logs or {}).items()}
        self.study.report(self.trial, epoch + 1, **logs)
        if any(not math.isfinite(v) for k, v in logs.items() if k.endswith("loss")):
            self.model.stop_training = True
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.stopped_by_deadline = True
            self.model.stop_training = True


class ModelSearch:
    """Search ``space`` (a :class:`~autoarch.blocks.ModelSpace`) for the best Keras model.

    Budget: ``max_trials``, ``time_limit`` (seconds for the whole search), ``epochs`` per
    trial; low fidelity with ``search_data_fraction`` and ``search_epochs`` (then the winner
    trains on everything for ``epochs``). ``objective`` defaults to ``val_accuracy`` (max) for
    classification and ``val_loss`` (min) for regression.
    """

    def __init__(self, space, strategy="random", objective=None, max_trials=10, epochs=10,
                 time_limit=None, seed=None, directory=None, batch_size=32,
                 validation_split=0.2, search_data_fraction=1.0, search_epochs=None,
                 early_stopping_patience=3, curve_stopping=True, final_fit=True,
                 distribution="auto", strategy_options=None, max_consecutive_failures=5,
                 verbose=0):
        self.space = space
        self.strategy = strategy
        self.objective = objective
        self.max_trials = max_trials
        self.epochs = epochs
        self.time_limit = time_limit
        self.seed = seed
        self.directory = directory
        self.batch_size = batch_size
        self.validation_split = validation_split
        self.search_data_fraction = search_data_fraction
        self.search_epochs = search_epochs
        self.early_stopping_patience = early_stopping_patience
        self.curve_stopping = curve_stopping
        self.final_fit = final_fit
        self.distribution = distribution
        self.strategy_options = strategy_options
        self.max_consecutive_failures = max_consecutive_failures
        self.verbose = verbose
        self.study = None
        self.best_model = None

    # -- set-up -------------------------------------------------------------------------
    @property
    def is_classification(self):
        return getattr(self.space.head, "loss", "").endswith("crossentropy")

    def _objective(self):
        if self.objective is not None:
            objective = self.objective
            if isinstance(objective, str) and ":" not in objective and \
                    objective not in ("max", "min"):
                objective = (objective, "min" if objective.endswith("loss") or
                             "error" in objective else "max")
            return make_objective(objective)
        return kt.Objective("val_accuracy", "max") if self.is_classification else \
            kt.Objective("val_loss", "min")

    def _split(self, inputs, y, validation_data):
        if validation_data is not None:
            x_val, y_val = validation_data
            return inputs, y, data_ops.as_input_dict(x_val), np.asarray(y_val)
        from sklearn.model_selection import train_test_split

        rows = np.arange(len(y))
        stratify = y if self.is_classification and np.min(np.unique(y, return_counts=True)[1]) >= 2 \
            else None
        train, val = train_test_split(rows, test_size=self.validation_split,
                                      random_state=self.seed or 0, stratify=stratify)
        return (data_ops.take_rows(inputs, train), y[train], data_ops.take_rows(inputs, val),
                y[val])

    # -- the search ---------------------------------------------------------------------
    def fit(self, x, y=None, validation_data=None):
        """Search, then train the winner; returns ``self`` (``best_model``, ``study``)."""
        configure_threads()
        if y is None:
            x, y = data_ops.dataset_to_arrays(x)
        inputs = data_ops.as_input_dict(x)
        y = np.asarray(y)
        x_train, y_train, x_val, y_val = self._split(inputs, y, validation_data)
        self.space.adapt(x_train)
        self.space.input_specs = data_ops.input_specs(x_train)
        self._train = (data_ops.prepare_inputs(x_train), y_train)
        self._val = (data_ops.prepare_inputs(x_val), y_val)
        self._objective_ = self._objective()
        if self.directory is not None:
            os.makedirs(self.directory, exist_ok=True)
        self.study = Study(self.space.hyperparameters(), strategy=self.strategy,
                           objective=(self._objective_.name, self._objective_.direction),
                           seed=self.seed, directory=self.directory,
                           strategy_options=self.strategy_options,
                           max_consecutive_failures=self.max_consecutive_failures)
        self._started = time.monotonic()
        self._deadline = None if self.time_limit is None else self._started + self.time_limit
        self._best_weights_path = os.path.join(self.study.directory, "best_trial.keras")
        self.study.optimize(self._run_trial, max_trials=self.max_trials,
                            time_limit=self.time_limit)
        if self.study.best_trial is None:
            raise RuntimeError("no trial completed; see the failures in the study's journal"
                               f" ({self.study.directory})")
        self.best_model = self._final_model()
        return self

    def _search_data(self, trial):
        inputs, y = self._train
        if self.search_data_fraction < 1.0:
            rows = subsample(len(y), self.search_data_fraction, trial.seed,
                             y if self.is_classification else None)
            inputs, y = data_ops.take_rows(inputs, rows), y[rows]
        return inputs, y

    def _build(self, params, seed):
        keras.backend.clear_session()
        gc.collect()
        keras.utils.set_random_seed(seed)
        hp = kt.HyperParameters()
        hp.values = {k: v for k, v in params.items() if not k.startswith("tuner/")}
        with distribution_strategy(self.distribution).scope():
            return self.space.build(hp)

    def _run_trial(self, trial):
        import tensorflow as tf

        epochs = int(trial.params.get("tuner/epochs", self.search_epochs or self.epochs))
        inputs, y = self._search_data(trial)
        try:
            return self._train_trial(trial, inputs, y, epochs, self.batch_size)
        except tf.errors.ResourceExhaustedError:
            if self.batch_size == 1:
                raise
        batch_size = self.batch_size // 2  # out of memory: one retry at half the batch
        trial.info["batch_size_halved_to"] = batch_size
        return self._train_trial(trial, inputs, y, epochs, batch_size)

    def _train_trial(self, trial, inputs, y, epochs, batch_size):
        model = self._build(trial.params, trial.seed)
        objective = self._objective_
        report = _Report(self.study, trial, self._deadline)
        callbacks = [report]
        if self.early_stopping_patience:
            callbacks.append(keras.callbacks.EarlyStopping(
                objective.name, patience=self.early_stopping_patience, mode=objective.direction))
        curve = None
        if self.curve_stopping and self.study.best_trial is not None:
            curve = CurveStopping(objective.name, objective.direction, self.study.best_value,
                                  epochs, min_epochs=max(3, epochs // 3))
            callbacks.append(curve)
        started = time.perf_counter()
        history = model.fit(
            data_ops.make_dataset(inputs, y, batch_size, shuffle_seed=trial.seed),
            validation_data=data_ops.make_dataset(*self._val, batch_size),
            epochs=epochs, callbacks=callbacks, verbose=max(0, self.verbose - 1),
            shuffle=False).history
        losses = history.get("loss", [])
        bad = [i for i, v in enumerate(losses) if not math.isfinite(v)]
        if bad:
            raise TrialDiverged(f"training diverged: loss became {losses[bad[0]]} at epoch "
                                f"{bad[0] + 1}")
        curve_values = history.get(objective.name)
        if not curve_values:
            raise ValueError(f"objective '{objective.name}' is not among the training metrics "
                             f"({', '.join(history)})")
        pick = np.nanargmax if objective.direction == "max" else np.nanargmin
        best_epoch = int(pick(curve_values))
        if curve is not None and curve.reason:
            trial.info["stopped"] = curve.reason
        elif report.stopped_by_deadline:
            trial.info["stopped"] = "time_limit reached"
        elif len(curve_values) < epochs:
            trial.info["stopped"] = f"early stopping after {len(curve_values)} epochs"
        value = float(curve_values[best_epoch])
        metrics = {objective.name: value, "best_epoch": best_epoch + 1,
                   "epochs_run": len(curve_values), "batch_size": batch_size,
                   "params": int(model.count_params()),
                   "fit_seconds": time.perf_counter() - started}
        metrics.update({k: float(v[best_epoch]) for k, v in history.items()
                        if k != objective.name})
        best = self.study.best_value
        improves = best is None or (value > best if objective.direction == "max" else value < best)
        if improves and math.isfinite(value):
            model.save(self._best_weights_path)
        if self.verbose:
            self._print_progress(trial, value)
        return metrics

    def _print_progress(self, trial, value):
        done = self.study.n_finished + 1
        elapsed = time.monotonic() - self._started
        left = elapsed / done * max(0, (self.max_trials or done) - done)
        if self.time_limit is not None:
            left = min(left, max(0.0, self.time_limit - elapsed))
        best = self.study.best_value
        best = value if best is None else (max(best, value) if self._objective_.direction == "max"
                                           else min(best, value))
        print(f"trial {done}/{self.max_trials or '?'}  {self._objective_.name}={value:.4f}  "
              f"best={best:.4f}  elapsed {_clock(elapsed)}  left ~{_clock(left)}", flush=True)

    # -- the winner ---------------------------------------------------------------------
    def _final_model(self):
        best = self.study.best_trial
        if not self.final_fit:
            return keras.models.load_model(self._best_weights_path, safe_mode=True)
        low_fidelity = self.search_epochs is not None or self.search_data_fraction < 1.0
        epochs = self.epochs if low_fidelity else int(best.metrics.get("best_epoch", self.epochs))
        inputs = {k: np.concatenate([self._train[0][k], self._val[0][k]]) for k in self._train[0]}
        y = np.concatenate([self._train[1], self._val[1]])
        model = self._build(best.params, best.seed)
        batch_size = int(best.metrics.get("batch_size", self.batch_size))
        model.fit(data_ops.make_dataset(inputs, y, batch_size, shuffle_seed=best.seed),
                  epochs=max(1, epochs), verbose=max(0, self.verbose - 1), shuffle=False)
        return model


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"
