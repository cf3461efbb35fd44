"""Candidate operations shared by the cell and chain spaces, for 2D (images) and 1D (sequences).

Nothing here uses ``Lambda`` layers, so every model saves and loads with ``safe_mode=True``.
"""

import contextvars

import keras
from keras import layers

# while ``autoarch.oneshot.supernet`` builds a supernet: its ``SupernetBuild`` record
SUPERNET = contextvars.ContextVar("autoarch_supernet", default=None)


class SupernetBuild:
    """What a supernet build collects: ``switches`` ({choice name: [Switch]}); ``only``
    optionally narrows a choice's options (a single path, see ``Supernet.extract``);
    ``sampling`` ("softmax" or "gumbel") makes each choice a :class:`MixedOp` instead."""

    def __init__(self, only=None, sampling=None):
        self.switches, self.only, self.sampling = {}, dict(only or {}), sampling

OPS = ("none", "skip", "conv1x1", "conv3x3", "sepconv3x3", "avgpool3x3", "maxpool3x3")


def _kind(x):
    if len(x.shape) == 4:
        return layers.Conv2D, layers.SeparableConv2D, layers.AveragePooling2D, layers.MaxPooling2D
    return layers.Conv1D, layers.SeparableConv1D, layers.AveragePooling1D, layers.MaxPooling1D


def relu_conv_bn(x, filters, kernel_size=1, stride=1, separable=False):
    conv, sep, _, _ = _kind(x)
    x = layers.ReLU()(x)
    x = (sep if separable else conv)(filters, kernel_size, strides=stride, padding="same",
                                     use_bias=False)(x)
    return layers.BatchNormalization(momentum=0.9)(x)


def apply_op(op, x, filters, stride=1):
    """``op`` applied to ``x``; ``None`` for ``"none"`` or an absent input (no edge)."""
    if op == "none" or x is None:
        return None
    _, _, avg, mx = _kind(x)
    if op == "skip":
        return x if stride == 1 else relu_conv_bn(x, filters, 1, stride)
    if op == "conv1x1":
        return relu_conv_bn(x, filters, 1, stride)
    if op == "conv3x3":
        return relu_conv_bn(x, filters, 3, stride)
    if op == "conv5x5":
        return relu_conv_bn(x, filters, 5, stride)
    if op == "sepconv3x3":
        return relu_conv_bn(x, filters, 3, stride, separable=True)
    if op == "sepconv5x5":
        return relu_conv_bn(x, filters, 5, stride, separable=True)
    if op in ("avgpool3x3", "maxpool3x3"):
        y = (avg if op == "avgpool3x3" else mx)(3, strides=stride, padding="same")(x)
        return y if y.shape[-1] == filters else relu_conv_bn(y, filters, 1)
    raise ValueError(f"unknown operation '{op}'; known: {', '.join(OPS + ('conv5x5', 'sepconv5x5'))}")


def add_all(tensors):
    tensors = [t for t in tensors if t is not None]
    if not tensors:
        return None
    return tensors[0] if len(tensors) == 1 else layers.Add()(tensors)


def choose_op(name, value, options, x, filters, stride=1):
    """The searched operation ``name`` (a parameter whose options are ``options``): ``value``
    applied to ``x``; while a supernet is built, a switch over every option instead (each
    position of a choice gets its own switch; all of them follow the choice's path). A
    choice of one option (a fixed argument) is that operation, supernet or not."""
    build = SUPERNET.get()
    if build is None or x is None or len(options) == 1:
        return apply_op(value, x, filters, stride)
    options = list(build.only.get(name, options))
    switch = Switch(options, filters, stride) if build.sampling is None else \
        MixedOp(options, filters, stride, sampling=build.sampling)
    build.switches.setdefault(name, []).append(switch)
    return switch(x)


