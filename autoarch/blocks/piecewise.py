"""Piecewise-linear maps of numeric features: their encoding (Gorishniy et al., 2022, "On
Embeddings for Numerical Features in Tabular Deep Learning"), their quantile transform and
their clip to the training range.

Each numeric feature ``x`` with bin edges ``b_0 < ... < b_T`` (quantiles of the training
values) becomes ``T`` numbers: bin ``t`` gives ``clip((x - b_{t-1}) / (b_t - b_{t-1}), 0, 1)``,
so 1 for the bins below ``x``, the position inside its own bin, 0 above. An MLP on these can
cut a feature at thresholds as a tree does, which is what lets small networks match gradient
boosting on tables. ``TableFeatures`` (:mod:`autoarch.blocks.table`) appends the encoding of
the kept numeric columns, in the tabular input's standardized units (the input kind computes
the edges when it is fitted).
"""

import keras
import numpy as np
from keras import layers
from scipy.stats import norm

#: probability levels of the quantile transform's knots (as scikit-learn's QuantileTransformer
#: maps into [1e-7, 1 - 1e-7], this keeps outputs within about 3.1 standard deviations)
QUANTILE_LEVELS, QUANTILE_CLIP = 64, 1e-3


def quantile_edges(values, bins):
    """Distinct quantile edges (at most ``bins + 1``) of the finite ``values``."""
    finite = np.asarray(values, dtype="float64")
    finite = finite[np.isfinite(finite)]
    if finite.size < 2:
        return []
    edges = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, bins + 1)))
    return [float(e) for e in edges] if len(edges) > 1 else []


def normal_knots(values, levels=QUANTILE_LEVELS):
    """``(edges, scores)`` of the finite ``values``: distinct quantiles and the standard normal
    score of their probability (the mean level of tied quantiles, as a value repeated in
    many rows sits in the middle of its rows); empty when fewer than two values differ."""
    finite = np.asarray(values, dtype="float64")
    finite = finite[np.isfinite(finite)]
    if finite.size < 2:
        return [], []
    probabilities = np.linspace(0.0, 1.0, levels + 1)
    quantiles = np.quantile(finite, probabilities)
    edges, inverse = np.unique(quantiles, return_inverse=True)
    if len(edges) < 2:
        return [], []
    level = np.bincount(inverse, probabilities) / np.bincount(inverse)
    scores = norm.ppf(np.clip(level, QUANTILE_CLIP, 1 - QUANTILE_CLIP))
    return [float(e) for e in edges], [float(z) for z in scores]


def _segments(edges):
    """``(low, width)`` arrays of shape (features, most bins); empty bins never rise."""
    bins = max(1, max((len(c) - 1 for c in edges), default=1))
    low = np.full((len(edges), bins), 0.0, dtype="float32")
    width = np.full((len(edges), bins), np.inf, dtype="float32")
    for i, column in enumerate(edges):
        if len(column) > 1:
            low[i, :len(column) - 1] = column[:-1]
            width[i, :len(column) - 1] = np.diff(column)
    return low, width


@keras.saving.register_keras_serializable(package="autoarch")
class QuantileNormal(layers.Layer):
    """The first ``len(knots)`` features replaced by their quantile transform to a standard
    normal (scikit-learn's ``QuantileTransformer(output_distribution="normal")``, linear
    between the knots of :func:`normal_knots`, flat beyond them); the other features pass.

    An MLP on standardized columns sees a skewed column's few large values (a lot area 20
    standard deviations out) as extremes it must extrapolate to; on quantiles every column is
    spread alike and bounded, which is what Gorishniy et al. (2021) feed their MLPs.
    """

    def __init__(self, knots, **kwargs):
        super().__init__(**kwargs)
        self.knots = [[[float(e) for e in edges], [float(z) for z in scores]]
                      for edges, scores in knots]
        self._low, self._width = _segments([edges for edges, _ in self.knots])
        self._start = np.zeros(len(self.knots), dtype="float32")
        self._rise = np.zeros_like(self._low)
        for i, (edges, scores) in enumerate(self.knots):
            if len(edges) > 1:
                self._start[i] = scores[0]
                self._rise[i, :len(scores) - 1] = np.diff(scores)

    def call(self, x):
        features = len(self.knots)
        values = keras.ops.expand_dims(x[:, :features], -1)
        steps = keras.ops.clip((values - self._low) / self._width, 0.0, 1.0)
        scores = self._start + keras.ops.sum(steps * self._rise, axis=-1)
        return keras.ops.concatenate([scores, x[:, features:]], axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "knots": self.knots}


@keras.saving.register_keras_serializable(package="autoarch")
class ClipFeatures(layers.Layer):
    """The first ``len(low)`` features clipped to ``[low, high]``, the range the training
    rows spanned; the other features pass. A network extrapolates linearly (exponentially
    under a log target) beyond that range, where a tree stays flat."""

    def __init__(self, low, high, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high = [float(v) for v in low], [float(v) for v in high]

    def call(self, x):
        features = len(self.low)
        low = keras.ops.cast(keras.ops.convert_to_tensor(self.low), x.dtype)
        high = keras.ops.cast(keras.ops.convert_to_tensor(self.high), x.dtype)
        clipped = keras.ops.minimum(keras.ops.maximum(x[:, :features], low), high)
        return keras.ops.concatenate([clipped, x[:, features:]], axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "low": self.low, "high": self.high}


@keras.saving.register_keras_serializable(package="autoarch")
class PiecewiseLinear(layers.Layer):
    """The encoding above for the first ``len(edges)`` features (``edges``: one list of
    increasing edges per feature). With ``compact``, each feature gives its own bins only;
    without it (models saved before it), each gives as many as the feature with the most,
    those beyond its own always 0. On grants (1,497 columns of counts, most of two values)
    the padding made 23,952 numbers of some 3,000 bins, and the next layer 6.6 million
    weights."""

    def __init__(self, edges, compact=False, **kwargs):
        super().__init__(**kwargs)
        self.edges = [[float(e) for e in column] for column in edges]
        self.compact = bool(compact)
        self._low, self._width = _segments(self.edges)
        self._feature = None  # compact: the feature of each bin
        own = np.isfinite(self._width)
        if self.compact and own.any():
            self._feature = np.nonzero(own)[0].astype("int32")
            self._low, self._width = self._low[own], self._width[own]

    def call(self, x):
        features = len(self.edges)
        if self._feature is not None:  # (batch, bins): each bin's feature value
            values = keras.ops.take(x[:, :features], self._feature, axis=1)
            return keras.ops.clip((values - self._low) / self._width, 0.0, 1.0)
        values = keras.ops.expand_dims(x[:, :features], -1)  # (batch, features, 1)
        encoded = keras.ops.clip((values - self._low) / self._width, 0.0, 1.0)
        return keras.ops.reshape(encoded, (-1, features * self._low.shape[1]))

    def compute_output_shape(self, input_shape):
        width = len(self._low) if self._feature is not None else \
            len(self.edges) * self._low.shape[1]
        return (input_shape[0], width)

    def get_config(self):
        return {**super().get_config(), "edges": self.edges, "compact": self.compact}
