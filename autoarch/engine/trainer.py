"""Training one candidate: the part of a search that runs either in the searching process or
in a worker process (``isolate_trials``), so it holds everything it needs and pickles.

A task names the candidate (``params``, ``seed``), its budget (``epochs``, ``seconds_left``),
the best value so far (for learning-curve stopping), the measures to record beside its
metrics (``measures``; :mod:`autoarch.measures`), the bounds that refuse it before training
(``limits``), and where to save the trained model and its validation predictions (``model_path``, ``predictions_path``: ensembles are selected from
them). The model keeps the weights of its best epoch, so the model, its predictions and the
reported value agree. ``run`` returns the trial's metrics; every epoch's logs go to ``report``
and notes for the record (why it stopped, a halved batch) go into ``info``, also when it fails.
"""

import bisect
import math
import os
import time

import keras
import keras_tuner as kt
import numpy as np
import tensorflow as tf

from autoarch.blocks.layout import DEFAULT_INPUT
from autoarch.engine import data as data_ops
from autoarch.engine.inherit import inherit_weights
from autoarch.export import load_model
from autoarch.engine.parity import (parity_thresholds, positive_probability,
                                     with_thresholds, without_thresholds)
from autoarch.engine.runtime import (build_training_variables, clear_session,
                                     distribution_strategy)
from autoarch.engine.schedules import search_callbacks
from autoarch.estimation import CurveStopping, subsample
from autoarch.fairness import training_weights
from autoarch.files import atomic_path


#: a forward pass's share of a training step's seconds per row (forward, backward and the
#: update; an inference batch of EVAL_BATCH rows runs faster still per row)
FORWARD_SHARE = 0.3
#: steps timed (the epoch's later half) before a forward pass is estimated from them
MIN_TIMED_STEPS = 20


class TrialDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class Deadline(keras.callbacks.Callback):
    """Stop training at the end of the first epoch after ``deadline`` (``time.monotonic``);
    with ``mid_epoch``, after the first batch past it (``cut``), and Keras validates the
    epoch so far. A trial may train one epoch at least, and one slow epoch overran the time
    kept for the final model: on text_sections a trial allowed 1.5 s took 23 s, and the
    final model had 21 s less for its members' retrainings.

    ``predict_rows``: rows that pass through the model once more after the stop (a trial's
    validation rows, predicted for the ensemble), and, with ``mid_epoch``, also validated
    at the cut. The stop comes that much earlier: twice the last validation pass, or before
    the first, two forward passes estimated from the epoch's training steps (a conv net
    cut on 20,000 images had validated and predicted its 4,000 validation images for 20 s
    past a 40 s limit)."""

    async_safe = True  # reads no logs: Keras may dispatch it off the training loop

    def __init__(self, deadline, mid_epoch=False, predict_rows=0, batch_size=None):
        super().__init__()
        self.deadline, self.mid_epoch = deadline, mid_epoch
        self.predict_rows, self.batch_size = predict_rows, batch_size
        self.stopped = self.cut = False
        self.validation_seconds = None  # the last validation pass
        self._times, self._batches = [], []  # this epoch's batch ends: when, which

    def after_stop(self):
        """Seconds the model still works once training stops: validating the epoch so far and
        predicting ``predict_rows``, each a forward pass over them (0 until measured)."""
        if not self.predict_rows:
            return 0.0
        if self.validation_seconds is not None:
            return 2.0 * self.validation_seconds
        if not self.batch_size or len(self._times) < 2:
            return 0.0
        # the later half of the epoch's steps: the first ones run slower (tracing, warming up)
        now, last = self._times[-1], self._batches[-1]
        middle = bisect.bisect_left(self._times, (self._times[1] + now) / 2.0)
        if last - self._batches[middle] < MIN_TIMED_STEPS:
            return 0.0
        row_seconds = (now - self._times[middle]) / (
            (last - self._batches[middle]) * self.batch_size)
        return 2.0 * FORWARD_SHARE * row_seconds * self.predict_rows

    def _passed(self, margin=0.0):
        return self.deadline is not None and time.monotonic() + margin >= self.deadline

    def on_epoch_begin(self, epoch, logs=None):
        self._times, self._batches = [], []

    def on_train_batch_end(self, batch, logs=None):
        if self.predict_rows:
            self._times.append(time.monotonic())
            self._batches.append(batch)
        if self.mid_epoch and not self.stopped and self._passed(self.after_stop()):
            self.stopped = self.cut = self.model.stop_training = True

    def on_test_begin(self, logs=None):
        self._validating = time.monotonic()

    def on_test_end(self, logs=None):
        self.validation_seconds = time.monotonic() - self._validating

    def on_epoch_end(self, epoch, logs=None):
        # another epoch would be cut at once: its validation and the predictions to come
        if self._passed(self.after_stop()):
            self.stopped = self.model.stop_training = True