@keras.saving.register_keras_serializable(package="autoarch")
class Switch(layers.Layer):
    """Every option of one searched operation, with its own weights, and one of them applied
    per call: the option numbered by the ``active`` variable (set between training steps, so a
    supernet trains one sampled path per batch, as single-path one-shot NAS does). A ``none``
    option gives zeros of the others' output shape."""

    def __init__(self, options, filters, stride=1, **kwargs):
        super().__init__(**kwargs)
        self.options, self.filters, self.stride = list(options), int(filters), int(stride)
        self.branches, self._output_shape = [], None

    def build(self, input_shape):
        self.active = self.add_weight(shape=(), dtype="int32", initializer="zeros",
                                    trainable=False, name="active")
        for option in self.options:
            if option == "none":
                self.branches.append(None)
                continue
            inputs = keras.Input(tuple(input_shape[1:]))
            outputs = apply_op(option, inputs, self.filters, self.stride)
            self.branches.append(keras.Model(inputs, outputs, name=f"{self.name}_{option}"))
            shape = tuple(outputs.shape[1:])
            if self._output_shape not in (None, shape):
                raise ValueError(
                    f"{self.name}: the options of one choice must give one output shape to "
                    f"share a place in a supernet; {self.options[0]!r} and the others give "
                    f"{self._output_shape}, {option!r} gives {shape} (from input "
                    f"{tuple(input_shape[1:])})")
            self._output_shape = shape
        if self._output_shape is None:  # 'none' alone: what any option would give
            self._output_shape = tuple(-(-d // self.stride) for d in input_shape[1:-1]) + \
                (self.filters,)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._output_shape

    def call(self, x, training=None):
        def branch(model):
            if model is None:
                return lambda x: keras.ops.zeros((keras.ops.shape(x)[0],) + self._output_shape,
                                                 dtype=x.dtype)
            return lambda x: model(x, training=training)

        return keras.ops.switch(self.active, [branch(b) for b in self.branches], x)

    def get_config(self):
        return {**super().get_config(), "options": self.options, "filters": self.filters,
                "stride": self.stride}


@keras.saving.register_keras_serializable(package="autoarch")
class MixedOp(Switch):
    """Every option of one searched operation at once, weighted by the softmax of its
    architecture weights (``logits``, one per option): DARTS's continuous relaxation
    (``sampling="softmax"``). With ``sampling="gumbel"`` (GDAS) training draws one option
    per step from the Gumbel-softmax at ``temperature``: the forward pass uses that option
    alone (a one-hot weight), the backward pass the soft weights (straight-through), so the
    logits learn from every step. Outside training both use the softmax weights."""

    def __init__(self, options, filters, stride=1, sampling="softmax", seed=None, **kwargs):
        super().__init__(options, filters, stride, **kwargs)
        if sampling not in ("softmax", "gumbel"):
            raise ValueError(f"sampling must be 'softmax' or 'gumbel', got {sampling!r}")
        self.sampling = sampling
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        super().build(input_shape)
        self.logits = self.add_weight(shape=(len(self.options),), initializer="zeros",
                                      name="architecture")
        self.temperature = self.add_weight(shape=(), initializer="ones", trainable=False,
                                           name="temperature")

    def mixing_weights(self, training=None):
        """The options' weights for one call (a one-hot draw for GDAS in training)."""
        ops = keras.ops
        soft = ops.softmax(self.logits)
        if self.sampling != "gumbel" or not training:
            return soft
        uniform = keras.random.uniform(ops.shape(self.logits), minval=1e-6, maxval=1 - 1e-6,
                                       seed=self.seed_generator)
        drawn = ops.softmax((self.logits - ops.log(-ops.log(uniform))) / self.temperature)
        hard = ops.one_hot(ops.argmax(drawn), len(self.options), dtype=drawn.dtype)
        return hard - ops.stop_gradient(drawn) + drawn

    def call(self, x, training=None):
        weights = self.mixing_weights(training)
        total = keras.ops.zeros((keras.ops.shape(x)[0],) + self._output_shape, dtype=x.dtype)
        for k, branch in enumerate(self.branches):
            if branch is not None:  # "none" adds nothing, whatever its weight
                total = total + weights[k] * branch(x, training=training)
        return total

    def get_config(self):
        return {**super().get_config(), "sampling": self.sampling}
