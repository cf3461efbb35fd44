"""The model search: a :class:`Study` whose objective trains a Keras candidate.

Per trial (:mod:`autoarch.engine.trainer`): clear Keras state, build the candidate from its
parameters inside the ``tf.distribute`` strategy's scope, train on ``tf.data`` pipelines with
early stopping, learning-curve stopping and the search deadline, and report every epoch to the
journal. A NaN loss fails the trial; running out of memory retries once with half the batch
size. Trials train in worker processes (``isolate_trials``; by default once one has started
in the background, the first trials training here meanwhile; :mod:`autoarch.engine.worker`).

The budget: ``max_trials`` limits only when given, ``time_limit`` alone searches until the
time is spent (with neither, ``config.DEFAULT_LIMITS``). Time for the final model is kept
inside ``time_limit``: the search stops early enough to retrain the best few trials
(estimated from their own training times). The final model is an ensemble of the trials
(``ensemble_size``, :mod:`autoarch.ensemble`) when one beats the best trial on validation
data (on small data, on every row's out-of-fold outputs: :mod:`autoarch.engine.crossval`),
else the best trial. With ``final_fit``, each model it uses is retrained on training +
validation rows (as AutoGluon's refit_full: on small data the validation rows are worth a
point of accuracy) where the time left allows, and averaged with its trial's own model (but
for texts); one the deadline would cut keeps its trial's model alone. A ``summary`` record in
the journal says how the budget was spent.
"""

import contextlib
import glob
import math
import os
import time
import warnings

import keras_tuner as kt
import numpy as np
from sklearn.model_selection import train_test_split

from autoarch.config import SearchConfig
from autoarch.data import dataset_to_arrays
from autoarch.engine import data as data_ops
from autoarch.engine.crossval import FOLDS, fold_rows, out_of_fold, shortlist
from autoarch.engine.runtime import build_training_variables, configure_threads
from autoarch.engine.schedules import replay_callbacks
from autoarch.engine.study import Study
from autoarch.engine.trainer import Deadline, TrialTrainer, trial_values
from autoarch.engine.worker import TrialWorker, WorkerDied
from autoarch.ensemble import ensemble_model, greedy_selection, loss as ensemble_loss, \
    score as ensemble_score
from autoarch.errors import TrialRefused
from autoarch.export import load_model
from autoarch.fairness import training_weights
from autoarch.inputs.base import InputKind
from autoarch.objectives import make_objective
from autoarch.report import member_name, members_line
from autoarch.splits import stratify_labels

# the ensemble's keys for the classical members: the boosted trees, the tf-idf linear SVM
# and NBSVM, a table's logistic regression and a signal's nearest neighbours (trials are
# keyed by their numbers); the journal's event for each
TREES, LINEAR, NB_LINEAR, TABLE_LINEAR, NEIGHBOURS = "trees", "linear", "nb_linear", \
    "table_linear", "neighbours"
CLASSICAL_EVENTS = {TREES: "boosted_trees", LINEAR: "text_linear", NB_LINEAR: "text_linear",
                    TABLE_LINEAR: "table_linear", NEIGHBOURS: "nearest_neighbours"}
# the share of the time limit a table's boosted trees may take, their SETTINGS together (45 s
# without a limit); its logistic regression may take one setting's share. Trees that converge
# stop early, so this binds only on large tables, where the trees are the strongest member
# and a network trial takes 15-20 s (paired on six tables of 10,000-54,000 rows, 0.3 against
# 0.15 scored +0.0015 and +0.0013 on average with seeds 0 and 1; docs/design.md)
TREES_SHARE = 0.3
# the input kinds of numbers of one kind (a flat signal, images, sequences) whose ensemble may
# weigh the nearest neighbours (``signal_neighbours``)
ARRAY_KINDS = ("signal", "image", "sequence")
# the most training rows of a signal on which the boosted trees are fitted as well: on a few
# hundred recorded series trees are among the one-second baselines to beat, on thousands the
# networks lead far (MNIST-1D: SVC 0.56, the networks 0.99) and the trees' share of the time
# is taken from them
SIGNAL_TREES_ROWS = 1000
# workers that may join a chief at once
MAX_JOINED = 64
# how much longer than estimated the members' retrainings are allowed to take where they
# must be retrained (texts): estimates from the trials' own epochs came to 0.7-1.4 times
# the seconds the retrainings took, and a text member estimated at 51.6 s was cut off at
# 61 s, going into the final model untrained
RETRAINING_MARGIN = 1.25


def _local_pins(n_jobs):
    """Keyword arguments of each local worker: one GPU each where there are GPUs
    (``CUDA_VISIBLE_DEVICES``, round robin), else an equal share of this process's cores."""
    import tensorflow as tf

    from autoarch.engine.runtime import usable_cores

    gpus = len(tf.config.list_physical_devices("GPU"))
    if gpus:
        return [{"env": {"CUDA_VISIBLE_DEVICES": str(i % gpus)}} for i in range(n_jobs)]
    cores = sorted(usable_cores())
    if n_jobs > len(cores):
        return [{} for _ in range(n_jobs)]
    share = len(cores) // max(1, n_jobs)
    return [{"cpus": set(cores[i * share:(i + 1) * share])} for i in range(n_jobs)]


