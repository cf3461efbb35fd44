"""Periodic embeddings of numeric features (Gorishniy et al., 2022, "On Embeddings for
Numerical Features in Tabular Deep Learning": the PLR embedding).

Each numeric feature ``x`` becomes ``sin(2 pi c x)`` and ``cos(2 pi c x)`` for ``k``
trainable frequencies ``c`` of its own (drawn from a normal of spread ``scale``), then a
dense layer of its own and a ReLU: ``width`` numbers per feature. Where the piecewise-linear
encoding gives an MLP fixed thresholds, this gives it learned ones, smooth and shared by
nearby values; the two are the strongest numeric embeddings of that study. ``TableFeatures``
offers both (``embedding``); the frequencies start at a spread of 0.1 of the scaled values
(0.01, that study's library default, did no better than the piecewise encoding here).
"""

import math

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="autoarch")
class PeriodicEmbedding(layers.Layer):
    """The first ``features`` features of a (batch, n) input embedded as
    ``ReLU(W_f [sin(2 pi c_f x_f), cos(2 pi c_f x_f)] + b_f)``: (batch, features * width)."""

    def __init__(self, features, frequencies=48, width=24, scale=0.1, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.features, self.frequencies, self.width = int(features), int(frequencies), int(width)
        self.scale, self.seed = float(scale), seed

    def build(self, input_shape):
        bound = 1.0 / math.sqrt(2 * self.frequencies)  # a dense layer's default fan-in bound
        self.frequency = self.add_weight(
            shape=(self.features, self.frequencies), name="frequency",
            initializer=keras.initializers.RandomNormal(stddev=self.scale, seed=self.seed))
        self.kernel = self.add_weight(
            shape=(self.features, 2 * self.frequencies, self.width), name="kernel",
            initializer=keras.initializers.RandomUniform(-bound, bound, seed=self.seed))
        self.bias = self.add_weight(
            shape=(self.features, self.width), name="bias",
            initializer=keras.initializers.RandomUniform(-bound, bound, seed=self.seed))

    def call(self, x):
        angle = 2 * math.pi * x[:, :self.features, None] * self.frequency
        waves = keras.ops.concatenate([keras.ops.sin(angle), keras.ops.cos(angle)], axis=-1)
        embedded = keras.ops.relu(keras.ops.einsum("bfk,fkd->bfd", waves, self.kernel)
                                  + self.bias)
        return keras.ops.reshape(embedded, (-1, self.features * self.width))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.features * self.width)

    def get_config(self):
        return {**super().get_config(), "features": self.features,
                "frequencies": self.frequencies, "width": self.width, "scale": self.scale,
                "seed": self.seed}
