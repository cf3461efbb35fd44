"""The model search: a :class:`Study` whose objective trains a Keras candidate.

Per trial (:mod:`autoarch.engine.trainer`): clear Keras state, build the candidate from its
parameters inside the ``tf.distribute`` strategy's scope, train on ``tf.data`` pipelines with
early stopping, learning-curve stopping and the search deadline, and report every epoch to the
journal. A NaN loss fails the trial; running out of memory retries once with half the batch
size. With ``isolate_trials`` the training runs in worker processes
(:mod:`autoarch.engine.worker`). The winner is then retrained on training + validation data
(``final_fit``).
"""

import math
import os
import time

import keras
import keras_tuner as kt
import numpy as np

from autoarch.engine import data as data_ops
from autoarch.engine.runtime import configure_threads
from autoarch.engine.study import Study, make_objective
from autoarch.engine.trainer import TrialTrainer
from autoarch.engine.worker import TrialWorker


class ModelSearch:
    """Search ``space`` (a :class:`~autoarch.blocks.ModelSpace`) for the best Keras model.

    Budget: ``max_trials``, ``time_limit`` (seconds for the whole search), ``epochs`` per
    trial; low fidelity with ``search_data_fraction`` and ``search_epochs`` (then the winner
    trains on everything for ``epochs``). ``objective`` defaults to ``val_accuracy`` (max) for
    classification and ``val_loss`` (min) for regression. ``isolate_trials=True`` trains in
    worker processes, each replaced after ``trials_per_worker`` trials, so memory stays flat
    over long searches and a crashing candidate fails only its own trial.
    """

    def __init__(self, space, strategy="random", objective=None, max_trials=10, epochs=10,
                 time_limit=None, seed=None, directory=None, batch_size=32,
                 validation_split=0.2, search_data_fraction=1.0, search_epochs=None,
                 early_stopping_patience=3, curve_stopping=True, final_fit=True,
                 distribution="auto", strategy_options=None, max_consecutive_failures=5,
                 isolate_trials=False, trials_per_worker=25, verbose=0):
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
        self.isolate_trials = isolate_trials
        self.trials_per_worker = trials_per_worker
        self.verbose = verbose
        self.study = None
        self.best_model = None

    # -- set-up -------------------------------------------------------------------------
    def _objective(self):
        if self.objective is not None:
            objective = self.objective
            if isinstance(objective, str) and ":" not in objective and \
                    objective not in ("max", "min"):
                objective = (objective, "min" if objective.endswith("loss") or
                             "error" in objective else "max")
            return make_objective(objective)
        return kt.Objective("val_accuracy", "max") if self.space.is_classification else \
            kt.Objective("val_loss", "min")

    def _split(self, inputs, y, validation_data):
        if validation_data is not None:
            x_val, y_val = validation_data
            return inputs, y, data_ops.as_input_dict(x_val), np.asarray(y_val)
        from sklearn.model_selection import train_test_split

        rows = np.arange(len(y))
        stratify = None
        if self.space.is_classification:  # stratified where every class fits on both sides
            counts = np.unique(y, return_counts=True)[1]
            n_val = math.ceil(self.validation_split * len(y))
            if counts.min() >= 2 and min(n_val, len(y) - n_val) >= len(counts):
                stratify = y
        train, val = train_test_split(rows, test_size=self.validation_split,
                                      random_state=self.seed or 0, stratify=stratify)
        return (data_ops.take_rows(inputs, train), y[train], data_ops.take_rows(inputs, val),
                y[val])

    # -- the search ---------------------------------------------------------------------
    def fit(self, x, y=None, validation_data=None, callbacks=None):
        """Search, then train the winner; returns ``self`` (``best_model``, ``study``).

        ``callbacks``: Keras callbacks added to every trial's ``fit`` (the same objects each
        trial, as Keras's own callbacks reset themselves in ``on_train_begin``); the final fit
        of the winner runs without them.
        """
        configure_threads()
        if y is None:
            x, y = data_ops.dataset_to_arrays(x)
        inputs = data_ops.as_input_dict(x)
        y = np.asarray(y)
        x_train, y_train, x_val, y_val = self._split(inputs, y, validation_data)
        self.space.adapt(x_train, y_train)
        self.space.input_specs = data_ops.input_specs(x_train)
        self._objective_ = self._objective()
        self._trainer = TrialTrainer(
            self.space, (data_ops.prepare_inputs(x_train), y_train),
            (data_ops.prepare_inputs(x_val), y_val),
            (self._objective_.name, self._objective_.direction), batch_size=self.batch_size,
            search_data_fraction=self.search_data_fraction,
            early_stopping_patience=self.early_stopping_patience,
            curve_stopping=self.curve_stopping, distribution=self.distribution,
            callbacks=callbacks or [], verbose=self.verbose)
        self._worker = TrialWorker(self._trainer, self.trials_per_worker) \
            if self.isolate_trials else None
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
        try:
            self.study.optimize(self._run_trial, max_trials=self.max_trials,
                                time_limit=self.time_limit)
        finally:
            if self._worker is not None:
                self._worker.close()
        if self.study.best_trial is None:
            raise RuntimeError("no trial completed; see the failures in the study's journal"
                               f" ({self.study.directory})")
        self.best_model = self._final_model()
        return self

    def _run_trial(self, trial):
        best = self.study.best_value
        task = {"params": trial.params, "seed": trial.seed,
                "epochs": int(trial.params.get("tuner/epochs", self.search_epochs or self.epochs)),
                "best_value": best, "save_path": self._best_weights_path,
                "seconds_left": None if self._deadline is None else
                max(0.0, self._deadline - time.monotonic())}
        run = (self._worker or self._trainer).run
        metrics = run(task, lambda step, logs: self.study.report(trial, step, **logs), trial.info)
        if self.verbose:
            self._print_progress(trial, metrics[self._objective_.name])
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
        (train, y_train), (val, y_val) = self._trainer.train, self._trainer.val
        inputs = {k: np.concatenate([train[k], val[k]]) for k in train}
        y = np.concatenate([y_train, y_val])
        model = self._trainer.build(best.params, best.seed)
        batch_size = int(best.metrics.get("batch_size", self.batch_size))
        model.fit(data_ops.make_dataset(inputs, y, batch_size, shuffle_seed=best.seed),
                  epochs=max(1, epochs), verbose=max(0, self.verbose - 1), shuffle=False)
        return model


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"