class ModelSearch:
    """Search ``space`` (a :class:`~autoarch.blocks.ModelSpace`) for the best Keras model.

    ``config`` is a :class:`~autoarch.config.SearchConfig`; keyword settings (``max_trials=5``,
    ``epochs=3``, any knob of :mod:`autoarch.config`) make one or override its values. The
    objective defaults to ``val_accuracy`` (max) for classification and
    ``val_mean_squared_error`` (min; ``val_loss`` for a head without that metric) for
    regression. ``directory`` holds the journal (a temporary folder when ``None``).

    Several trials at once (:mod:`autoarch.distributed`): ``n_jobs`` worker processes on
    this machine, and with ``chief="HOST:PORT"`` workers on other machines that join
    (``autoarch worker HOST:PORT``; ``token``: their shared secret, needed unless ``chief``
    is a loopback address).
    """

    def __init__(self, space, config=None, *, directory=None, verbose=0, chief=None,
                 token=None, **settings):
        if config is not None and settings:
            config = SearchConfig.from_flat({**config.flat(), **settings})
        self.space = space
        self.config = config if config is not None else SearchConfig.from_flat(settings)
        self.directory = directory
        self.verbose = verbose
        self.chief, self.token = chief, token
        self.study = None
        self.best_model = None

    # -- set-up -------------------------------------------------------------------------
    def _objective(self):
        if self.config.objectives:
            return make_objective(self.config.objectives[0])
        if self.config.objective is not None:
            return make_objective(self.config.objective)
        if self.space.is_classification:
            return kt.Objective("val_accuracy", "max")
        # the squared error in the targets' units compares trials whatever their loss
        metrics = getattr(self.space.head, "metrics", ())
        return kt.Objective("val_mean_squared_error" if "mean_squared_error" in metrics
                            else "val_loss", "min")

    def _objective_metrics(self):
        """Give the head the metrics that the objective, ``objectives`` and ``constraints``
        name beyond its own (``val_auc``; :mod:`autoarch.blocks.metrics`), refusing a name
        it cannot compute before anything trains. A head of one's own compiles its own."""
        from autoarch.blocks import ClassificationHead, RegressionHead
        from autoarch.blocks.metrics import extra_metrics
        from autoarch.objectives import as_pair

        head = getattr(self.space, "head", None)
        if not isinstance(head, (ClassificationHead, RegressionHead)):
            return
        names = [self._objective_.name, *(as_pair(o)[0] for o in self.config.objectives or ()),
                 *self.config.constraints]
        head.objective_metrics = extra_metrics(head, names, self.space.is_classification)

    def _split(self, arrays, y, validation_data, sample_weight):
        """Training and validation inputs and targets, and ``(training weights, validation
        weights)`` or None (the rows without weights given weigh 1): the sample weights
        times their classes' (``class_weight``, :meth:`_class_weighted`)."""
        weights = self._class_weighted(data_ops.sample_weights(sample_weight, len(y)), y, y)
        if validation_data is not None:
            if len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be (x_val, y_val) or (x_val, y_val, "
                                 f"sample_weight_val), got {len(validation_data)} items")
            x_val, y_val = validation_data[:2]
            y_val = np.asarray(y_val)
            val_weights = self._class_weighted(data_ops.sample_weights(
                validation_data[2] if len(validation_data) == 3 else None, len(y_val),
                "validation_data's sample_weight"), y_val, y)
            if weights is not None or val_weights is not None:
                weights = (np.ones(len(y)) if weights is None else weights,
                           np.ones(len(y_val)) if val_weights is None else val_weights)
            return (arrays, y, self.space.arrays(data_ops.as_input_dict(x_val)), y_val,
                    weights)
        rows = np.arange(len(y))
        split = self.config.training.validation_split
        stratify = stratify_labels(y, split) if self.space.is_classification else None
        train, val = train_test_split(rows, test_size=split, random_state=self.config.seed,
                                      stratify=stratify)
        self._rows = train, val
        return (data_ops.take_rows(arrays, train), y[train], data_ops.take_rows(arrays, val),
                y[val], None if weights is None else (weights[train], weights[val]))

    def _weighting(self, sample_weight, validation_data, weights):
        """The summary's line on the rows' weights (None where they weigh alike)."""
        if weights is None:
            return None
        given = [name for name, on in (
            ("sample_weight", sample_weight is not None or
             (validation_data is not None and len(validation_data) == 3)),
            (f"class_weight {self.config.training.class_weight!r}",
             self.config.training.class_weight is not None)) if on]
        every = np.concatenate(weights)
        return (f"{' x '.join(given)}: the rows weigh {every.min():.3g} to {every.max():.3g} "
                "(scaled to a mean of 1)")

    def _class_weighted(self, weights, y, y_train):
        """``weights`` (or None) times each row's class weight (``class_weight``, over the
        classes of ``y_train``) of labels ``y``, scaled to a mean of 1; ``weights`` as they
        are without class weights."""
        class_weight = self.config.training.class_weight
        if class_weight is None:
            return weights
        if not self.space.is_classification:
            raise ValueError("class_weight: weights of classes are for classifiers; give a "
                             "regression's rows weights with sample_weight")
        rows = data_ops.row_class_weights(data_ops.class_weights(class_weight, y_train), y)
        return data_ops.sample_weights(rows if weights is None else rows * weights, len(y),
                                       "class_weight x sample_weight")

    def _set_inputs(self, inputs):
        """Inputs the space was not given are fed as they are (arrays, or strings)."""
        if not self.space.inputs:
            self.space.inputs = {name: InputKind(name).fit(data) for name, data in inputs.items()}

    # -- the search ---------------------------------------------------------------------
    def fit(self, x, y=None, validation_data=None, callbacks=None, sensitive_features=None,
            sensitive_input=None, sample_weight=None, started=None):
        """Search, then train the winner; returns ``self`` (``best_model``, ``study``).

        ``x``: one input's data or ``{input name: data}``, or a ``tf.data.Dataset`` of
        ``(x, y)`` pairs or ``(x, y, sample_weight)`` triples. ``callbacks``: Keras callbacks added to every trial's ``fit`` (the
        same objects each trial, as Keras's own callbacks reset themselves in
        ``on_train_begin``); the final fit of the winner runs without them.
        ``sensitive_features``: one group per row (:func:`autoarch.fairness.group_labels`),
        for the fairness measures as objectives or constraints (on the validation rows;
        the positive class is class 1) and the searched ``training/reweigh``.
        ``sensitive_input``: the name of the model input that holds them, when they are a
        table's column (a binary classifier measured for fairness then also searches
        ``training/parity_thresholds``, which reads it). ``sample_weight``: one weight per
        row (``validation_data`` may carry the validation rows' as a third item): every
        candidate trains on the weighted loss, and is chosen on weighted validation metrics
        (the objective), as are the classical members and the ensemble
        (:meth:`TrialTrainer.weights`).

        ``time_limit`` counts from here, or from ``started`` (a ``time.monotonic()``: where
        the caller's own fit began, as the estimators' checking and fitting of the inputs
        did, 3.4 s of a 60 s limit on a table of 240,000 rows): preparing the data (a
        table's column ranking), starting the worker and the final model are inside it.
        """
        entered = time.monotonic() if started is None else started
        configure_threads()
        if y is None:
            x, y, weights = dataset_to_arrays(x)
            sample_weight = weights if sample_weight is None else sample_weight
        inputs = data_ops.as_input_dict(x)
        self._set_inputs(inputs)
        y = np.asarray(y)
        self._rows = self._scaled = None
        x_train, y_train, x_val, y_val, weights = self._split(
            self.space.arrays(inputs), y, validation_data, sample_weight)
        self.space.weighted_metrics = weights is not None
        weighting = self._weighting(sample_weight, validation_data, weights)
        groups = self._groups(sensitive_features, len(y), validation_data, sensitive_input)
        self.space.adapt(x_train, y_train)
        self._objective_ = self._objective()
        self._objective_metrics()
        config = self.config
        self._trainer = TrialTrainer(self.space, (x_train, y_train), (x_val, y_val),
                                     (self._objective_.name, self._objective_.direction),
                                     config.budget, config.training, callbacks=callbacks or [],
                                     verbose=self.verbose,
                                     groups=None if groups is None else groups[0],
                                     sensitive_input=self._sensitive_input,
                                     sample_weight=weights)
        if self.directory is not None:
            os.makedirs(self.directory, exist_ok=True)
        hp = self.space.hyperparameters()
        self._measures, self._limits = self._measured()
        self.study = Study(hp, strategy=config.strategy,
                           objective=(self._objective_.name, self._objective_.direction),
                           objectives=config.objectives, constraints=config.constraints,
                           seed=config.seed, directory=self.directory,
                           strategy_options=config.strategy_options,
                           max_consecutive_failures=config.budget.max_consecutive_failures or None,
                           first_trials=self.space.first_trials(hp),
                           data=data_ops.fingerprint(len(y_train) + len(y_val), x_train,
                                                     y_train, x_val, y_val, *(weights or ())))
        if self._objective_.name == "val_accuracy" and np.ndim(y_val) == 1 and len(y_val):
            # what predicting the majority class reaches: no winner may be worse
            _, rows = np.unique(np.asarray(y_val), return_inverse=True)
            counts = np.bincount(rows.reshape(-1), weights=self._trainer.weights("val"))
            self.study.useful_from = float(counts.max() / counts.sum())
        noted = {n.get("block") for n in self.study.notes if n.get("event") == "adapted"}
        for block in self.space.all_blocks():  # once per study: a resume adapts the same way
            learned = block.learned()
            if learned and block.name not in noted:
                self.study.note("adapted", block=block.name, **learned)
        self._trials_dir = os.path.join(self.study.directory, "trials")
        os.makedirs(self._trials_dir, exist_ok=True)
        max_trials, time_limit = config.budget.limits()
        # a resumed search goes on with its clock: time_limit counts what was spent before
        self._started = entered - self.study.seconds_spent
        self._deadline = None if time_limit is None else self._started + time_limit
        self._classical = self._fit_classical(
            None if time_limit is None else max(0.0, self._deadline - time.monotonic()))
        self._classical_ended = time.monotonic()
        self._pool, self._in_use = None, {}
        self._worker = None if self._parallel else self._make_worker(max_trials)
        self._screen = None
        if getattr(self.study.oracle, "runs_phase", False):
            self._phase()
        elif getattr(self.study.oracle, "prescreen", 1) > 1:
            self.study.oracle.screen = self._prescreen
        try:  # a failing candidate is data: it is recorded as failed and the search goes on
            if self._parallel:
                self._search_in_parallel(max_trials)
            else:
                self.study.optimize(self._run_trial, max_trials=max_trials,
                                    catch=(Exception,), stop=self._out_of_time)
        finally:
            if self._worker is not None:
                self._worker.close()
        searched = time.monotonic() - self._started
        stopped_by = ("max_trials" if max_trials and self.study.n_finished >= max_trials
                      else "time_limit" if self._out_of_time() else "strategy exhausted")
        if self.study.best_trial is None:
            self._without_trials(time_limit)
        self.best_model, final = self._final_model()
        self.summary = {
            "trials": self.study.n_finished, "search_seconds": round(searched, 1),
            "stopped_by": stopped_by,
            "max_trials": max_trials, "time_limit": time_limit,
            **({"weights": weighting} if weighting else {}),
            **self._classical_summary(),
            **final,
            "total_seconds": round(time.monotonic() - self._started, 1)}
        if self.multi_objective:
            self.study.note("pareto_front", objectives=[[o.name, o.direction] for o in
                                                        self.study.objectives],
                            constraints=self.config.constraints, points=self.pareto_front())
        self.study.note("summary", **self.summary)
        if self.verbose:
            print(_summary_line(self.summary), flush=True)
        return self

    def _without_trials(self, time_limit):
        """Where no trial completed: a warning that the final model is made of the classical
        members alone (a time limit too short for one trial on a large table still returns
        its boosted trees and linear model), or an error naming why where there are none."""
        why = self.study.failure_reasons() or (
            f" in time_limit={time_limit:g} s (the data's preparation and the classical "
            f"members took {self._classical_ended - self._started:.0f} s; raise it)"
            if self._deadline is not None and self._out_of_time() else "")
        if not self._classical:
            raise RuntimeError(f"no trial completed{why}; every failure is in the study's "
                               f"journal ({self.study.directory})")
        names = ", ".join(member_name(key) for key in self._classical)
        self.study.note("no_trial_completed", reason=why.lstrip("; "), members=names)
        warnings.warn(f"no trial completed{why}; the final model is made of the classical "
                      f"members alone ({names})", stacklevel=3)

    def _groups(self, sensitive, n_rows, validation_data, sensitive_input=None):
        """The training and validation rows' groups, or None; the space then searches
        ``training/reweigh``, and ``training/parity_thresholds`` where a binary
        classifier's fairness is measured on its input ``sensitive_input``."""
        from autoarch import measures

        self._val_groups = self._sensitive_input = None
        self.space.training.groups = sensitive is not None
        self.space.training.thresholds = False
        if sensitive is None:
            return None
        from autoarch.fairness import group_labels

        if validation_data is not None:
            raise ValueError("sensitive_features: give them with the rows the search splits "
                             "itself (no validation_data)")
        groups = group_labels(sensitive, n_rows)
        if not self.space.is_classification:
            raise ValueError("sensitive_features: the fairness measures are for classifiers")
        train, val = self._rows
        self._val_groups = groups[val]
        kind = next(iter(self.space.inputs.values())) if len(self.space.inputs) == 1 else None
        if sensitive_input is not None and sensitive_input in getattr(kind, "columns", ()) \
                and getattr(self.space.head, "num_classes", 0) == 2 \
                and any(measures.STAGE.get(n) == "predictions" for n in self._named()):
            self._sensitive_input = (sensitive_input, sensitive_input in kind.numeric)
            self.space.training.thresholds = True
        return groups[train], groups[val]

    @property
    def multi_objective(self):
        return bool(self.config.constraints) or len(self.config.objectives or ()) > 1

    def _measured(self):
        """The measures each trial records (named as objectives or constraints) and the
        bounds that refuse a candidate before training (on ``built``-stage measures)."""
        from autoarch import measures

        names = self._named()
        fair = [n for n in names if measures.STAGE.get(n) == "predictions"]
        if fair and self._val_groups is None:
            raise ValueError(f"objectives/constraints: {fair[0]} is measured on validation "
                             "predictions against a sensitive feature: pass "
                             "fit(..., sensitive_features=...)")
        self._fairness = list(dict.fromkeys(fair))
        wanted = list(dict.fromkeys(n for n in names if n in measures.MODEL_MEASURES))
        limits = {}
        for name, bound in self.config.constraints.items():
            if measures.STAGE.get(name) == "built" and measures.DIRECTIONS[name] == "min":
                limits[name] = bound
        return wanted, limits

    def _named(self):
        """The measures named as objectives or constraints."""
        return [make_objective(o).name for o in self.config.objectives or ()] + \
            list(self.config.constraints)

    def pareto_front(self):
        """The trials on the Pareto front: ``[{"trial": number, objective: value, ...}]``,
        best first in the first objective (:meth:`Study.pareto_front`)."""
        return [{"trial": t.number,
                 **{o.name: v for o, v in zip(self.study.objectives, self.study.vector(t))},
                 **({"violation": round(self.study.violation(t), 6)}
                    if self.config.constraints else {})}
                for t in self.study.pareto_front()]

    def _phase(self):
        """Strategies that find their candidates before the first trial (a supernet,
        :mod:`autoarch.strategies.oneshot`; a zero-cost screening,
        :mod:`autoarch.strategies.zero_cost`) run that phase here; the trials then train
        the candidates from scratch."""
        from autoarch.engine.context import PhaseContext

        budget, training = self.config.budget, self.config.training
        oracle = self.study.oracle
        oracle.run_phase(PhaseContext(
            space=self.space, train=self._trainer.train, val=self._trainer.val,
            objective=(self._objective_.name, self._objective_.direction),
            epochs=budget.search_epochs or budget.epochs, batch_size=training.batch_size,
            distribution=training.distribution, seed=self.study.seed,
            directory=self.study.directory, note=self.study.note, deadline=self._deadline,
            verbose=self.verbose, phase=oracle.phase,
            sample_weight=self._trainer.sample_weight, max_trials=budget.limits()[0]))

    def _prescreen(self, trial_id, candidates):
        """``prescreen``: the index of the best-scored of a trial's drawn ``candidates``
        (zero-cost proxies, :class:`autoarch.proxies.screen.Screen`); noted in the journal."""
        from autoarch.proxies.screen import Screen

        if self._screen is None:
            self._screen = Screen(self.space, self._trainer.train, seed=self.study.seed)
        started = time.monotonic()
        best, scores = self._screen.best(candidates)
        self.study.note("prescreen", trial_id=trial_id, drawn=len(candidates), chosen=best,
                        scores=scores, seconds=round(time.monotonic() - started, 2))
        return best

    def _fit_classical(self, left):
        """The classical members the ensemble may weigh beside the trials, fitted on the
        training rows: the boosted trees and a linear model on a table (with classes) or
        a signal (:mod:`autoarch.trees`, :mod:`autoarch.linear`), the tf-idf linear models
        on one text input (:mod:`autoarch.linear`), nearest neighbours on one signal,
        images or sequences with classes (:mod:`autoarch.neighbours`); ``{key (:data:`TREES`,
        :data:`TABLE_LINEAR`, :data:`LINEAR`, :data:`NB_LINEAR`, :data:`NEIGHBOURS`):
        {"model", "val" (its validation outputs, as the trials'), "seconds"}}``. None
        apply where their knob is off (``boosted_trees``, ``table_linear``, ``text_linear``,
        ``signal_neighbours``), and without an ensemble, with several objectives or
        fairness measures, targets of several columns, or labels other than 0..K-1; the
        boosted trees and a linear model on fewer than ``MIN_ROWS`` training rows,
        a signal's trees on more than ``SIGNAL_TREES_ROWS``, and images' and sequences'
        always."""
        from autoarch.trees import MIN_ROWS, SETTINGS

        config = self.config
        y = np.asarray(self._trainer.train[1])
        classes = getattr(self.space.head, "num_classes", None)
        if config.ensemble_size < 2 or self.multi_objective or self._fairness or \
                self._val_groups is not None or \
                (y.ndim > 1 and y.shape[-1] > 1) or (self.space.is_classification and (
                    classes is None or  # labels 0..K-1, every one seen
                    not np.array_equal(np.unique(y), np.arange(classes)))):
            return {}
        kind = self._only_kind()
        classification = self.space.is_classification
        # each boosting (of trees.SETTINGS), and the logistic regression: a share of
        # TREES_SHARE of the ``left`` seconds (what preparing the data, a table's column
        # ranking, left of the time limit); the boosting's early stopping needs MIN_ROWS
        seconds = (45.0 if left is None else TREES_SHARE * left) / len(SETTINGS)
        trees = config.boosted_trees and len(y) >= MIN_ROWS
        if config.text_linear and kind == "text":
            keys = [LINEAR, NB_LINEAR] if classification else [LINEAR]
            members = [(key, lambda key=key: self._fit_text_linear(key == NB_LINEAR), True)
                       for key in keys]
        elif kind in ARRAY_KINDS:
            members = [(NEIGHBOURS, self._fit_neighbours,
                        config.signal_neighbours and classification),
                       (TREES, lambda: self._fit_trees(seconds),
                        trees and kind == "signal" and len(y) <= SIGNAL_TREES_ROWS),
                       (TABLE_LINEAR, lambda: self._fit_table_linear(seconds),
                        config.table_linear and kind == "signal" and len(y) >= MIN_ROWS and
                        (not classification or len(y) > SIGNAL_TREES_ROWS))]
        else:
            members = [(TREES, lambda: self._fit_trees(seconds), trees),
                       (TABLE_LINEAR, lambda: self._fit_table_linear(seconds),
                        config.table_linear and classification and len(y) >= MIN_ROWS)]
            if any(on for _, _, on in members):
                self._trainer.ahead()  # the table's encoding, timed apart: a refit reuses it
        fits = {key: fit for key, fit, on in members if on}
        members = {key: self._fitted_classical(key, fit) for key, fit in fits.items()}
        return {key: member for key, member in members.items() if member is not None}

    def _fitted_classical(self, key, fit):
        """``fit()``'s ``(model, validation outputs, description)`` as :meth:`_fit_classical`
        gives it, noted in the journal (once per study) and printed; None where ``fit``
        does not apply."""
        started = time.monotonic()
        fitted = fit()
        if fitted is None:
            return None
        model, val, described = fitted
        seconds = time.monotonic() - started
        classification = self.space.is_classification
        value = ensemble_score(val, self._trainer.val[1], classification,
                               self._trainer.weights("val"))
        event = CLASSICAL_EVENTS[key]
        if not any(n.get("event") == event and n.get("member", key) == key
                   for n in self.study.notes):
            self.study.note(event, member=key, **described, seconds=round(seconds, 2),
                            validation_score=list(value))
        if self.verbose:
            print(f"{key} ({event.replace('_', ' ')}): fitted in {seconds:.1f} s, validation "
                  f"{'accuracy' if classification else 'mean squared error'} "
                  f"{abs(value[0]):.4f}", flush=True)
        return {"model": model, "val": val, "seconds": seconds, "described": described}

    def _classical_summary(self):
        """The summary's line per kind of classical member (``boosted_trees``,
        ``table_linear``, ``text_linear``): what was fitted, in how long."""
        lines = {}
        for key, member in self._classical.items():
            described = member["described"]
            what = (f"{described['trees']} trees of {described['setting']}"
                    if key == TREES else
                    f"{'logistic' if 'iterations' in described else 'ridge'} regression on "
                    f"{described['features']} encoded columns" if key == TABLE_LINEAR else
                    f"nearest neighbours among {described['rows']} rows" if key == NEIGHBOURS
                    else f"{key} on {described['n_grams']} n-grams")
            event = CLASSICAL_EVENTS[key]
            lines[event] = ", ".join(filter(None, [
                lines.get(event), f"{what} fitted in {member['seconds']:.1f} s"]))
        return lines

    def _fit_trees(self, seconds):
        """Boosted trees on the table's encoded training rows: each of :data:`SETTINGS
        <autoarch.trees.SETTINGS>` in ``seconds`` at most, its early stopping on a sixth of
        those rows ending it; then the setting and the count of trees of lowest validation
        loss, refitted on all the training rows in ``seconds`` at most (None where the input
        has no such encoding, :meth:`_encoded_rows`). The trials' epochs are chosen on the
        same validation rows, so the selection compares like with like."""
        from autoarch.trees import (SETTINGS, TooSlow, boosting_rows, fit_boosted_trees,
                                    setting_name, settings_of)

        encoded = self._encoded_rows()
        if encoded is None:
            return None
        classification = self.space.is_classification
        (x, x_val), y = encoded, self._trainer.train[1]
        rows = boosting_rows(x, y, self.config.seed,  # the same for every fit below
                             self._trainer.weights("train"), self._category_slots(),
                             classification)
        fits, slow = [], None
        for settings in SETTINGS:
            try:
                model = fit_boosted_trees(x, y, classification, seed=self.config.seed,
                                          seconds=seconds, settings=settings, rows=rows)
            except TooSlow as err:  # many classes: this setting's stages outlast its time
                slow = err
                continue
            except ValueError as err:  # a class too rare to split off rows for early stopping
                self.study.note("boosted_trees", skipped=str(err))
                return None
            staged = model.staged_predict_proba(x_val) if classification else \
                model.staged_predict(x_val)
            curve = [ensemble_loss(self._as_outputs(v), self._trainer.val[1], classification,
                                   self._trainer.weights("val")) for v in staged]
            fits.append((min(curve), int(np.argmin(curve)) + 1, settings_of(model)))
        if not fits:
            self.study.note("boosted_trees", skipped=str(slow))
            return None
        losses = {setting_name(settings): round(loss, 6) for loss, _, settings in fits}
        _, count, settings = min(fits, key=lambda f: f[0])
        started = time.monotonic()
        model = fit_boosted_trees(x, y, classification, seed=self.config.seed,
                                  seconds=seconds, n_trees=count, settings=settings, rows=rows)
        return model, self._outputs_of(model, x_val), {
            "trees": int(model.n_estimators_), "depth": int(model.max_depth),
            "setting": setting_name(settings), "validation_loss_by_setting": losses,
            "refit_seconds": round(time.monotonic() - started, 2)}

    def _encoded_rows(self):
        """``(training rows, validation rows)`` as the boosted trees and a table's linear
        model fit on them, the input's encoding: a table's, kept ahead
        (:meth:`TrialTrainer.ahead`), or a signal, images or sequences as the nearest
        neighbours compare them (``scaled``, once per fit); None where there is none."""
        from autoarch.blocks.layout import DEFAULT_INPUT

        if self._only_kind() in ARRAY_KINDS:
            if self._scaled is None:
                (kind,) = self.space.inputs.values()
                self._scaled = tuple(kind.scaled(part[0][kind.input_name])
                                     for part in (self._trainer.train, self._trainer.val))
            return self._scaled
        ahead = self._trainer.ahead()
        return None if ahead is None else (ahead[0][DEFAULT_INPUT], ahead[1][DEFAULT_INPUT])

    def _category_slots(self):
        """A table's category columns as the boosted trees take them
        (:meth:`TabularInput.category_slots`); None for other inputs."""
        if self._only_kind() != "tabular":
            return None
        (kind,) = self.space.inputs.values()
        return kind.category_slots()

    def _only_kind(self):
        """The kind of the space's one input (``"tabular"``, ``"text"``, ``"signal"`` ...);
        None for several inputs."""
        kinds = list(self.space.inputs.values())
        return kinds[0].kind if len(kinds) == 1 else None

    def _as_outputs(self, predicted):
        """A scikit-learn model's predictions as a trial outputs them: class probabilities
        (the second class's alone for two), or values (a column per target)."""
        if not self.space.is_classification:
            return predicted.reshape(len(predicted), -1)
        return predicted[:, 1:] if getattr(self.space.head, "num_classes", None) == 2 \
            else predicted

    def _outputs_of(self, model, x):
        """A scikit-learn model's outputs on encoded rows ``x``, as a trial's."""
        return self._as_outputs(model.predict_proba(x) if self.space.is_classification
                                else model.predict(x))

    def _fit_table_linear(self, seconds):
        """Logistic regression on the table's or the signal's encoded training rows, in
        ``seconds`` at most, or a signal's ridge regression (None where the input does not
        encode ahead)."""
        from autoarch.linear import fit_table_linear

        encoded = self._encoded_rows()
        if encoded is None:
            return None
        x, x_val = encoded
        classification = self.space.is_classification
        model, iterations = fit_table_linear(x, self._trainer.train[1], seed=self.config.seed,
                                             seconds=seconds,
                                             sample_weight=self._trainer.weights("train"),
                                             classification=classification)
        described = {"features": int(x_val.shape[1])}
        described.update({"iterations": iterations} if classification else
                         {"alpha": float(model.alpha_)})
        return model, self._outputs_of(model, x_val), described

    def _fit_neighbours(self):
        """The nearest neighbours among the training signals (:mod:`autoarch.neighbours`)."""
        from autoarch.neighbours import NearestNeighbours

        x, x_val = self._encoded_rows()
        model = NearestNeighbours(x, self._trainer.train[1], self.space.head.num_classes,
                                  seed=self.config.seed,
                                  sample_weight=self._trainer.weights("train"))
        return model, model.outputs(x_val), {"rows": len(model.labels),
                                             "temperature": round(model.temperature, 4)}

    def _fit_text_linear(self, naive_bayes):
        """tf-idf + a linear model (NBSVM where ``naive_bayes``) on the training texts, its
        temperature fitted on the validation texts."""
        from autoarch.linear import TextLinear

        (kind,) = self.space.inputs.values()
        texts, y = self._trainer.train[0][kind.input_name], self._trainer.train[1]
        val_texts, y_val = self._trainer.val[0][kind.input_name], self._trainer.val[1]
        model = TextLinear(texts, y, self.space.is_classification, naive_bayes=naive_bayes,
                           seed=self.config.seed, sample_weight=self._trainer.weights("train"))
        if self.space.is_classification:
            model.fit_temperature(val_texts, y_val, self._trainer.weights("val"))
        return model, model.outputs(val_texts), {
            "n_grams": len(model.vectorizer.vocabulary_), "temperature": round(
                model.temperature, 3)}

    def _make_worker(self, max_trials):
        mode = self.config.training.isolate_trials
        if not mode or (mode == "auto" and max_trials is not None and max_trials <= 2):
            return None
        try:
            worker = TrialWorker(self._trainer, self.config.training.trials_per_worker)
        except ValueError as err:  # a space that cannot travel to a worker
            if mode is True:
                raise
            warnings.warn(f"trials train in this process: {err}", stacklevel=3)
            return None
        if mode == "auto":
            worker.start()  # loads in the background while the first trials train here
        return worker

    @property
    def _parallel(self):
        return self.chief is not None or self.config.training.n_jobs != 1

    def _search_in_parallel(self, max_trials):
        """Trials on ``n_jobs`` local workers and the workers that join the chief, one
        thread of the study each (:mod:`autoarch.distributed`)."""
        from autoarch.distributed import Chief, RunnerPool
        from autoarch.engine.worker import trainer_payload

        n_jobs = self.config.training.n_jobs
        if n_jobs == 0 and self.chief is None:
            raise ValueError("n_jobs=0 trains nothing on this machine: give a chief address "
                             "for workers to join, or n_jobs >= 1")
        payload = trainer_payload(self._trainer)
        self._pool = pool = RunnerPool(
            TrialWorker(None, self.config.training.trials_per_worker, payload=payload, **pin)
            for pin in _local_pins(n_jobs))
        chief = None
        try:
            for worker in pool.runners:
                worker.start()  # they load at once, side by side
            if self.chief is not None:
                chief = Chief(self.chief, payload, pool, token=self.token,
                              note=self.study.note)
                self.study.note("chief", address=chief.address, local_workers=n_jobs,
                                time=time.time())
                if self.verbose:
                    print(f"chief on {chief.address}: workers join with `autoarch worker "
                          f"{chief.address}`", flush=True)
            self.study.optimize(self._run_trial, max_trials=max_trials, catch=(Exception,),
                                stop=self._out_of_time, n_jobs=n_jobs + (MAX_JOINED if chief
                                                                         else 0),
                                slot=pool.slot)
        except BaseException:  # Ctrl-C, or a search that cannot go on: stop the workers now
            pool.close(now=True)
            raise
        finally:
            if chief is not None:
                chief.close()
            pool.close()

    def _runner(self):
        """The worker, or (with ``isolate_trials='auto'``) this process while the worker is
        still starting; a used-up worker is replaced in the background."""
        worker = self._worker
        if worker is None or self.config.training.isolate_trials is True:
            return worker or self._trainer
        if worker.used_up:
            worker.start()
        try:
            return worker if worker.ready() else self._trainer
        except WorkerDied as err:
            warnings.warn(f"trials train in this process: {err}", stacklevel=2)
            self._worker = None
            return self._trainer

    # -- the budget ---------------------------------------------------------------------
    def _reserve(self):
        """Seconds to keep for the final model: retraining the trials it would be made of now
        (:meth:`_to_retrain`), estimated from their own training times, at most a third of
        the time limit. A retraining longer than that third is not kept room for: the final
        model could not make it anyway, and keeping its third stopped a digits search 16 s
        early (its best trial, the first, trained while the worker loaded beside it and
        would have retrained for an estimated 25 s, with 20 s kept). Before the first trial
        has finished, the classical members' refits: were the final model theirs alone, its
        refits came after the limit (a wide table's first trial took all 37 s left, and
        the boosted trees' refit 3 s more)."""
        if self._deadline is None:
            return 0.0
        kept = self._classical_refit_seconds() + 2.0
        if self.study.best_trial is None:
            return kept
        most = self._retraining_seconds()
        seconds = [s for s in (self._refit_seconds(self.study.trials[n])
                               for n in self._to_retrain()) if s <= most]
        margin = RETRAINING_MARGIN if self._refit_needed() and len(seconds) > 1 else 1.0
        return min(most, margin * sum(seconds)) + self._crossval_plan()[1] + kept

    def _classical_refit_seconds(self):
        if not self.config.budget.final_fit:
            return 0.0
        return sum(self._classical_refit_estimate(member) for member in self._classical.values())

    def _classical_refit_estimate(self, member):
        """Seconds a classical member's refit on training + validation rows may take: as
        long as its fit; the boosted trees' as their last fit (one setting, its count of
        trees), on the rows added, with the retrainings' margin. Their whole fit (three
        settings and that last one) had been kept room for, some four times the refit: on
        tables of 10,000-50,000 rows searches returned after 44-53 s of 60."""
        refit = member["described"].get("refit_seconds")
        if refit is None:
            return member["seconds"]
        rows = 1.0 + len(self._trainer.val[1]) / len(self._trainer.train[1])
        return RETRAINING_MARGIN * rows * refit

    def _retraining_seconds(self, final=False):
        """Seconds the final model's retrainings of trials may take: at most the reserve's
        third of the limit while the search runs; the time left once it has stopped
        (``final``)."""
        if final:
            return self._deadline - time.monotonic() - self._classical_refit_seconds()
        return (self._deadline - self._started) / 3 - self._classical_refit_seconds() - 2.0

    def _refit_needed(self):
        """Whether the final model's members must be retrained to be any good: input kinds
        whose trial models fall well behind their retrainings (``InputKind.refit_alone``,
        texts: 1.5-2.5 points of accuracy) in a search with a time limit and ``final_fit``."""
        return (self._deadline is not None and self.config.budget.final_fit and
                any(kind.refit_alone for kind in self.space.inputs.values()))

    def _trial_seconds(self):
        """Seconds the next trial may train: what the reserve leaves; where the members must
        be retrained (:meth:`_refit_needed`), the share of it that leaves room for the
        trial's own retraining on all rows should it join them (a retraining takes up to
        ``1 / (1 - validation_split)`` times the trial's time). Without that room, a late
        text trial that joined the ensemble took the time its members' retrainings needed:
        on text_sections two of four members went into the final model untrained."""
        if self._deadline is None:
            return None
        return self._trial_share(max(0.0, self._deadline - self._reserve() - time.monotonic()))

    def _trial_share(self, left):
        """What a trial may train of the ``left`` seconds the reserve leaves (see
        :meth:`_trial_seconds`)."""
        if self._refit_needed():
            return left / (1.0 + 1.0 / (1.0 - self.config.training.validation_split))
        return left

    def _to_retrain(self):
        """The trials the final model would retrain if the search stopped now: the members
        of the ensemble their validation predictions select, or the best trial. Reserving
        for the best few by score instead left members out (on text_sections two of an
        ensemble's four went into the final model untrained on the validation rows, a text
        trial model being 1.5-2.5 points of test accuracy below its retraining), and without
        an ensemble kept room for retrainings that would not be made (the best three's: 18 s
        of a 60 s digits search unused)."""
        weights = self._ensemble()[0]
        if len(weights) > 1:  # else the final model is the best trial (_final_model)
            return [n for n in weights if not _classical(n)]
        return [self.study.best_trial.number]

    def _refit_seconds(self, trial):
        """Estimated seconds to retrain ``trial`` on training + validation rows."""
        if not self.config.budget.final_fit:
            return 0.0
        return self._training_seconds(trial, 1.0 / (1.0 - self.config.training.validation_split))

    def _training_seconds(self, trial, rows):
        """Estimated seconds to train ``trial`` anew for its final epochs on ``rows`` times
        as many rows as it trained on."""
        first, later = _epoch_seconds(trial)
        return trial.metrics.get("setup_seconds", 0.0) + \
            (first + later * (self._final_epochs(trial) - 1)) * rows

    def _ranked(self, running=None):
        """Finished trials' numbers, best first; ``running``: a ``(trial, value)`` not yet
        told, ranked among them."""
        scored = [(t.value, t.number) for t in self.study.trials if t.is_finite()]
        if running is not None:
            scored.append((running[1], running[0].number))
        sign = 1 if self._objective_.direction == "max" else -1
        return [number for _, number in sorted(scored, key=lambda p: -sign * p[0])]

    def _out_of_time(self):
        """Whether the time left, less the reserve, is too short for another trial: shorter
        than the quickest finished trial's set-up, first epoch and validation predictions (a
        trial trains at least one epoch, so one started then overruns into the reserve). A
        trial cut within its first epoch says only that a trial takes its set-up and two
        passes over the validation rows (validating the cut epoch, predicting them): on
        20,000 images a second trial started with 6 s left and took 20 s."""
        if self._deadline is None:
            return False
        left = self._deadline - self._reserve() - time.monotonic()
        if left <= 0:
            return True
        quickest = []
        for t in self.study.trials:
            if t.is_finite() and "fit_seconds" in t.metrics:
                validation = t.metrics.get("validation_seconds", 0.0)
                cut_at_once = t.metrics.get("epoch_cut") and t.metrics.get("epochs_run") == 1
                quickest.append(t.metrics.get("setup_seconds", 0.0) + validation +
                                (validation if cut_at_once else _epoch_seconds(t)[0]))
        return bool(quickest) and self._trial_share(left) < min(quickest)

    def _run_trial(self, trial):
        best = self.study.value_to_beat
        path = os.path.join(self._trials_dir, f"trial_{trial.number}")
        task = {"params": trial.params, "seed": trial.seed,
                "model_path": path + ".keras", "predictions_path": path + ".val.npy",
                "epochs": int(trial.params.get("tuner/epochs", self.config.budget.search_epochs
                                               or self.config.budget.epochs)),
                "best_value": best,
                "tensorboard_dir": os.path.join(self.study.directory, "tensorboard",
                                                f"trial_{trial.number}")
                if self.config.training.tensorboard else None,
                "measures": self._measures, "limits": self._limits,
                "seconds_left": self._trial_seconds()}
        task.update(self._continued(trial))
        metrics = self._train(trial, task)
        if "refused" in metrics:
            raise TrialRefused(metrics["refused"])
        metrics.update(self._fairness_measures(task["predictions_path"]))
        if self.verbose:
            self._print_progress(trial, metrics[self._objective_.name])
        self._keep_models(trial, metrics[self._objective_.name])
        return metrics

    def _train(self, trial, task):
        """The trial's metrics from its runner: this process or its worker, or, in a
        parallel search, the worker this thread holds; a trial whose worker on the network
        is lost is handed to the next free one."""
        def report(step, logs):
            self.study.report(trial, step, **logs)

        if self._pool is None:
            return self._runner().run(task, report, trial.info)
        from autoarch.distributed import WorkerLost

        self._in_use[trial.number] = task.get("parent")
        try:
            while True:
                try:
                    return self._pool.runner.run(task, report, trial.info)
                except WorkerLost as err:
                    self.study.restart(trial, err)
                    if self._pool.replace(self._pool.runner, self._out_of_time) is None:
                        raise
        finally:
            self._in_use.pop(trial.number, None)

    def _continued(self, trial):
        """Where ``trial`` starts from another's saved model: a Hyperband promotion
        (``tuner/trial_id``) continues its parent's from ``tuner/initial_epoch``, as
        keras-tuner's own Hyperband does; an evolution child (``oracle.parents``) inherits
        its parent's weights where they fit. The trainer builds a new model when the file
        is gone."""
        oracle = self.study.oracle
        promoted = trial.params.get("tuner/trial_id") \
            if getattr(oracle, "continue_training", True) else None
        parent_id = promoted or getattr(oracle, "parents", {}).get(trial.trial_id)
        parent = next((t for t in self.study.trials if t.trial_id == parent_id), None) \
            if parent_id else None
        if parent is None:
            return {}
        path = os.path.join(self._trials_dir, f"trial_{parent.number}.keras")
        if promoted:
            return {"parent": parent.number, "initial_model": path,
                    "initial_epoch": int(trial.params["tuner/initial_epoch"])}
        return {"parent": parent.number, "inherit_model": path}

    def _fairness_measures(self, predictions_path):
        """The fairness measures named as objectives or constraints, on the trial's
        validation predictions and the validation rows' groups."""
        if not self._fairness or not os.path.exists(predictions_path):
            return {}
        from autoarch import measures
        from autoarch.fairness import predicted_labels

        predicted = predicted_labels(np.load(predictions_path, allow_pickle=False))
        return {name: measures.FAIRNESS_MEASURES[name](self._trainer.val[1], predicted,
                                                       self._val_groups)
                for name in self._fairness}

    def _keep_models(self, trial, value):
        """Keep on disk the models an ensemble may use: the best few trials' (twice the
        ensemble size); under Hyperband those of the bracket now running (its promotions
        continue from them), under evolution with inheritance its population's (the
        parents of its children); every trial's validation predictions stay (they are
        small)."""
        keep = 2 * max(1, self.config.ensemble_size)
        kept = set(self._ranked(running=(trial, value))[:keep])
        oracle = self.study.oracle
        if getattr(oracle, "inherit", False):  # the population: the parents to be
            done = [t.number for t in self.study.trials if t.is_finite()]
            kept |= set(done[-oracle.population_size:]) | {trial.number}
        if self.multi_objective:  # select() may pick any trial of the front
            kept |= {t.number for t in self.study.pareto_front()} | {trial.number}
        # trials running on other workers: their own models, and those they start from
        kept |= {t.number for t in self.study.trials if t.status == "RUNNING"}
        kept |= {p for p in self._in_use.values() if p is not None}
        bracket = trial.params.get("tuner/bracket")
        if bracket is not None and getattr(oracle, "continue_training", True):
            kept |= {t.number for t in self.study.trials
                     if t.params.get("tuner/bracket") == bracket}
            kept.add(trial.number)
        for path in glob.glob(os.path.join(self._trials_dir, "trial_*.keras")):
            number = int(os.path.basename(path)[len("trial_"):-len(".keras")])
            if number not in kept:
                with contextlib.suppress(FileNotFoundError):  # another thread's removal
                    os.remove(path)

    def _print_progress(self, trial, value):
        done = self.study.n_finished + 1
        elapsed = time.monotonic() - self._started
        max_trials, _ = self.config.budget.limits()
        left = elapsed / done * max(0, (max_trials or done) - done) if max_trials else math.inf
        if self._deadline is not None:
            left = min(left, max(0.0, self._deadline - time.monotonic()))
        best = self.study.best_value
        best = value if best is None else (max(best, value) if self._objective_.direction == "max"
                                           else min(best, value))
        print(f"trial {trial.number} ({done}/{max_trials or '?'})  "
              f"{self._objective_.name}={value:.4f}  "
              f"best={best:.4f}  elapsed {_clock(elapsed)}  left ~{_clock(left)}", flush=True)

    # -- the winner ---------------------------------------------------------------------
    def _final_epochs(self, trial):
        budget = self.config.budget
        if budget.search_epochs is not None or budget.search_data_fraction < 1.0:
            return budget.epochs  # low fidelity: the winner trains as long as asked
        return int(trial.metrics.get("best_epoch", budget.epochs))

    def _trial_model(self, number):
        return load_model(os.path.join(self._trials_dir, f"trial_{number}.keras"))

    def _ensemble(self, final=False):
        """``{trial number: weight}`` chosen greedily on validation predictions, and its
        validation score; ``({}, None)`` without an ensemble (``ensemble_size`` 1, or
        several objectives or constraints: one trial, as an ensemble adds up sizes and
        latencies the search measured per trial). Where the members must be retrained
        (:meth:`_refit_needed`) and their retrainings would not fit in
        :meth:`_retraining_seconds`, a member is left out and the rest selected again, until
        they fit (:meth:`_left_out`)."""
        if self.config.ensemble_size <= 1 or self.multi_objective:
            return {}, None
        predictions = self._predictions()
        if not predictions:
            return {}, None
        weights, score = self._select(predictions)
        if not self._refit_needed():
            return weights, score
        # past the deadline (a last text trial told after it) the limit is below zero, and
        # a selection needing no retraining (one trial, or classical members alone) stands:
        # leaving out members until nothing was left had raised "max() arg is an empty
        # sequence" after a 40 s search on 30,000 texts
        limit = max(0.0, self._retraining_seconds(final))
        while self._members_seconds(weights) > limit:
            del predictions[self._left_out(predictions, weights, limit)]
            weights, score = self._select(predictions)
        return weights, score

    def _predictions(self):
        """``{trial number: validation predictions}`` of the finished trials whose models are
        on disk, and the classical members' (:meth:`_fit_classical`)."""
        predictions = {}
        for trial in self.study.trials:
            path = os.path.join(self._trials_dir, f"trial_{trial.number}")
            if trial.is_finite() and os.path.exists(path + ".keras") and \
                    os.path.exists(path + ".val.npy"):
                predictions[trial.number] = np.load(path + ".val.npy", allow_pickle=False)
        predictions.update({key: member["val"] for key, member in self._classical.items()})
        return predictions

    def _select(self, predictions, y=None, sample_weight=None):
        """Greedy selection over ``predictions`` of the rows of ``y`` weighted by
        ``sample_weight`` (the validation rows' targets and weights where ``y`` is None)."""
        if y is None:
            y, sample_weight = self._trainer.val[1], self._trainer.weights("val")
        return greedy_selection(predictions, y, self.space.is_classification,
                                self.config.ensemble_size, sample_weight)

    def _members_seconds(self, weights):
        """Seconds to keep for retraining the trials among ``weights``' keys (their estimates
        and :data:`RETRAINING_MARGIN`); none for one member."""
        members = [n for n in weights if not _classical(n)]
        if len(weights) < 2:  # the final model is then the best trial, or a classical one
            return 0.0
        return RETRAINING_MARGIN * sum(self._refit_seconds(self.study.trials[n])
                                       for n in members)

    def _left_out(self, predictions, weights, limit):
        """The member of ``weights`` to leave out of the selection when their retrainings
        take longer than ``limit``: the one whose absence leaves the best selection that
        fits; where no single absence fits, the one whose retraining takes longest for its
        weight. Leaving that one out first whatever fit dropped a 42 s member of a text
        ensemble that was 2.5 s too long: its final model then took 40 of 84 s."""
        members = [n for n in weights if not _classical(n)]
        fitting = {}
        for n in members:
            rest = {k: v for k, v in predictions.items() if k != n}
            chosen, score = self._select(rest)
            if self._members_seconds(chosen) <= limit:
                fitting[n] = score[-1]
        if fitting:
            return max(fitting, key=fitting.get)
        return max(members, key=lambda n: self._refit_seconds(self.study.trials[n]) / weights[n])

    def _final_model(self):
        """The final model and a record of how it was made."""
        started = time.monotonic()
        weights, score = self._ensemble(final=True)
        selection = None
        if self._cross_validates():
            weights, score, selection = self._cross_validated(weights, score)
        record = {} if selection is None else {"cross_validation": selection["record"]}
        model, how = self._made_of(weights, score, selection)
        return model, {**how, **record, "final_seconds": round(time.monotonic() - started, 1)}

    def _made_of(self, weights, score, selection):
        """The final model from the selection's ``weights`` (and its ``score``; ``selection``:
        the cross-validation's, or None) and how it was made."""
        if len(weights) > 1:  # the trials first: the ensemble compiles as its first member
            members = sorted(weights, key=lambda n: (_classical(n), -weights[n]))
            parts, record = {}, []
            for n in members:
                began = time.monotonic()
                parts[n], retrained = self._member(n)
                record.append({"trial": n, "weight": round(weights[n], 4),
                               "retrained": retrained,
                               "seconds": round(time.monotonic() - began, 1)})
            weights, score = self._reselected(weights, score, record, selection)
            models, shares = [], []
            for n in (m["trial"] for m in record if m["trial"] in weights):
                models += parts[n]
                shares += [weights[n] / len(parts[n])] * len(parts[n])
            model = ensemble_model(models, shares)
            if not model.compiled:  # its first member a classical one, never compiled
                self._compile(model)
            self.ensemble = {"members": record, "validation_score": list(score)}
            if selection is not None:
                self.ensemble["scored_on"] = f"{FOLDS}-fold cross-validation"
            return model, {"final_model": "ensemble", "ensemble": self.ensemble}
        self.ensemble = None
        best = self.study.best_trial
        if len(weights) == 1 and _classical(next(iter(weights))):  # it beat every trial
            (key,) = weights
            model, retrained = self._classical_model(key)
            self._compile(model)
            return model, {"final_model": member_name(key) + (" retrained on all rows" if
                                                              retrained else "")}
        if self._fairness:  # a retrained model's fairness is not the one that was validated
            return self._trial_model(best.number), {
                "final_model": f"trial {best.number} (not retrained: its fairness measures "
                               "hold for this model)"}
        if selection is not None and len(weights) == 1:  # the trial the folds chose
            best = self.study.trials[next(iter(weights))]
        models, retrained = self._member(best.number)
        model = models[0] if len(models) == 1 else ensemble_model(models, [0.5, 0.5])
        dropped = any(n.get("event") == "retraining_dropped" and n.get("trial") == best.number
                      for n in self.study.notes)
        how = (f"trial {best.number} retrained on all rows" if retrained
               else f"trial {best.number}" if not self.config.budget.final_fit
               else f"trial {best.number} (its retraining fitted the validation rows worse, "
                    "so it was dropped)" if dropped
               else f"trial {best.number} (no time left to retrain it)")
        if len(models) > 1:
            how += ", averaged with its trial model"
        return model, {"final_model": how}

    def _compile(self, model):
        """Compile a classical member's model, or an ensemble that a classical member leads,
        as the trials are: as the space compiles the best trial's candidate, or, where none
        completed, a candidate of its defaults. (Not by loading the best trial's model for
        its compile config: a wide table's took 8.7 s to load.)"""
        best = self.study.best_trial
        model.compile(**self.space.compile_options(
            self.space.hyperparameters() if best is None else trial_values(best.params)))
        # as Keras builds it when a compiled model loads: an archive saved without the
        # optimizer's variables warns on every load ("Skipping variable loading ...")
        model.optimizer.build(model.trainable_variables)

    def _reselected(self, weights, score, record, selection=None):
        """Where members must be retrained (:meth:`_refit_needed`) and some of ``record``'s
        were not in the time left: the selection again among those that were (and the
        classical members), on the outputs it was made on (the cross-validation's
        ``selection``, or the validation predictions), and ``record``'s weights updated;
        else ``weights`` and ``score`` as they are. A text trial model is 1.5-2.5 points
        below its retraining, so its validation predictions oversell it beside retrained
        members."""
        kept = [m["trial"] for m in record if m["retrained"] or _classical(m["trial"])]
        if not self._refit_needed() or not kept or set(kept) == set(weights) or \
                all(_classical(n) for n in kept):
            return weights, score
        outputs, y = (self._predictions(), None) if selection is None else \
            (selection["outputs"], self._all_targets())
        weights, score = self._select({n: outputs[n] for n in kept}, y,
                                      None if y is None else self._all_weights())
        for member in record:
            member["weight"] = round(weights.get(member["trial"], 0.0), 4)
            if member["trial"] not in weights:
                member["left_out"] = "not retrained in the time left"
        return weights, score

    def _member(self, n):
        """The models that stand for trial ``n`` (or the boosted trees) in the final model,
        and whether they were retrained on all rows. A retrained trial's retraining and its
        own trial model share its weight: the retraining saw a fifth more rows but trained
        for an epoch count picked on a few hundred validation rows and was never validated
        itself; averaging the two halves that risk (on digits single refits fell from 0.989
        to 0.973 and 0.929 test accuracy, and the averages kept 0.989 and 0.998). Inputs
        whose kind gains more from the validation rows (``InputKind.refit_alone``: texts)
        keep the retraining alone, as does a search of several objectives (one model, whose
        size and latency the search measured)."""
        if _classical(n):
            model, refit = self._classical_model(n)
            return [model], refit
        model, retrained = self._retrained(self.study.trials[n])
        if not retrained or self.multi_objective or any(
                kind.refit_alone for kind in self.space.inputs.values()):
            return [model], retrained
        try:
            return [model, self._trial_model(n)], True
        except (TypeError, ValueError) as err:  # e.g. a layer class Keras cannot look up
            warnings.warn(f"trial {n}'s saved model does not load ({err.__class__.__name__}: "
                          f"{str(err).splitlines()[0][:200]}); the final model uses its "
                          "retraining alone", stacklevel=2)
            return [model], True

    def _classical_model(self, key):
        """The classical member ``key`` as a Keras model from the raw inputs, refitted on
        training + validation rows (``final_fit``; :meth:`_classical_fitted`) where the time
        left allows; and whether it was refitted."""
        from autoarch.linear import table_linear_model, text_linear_model
        from autoarch.neighbours import neighbours_model
        from autoarch.trees import trees_model

        member = self._classical[key]
        refit = self.config.budget.final_fit and (
            self._deadline is None or
            time.monotonic() + self._classical_refit_estimate(member) <= self._deadline)
        kind = next(iter(self.space.inputs.values()))  # a table encoded ahead, or one text
        rows = self._classical_rows(key)
        model = self._classical_fitted(key, rows, self._all_targets(), self._all_weights()) \
            if refit else member["model"]
        if key in (LINEAR, NB_LINEAR):
            return text_linear_model(kind, model, name=key), refit
        if key == NEIGHBOURS:
            return neighbours_model(kind, model), refit
        if key == TABLE_LINEAR:
            return table_linear_model(kind, model), refit
        return trees_model(kind, model, rows[:8], self.space.is_classification), refit

    def _all_targets(self):
        """The training and validation rows' targets, in that order."""
        return np.concatenate([self._trainer.train[1], self._trainer.val[1]])

    def _all_weights(self):
        """The training and validation rows' sample weights, in that order, or None."""
        if self._trainer.sample_weight is None:
            return None
        return np.concatenate(self._trainer.sample_weight)

    def _classical_rows(self, key):
        """Training + validation rows as the classical member ``key`` takes them: the texts,
        or the encoded rows (:meth:`_encoded_rows`)."""
        if key in (LINEAR, NB_LINEAR):
            (kind,) = self.space.inputs.values()
            return np.concatenate([part[0][kind.input_name]
                                   for part in (self._trainer.train, self._trainer.val)])
        return np.concatenate(self._encoded_rows())

    def _classical_fitted(self, key, x, y, sample_weight=None):
        """The classical member ``key`` fitted anew on rows ``x`` (as
        :meth:`_classical_rows` gives them) with targets ``y`` (and their
        ``sample_weight``), as it was chosen on the
        validation rows: the boosted trees' setting and count of trees, the logistic
        regression's iterations, the text models' temperature (the neighbours fit theirs
        leaving each row out)."""
        from autoarch.linear import fit_table_linear
        from autoarch.neighbours import NearestNeighbours
        from autoarch.trees import fit_boosted_trees, settings_of

        member = self._classical[key]
        model, seed = member["model"], self.config.seed
        if key in (LINEAR, NB_LINEAR):
            return model.refitted(x, y, sample_weight)
        if key == NEIGHBOURS:
            return NearestNeighbours(x, y, model.classes, seed=seed, sample_weight=sample_weight)
        if key == TABLE_LINEAR:
            described = member["described"]
            return fit_table_linear(x, y, seed=seed, max_iter=described.get("iterations"),
                                    sample_weight=sample_weight, alpha=described.get("alpha"),
                                    classification=self.space.is_classification)[0]
        return fit_boosted_trees(x, y, self.space.is_classification, seed=seed,
                                 n_trees=model.n_estimators_, settings=settings_of(model),
                                 sample_weight=sample_weight, groups=self._category_slots())

    def _classical_outputs(self, key, model, x):
        """A fitted classical member's outputs on rows ``x``, as a trial's."""
        return model.outputs(x) if key in (LINEAR, NB_LINEAR, NEIGHBOURS) else \
            self._outputs_of(model, x)

    def _retrained(self, trial):
        """``trial``'s model retrained on training + validation rows (``final_fit``) where
        the time left allows it, else the trial's own model; and whether it was retrained.
        A retraining the deadline cuts short is dropped: the trial's model is the better."""
        if not self.config.budget.final_fit or (
                self._deadline is not None and
                time.monotonic() + self._refit_seconds(trial) > self._deadline):
            return self._trial_model(trial.number), False
        model, trained, inputs, complete = self._trained_on(trial)
        if not complete or self._fits_worse(trial, trained, inputs):
            return self._trial_model(trial.number), False
        return model, True

    def _fits_worse(self, trial, trained, inputs):
        """Whether a retraining predicts the validation rows, which it trained on, worse
        (by the ensemble's loss) than ``trial``'s model did without them: it ended its
        epochs in a bad state, and the trial's model alone is the better. The README's
        first command met one: a conv net with batch norm and dropout 0.5 at a rate of
        0.003, retrained for its 7 epochs, fitted 91 % of its own rows where the trial's
        model had 100 % of the validation rows; averaged, the two scored 0.958 on the test
        digits, the trial's model alone 0.984. A dropped retraining is noted in the journal
        as ``retraining_dropped``."""
        path = os.path.join(self._trials_dir, f"trial_{trial.number}.val.npy")
        if not os.path.exists(path):
            return False
        y_val, weights = self._trainer.val[1], self._trainer.weights("val")
        total = data_ops.n_rows(inputs)
        rows = data_ops.take_rows(inputs, np.arange(total - len(y_val), total))
        batch_size = self._batch_size(trial)
        classification = self.space.is_classification
        retrained = ensemble_loss(data_ops.predict_rows(trained, rows, batch_size), y_val,
                                  classification, weights)
        alone = ensemble_loss(np.load(path, allow_pickle=False), y_val, classification, weights)
        if retrained <= alone:
            return False
        self.study.note("retraining_dropped", trial=trial.number,
                        validation_loss=round(float(retrained), 6),
                        trial_validation_loss=round(float(alone), 6))
        return True

    def _batch_size(self, trial):
        """The batch size ``trial`` trained with (a searched one, else the setting's)."""
        return int(trial.metrics.get("batch_size", self.config.training.batch_size))

    def _trained_on(self, trial, rows=None, deadline=None):
        """``trial``'s candidate built anew and trained for its final epochs
        (:meth:`_final_epochs`, replaying its learning rates) on ``rows`` of the training +
        validation rows (all of them where None) until the search's deadline, or
        ``deadline``: ``(model, what trained (its view on inputs encoded ahead, or itself),
        every row's inputs as that takes them, whether it trained every epoch)``."""
        epochs = max(1, self._final_epochs(trial))
        model, view = self._trainer.build(trial.params, trial.seed)
        trained, train, val = self._trainer.fitting(model, view)
        inputs = {k: np.concatenate([train[k], val[k]]) for k in train}
        y, weights = self._all_targets(), self._all_weights()
        groups = None if self._val_groups is None else \
            np.concatenate([self._trainer.groups, self._val_groups])
        fit_inputs = inputs
        if rows is not None:
            fit_inputs, y = data_ops.take_rows(inputs, rows), y[rows]
            groups = None if groups is None else groups[rows]
            weights = None if weights is None else weights[rows]
        batch_size = self._batch_size(trial)
        build_training_variables(trained, fit_inputs, y)
        stop = Deadline(self._deadline if deadline is None else deadline, mid_epoch=True)
        history = trained.fit(
            data_ops.make_dataset(fit_inputs, y, batch_size, shuffle_seed=trial.seed,
                                  sample_weight=training_weights(trial.params, y, groups,
                                                                 weights)),
            epochs=epochs, verbose=max(0, self.verbose - 1), shuffle=False,
            callbacks=[*replay_callbacks(trial.intermediate), stop]).history
        return model, trained, inputs, len(history.get("loss", [])) >= epochs and not stop.cut

    # -- cross-validated selection (small data) -------------------------------------------
    def _cross_validates(self):
        """Whether the final selection is cross-validated (:mod:`autoarch.engine.crossval`):
        an ensemble of a classifier over rows the search split itself (not a caller's
        validation data), at most ``crossval_rows`` of them, without fairness measures or
        groups."""
        rows = len(self._trainer.train[1]) + len(self._trainer.val[1])
        return (self._rows is not None and self.config.ensemble_size > 1 and
                self.space.is_classification and
                not self.multi_objective and not self._fairness and
                self._val_groups is None and 0 < rows <= self.config.crossval_rows)

    def _fold_share(self):
        """A fold's fitting rows per training row of a trial."""
        rows = len(self._trainer.train[1]) + len(self._trainer.val[1])
        return (FOLDS - 1) / FOLDS * rows / len(self._trainer.train[1])

    def _crossval_plan(self, predictions=None):
        """``(trials, seconds)``: the shortlisted trials the final selection would
        cross-validate if the search stopped now (:func:`crossval.shortlist
        <autoarch.engine.crossval.shortlist>` of the selection on ``predictions``, the
        validation predictions; as many as fit beside the classical members' folds in a
        third of the time limit, or without one in half the seconds searched so far: never
        most of the fit), and the seconds estimated for their folds and the classical
        members'; ``([], 0.0)`` where it does not apply."""
        if not self._cross_validates() or self.study.best_trial is None:
            return [], 0.0
        predictions = self._predictions() if predictions is None else predictions
        if not predictions:
            return [], 0.0
        y_val, classification = self._trainer.val[1], self.space.is_classification
        losses = {k: ensemble_loss(v, y_val, classification, self._trainer.weights("val"))
                  for k, v in predictions.items() if not _classical(k)}
        seconds = (FOLDS - 1) * sum(self._classical_refit_estimate(member)
                                    for member in self._classical.values())
        most = (time.monotonic() - self._started) / 2 if self._deadline is None else \
            (self._deadline - self._started) / 3
        trials = []
        for n in shortlist(self._select(predictions)[0], losses):
            more = FOLDS * self._training_seconds(self.study.trials[n], self._fold_share())
            if seconds + more > most:
                break
            trials.append(n)
            seconds += more
        return trials, seconds

    def _cross_validated(self, weights, score):
        """The selection made again on out-of-fold outputs of every row (the shortlist of
        :meth:`_crossval_plan` and the classical members, :mod:`autoarch.engine.crossval`),
        and ``{"record": noted in the journal, "outputs": {key: out-of-fold outputs}}``;
        ``weights`` and ``score`` as they are, and None, where the classes are too few for
        the folds or no trial's folds finish in time. A trial whose folds would not finish
        before the time kept for retraining the validation rows' selection is left out."""
        started = time.monotonic()
        y, classification = self._all_targets(), self.space.is_classification
        row_weights = self._all_weights()
        folds = fold_rows(y, self.config.seed)
        predictions = self._predictions()
        trials = self._crossval_plan(predictions)[0] if folds is not None else []
        if not trials:
            return weights, score, None
        outputs = {key: self._classical_out_of_fold(key, y, row_weights, folds)
                   for key in self._classical}
        deadline = None if self._deadline is None else \
            self._deadline - sum(self._refit_seconds(self.study.trials[n])
                                 for n in self._to_retrain()) - self._classical_refit_seconds()
        for n in trials:
            trial = self.study.trials[n]
            if deadline is not None and time.monotonic() + FOLDS * self._training_seconds(
                    trial, self._fold_share()) > deadline:
                continue
            outputs[n] = out_of_fold(lambda fit, held, trial=trial: self._fold_outputs(
                trial, fit, held, deadline), folds)
        outputs = {k: v for k, v in outputs.items() if v is not None}
        if all(_classical(k) for k in outputs):
            return weights, score, None
        chosen, cv_score = self._select(outputs, y, row_weights)
        record = {"folds": FOLDS, "rows": int(len(y)),
                  "scores": {str(k): [round(v, 4) for v in ensemble_score(
                      o, y, classification, row_weights)] for k, o in outputs.items()},
                  "validation_weights": {str(k): round(w, 4) for k, w in weights.items()},
                  "weights": {str(k): round(w, 4) for k, w in chosen.items()},
                  "score": [round(v, 4) for v in cv_score],
                  "seconds": round(time.monotonic() - started, 1)}
        self.study.note("cross_validation", **record)
        return chosen, cv_score, {"record": record, "outputs": outputs}

    def _classical_out_of_fold(self, key, y, weights, folds):
        """The classical member ``key``'s out-of-fold outputs (:meth:`_classical_fitted` on
        each fold's other rows, with their ``weights``, or None)."""
        rows = self._classical_rows(key)
        return out_of_fold(lambda fit, held: self._classical_outputs(
            key, self._classical_fitted(key, rows[fit], y[fit],
                                        None if weights is None else weights[fit]),
            rows[held]), folds)

    def _fold_outputs(self, trial, fitting, held_out, deadline):
        """``trial``'s outputs on the ``held_out`` rows from its candidate trained on the
        ``fitting`` rows (:meth:`_trained_on`); None where the deadline cut it short."""
        _, trained, inputs, complete = self._trained_on(trial, fitting, deadline)
        if not complete:
            return None
        batch_size = self._batch_size(trial)
        return data_ops.predict_rows(trained, data_ops.take_rows(inputs, held_out),
                                     data_ops.eval_batch(batch_size))