class _Report(keras.callbacks.Callback):
    """Hand every epoch's metrics to ``report``; stop on a non-finite loss. Times the first
    epoch (``first_seconds``), which traces the model's functions: the mean epoch of a
    long trial hides that, and a retraining of fewer epochs pays it in full."""

    def __init__(self, report):
        super().__init__()
        self.report, self.first_seconds = report, None

    def on_train_begin(self, logs=None):
        self._began = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if self.first_seconds is None:
            self.first_seconds = time.perf_counter() - self._began
        logs = {k: float(v) for k, v in (logs or {}).items()}
        self.report(epoch + 1, logs)
        if any(not math.isfinite(v) for k, v in logs.items() if k.endswith("loss")):
            self.model.stop_training = True


def _log_hparams(directory, params, name, value):
    """The trial's parameters and objective for TensorBoard's HParams dashboard."""
    from tensorboard.plugins.hparams import api as hparams_api

    values = {k: v for k, v in params.items() if not k.startswith("tuner/")}
    with tf.summary.create_file_writer(directory).as_default():
        hparams_api.hparams(values, trial_id=os.path.basename(directory))
        tf.summary.scalar(name, value, step=0)


def trial_values(params):
    """A trial's parameters as the ``HyperParameters`` a space builds from."""
    hp = kt.HyperParameters()
    hp.values = {k: v for k, v in params.items() if not k.startswith("tuner/")}
    return hp


#: the most bytes of inputs encoded ahead a trainer keeps (training and validation rows
#: together); a larger encoding (many string columns of many levels) is computed per batch
AHEAD_BYTES = 512 * 2**20


