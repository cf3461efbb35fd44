"""Candidate operations shared by the cell and chain spaces, for 2D (images) and 1D (sequences).

Nothing here uses ``Lambda`` layers, so every model saves and loads with ``safe_mode=True``.
"""

import contextvars

from autoarch.lazy import lazy_module

layers = lazy_module("keras.layers")

# while ``autoarch.oneshot.supernet`` builds a supernet: its ``SupernetBuild`` record
SUPERNET = contextvars.ContextVar("autoarch_supernet", default=None)


class SupernetBuild:
    """What a supernet build collects: ``switches`` ({choice name: [Switch]}); ``only``
    optionally narrows a choice's options (a single path, see ``Supernet.extract``);
    ``sampling`` ("softmax" or "gumbel") makes each choice a :class:`MixedOp` instead."""

    def __init__(self, only=None, sampling=None):
        self.switches, self.only, self.sampling = {}, dict(only or {}), sampling

OPS = ("none", "skip", "conv1x1", "conv3x3", "sepconv3x3", "avgpool3x3", "maxpool3x3")
POOLINGS = ("avgpool3x3", "maxpool3x3")


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
    if op in POOLINGS:
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
    return supernet_switch(build, name, list(build.only.get(name, options)), x, filters, stride)


def supernet_switch(build, name, options, x, filters=0, stride=1, models=None):
    """A switch over ``options`` for the choice ``name`` (a mixed operation for DARTS and
    GDAS), recorded in ``build`` and applied to ``x``; ``models``: the options as Keras
    models (a ``BlockChoice``'s blocks) instead of operations."""
    from autoarch.blocks.layers import MixedOp, Switch

    # named by its choice and position (a layer's name takes no "/"), so errors and
    # summaries say which choice
    layer = f"{name.replace('/', '_')}_{len(build.switches.get(name, []))}"
    switch = Switch(options, filters, stride, models=models, name=layer) \
        if build.sampling is None else \
        MixedOp(options, filters, stride, sampling=build.sampling, models=models, name=layer)
    build.switches.setdefault(name, []).append(switch)
    return switch(x)