def _classical(key):
    """Whether an ensemble's key is a classical member's (:data:`TREES`, :data:`LINEAR`),
    not a trial's number."""
    return isinstance(key, str)


def _epoch_seconds(trial):
    """A finished trial's seconds for its first epoch (tracing included) and for each later
    one; their mean for both where the first was not timed (a journal of earlier code)."""
    fit, epochs = trial.metrics.get("fit_seconds", 0.0), max(1, trial.metrics.get("epochs_run", 1))
    first = trial.metrics.get("first_epoch_seconds")
    if first is None or epochs == 1:
        return fit / epochs, fit / epochs
    return first, max(0.0, fit - first) / (epochs - 1)


def _summary_line(summary):
    line = (f"searched {summary['trials']} trials in {summary['search_seconds']:.0f} s "
            f"(stopped by {summary['stopped_by']}); final model: {summary['final_model']}")
    if summary.get("ensemble"):
        line += f" of {members_line(summary['ensemble']['members'])}"
    if summary.get("cross_validation"):
        crossval = summary["cross_validation"]
        line += (f", selected on {crossval['folds']}-fold cross-validation of "
                 f"{crossval['rows']} rows ({crossval['seconds']:.0f} s)")
    return line + f"; {summary['total_seconds']:.0f} s in all"


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"
