"""Residual networks built from scratch (no downloaded weights)."""

from autoarch.blocks.base import Block, choice
from autoarch.blocks.basic import _ensure_channels
from autoarch.lazy import lazy_module

layers = lazy_module("keras.layers")


def residual_unit(x, filters, stride, kernel_size=3):
    """Two convolutions with batch norm and a projection shortcut where shapes change."""
    shortcut = x
    y = layers.Conv2D(filters, kernel_size, strides=stride, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization(momentum=0.9)(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization(momentum=0.9)(y)
    if stride != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(shortcut)
        shortcut = layers.BatchNormalization(momentum=0.9)(shortcut)
    return layers.ReLU()(layers.Add()([y, shortcut]))


class ResNetBlock(Block):
    """A stem convolution, then ``stages`` stages of ``units_per_stage`` residual units; each
    stage after the first halves the resolution and doubles the filters."""

    kind = "resnet"

    def search_space(self):
        return {
            "stages": choice(1, 2, 3),
            "units_per_stage": choice(1, 2, 3),
            "filters": choice(16, 32, 64, ordered=True),
        }

    def build(self, hp, inputs):
        v = self.declare(hp)
        x = _ensure_channels(inputs, 4)
        x = layers.Conv2D(v["filters"], 3, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization(momentum=0.9)(x))
        for stage in range(v["stages"]):
            for unit in range(v["units_per_stage"]):
                stride = 2 if stage > 0 and unit == 0 and min(x.shape[1:3]) >= 2 else 1
                x = residual_unit(x, v["filters"] * 2 ** stage, stride)
        return x
