"""Piecewise-linear encoding of numeric features (Gorishniy et al., 2022, "On Embeddings for
Numerical Features in Tabular Deep Learning").

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


def quantile_edges(values, bins):
    """Distinct quantile edges (at most ``bins + 1``) of the finite ``values``."""
    finite = np.asarray(values, dtype="float64")
    finite = finite[np.isfinite(finite)]
    if finite.size < 2:
        return []
    edges = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, bins + 1)))
    return [float(e) for e in edges] if len(edges) > 1 else []


@keras.saving.register_keras_serializable(package="autoarch")
class PiecewiseLinear(layers.Layer):
    """The encoding above for the first ``len(edges)`` features (``edges``: one list of
    increasing edges per feature; a feature with fewer bins is padded with empty ones)."""

    def __init__(self, edges, **kwargs):
        super().__init__(**kwargs)
        self.edges = [[float(e) for e in column] for column in edges]
        bins = max(1, max((len(c) - 1 for c in self.edges), default=1))
        low = np.full((len(self.edges), bins), 0.0, dtype="float32")
        width = np.full((len(self.edges), bins), np.inf, dtype="float32")  # empty: always 0
        for i, column in enumerate(self.edges):
            if len(column) > 1:
                low[i, :len(column) - 1] = column[:-1]
                width[i, :len(column) - 1] = np.diff(column)
        self._low, self._width = low, width

    def call(self, x):
        features = len(self.edges)
        values = keras.ops.expand_dims(x[:, :features], -1)  # (batch, features, 1)
        encoded = keras.ops.clip((values - self._low) / self._width, 0.0, 1.0)
        return keras.ops.reshape(encoded, (-1, features * self._low.shape[1]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.edges) * self._low.shape[1])

    def get_config(self):
        return {**super().get_config(), "edges": self.edges}
