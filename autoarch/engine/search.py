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
from sklearn.model_selection import train_test_split

from autoarch.config import SearchConfig
from autoarch.data import dataset_to_arrays
from autoarch.engine import data as data_ops
from autoarch.engine.runtime import configure_threads
from autoarch.engine.study import Study
from autoarch.engine.trainer import TrialTrainer
from autoarch.engine.worker import TrialWorker
from autoarch.inputs.base import InputKind
from autoarch.objectives import make_objective


class ModelSearch:
    """Search ``space`` (a :class:`~autoarch.blocks.ModelSpace`) for the best Keras model.

    ``config`` is a :class:`~autoarch.config.SearchConfig`; keyword settings (``max_trials=5``,
    ``epochs=3``, any knob of :mod:`autoarch.config`) make one or override its values. The
    objective defaults to ``val_accuracy`` (max) for classification and ``val_loss`` (min)
    for regression. ``directory`` holds the journal (a temporary folder when ``None``).
    """

    def __init__(self, space, config=None, *, directory=None, verbose=0, **settings):
        if config is not None and settings:
            config = SearchConfig.from_flat({**config.flat(), **settings})
        self.space = space
        self.config = config if config is not None else SearchConfig.from_flat(settings)
        self.directory = directory
        self.verbose = verbose
        self.study = None
        self.best_model = None

    # -- set-up -------------------------------------------------------------------------
    def _objective(self):
        if self.config.objective is not None:
            return make_objective(self.config.objective)
        return kt.Objective("val_accuracy", "max") if self.space.is_classification else \
            kt.Objective("val_loss", "min")

    def _split(self, arrays, y, validation_data):
        if validation_data is not None:
            x_val, y_val = validation_data
            return arrays, y, self.space.arrays(data_ops.as_input_dict(x_val)), np.asarray(y_val)
        rows = np.arange(len(y))
        split = self.config.training.validation_split
        stratify = None
        if self.space.is_classification:  # stratified where every class fits on both sides
            counts = np.unique(y, return_counts=True)[1]
            n_val = math.ceil(split * len(y))
            if counts.min() >= 2 and min(n_val, len(y) - n_val) >= len(counts):
                stratify = y
        train, val = train_test_split(rows, test_size=split, random_state=self.config.seed,
                                      stratify=stratify)
        return (data_ops.take_rows(arrays, train), y[train], data_ops.take_rows(arrays, val),
                y[val])

    def _set_inputs(self, inputs):
        """Inputs the space was not given are fed as they are (arrays, or strings)."""
        if not self.space.inputs:
            self.space.inputs = {name: InputKind(name).fit(data) for name, data in inputs.items()}

    # -- the search ---------------------------------------------------------------------
    def fit(self, x, y=None, validation_data=None, callbacks=None):
        """Search, then train the winner; returns ``self`` (``best_model``, ``study``).

        ``x``: one input's data or ``{input name: data}``, or a ``tf.data.Dataset`` of
        ``(x, y)`` pairs. ``callbacks``: Keras callbacks added to every trial's ``fit`` (the
        same objects each trial, as Keras's own callbacks reset themselves in
        ``on_train_begin``); the final fit of the winner runs without them.
        """
        configure_threads()
        if y is None:
            x, y = dataset_to_arrays(x)
        inputs = data_ops.as_input_dict(x)
        self._set_inputs(inputs)
        y = np.asarray(y)
        x_train, y_train, x_val, y_val = self._split(self.space.arrays(inputs), y,
                                                     validation_data)
        self.space.adapt(x_train, y_train)
        self._objective_ = self._objective()
        config = self.config
        self._trainer = TrialTrainer(self.space, (x_train, y_train), (x_val, y_val),
                                     (self._objective_.name, self._objective_.direction),
                                     config.budget, config.training, callbacks=callbacks or [],
                                     verbose=self.verbose)
        self._worker = TrialWorker(self._trainer, config.training.trials_per_worker) \
            if config.training.isolate_trials else None
        if self.directory is not None:
            os.makedirs(self.directory, exist_ok=True)
        self.study = Study(self.space.hyperparameters(), strategy=config.strategy,
                           objective=(self._objective_.name, self._objective_.direction),
                           seed=config.seed, directory=self.directory,
                           strategy_options=config.strategy_options,
                           max_consecutive_failures=config.budget.max_consecutive_failures)
        budget = config.budget
        self._started = time.monotonic()
        self._deadline = None if budget.time_limit is None else self._started + budget.time_limit
        self._best_weights_path = os.path.join(self.study.directory, "best_trial.keras")
        try:  # a failing candidate is data: it is recorded as failed and the search goes on
            self.study.optimize(self._run_trial, max_trials=budget.max_trials,
                                time_limit=budget.time_limit, catch=(Exception,))
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
                "epochs": int(trial.params.get("tuner/epochs", self.config.budget.search_epochs
                                               or self.config.budget.epochs)),
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
        budget = self.config.budget
        left = elapsed / done * max(0, (budget.max_trials or done) - done)
        if budget.time_limit is not None:
            left = min(left, max(0.0, budget.time_limit - elapsed))
        best = self.study.best_value
        best = value if best is None else (max(best, value) if self._objective_.direction == "max"
                                           else min(best, value))
        print(f"trial {done}/{budget.max_trials or '?'}  {self._objective_.name}={value:.4f}  "
              f"best={best:.4f}  elapsed {_clock(elapsed)}  left ~{_clock(left)}", flush=True)

    # -- the winner ---------------------------------------------------------------------
    def _final_model(self):
        best = self.study.best_trial
        budget = self.config.budget
        if not budget.final_fit:
            return keras.models.load_model(self._best_weights_path, safe_mode=True)
        low_fidelity = budget.search_epochs is not None or budget.search_data_fraction < 1.0
        epochs = budget.epochs if low_fidelity else \
            int(best.metrics.get("best_epoch", budget.epochs))
        (train, y_train), (val, y_val) = self._trainer.train, self._trainer.val
        inputs = {k: np.concatenate([train[k], val[k]]) for k in train}
        y = np.concatenate([y_train, y_val])
        model = self._trainer.build(best.params, best.seed)
        batch_size = int(best.metrics.get("batch_size", self.config.training.batch_size))
        model.fit(data_ops.make_dataset(inputs, y, batch_size, shuffle_seed=best.seed),
                  epochs=max(1, epochs), verbose=max(0, self.verbose - 1), shuffle=False)
        return model


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"
