"""scikit-learn estimators over a model search: ``fit`` searches, then keeps the winner.

``__init__`` only stores arguments, learned state ends in ``_``, ``clone`` and pickling work
(the Keras model travels as a ``.keras`` archive, never as a raw pickle). Every search
setting of :mod:`autoarch.config` is a parameter, ``None`` unless set: unset ones take the
spec's value, else the library default.
"""

import contextlib
import dataclasses
import inspect
import os
import pickle
import shutil
import tempfile
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_array, column_or_1d
from sklearn.utils.validation import check_is_fitted

from autoarch.blocks import ClassificationHead, ModelSpace, RegressionHead
from autoarch.blocks.layout import DEFAULT_INPUT
from autoarch.blocks.heads import HEADS
from autoarch.config import FLAT_FIELDS, ConfigError, SearchConfig, parameters_doc
from autoarch.data import dataset_to_arrays
from autoarch.engine.data import EVAL_BATCH, as_input_dict, check_class_labels, \
    predict_rows, sample_weights
from autoarch.engine.search import ModelSearch
from autoarch.export import export_model, load_model
from autoarch.files import BEST_MODEL, ESTIMATOR, atomic_path
from autoarch.inputs import INPUT_KINDS, infer_kind
from autoarch.inputs.tabular import input_names, listed
from autoarch.report import write_report
from autoarch.spec.checks import did_you_mean
from autoarch.specfile import Spec, load_spec, overridden
from autoarch.strategies.options import SUPERNETS

MIN_SAMPLES = 5
#: regression targets larger than this have squared errors beyond float32 (3.4e38)
MAX_TARGET = 1e18
#: the estimators' own parameters, beside one per search setting (autoarch.config)
OWN_PARAMETERS = {"spec": None, "directory": None, "verbose": 0, "chief": None}
PARAMETERS = {**OWN_PARAMETERS, **{name: None for name in FLAT_FIELDS}}

_PARAMETERS_DOC = f"""
    Parameters
    ----------
    spec : str, path, dict, Spec or list of blocks, default=None
        A YAML spec (path or dict) or a list of blocks. A spec is honoured wholly: its
        blocks, inputs, strategy, budget, objective and training settings; every parameter
        below that is set (not None) overrides the spec's value. Setting ``strategy`` drops
        the spec's ``strategy_options`` unless they are set too. The spec's ``data`` and
        ``name`` are for the ``autoarch`` command; ``fit`` takes its data as arguments.
    directory : str or path, default=None
        Where the search's journal and models go (kept after ``fit``, for ``autoarch
        report`` and ``Study.load``); None: a temporary folder, removed when ``fit``
        returns (or kept, and named in the error, when no trial completed).
    verbose : int, default=0
        1 prints a line per trial; 2 adds Keras's progress output.
    chief : str, default=None
        ``"HOST:PORT"``: serve the search there, so that workers on other machines
        (``autoarch worker HOST:PORT``) train trials beside the ``n_jobs`` local ones. A
        chief on an address other machines reach needs a shared token in the
        ``AUTOARCH_TOKEN`` environment variable, on the chief and on every worker; workers
        write models into ``directory``, which must be shared storage.
{parameters_doc()}

    Attributes
    ----------
    best_model_ : keras.Model
        The final model: an ensemble of trials (one Keras model averaging its members) when
        it beats the best trial on validation data (log loss, or squared error), else the
        best trial (with ``final_fit``, retrained on all rows and, but for texts, averaged
        with its trial model). On a table the boosted trees (``boosted_trees``) and
        logistic regression (``table_linear``, classes only), on a text a linear SVM and NBSVM
        over tf-idf n-grams (``text_linear``), on a flat signal the nearest neighbours
        (``signal_neighbours``, classes only; images and sequences too), up to 1,000
        training rows the boosted trees, and ridge regression (``table_linear``; with
        classes logistic regression, over 1,000 training rows) may be members, or the whole
        model where they beat every trial and blend.
    ensemble_ : dict or None
        ``{{"members": [{{"trial": n, "weight": w, "retrained": bool, "seconds": s}}, ...],
        "validation_score": [...]}}`` when the final model is an ensemble (``retrained``:
        whether the member was retrained on all rows, ``final_fit``, its retraining and its
        trial model then sharing its weight, but for texts; ``seconds``: what making the
        member took; the score is the trial models', or with ``"scored_on"`` their
        out-of-fold one, ``crossval_rows``). The boosted trees' ``trial`` is ``"trees"``,
        the linear models' ``"linear"``, ``"nb_linear"`` and ``"table_linear"``, the
        nearest neighbours' ``"neighbours"``.
    search_summary_ : dict
        How the budget was spent: trials, seconds, what stopped the search, the final model
        (and ``"cross_validation"``: each candidate's out-of-fold score and the weights
        chosen, where the selection was cross-validated).
    best_params_, best_score_ : dict, float
        The best trial's parameters and objective value (the selected one's after
        ``select``); empty and None where no trial completed in the time limit and the
        final model is made of the classical members alone (with a warning).
    selected_trial_ : int
        The best trial, or the one ``select`` chose (None where no trial completed).
    search_results_ : list of dict
        Every trial (number, status, parameters, value, metrics).
    pareto_front_ : list of dict
        With several ``objectives`` or ``constraints``: the trials no other beats in every
        objective (constraints first), ``{{"trial": n, objective: value, ...}}``, best first
        in the first objective; else the best trial alone. ``select(n)`` makes one of them
        the model that predicts and exports.
"""


