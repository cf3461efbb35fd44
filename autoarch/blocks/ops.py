"""Candidate operations shared by the cell and chain spaces, for 2D (images) and 1D (sequences).

Nothing here uses ``Lambda`` layers, so every model saves and loads with ``safe_mode=True``.
"""

from keras import layers

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
