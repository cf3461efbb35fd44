"""Tables: raw columns in, one feature vector out, all inside the Keras model.

Numeric and boolean columns: missing values imputed with the training mean plus a missing
indicator, then standardized. Text/categorical columns: ``StringLookup`` one-hot with an
out-of-vocabulary slot (missing values become their own category). The exported model
therefore takes the raw columns, as the training DataFrame had them.

The default space is an MLP over that vector, with the piecewise-linear encoding of the
numeric columns (``autoarch.blocks.piecewise``; bin edges are the training quantiles) as a
choice the search makes.
"""

import keras
import numpy as np
import pandas as pd
from keras import layers
from sklearn.utils import check_array

from autoarch.blocks import DenseBlock
from autoarch.blocks.piecewise import PiecewiseLinearBlock, quantile_edges
from autoarch.inputs.base import InputKind

MISSING = "<missing>"
BINS = 16  # of the piecewise-linear encoding of numeric columns


@keras.saving.register_keras_serializable(package="autoarch")
class Impute(layers.Layer):
    """``[x with NaN replaced by the column's fill value, 1.0 where x was NaN]``."""

    def __init__(self, fill=0.0, **kwargs):
        super().__init__(**kwargs)
        self.fill = [float(v) for v in fill] if isinstance(fill, (list, tuple)) else float(fill)

    def call(self, x):
        missing = keras.ops.isnan(x)
        fill = keras.ops.cast(keras.ops.convert_to_tensor(self.fill), x.dtype)
        filled = keras.ops.where(missing, keras.ops.zeros_like(x) + fill, x)
        return keras.ops.concatenate([filled, keras.ops.cast(missing, x.dtype)], axis=-1)

    def get_config(self):
        return {**super().get_config(), "fill": self.fill}


def _is_numeric(series):
    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def as_frame(x):
    if isinstance(x, pd.DataFrame):
        return x
    array = np.asarray(x)
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


def _check_shape(shape):
    """scikit-learn's messages for empty tables."""
    if shape[0] < 1:
        raise ValueError(f"Found array with 0 sample(s) (shape={shape}) while a minimum of 1 "
                         "is required.")
    if shape[1] < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={shape}) while a minimum of 1 "
                         "is required.")


class TabularInput(InputKind):
    """A DataFrame (numeric, string, boolean columns, missing values) or a 2-D array.

    Each column is one model input named after it; ``fit`` learns which columns are numeric,
    their means and spreads, and the vocabulary of the others.
    """

    kind = "tabular"
    tags = {"allow_nan": True, "categorical": True, "two_d_array": True}

    def __init__(self, input_name=None):
        super().__init__(input_name)
        self.columns, self.numeric, self.stats, self.vocabularies = [], set(), {}, {}
        self.edges = {}  # numeric column: quantile bin edges, in standardized units

    @classmethod
    def recognises(cls, x):
        return isinstance(x, pd.DataFrame) or getattr(x, "ndim", 0) == 2

    def check(self, x):
        """A DataFrame (missing values allowed, infinity not); arrays go through
        scikit-learn's ``check_array`` (its messages for complex, empty and 1-D inputs)."""
        if isinstance(x, pd.DataFrame):
            _check_shape(x.shape)
            frame = x
        else:
            frame = as_frame(check_array(x, dtype=None, ensure_all_finite="allow-nan"))
        numeric = frame.select_dtypes(include="number")
        if np.isinf(numeric.to_numpy(dtype="float64", na_value=0.0)).any():
            raise ValueError("X contains infinity: replace it (missing values, NaN, are fine)")
        return frame

    def n_features(self, x):
        return x.shape[1]

    def default_blocks(self):
        """An MLP, with the piecewise-linear encoding of the numeric columns as a choice."""
        edges = [self.edges.get(c, []) for c in self.columns if c in self.numeric]
        if not any(len(e) > 2 for e in edges):  # nothing but constant or binary columns
            return [DenseBlock()]
        return [PiecewiseLinearBlock(name="numeric_bins", edges=edges), DenseBlock()]

    def arrays(self, frame):
        """``{column: (n, 1) array}``: float32 numbers, strings for the rest."""
        arrays = {}
        for column in frame.columns:
            series = frame[column]
            if str(column) in self.numeric:  # names are matched as strings (0 -> "0")
                values = series.astype("float64").to_numpy(dtype="float32", na_value=np.nan)
            else:
                values = series.astype(object).where(series.notna(), MISSING).astype(str)
                values = values.to_numpy()
            arrays[str(column)] = values.reshape(-1, 1)
        return arrays

    def fit(self, frame):
        self.columns = [str(c) for c in frame.columns]
        self.numeric = {str(c) for c in frame.columns if _is_numeric(frame[c])}
        for column, values in self.arrays(frame).items():
            if column in self.numeric:
                finite = values[np.isfinite(values)]
                mean = float(finite.mean()) if finite.size else 0.0
                std = float(finite.std()) if finite.size > 1 else 1.0
                self.stats[column] = (mean, std if std > 0 else 1.0)
                self.edges[column] = [(e - mean) / self.stats[column][1]
                                      for e in quantile_edges(finite, BINS)]
            else:
                self.vocabularies[column] = sorted(set(values.reshape(-1).tolist()))
        self.specs = {c: ((1,), "float32" if c in self.numeric else "string")
                      for c in self.columns}
        return self

    def encode(self, inputs):
        """All numeric columns imputed and standardized together; one-hot per category column."""
        numeric = [c for c in self.columns if c in self.numeric]
        parts = []
        if numeric:
            x = inputs[numeric[0]] if len(numeric) == 1 else \
                layers.Concatenate()([inputs[c] for c in numeric])
            means = [self.stats[c][0] for c in numeric]
            variances = [self.stats[c][1] ** 2 for c in numeric]
            x = Impute(means)(x)
            parts.append(layers.Normalization(mean=means + [0.0] * len(numeric),
                                              variance=variances + [1.0] * len(numeric))(x))
        for column in self.columns:
            if column not in self.numeric:
                parts.append(layers.StringLookup(vocabulary=self.vocabularies[column],
                                                 output_mode="one_hot",
                                                 num_oov_indices=1)(inputs[column]))
        return parts[0] if len(parts) == 1 else layers.Concatenate()(parts)
