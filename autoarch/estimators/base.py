"""scikit-learn estimators over a model search: ``fit`` searches, then keeps the winner.

``__init__`` only stores arguments, learned state ends in ``_``, ``clone`` and pickling work
(the Keras model travels as a ``.keras`` archive, never as a raw pickle).
"""

import os
import tempfile

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_array, column_or_1d
from sklearn.utils.validation import check_is_fitted

from autoarch.estimators import inputs as input_ops

MIN_SAMPLES = 5


def _spec_parts(spec):
    """(blocks, training) from a spec path/dict or a list of blocks."""
    if spec is None:
        return None, None
    if isinstance(spec, (list, tuple)):
        return list(spec), None
    from autoarch.spec import load_spec

    loaded = load_spec(spec)
    training = {k: v for k, v in loaded.training.items() if k in ("optimizer", "learning_rate")}
    return loaded.blocks, training or None


class _AutoEstimator(BaseEstimator):
    _kind = None  # task classes fix the input kind

    def __init__(self, spec=None, strategy="bayesian", max_trials=10, time_limit=None,
                 epochs=20, objective=None, directory=None, seed=0, batch_size=32,
                 validation_split=0.2, search_data_fraction=1.0, search_epochs=None,
                 early_stopping_patience=3, curve_stopping=True, final_fit=True,
                 strategy_options=None, distribution="auto", max_consecutive_failures=5,
                 isolate_trials=False, trials_per_worker=25, verbose=0):
        self.spec = spec
        self.strategy = strategy
        self.max_trials = max_trials
        self.time_limit = time_limit
        self.epochs = epochs
        self.objective = objective
        self.directory = directory
        self.seed = seed
        self.batch_size = batch_size
        self.validation_split = validation_split
        self.search_data_fraction = search_data_fraction
        self.search_epochs = search_epochs
        self.early_stopping_patience = early_stopping_patience
        self.curve_stopping = curve_stopping
        self.final_fit = final_fit
        self.strategy_options = strategy_options
        self.distribution = distribution
        self.max_consecutive_failures = max_consecutive_failures
        self.isolate_trials = isolate_trials
        self.trials_per_worker = trials_per_worker
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        kinds = input_ops.KINDS if self._kind is None else (self._kind,)
        tags.input_tags.allow_nan = "tabular" in kinds  # imputed inside the model
        tags.input_tags.categorical = "tabular" in kinds  # string columns are looked up
        tags.input_tags.two_d_array = "tabular" in kinds
        tags.input_tags.three_d_array = "image" in kinds or "sequence" in kinds
        tags.input_tags.string = "text" in kinds
        return tags

    # -- input checks -------------------------------------------------------------------
    def _check_x(self, x, fitting):
        if fitting:
            kind = self._kind or input_ops.infer_kind(x)
        else:
            kind = self.input_kind_
        x = input_ops.check_x(x, kind)
        n = len(x)
        if fitting:
            return x, kind, n
        expected = self.n_features_in_
        got = input_ops.n_features(x, kind)
        if got != expected:
            raise ValueError(f"X has {got} features, but {type(self).__name__} is expecting "
                             f"{expected} features as input")
        return x, kind, n

    def _encode_y(self, y, n):
        raise NotImplementedError

    # -- fit ----------------------------------------------------------------------------
    def fit(self, X, y=None, callbacks=None):
        """Search for the best model for ``X``, ``y`` (or a ``tf.data.Dataset`` of pairs).

        ``callbacks``: Keras callbacks for every trial's training (e.g. ``TensorBoard``).
        """
        from autoarch.engine.search import ModelSearch

        if hasattr(X, "element_spec"):
            from autoarch.engine.data import dataset_to_arrays

            X, y = dataset_to_arrays(X)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None (pass y, or a tf.data.Dataset of (x, y) pairs)")
        x, kind, n = self._check_x(X, fitting=True)
        if n < MIN_SAMPLES:
            raise ValueError(f"Found {n} sample(s) while a minimum of {MIN_SAMPLES} is required "
                             f"(n_samples={n}: too few to hold out validation data)")
        y_encoded, n_outputs = self._encode_y(y, n)
        self.input_kind_ = kind
        self.n_features_in_ = input_ops.n_features(x, kind)
        if kind == "tabular" and hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        blocks, training = _spec_parts(self.spec)
        space = input_ops.make_space(kind, blocks, self._classification, n_outputs, training,
                                     frame=x if kind == "tabular" else None)
        self.directory_ = self.directory or tempfile.mkdtemp(prefix="autoarch-")
        search = ModelSearch(
            space, strategy=self.strategy, objective=self.objective, max_trials=self.max_trials,
            epochs=self.epochs, time_limit=self.time_limit, seed=self.seed,
            directory=self.directory_, batch_size=self.batch_size,
            validation_split=self.validation_split,
            search_data_fraction=self.search_data_fraction, search_epochs=self.search_epochs,
            early_stopping_patience=self.early_stopping_patience,
            curve_stopping=self.curve_stopping, final_fit=self.final_fit,
            strategy_options=self.strategy_options, distribution=self.distribution,
            max_consecutive_failures=self.max_consecutive_failures,
            isolate_trials=self.isolate_trials, trials_per_worker=self.trials_per_worker,
            verbose=self.verbose)
        search.fit(input_ops.model_inputs(x, kind, space), y_encoded, callbacks=callbacks)
        self.best_model_ = search.best_model
        self.space_ = space
        best = search.study.best_trial
        self.best_params_ = best.hyperparameters
        self.best_score_ = best.value
        self.search_results_ = [t.as_dict() for t in search.study.trials]
        return self

    def _raw_predict(self, X):
        check_is_fitted(self, "best_model_")
        x, kind, _ = self._check_x(X, fitting=False)
        from autoarch.engine import data as data_ops

        inputs = data_ops.prepare_inputs(
            data_ops.as_input_dict(input_ops.model_inputs(x, kind, self.space_)))
        dataset = data_ops.make_dataset(inputs, None, batch_size=256)
        return np.asarray(self.best_model_.predict(dataset, verbose=0), dtype="float64")

    # -- export and pickling ------------------------------------------------------------
    def export(self, path, format="keras"):
        """Write the best model as ``keras``, ``savedmodel`` or ``tflite``; returns
        ``{"path": ..., "format": ..., "bytes": size on disk}``."""
        from autoarch.export import export_model

        check_is_fitted(self, "best_model_")
        return export_model(self.best_model_, path, format)

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
            import keras

            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "model.keras")
                with open(path, "wb") as handle:
                    handle.write(archive)
                self.best_model_ = keras.models.load_model(path, safe_mode=True)


