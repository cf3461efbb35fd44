"""Building blocks of model spaces. Each block has ``build(hp, inputs)``; an argument left
``None`` is searched over a sensible default. The blocks import Keras only when they build;
``ModelSpace`` (a ``keras_tuner.HyperModel``) is imported when first used."""

from autoarch.blocks.base import Block
from autoarch.blocks.basic import Conv1DBlock, ConvBlock, DenseBlock, RNNBlock
from autoarch.blocks.cell import CellBlock
from autoarch.blocks.chain import ChainBlock
from autoarch.blocks.choice import BlockChoice
from autoarch.blocks.heads import ClassificationHead, Merge, RegressionHead
from autoarch.blocks.resnet import ResNetBlock
from autoarch.blocks.text import TextBlock

BLOCKS = {cls.kind: cls for cls in (DenseBlock, ConvBlock, Conv1DBlock, ResNetBlock, RNNBlock,
                                    TextBlock, CellBlock, ChainBlock, BlockChoice,
                                    ClassificationHead, RegressionHead, Merge)}

__all__ = ["BLOCKS", "Block", "BlockChoice", "CellBlock", "ChainBlock", "ClassificationHead",
           "Conv1DBlock", "ConvBlock", "DenseBlock", "Merge", "ModelSpace", "RNNBlock",
           "RegressionHead", "ResNetBlock", "TextBlock"]


def __getattr__(name):
    if name == "ModelSpace":  # imports keras-tuner, and with it TensorFlow
        from autoarch.blocks.graph import ModelSpace

        return ModelSpace
    raise AttributeError(f"module 'autoarch.blocks' has no attribute {name!r}")
