"""Everyday blocks: MLP, 2D and 1D convolutions, recurrent layers."""

import math

from autoarch.blocks.base import Block, boolean, choice, searched_values
from autoarch.lazy import lazy_module

layers = lazy_module("keras.layers")


def flatten_to_vector(x):
    """Reduce any tensor to (batch, features): images/sequences by global average pooling."""
    if len(x.shape) == 4:
        return layers.GlobalAveragePooling2D()(x)
    if len(x.shape) == 3:
        return layers.GlobalAveragePooling1D()(x)
    return x


class DenseBlock(Block):
    """A multi-layer perceptron: ``num_layers`` x (Dense, [BatchNorm], activation, Dropout).

    ``num_layers`` may be 0: no hidden layer, so the head that follows is a linear model of
    the inputs (the table space offers it: over encoded columns, a generalized additive
    model, which on some small tables beats the MLPs)."""

    kind = "dense"

    def search_space(self):
        return {
            "num_layers": choice(1, 2, 3),
            "units": choice(32, 64, 128, 256, 512, ordered=True),
            "activation": choice("relu", "gelu", "tanh"),
            "dropout": choice(0.0, 0.1, 0.25, 0.5, ordered=True),
            "batch_norm": boolean(False),
        }

    def conditions(self):
        """Where 0 is one of the depths searched, the layers' settings exist only for the
        others."""
        depths = searched_values(self.arguments.get("num_layers"))
        if 0 not in depths:
            return {}
        deeper = {"num_layers": [d for d in depths if d]}
        return {argument: deeper for argument in ("units", "activation", "dropout", "batch_norm")}

    def build(self, hp, inputs):
        v = self.declare(hp)
        x = flatten_to_vector(inputs)
        for _ in range(v["num_layers"]):
            x = layers.Dense(v["units"], use_bias=not v["batch_norm"])(x)
            if v["batch_norm"]:
                x = layers.BatchNormalization(momentum=0.9)(x)
            x = layers.Activation(v["activation"])(x)
            if v["dropout"]:
                x = layers.Dropout(v["dropout"])(x)
        return x


def _ensure_channels(x, rank):
    """Add a channel axis to (batch, H, W) images or (batch, T) sequences; a flat (batch,
    side * side) vector becomes a (side, side, 1) image."""
    if len(x.shape) == rank - 1:
        return layers.Reshape((*x.shape[1:], 1))(x)
    if rank == 4 and len(x.shape) == 2 and math.isqrt(x.shape[1]) ** 2 == x.shape[1]:
        side = math.isqrt(x.shape[1])
        return layers.Reshape((side, side, 1))(x)
    return x


class ConvBlock(Block):
    """Stacks of 2D convolutions (plain or separable), each stack closed by pooling."""

    kind = "conv"
    _rank, _dims = 4, "2D"

    def search_space(self):
        return {
            "num_blocks": choice(1, 2, 3),
            "num_layers": choice(1, 2),
            "filters": choice(16, 32, 64, ordered=True),
            "kernel_size": choice(3, 5),
            "separable": boolean(False),
            "pooling": choice("max", "avg", "none"),
            "batch_norm": boolean(False),
            "dropout": choice(0.0, 0.25, ordered=True),
        }

    def build(self, hp, inputs):
        v = self.declare(hp)
        x = _ensure_channels(inputs, self._rank)
        conv = getattr(layers, ("SeparableConv" if v["separable"] else "Conv") + self._dims)
        for stage in range(v["num_blocks"]):
            for _ in range(v["num_layers"]):
                x = conv(v["filters"] * 2 ** stage, v["kernel_size"], padding="same",
                         use_bias=not v["batch_norm"])(x)
                if v["batch_norm"]:
                    x = layers.BatchNormalization(momentum=0.9)(x)
                x = layers.ReLU()(x)
            if v["pooling"] != "none" and min(x.shape[1:-1]) >= 2:
                pool = {"max": "MaxPooling", "avg": "AveragePooling"}[v["pooling"]]
                x = getattr(layers, pool + self._dims)(2, padding="same")(x)
            if v["dropout"]:
                x = layers.Dropout(v["dropout"])(x)
        return x


class Conv1DBlock(ConvBlock):
    """The same stacks in 1D, for sequences (batch, time[, channels])."""

    kind = "conv1d"
    _rank, _dims = 3, "1D"


class RNNBlock(Block):
    """LSTM or GRU layers, optionally bidirectional; returns the last layer's final state."""

    kind = "rnn"

    def search_space(self):
        return {
            "layer_type": choice("lstm", "gru"),
            "num_layers": choice(1, 2),
            "units": choice(16, 32, 64, 128, ordered=True),
            "bidirectional": boolean(False),
            "return_sequences": False,
        }

    def build(self, hp, inputs):
        v = self.declare(hp)
        x = _ensure_channels(inputs, 3)
        cell = {"lstm": layers.LSTM, "gru": layers.GRU}[v["layer_type"]]
        for i in range(v["num_layers"]):
            last = i == v["num_layers"] - 1
            layer = cell(v["units"], return_sequences=(not last) or v["return_sequences"])
            x = layers.Bidirectional(layer)(x) if v["bidirectional"] else layer(x)
        return x


__all__ = ["Conv1DBlock", "ConvBlock", "DenseBlock", "RNNBlock", "flatten_to_vector"]