def _init(self, **params):
    for name in params:
        if name not in PARAMETERS:
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword "
                            f"argument '{name}'{did_you_mean(name, PARAMETERS)}")
    for name, default in PARAMETERS.items():
        setattr(self, name, params.get(name, default))


# scikit-learn reads an estimator's parameters from its __init__ signature: this one is made
# from the search configuration's fields, so a new knob needs no edit here.
_init.__signature__ = inspect.Signature(
    [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    + [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
       for name, default in PARAMETERS.items()])


def _sensitive(X, sensitive, as_input):
    """``X`` (without the named sensitive columns unless they stay inputs), the sensitive
    values, one per row (or one row of values per row), and the model input that holds
    them (a single named column that stays an input), or None."""
    if sensitive is None:
        return X, None, None
    names = [sensitive] if isinstance(sensitive, str) else sensitive \
        if isinstance(sensitive, (list, tuple)) and all(isinstance(c, str) for c in sensitive) \
        else None
    if names is None:
        if not as_input:
            raise ValueError("sensitive_as_input=False drops named columns: give "
                             "sensitive_features as column names of the DataFrame X")
        return X, np.asarray(sensitive, dtype=object), None
    if not hasattr(X, "columns"):
        raise ValueError(f"sensitive_features: {names!r} names columns, but X is not a "
                         "DataFrame; give one value per row instead")
    missing = [c for c in names if c not in X.columns]
    if missing:
        raise ValueError(f"sensitive_features: no column {missing[0]!r} in X"
                         f"{did_you_mean(missing[0], [str(c) for c in X.columns])}")
    values = X[names].to_numpy(dtype=object)
    column = input_names(X.columns)[list(X.columns).index(names[0])] \
        if as_input and len(names) == 1 else None
    return (X if as_input else X.drop(columns=names)), \
        (values[:, 0] if len(names) == 1 else values), column


class _AutoEstimator(BaseEstimator):
    _kind = None  # task classes fix the input kind
    _task = None  # "classification" or "regression"

    __init__ = _init

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        kinds = INPUT_KINDS.values() if self._kind is None else (INPUT_KINDS[self._kind],)
        for kind in kinds:
            for tag, value in kind.tags.items():
                setattr(tags.input_tags, tag, getattr(tags.input_tags, tag) or value)
        return tags

    # -- settings -----------------------------------------------------------------------
    def _spec(self):
        """The loaded spec, or None (a list of blocks is a spec of blocks alone)."""
        if self.spec is None:
            return None
        if isinstance(self.spec, (list, tuple)):
            return Spec(blocks=list(self.spec))
        spec = load_spec(self.spec)
        if spec.task is not None and spec.task != self._task:
            raise ValueError(f"the spec's task is {spec.task}, but {type(self).__name__} does "
                             f"{self._task}")
        return spec

    def _config(self, spec):
        """The spec's settings, overridden by every parameter that is set."""
        given = {name: getattr(self, name) for name in FLAT_FIELDS
                 if getattr(self, name) is not None}
        settings, _ = overridden(spec.settings if spec is not None else {}, given)
        try:
            return SearchConfig.from_flat(settings)
        except ConfigError as err:
            source = "parameter" if err.name in given else "spec setting"
            raise ValueError(f"{type(self).__name__}: {source} {err}") from None

    # -- inputs -------------------------------------------------------------------------
    def _input_kinds(self, inputs, spec):
        declared = (spec.inputs if spec is not None else None) or {}
        if declared and set(declared) != set(inputs):
            raise ValueError(f"X must give the spec's inputs ({', '.join(declared)}), got "
                             f"{', '.join(inputs)}")
        kinds = {}
        for name, x in inputs.items():
            kind = (declared.get(name) or {}).get("kind") or \
                (self._kind if len(inputs) == 1 else None)
            cls = INPUT_KINDS[kind] if kind else infer_kind(x)
            kinds[name] = cls(name)
        return kinds

    def _check_inputs(self, X, kinds):
        """``{input name: data checked by its kind}`` and the number of rows."""
        inputs = as_input_dict(X)
        if set(inputs) != set(kinds):
            raise ValueError(f"X must give the inputs seen in fit ({', '.join(kinds)}), got "
                             f"{', '.join(inputs)}")
        checked = {name: kinds[name].check(x) for name, x in inputs.items()}
        rows = {name: len(x) for name, x in checked.items()}
        if len(set(rows.values())) > 1:
            raise ValueError(f"every input needs the same number of rows, got {rows}")
        return checked, next(iter(rows.values()))

    def _validation(self, validation_data, sensitive_features):
        """``validation_data`` checked as ``fit``'s ``X`` and ``y`` are, its labels encoded
        as theirs: what :meth:`ModelSearch.fit` takes."""
        if hasattr(validation_data, "element_spec"):
            x_val, y_val, weights = dataset_to_arrays(validation_data)
            validation_data = (x_val, y_val) if weights is None else (x_val, y_val, weights)
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be (X_val, y_val) or (X_val, y_val, "
                             "sample_weight_val), or a tf.data.Dataset of them")
        if sensitive_features is not None:
            raise ValueError("sensitive_features: give them with the rows the search splits "
                             "itself (no validation_data)")
        x_val, y_val = _target_column(*validation_data[:2])
        try:
            checked, n = self._check_fitted_inputs(x_val)
            y_val = self._encode_y(y_val, n, fitted=True)[0]
        except ValueError as error:
            raise ValueError(f"validation_data: {error}") from error
        return (checked, y_val, *validation_data[2:])

    def _n_features(self, checked, kinds):
        return {name: kinds[name].n_features(x) for name, x in checked.items()}

    def _encode_y(self, y, n, fitted=False):
        """``(targets as the search takes them, outputs)`` of ``y`` for ``n`` rows, checked;
        ``fitted``: validation targets, encoded as ``fit``'s ``y`` was (nothing learned)."""
        raise NotImplementedError

    def _encoded_config(self, config):
        """``config`` as the search takes it, its labels encoded as ``_encode_y`` encodes
        ``y``."""
        return config

    # -- fit ----------------------------------------------------------------------------
    def fit(self, X, y=None, callbacks=None, sensitive_features=None, sensitive_as_input=True,
            sample_weight=None, validation_data=None, **settings):
        """Search for the best model for ``X``, ``y``; returns ``self``.

        Parameters
        ----------
        X : array-like, DataFrame, list of strings, dict of those, tf.data.Dataset or path
            A table, images, sequences or texts (the kind is recognised, or fixed by the task
            class), or ``{input name: data}`` for several inputs (one branch each, merged
            before the head); or a ``tf.data.Dataset`` of ``(x, y)`` pairs or ``(x, y,
            sample_weight)`` triples; or a CSV file's path (a table; ``predict`` and
            ``score`` take one too).
        y : array-like or str
            Labels (ints, strings or one-hot rows) or regression targets; or the name of the
            column of the DataFrame (or CSV file) ``X`` that holds them (``predict`` then
            ignores that column where it is given).
        callbacks : list of keras.callbacks.Callback, default=None
            Added to every trial's training (e.g. ``TensorBoard``).
        sensitive_features : str, list of str or array-like, default=None
            The group of each row, as fairlearn takes it: a column name of the DataFrame
            ``X`` (or several, whose combinations are the groups) or one value per row.
            Needed for the fairness measures (``demographic_parity_difference``,
            ``equalized_odds_difference``, ``worst_group_accuracy``) as ``objectives`` or
            ``constraints``, on validation predictions with the second of ``classes_`` as
            the positive class; the search then also chooses whether to train with
            reweighing (``training/reweigh``, :mod:`autoarch.fairness`) and, for a binary
            classifier of a table whose one named sensitive column stays an input,
            whether to give each group its own threshold so that all groups are predicted
            positive at the same rate on the training rows (``training/parity_thresholds``,
            :mod:`autoarch.engine.parity`; the model applies them itself).
        sensitive_as_input : bool, default=True
            Whether named sensitive columns stay model inputs (False drops them from ``X``;
            predict then takes ``X`` without them).
        sample_weight : array-like of shape (n_samples,), default=None
            Each row's weight (finite, non-negative; scaled to a mean of 1; a
            ``tf.data.Dataset`` may yield ``(x, y, sample_weight)`` instead). Every
            candidate trains on the weighted loss and is chosen on its weighted validation
            metrics, the objective included (weighted accuracy, weighted mean squared
            error); the classical members fit with the weights, the ensemble is selected on
            the weighted validation loss, and the retrainings on all rows are weighted too.
            ``class_weight`` multiplies them. A row of weight 0 counts only where the split
            and the inputs' statistics (a table's encoding, vocabularies) are made.
        validation_data : tuple, default=None
            ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)`` (or a
            ``tf.data.Dataset`` of such pairs or triples), in the form of ``X`` and ``y``:
            the rows every candidate, classical member and ensemble is chosen on, instead
            of a ``validation_split`` of ``X`` (as Keras's and AutoKeras's ``fit`` take
            them). The inputs' statistics are learned from ``X`` alone; a final model
            retrained on all rows (``final_fit``) trains on both. Not with
            ``sensitive_features``, and no cross-validated selection (``crossval_rows``).
        **settings
            None taken: a search setting given here (``epochs=10``, as AutoKeras's ``fit``
            takes it) is refused with where it goes, ``AutoClassifier(epochs=10)``.
        """
        started = time.monotonic()  # time_limit counts the whole fit
        _refuse_settings(self, settings)
        self._target_name = y if isinstance(y, str) else None
        X, y = _target_column(X, y)
        if hasattr(X, "element_spec"):
            X, y, weights = dataset_to_arrays(X)
            sample_weight = weights if sample_weight is None else sample_weight
        X, sensitive_features, sensitive_input = _sensitive(X, sensitive_features,
                                                            sensitive_as_input)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None (pass y, or a tf.data.Dataset of (x, y) pairs)")
        spec = self._spec()
        config = self._config(spec)
        inputs = as_input_dict(X)
        kinds = self._input_kinds(inputs, spec)
        checked, n = self._check_inputs(inputs, kinds)
        if n < MIN_SAMPLES:
            raise ValueError(f"Found {n} sample(s) while a minimum of {MIN_SAMPLES} is required "
                             f"(n_samples={n}: too few to hold out validation data)")
        y_encoded, n_outputs = self._encode_y(y, n)
        sample_weight = sample_weights(sample_weight, n)
        for name, x in checked.items():
            kinds[name].fit(x)
        _distinct_model_inputs(kinds)
        self.input_kinds_ = kinds
        self.input_kind_ = kinds[DEFAULT_INPUT].kind if list(kinds) == [DEFAULT_INPUT] else \
            {name: kind.kind for name, kind in kinds.items()}
        self._features_in = self._n_features(checked, kinds)
        self.n_features_in_ = sum(self._features_in.values())
        validation = None if validation_data is None else \
            self._validation(validation_data, sensitive_features)
        if list(kinds) == [DEFAULT_INPUT] and hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        space = self._make_space(spec, kinds, config, n_outputs)
        directory = self.directory or tempfile.mkdtemp(prefix="autoarch-")
        search = ModelSearch(space, self._encoded_config(config), directory=directory,
                             verbose=self.verbose, chief=self.chief)
        # a failed search keeps its folder
        search.fit(checked, y_encoded, validation_data=validation, callbacks=callbacks,
                   sensitive_features=sensitive_features, sensitive_input=sensitive_input,
                   sample_weight=sample_weight, started=started)
        self.best_model_ = search.best_model
        self.space_ = space
        self.config_ = config
        best = search.study.best_trial
        self.best_params_ = {} if best is None else best.hyperparameters
        self.best_score_ = None if best is None else best.value
        self.search_results_ = [t.as_dict() for t in search.study.trials]
        self._search_settings = {
            "objective": [search.study.objective.name, search.study.objective.direction],
            "strategy": config.strategy, "strategy_options": config.strategy_options,
            "seed": search.study.seed, "created": min(
                (t.started for t in search.study.trials if t.started), default=time.time())}
        self.ensemble_ = search.ensemble
        self.pareto_front_ = search.pareto_front()
        self._front_archives = {}  # select() needs them after the search folder is gone
        for point in self.pareto_front_:
            path = os.path.join(search._trials_dir, f"trial_{point['trial']}.keras")
            if os.path.exists(path):
                with open(path, "rb") as handle:
                    self._front_archives[point["trial"]] = handle.read()
        self.search_summary_ = search.summary
        self._search_notes = list(search.study.notes)  # the summary, a supernet's epochs
        self.selected_trial_ = None if best is None else best.number
        if self.directory is None:  # the record is in search_results_; the models in memory
            search.study.close()
            shutil.rmtree(directory, ignore_errors=True)
        else:
            self._keep_final(directory)
        return self

    def _keep_final(self, directory):
        """The final model and this fitted estimator in the search's folder (``BEST_MODEL``,
        ``ESTIMATOR``), so ``autoarch predict``, ``export`` and ``report`` work on it as on
        a folder the command searched into, and a process that ends after ``fit`` loses
        nothing. The old pickle goes first: a kill between the two never pairs a new model
        with an old estimator."""
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(directory, ESTIMATOR))
        self.export(os.path.join(directory, BEST_MODEL))
        with atomic_path(os.path.join(directory, ESTIMATOR)) as kept:
            with open(kept, "wb") as file:
                pickle.dump(self, file)

    def select(self, trial):
        """Make trial number ``trial`` of the Pareto front (``pareto_front_``) the model that
        predicts and exports: its own trained model (trained on the search's training
        rows, not retrained on all of them). A search's folder (``directory``) follows: its
        ``best_model.keras`` and ``estimator.pkl`` become the selected trial's, so
        ``autoarch predict`` and ``export`` there use it too. Returns ``self``."""
        check_is_fitted(self, "best_model_")
        if trial not in self._front_archives:
            on_front = [p["trial"] for p in self.pareto_front_]
            several = len(self.config_.objectives or ()) > 1 or self.config_.constraints
            raise ValueError(f"select: trial {trial!r} is not on the Pareto front (front: "
                             f"{on_front})" + ("" if several else
                                               "; a search with one objective and no "
                                               "constraints has its best trial alone there"))
        self.best_model_ = _load_archive(self._front_archives[trial])
        record = next(r for r in self.search_results_ if r["number"] == trial)
        self.best_params_ = {k: v for k, v in record["params"].items()
                             if not k.startswith("tuner/")}
        self.best_score_ = record["value"]
        self.ensemble_ = None
        self.selected_trial_ = trial
        if self.directory is not None and os.path.isdir(self.directory):
            self._keep_final(self.directory)
        return self

    def _make_space(self, spec, kinds, config, n_outputs):
        """One input: the spec's blocks or the kind's defaults. Several: a branch each (the
        spec's per-input blocks or the kind's defaults), merged before the trunk."""
        blocks = list(spec.blocks or []) if spec is not None else []
        declared = (spec.inputs if spec is not None else None) or {}
        branches, defaulted = None, []  # kinds whose default blocks are used
        if len(kinds) > 1 or declared:
            branches = {}
            for name, kind in kinds.items():
                branches[name] = (declared.get(name) or {}).get("blocks")
                if not branches[name]:
                    branches[name] = _default_blocks(kind, config.strategy)
                    defaulted.append(kind)
                    for block in branches[name]:  # two tables' "features" blocks stay apart
                        if not block.auto_named:
                            block.name = f"{name}_{block.name}"
        elif not blocks or isinstance(blocks[0], HEADS):
            defaulted.append(kinds[next(iter(kinds))])
            blocks = _default_blocks(defaulted[0], config.strategy) + blocks
        if blocks and isinstance(blocks[-1], HEADS):
            head, blocks = blocks[-1], blocks[:-1]
        else:
            arguments = {}
            for kind in defaulted:
                arguments.update(kind.default_head(self._task))
            head = (ClassificationHead if self._task == "classification" else
                    RegressionHead)(**arguments)
        if self._task == "classification":
            head.num_classes = n_outputs
        else:
            head.output_dim = n_outputs
        training = {}
        for kind in defaulted:
            training.update(kind.default_training())
        training.update(config.training.choices())
        if config.strategy in SUPERNETS and len(defaulted) == len(kinds) and \
                all(kind.supernet_blocks() is None for kind in defaulted):
            kinds_named = " and ".join(sorted({kind.kind for kind in defaulted}))
            raise ConfigError("strategy", f"{config.strategy!r} shares weights between the "
                              f"operations of a cell space, and the default space for "
                              f"{kinds_named} data has none: give blocks with a cell or "
                              "chain block (as specs/oneshot.yaml does), or choose a "
                              "strategy that trains each candidate (evolution, bayesian, ...)")
        return ModelSpace(blocks + [head], branches=branches, training=training, inputs=kinds)

    def _raw_predict(self, X):
        check_is_fitted(self, "best_model_")
        if hasattr(X, "element_spec"):  # a tf.data.Dataset: its inputs (any targets dropped)
            X = dataset_to_arrays(X, targets=False)[0]
        X = _target_column(X, None)[0]
        name = getattr(self, "_target_name", None)  # fit's y named a column: not an input
        if name is not None and name in [str(c) for c in getattr(X, "columns", [])]:
            X = _target_column(X, name)[0]
        checked, _ = self._check_fitted_inputs(X)
        return np.asarray(predict_rows(self.best_model_, self.space_.arrays(checked), EVAL_BATCH),
                          dtype="float64")

    def _check_fitted_inputs(self, X):
        """``_check_inputs`` of ``X`` against the inputs ``fit`` saw, their features too."""
        checked, n = self._check_inputs(X, self.input_kinds_)
        got = self._n_features(checked, self.input_kinds_)
        for name, expected in self._features_in.items():
            if got[name] != expected:
                where = "" if name == DEFAULT_INPUT else f"input '{name}' of "
                kind, given = self.input_kinds_[name], as_input_dict(X)[name]
                lacking, unseen = kind.lacking(given), kind.unseen(given)
                said = [f"it lacks {listed(lacking)}"] * bool(lacking) + \
                    [f"fit did not see {listed(unseen)}"] * bool(unseen)
                raise ValueError(f"{where}X has {got[name]} features, but "
                                 f"{type(self).__name__} is expecting {expected} features as "
                                 "input" + (f" ({'; '.join(said)})" if said else ""))
        return checked, n

    # -- export and pickling ------------------------------------------------------------
    def export(self, path, format="keras"):
        """Write the best model as ``keras``, ``savedmodel`` or ``tflite``; returns
        ``{"path": ..., "format": ..., "bytes": size on disk}``."""
        check_is_fitted(self, "best_model_")
        return export_model(self.best_model_, path, format)

    def report(self, path):
        """Write the search as one self-contained HTML page (settings, best so far against
        trials and time, every trial with its reason, why the winner won, the final model's
        architecture); returns the path. ``autoarch report DIR --html`` writes the same page
        from a run directory."""
        check_is_fitted(self, "best_model_")
        return write_report(path, self.search_results_, self._search_settings,
                            notes=self._search_notes,
                            model=self.best_model_, title=f"{type(self).__name__} search")

    def __getstate__(self):
        state = self.__dict__.copy()
        model = state.pop("best_model_", None)
        if model is not None:
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "model.keras")
                model.save(path)
                with open(path, "rb") as handle:
                    state["_best_model_archive"] = handle.read()
        return state

    def __setstate__(self, state):
        archive = state.pop("_best_model_archive", None)
        self.__dict__.update(state)
        if archive is not None:
            self.best_model_ = _load_archive(archive)