class AutoClassifier(ClassifierMixin, _AutoEstimator):
    """Search for the best classifier; labels may be ints, strings or one-hot rows."""

    _classification = True

    def _encode_y(self, y, n):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:  # one-hot
            if not np.isfinite(y.astype(float)).all():
                raise ValueError("y contains NaN or infinity")
            y = y.argmax(axis=1)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim != 1 or len(y) != n:
            raise ValueError(f"y must hold one label per sample: X has {n} samples, y has "
                             f"shape {np.shape(y)}")
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise ValueError("y contains NaN or infinity")
        if y.dtype == object and any(v is None or (isinstance(v, float) and np.isnan(v))
                                     for v in y):
            raise ValueError("y contains missing labels")
        if y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
            raise ValueError("Unknown label type: continuous values in y; use AutoRegressor "
                             "for regression")
        self._label_encoder = LabelEncoder().fit(y)
        self.classes_ = self._label_encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(f"y has a single class ({self.classes_[0]!r}); need at least 2")
        return self._label_encoder.transform(y).astype("int32"), len(self.classes_)

    def predict_proba(self, X):
        probs = self._raw_predict(X)
        if probs.shape[1] == 1:
            probs = np.hstack([1.0 - probs, probs])
        return probs

    def predict(self, X):
        probs = self.predict_proba(X)  # checks fitted first
        return self.classes_[probs.argmax(axis=1)]


class AutoRegressor(RegressorMixin, _AutoEstimator):
    """Search for the best regressor (one or several targets)."""

    _classification = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # a 2-D y trains one output per column
        return tags

    def _encode_y(self, y, n):
        y = np.asarray(y)
        if y.dtype.kind not in "fiubcO":
            raise ValueError(f"y must be numeric for regression, got dtype {y.dtype}")
        y = check_array(y, ensure_2d=False, dtype="float32", input_name="y")
        if len(y) != n:
            raise ValueError(f"X has {n} samples but y has {len(y)}")
        self._y_2d = y.ndim == 2
        return y, (y.shape[1] if y.ndim == 2 else 1)

    def predict(self, X):
        out = self._raw_predict(X)
        return out if self._y_2d else out.reshape(-1)


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