class TrialTrainer:
    """Builds and trains candidates of ``space`` on fixed training and validation arrays,
    as the search's ``budget`` and ``training`` settings (:mod:`autoarch.config`) say.

    Where an input's kind encodes ahead (a table), the arrays are encoded once
    (:meth:`ahead`) and each candidate trains through its view
    (``ModelSpace.build_for_training``), unless callbacks of the user's own are given: those
    see the model that takes the raw inputs, as they would without a search.
    """

    def __init__(self, space, train, val, objective, budget, training, callbacks=(), verbose=0,
                 groups=None, sensitive_input=None, sample_weight=None):
        self.space, self.train, self.val = space, train, val
        #: ``(training rows' weights, validation rows' weights)``, or None: the candidates
        #: train on the weighted loss, and their validation loss and metrics (the
        #: objective) are weighted means
        self.sample_weight = sample_weight
        #: each training row's sensitive group (for ``training/reweigh``), or None
        self.groups = groups
        #: ``(input name, numeric)`` of the sensitive column, for
        #: ``training/parity_thresholds``, or None
        self.sensitive_input = sensitive_input
        self.objective = objective  # (name, "min" | "max")
        self.budget, self.training = budget, training
        self.callbacks = list(callbacks)
        self.verbose = verbose
        self._ahead = None  # (train, validation inputs) encoded ahead; False: not encoded

    def __getstate__(self):  # a worker encodes its own copy rather than receive one
        return {**self.__dict__, "_ahead": None}

    def build(self, params, seed):
        """The candidate's compiled model, and the view of it that trains on the inputs
        :meth:`ahead` gives (None where it trains on the raw inputs)."""
        clear_session()
        keras.utils.set_random_seed(seed)
        with distribution_strategy(self.training.distribution).scope():
            build = getattr(self.space, "build_for_training", None)
            if build is None or self.callbacks:
                return self.space.build(trial_values(params)), None
            return build(trial_values(params))

    def ahead(self):
        """``(training inputs, validation inputs)`` with each input whose kind encodes ahead
        replaced by its encoding, computed on the first call; None when no input encodes
        ahead or the encoding would take more than ``AHEAD_BYTES``."""
        if self._ahead is None:
            self._ahead = self._encode_ahead() or False
        return self._ahead or None

    def fitting(self, model, view):
        """What trains, on what: ``(view, training inputs, validation inputs)`` encoded
        ahead where there is a view and :meth:`ahead` gives its inputs, else the model and
        the raw inputs."""
        ahead = self.ahead() if view is not None else None
        if ahead is None:
            return model, self.train[0], self.val[0]
        return view, ahead[0], ahead[1]

    def _encode_ahead(self):
        encoder = getattr(self.space, "encoder", lambda: None)()
        if encoder is None:
            return None
        rows = data_ops.n_rows(self.train[0]) + data_ops.n_rows(self.val[0])
        if 4 * int(np.prod(encoder.output.shape[1:])) * rows > AHEAD_BYTES:
            return None

        def encode(inputs):
            return {DEFAULT_INPUT: np.asarray(data_ops.predict_rows(encoder, inputs, 1024),
                                              dtype="float32")}

        return encode(self.train[0]), encode(self.val[0])

    def lr_schedule(self, params):
        """The candidate's learning-rate schedule (``training/lr_schedule``); ``constant``
        for a space without training choices (a user's own HyperModel)."""
        training = getattr(self.space, "training", None)
        return "constant" if training is None else training.lr_schedule(trial_values(params))

    def run(self, task, report, info):
        """Train ``task``'s candidate; out of memory retries once at half the batch size.
        ``seconds_left`` counts from now, building the model included: counted from the
        start of ``fit``, a wide table's first trial (2.9 s to build 6.6 million weights)
        trained past the search's time limit."""
        seconds_left = task.get("seconds_left")
        until = None if seconds_left is None else time.monotonic() + seconds_left
        batch_size = self.training.batch_size
        try:
            return self._train(task, report, batch_size, info, until)
        except tf.errors.ResourceExhaustedError:
            if batch_size == 1:
                raise
        batch_size //= 2
        info["batch_size_halved_to"] = batch_size
        return self._train(task, report, batch_size, info, until)

    def weights(self, part, rows=slice(None)):
        """The sample weights of ``rows`` of the training (``"train"``) or validation
        (``"val"``) rows; None without weights."""
        if self.sample_weight is None:
            return None
        return self.sample_weight[0 if part == "train" else 1][rows]

    def _search_data(self, seed, inputs):
        y = self.train[1]
        rows = slice(None)
        if self.budget.search_data_fraction < 1.0:
            rows = subsample(len(y), self.budget.search_data_fraction, seed,
                             y if self.space.is_classification else None)
            inputs, y = data_ops.take_rows(inputs, rows), y[rows]
        return inputs, y, rows

    def start_model(self, task, info):
        """The model a task starts from, its training view (see :meth:`build`) and its first
        epoch: its parent trial's saved model (optimizer state included; no view) when the
        task continues one (``initial_model``, Hyperband's promotions); else a new one built
        from its parameters that inherits the weights of ``inherit_model`` (an evolution
        child's parent) where they fit (:mod:`autoarch.engine.inherit`)."""
        parent = task.get("initial_model")
        if parent and os.path.exists(parent):
            clear_session()
            keras.utils.set_random_seed(task["seed"])
            with distribution_strategy(self.training.distribution).scope():
                model = without_thresholds(load_model(parent))
            info["continued_from"] = task.get("parent")
            return model, None, int(task.get("initial_epoch", 0))
        model, view = self.build(task["params"], task["seed"])
        source = task.get("inherit_model")
        if source and os.path.exists(source):
            counts = inherit_weights(model, load_model(source),
                                     seed=task["seed"])
            info["inherited"] = {"from": task.get("parent"), **counts,
                                 "of": sum(1 for layer in model.layers if layer.weights)}
        return model, view, 0

    def measure(self, model, names):
        """``{name: value}`` of the :mod:`autoarch.measures` named, on a few training rows."""
        from autoarch import measures

        rows = data_ops.take_rows(self.train[0], np.arange(min(len(self.train[1]),
                                                               measures.BATCH_ROWS)))
        rows = rows if len(rows) > 1 else next(iter(rows.values()))  # as the model takes it
        return {n: measures.MODEL_MEASURES[n](model, rows) for n in names}

    def _refusal(self, model, task, info):
        """Why the built model breaks a bound it can be measured against before training
        (``task["limits"]``: ``{measure: bound}``, at most), or None."""
        limits = task.get("limits") or {}
        if not limits:
            return None
        measured = self.measure(model, list(limits))
        broken = {n: v for n, v in measured.items() if v > limits[n]}
        if not broken:
            return None
        info["refused_by"] = {n: {"value": v, "bound": limits[n]} for n, v in broken.items()}
        return "refused before training: " + ", ".join(
            f"{n} {v:,} > {limits[n]:,}" for n, v in broken.items())

    def _train(self, task, report, batch_size, info, until):
        name, direction = self.objective
        epochs, best = task["epochs"], task.get("best_value")
        began = time.perf_counter()
        model, view, initial_epoch = self.start_model(task, info)
        refused = self._refusal(model, task, info)
        if refused:
            return {"refused": refused}
        reporter = _Report(report)
        deadline = Deadline(until, mid_epoch=True, predict_rows=len(self.val[1]),
                            batch_size=batch_size)
        # keeps the best epoch's weights (Keras restores them at the end); with no patience
        # (0 or None) it never stops training
        patience = self.budget.early_stopping_patience
        best_weights = keras.callbacks.EarlyStopping(
            name, patience=patience or epochs + 1, mode=direction, restore_best_weights=True)
        # the schedule logs each epoch's rate before the reporter reads the logs
        callbacks = [*search_callbacks(self.lr_schedule(task["params"])),
                     reporter, deadline, best_weights, *self.callbacks]
        curve = None
        if self.budget.curve_stopping and best is not None:
            curve = CurveStopping(name, direction, best, epochs, min_epochs=max(3, epochs // 3))
            callbacks.append(curve)
        if task.get("tensorboard_dir"):
            callbacks.append(keras.callbacks.TensorBoard(task["tensorboard_dir"]))
        trained, train_inputs, val_inputs = self.fitting(model, view)
        inputs, y, rows = self._search_data(task["seed"], train_inputs)
        weights = training_weights(task["params"], y,
                                   None if self.groups is None else self.groups[rows],
                                   self.weights("train", rows))
        build_training_variables(trained, inputs, y)
        eval_rows = data_ops.eval_batch(batch_size)  # validation and predictions, a step
        started = time.perf_counter()
        history = trained.fit(
            data_ops.make_dataset(inputs, y, batch_size, shuffle_seed=task["seed"],
                                  sample_weight=weights),
            validation_data=data_ops.make_dataset(val_inputs, self.val[1], eval_rows,
                                                  sample_weight=self.weights("val")),
            epochs=epochs, initial_epoch=initial_epoch, callbacks=callbacks,
            verbose=max(0, self.verbose - 1), shuffle=False).history
        losses = history.get("loss", [])
        bad = [i for i, v in enumerate(losses) if not math.isfinite(v)]
        if bad:
            raise TrialDiverged(f"training diverged: loss became {losses[bad[0]]} at epoch "
                                f"{bad[0] + 1}")
        curve_values = history.get(name)
        if not curve_values:
            raise ValueError(f"objective '{name}' is not among the training metrics "
                             f"({', '.join(history)})")
        pick = np.nanargmax if direction == "max" else np.nanargmin
        best_epoch = int(pick(curve_values))
        if curve is not None and curve.reason:
            info["stopped"] = curve.reason
        elif deadline.stopped:
            info["stopped"] = "time_limit reached" + (" within an epoch" if deadline.cut else "")
        elif len(curve_values) < epochs - initial_epoch:
            info["stopped"] = f"early stopping after {initial_epoch + len(curve_values)} epochs"
        value = float(curve_values[best_epoch])
        metrics = {name: value, "best_epoch": initial_epoch + best_epoch + 1,
                   "epochs_run": len(curve_values),
                   "batch_size": batch_size, "params": int(model.count_params()),
                   "fit_seconds": time.perf_counter() - started,
                   "setup_seconds": started - began}
        if reporter.first_seconds is not None:
            metrics["first_epoch_seconds"] = reporter.first_seconds
        if deadline.cut:  # the last epoch is part of one
            metrics["epoch_cut"] = True
        if deadline.validation_seconds is not None:  # a pass over the validation rows
            metrics["validation_seconds"] = deadline.validation_seconds
        metrics.update({k: float(v[best_epoch]) for k, v in history.items() if k != name})
        predictor, predict_inputs = trained, val_inputs
        if task["params"].get("training/parity_thresholds") and self.sensitive_input:
            model = predictor = self._thresholded(model, trained, train_inputs, eval_rows, info)
            predict_inputs = self.val[0]
            evaluated = model.evaluate(data_ops.make_dataset(self.val[0], self.val[1], eval_rows,
                                                             sample_weight=self.weights("val")),
                                       return_dict=True, verbose=0)
            metrics.update({f"val_{k}": float(v) for k, v in evaluated.items()})
            value = metrics[name]
        metrics.update(self.measure(model, task.get("measures") or ()))
        if task.get("tensorboard_dir"):
            _log_hparams(task["tensorboard_dir"], task["params"], name, value)
        if math.isfinite(value):  # each file whole or absent, whenever a kill comes
            with atomic_path(task["model_path"]) as path:
                model.save(path)
            with atomic_path(task["predictions_path"]) as path:
                with open(path, "wb") as handle:
                    np.save(handle, data_ops.predict_rows(predictor, predict_inputs, eval_rows))
        return metrics

    def _thresholded(self, model, trained, train_inputs, eval_rows, info):
        """``model`` with its groups' thresholds (:mod:`autoarch.engine.parity`) fitted on
        the training rows' predictions, which ``trained`` makes from ``train_inputs``
        (``eval_rows`` a step)."""
        labels = data_ops.class_labels(self.train[1])
        predicted = data_ops.predict_rows(trained, train_inputs, eval_rows)
        thresholds = parity_thresholds(positive_probability(predicted), self.groups, labels)
        info["parity_thresholds"] = {g: round(t, 4) for g, t in thresholds.items()}
        return with_thresholds(model, *self.sensitive_input, thresholds)