def _load_archive(archive):
    """A Keras model from the bytes of its ``.keras`` archive (safe mode)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        with open(path, "wb") as handle:
            handle.write(archive)
        return load_model(path)


def _distinct_model_inputs(kinds):
    """Refuse several inputs whose Keras inputs share a name (two tables of unnamed columns,
    both ``x0, x1, ...``; a table's column named as another input): a model's inputs need
    names of their own."""
    if len(kinds) < 2:
        return
    owner = {}
    for name, kind in kinds.items():
        for model_input in kind.keras_inputs():
            if model_input in owner:
                raise ValueError(
                    f"inputs {owner[model_input]!r} and {name!r} both give the model an input "
                    f"named {model_input!r} (a table feeds one per column): give their columns "
                    "distinct names (DataFrames), or join the tables into one")
            owner[model_input] = name


def _scored(X, y, sample_weight):
    """``(X, y, sample_weight)`` to score, from a ``tf.data.Dataset`` ``X`` of ``(x, y[,
    weight])`` where it is one (``y`` and ``sample_weight`` given win)."""
    if hasattr(X, "element_spec"):
        X, targets, weights = dataset_to_arrays(X)
        y = targets if y is None else y
        sample_weight = weights if sample_weight is None else sample_weight
    if y is None:
        raise ValueError("score needs y (or a tf.data.Dataset of (x, y) pairs)")
    return (*_target_column(X, y), sample_weight)


def _target_column(X, y):
    """``(X, y)``, where ``X`` may be a CSV file's path (read as a DataFrame) and ``y`` the
    name of one of its columns (as AutoKeras's structured data takes them): that column is
    then the target and the others the inputs."""
    if isinstance(X, (str, os.PathLike)) and os.path.isfile(X):
        from autoarch.data import read_csv

        X = read_csv(X)
    if not isinstance(y, str):
        return X, y
    columns = [str(c) for c in getattr(X, "columns", [])]
    if not hasattr(X, "columns"):
        raise ValueError(f"y={y!r} names a column, but X is no DataFrame or CSV file")
    if y not in columns:
        raise ValueError(f"y={y!r} names no column of X{did_you_mean(y, columns)}")
    column = X.columns[columns.index(y)]
    return X.drop(columns=[column]), X[column]


def _refuse_settings(estimator, given):
    """``fit``'s unknown keyword arguments refused; a search setting among them (AutoKeras's
    and Keras's ``fit`` take ``epochs``) with where it goes: the estimator's parameters."""
    if not given:
        return
    name = next(iter(given))
    owner = type(estimator).__name__
    if name in PARAMETERS:
        raise TypeError(f"{owner}.fit() got {name}={given[name]!r}: {name} is a setting of "
                        f"the estimator, {owner}({name}={given[name]!r}).fit(X, y)")
    fit_arguments = list(inspect.signature(estimator.fit).parameters)
    raise TypeError(f"{owner}.fit() got an unexpected keyword argument '{name}'"
                    f"{did_you_mean(name, fit_arguments + list(PARAMETERS))}")


def _check_present(y):
    """Refuse targets that hold no value (NaN, None, ``pd.NA``) or infinity, naming the
    first such row."""
    import pandas as pd

    rows = y.reshape(len(y), -1) if y.ndim else y.reshape(1, 1)
    bad = pd.DataFrame(rows).isna().to_numpy().any(axis=1)
    if rows.dtype.kind == "f":
        bad |= np.isinf(rows).any(axis=1)
    if bad.any():
        more = int(bad.sum()) - 1
        raise ValueError(f"y contains NaN, infinity or a missing value in row "
                         f"{int(np.argmax(bad))}{f' (and {more} more)' if more else ''}: drop "
                         "those rows or fill them in")


def _one_hot_classes(y):
    """The class of each one-hot row of a 2-D ``y``; refused, naming the first row that is
    not one-hot, where a row holds no 1 or several (several labels per row), or values
    other than 0 and 1 (scores): its argmax would train on classes the rows do not say."""
    try:
        values = y.astype("float64")
    except (TypeError, ValueError):
        values = None
    bad = np.ones(len(y), bool) if values is None else \
        ~np.isin(values, (0.0, 1.0)).all(axis=1) | ((values == 1.0).sum(axis=1) != 1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"y has {y.shape[1]} columns, read as one-hot classes, but row {row} is "
            f"{y[row].tolist()[:8]}{' ...' if y.shape[1] > 8 else ''}: give one label per "
            "row, or one 1 per row; several labels per row (multilabel) are not supported: "
            "fit one AutoClassifier per label column (scikit-learn's "
            "MultiOutputClassifier does that)")
    return values.argmax(axis=1)


class AutoClassifier(ClassifierMixin, _AutoEstimator):
    """Search for the best classifier; labels may be ints, strings or one-hot rows."""

    _task = "classification"

    def _encode_y(self, y, n, fitted=False):
        y = np.asarray(y)
        _check_present(y)
        if y.ndim == 2 and y.shape[1] > 1:
            y = _one_hot_classes(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim != 1 or len(y) != n:
            raise ValueError(f"y must hold one label per sample: X has {n} samples, y has "
                             f"shape {np.shape(y)}")
        if y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
            raise ValueError("Unknown label type: continuous values in y; use AutoRegressor "
                             "for regression")
        if fitted:
            unknown = sorted(set(np.unique(y).tolist()) - set(self.classes_.tolist()))
            if unknown:
                raise ValueError(f"y holds labels that fit's y does not: {listed(unknown)}")
            return self._label_encoder.transform(y).astype("int32"), len(self.classes_)
        self._label_encoder = LabelEncoder().fit(y)
        self.classes_ = self._label_encoder.classes_
        if len(self.classes_) < 2:
            only = np.asarray(self.classes_[0]).tolist()  # 0, not np.int64(0)
            raise ValueError(f"y has a single class ({only!r}); need at least 2")
        return self._label_encoder.transform(y).astype("int32"), len(self.classes_)

    def _encoded_config(self, config):
        """A ``class_weight`` mapping keyed by the classes' indices (as the search sees the
        labels), not by the labels ``fit`` took; a label that is no class is refused."""
        given = config.training.class_weight
        if not isinstance(given, dict):
            return config
        check_class_labels(given, self.classes_.tolist())
        index = {label: i for i, label in enumerate(self.classes_.tolist())}
        encoded = {index[label]: weight for label, weight in given.items()}
        return dataclasses.replace(config, training=dataclasses.replace(
            config.training, class_weight=encoded))

    def predict_proba(self, X):
        """Class probabilities of ``X`` (the data ``fit`` took, in the same form), shape
        ``(n_samples, n_classes)``, columns in the order of ``classes_``."""
        probs = self._raw_predict(X)
        if probs.shape[1] == 1:
            probs = np.hstack([1.0 - probs, probs])
        return probs

    def predict(self, X):
        """The most probable class of each row of ``X``, as the labels ``fit`` saw them."""
        probs = self.predict_proba(X)  # checks fitted first
        return self.classes_[probs.argmax(axis=1)]

    def score(self, X, y=None, sample_weight=None):
        """Accuracy on ``X``, ``y`` (or a ``tf.data.Dataset`` of ``(x, y[, weight])``)."""
        return ClassifierMixin.score(self, *_scored(X, y, sample_weight))


class AutoRegressor(RegressorMixin, _AutoEstimator):
    """Search for the best regressor (one or several targets)."""

    _task = "regression"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # a 2-D y trains one output per column
        return tags

    def _encode_y(self, y, n, fitted=False):
        y = np.asarray(y)
        if y.dtype.kind not in "fiubcO":
            raise ValueError(f"y must be numeric for regression, got dtype {y.dtype}")
        _check_present(y)
        y = check_array(y, ensure_2d=False, dtype="float32", input_name="y")
        if len(y) != n:
            raise ValueError(f"X has {n} samples but y has {len(y)}")
        if y.size and np.abs(y).max() > MAX_TARGET:
            raise ValueError(f"y holds values up to {np.abs(y).max():.3g}: models compute in "
                             "float32, where squared errors of such targets overflow (above "
                             f"about {MAX_TARGET:.0e}): rescale y (smaller units, or a log)")
        outputs = y.shape[1] if y.ndim == 2 else 1
        if fitted and ((y.ndim == 2) != self._y_2d or outputs != self._n_targets):
            raise ValueError(f"y has shape {y.shape}; fit's y had {self._n_targets} "
                             f"target{'s' if self._n_targets > 1 else ''}"
                             f"{' in columns' if self._y_2d else ''}")
        if not fitted:
            self._y_2d, self._n_targets = y.ndim == 2, outputs
        return y, outputs

    def predict(self, X):
        """Predicted targets of ``X``, in the targets' units (shape ``(n_samples,)``, or
        ``(n_samples, n_targets)`` when ``fit`` took several)."""
        out = self._raw_predict(X)
        return out if self._y_2d else out.reshape(-1)

    def score(self, X, y=None, sample_weight=None):
        """R² on ``X``, ``y`` (or a ``tf.data.Dataset`` of ``(x, y[, weight])``)."""
        return RegressorMixin.score(self, *_scored(X, y, sample_weight))


def _default_blocks(kind, strategy):
    """An input kind's blocks where the user gives none: for a one-shot strategy its
    supernet's cell where it has one, else its default space."""
    return (strategy in SUPERNETS and kind.supernet_blocks()) or kind.default_blocks()


# Task classes: the input kind is fixed, so it picks the default space without inference.


class ImageClassifier(AutoClassifier):
    """Classifier for images (N, H, W[, C])."""

    _kind = "image"


class ImageRegressor(AutoRegressor):
    """Regressor for images (N, H, W[, C])."""

    _kind = "image"


class TextClassifier(AutoClassifier):
    """Classifier for texts (a list of strings)."""

    _kind = "text"


class TextRegressor(AutoRegressor):
    """Regressor for texts (a list of strings)."""

    _kind = "text"


class StructuredDataClassifier(AutoClassifier):
    """Classifier for tables (DataFrames with mixed columns)."""

    _kind = "tabular"


class StructuredDataRegressor(AutoRegressor):
    """Regressor for tables (DataFrames with mixed columns)."""

    _kind = "tabular"


class SequenceClassifier(AutoClassifier):
    """Classifier for sequences (N, T[, C])."""

    _kind = "sequence"


class SequenceRegressor(AutoRegressor):
    """Regressor for sequences (N, T[, C])."""

    _kind = "sequence"


for _cls in (AutoClassifier, AutoRegressor, ImageClassifier, ImageRegressor, TextClassifier,
             TextRegressor, StructuredDataClassifier, StructuredDataRegressor,
             SequenceClassifier, SequenceRegressor):
    _cls.__doc__ = _cls.__doc__.rstrip() + "\n" + _PARAMETERS_DOC
