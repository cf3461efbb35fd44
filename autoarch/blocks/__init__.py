"""Building blocks of model spaces. Each is a ``keras_tuner.HyperModel``-style block with
``build(hp, inputs)``; an argument left ``None`` is searched over a sensible default."""

from autoarch.blocks.base import Block
from autoarch.blocks.basic import Conv1DBlock, ConvBlock, DenseBlock, RNNBlock
from autoarch.blocks.cell import CellBlock
from autoarch.blocks.chain import ChainBlock
from autoarch.blocks.choice import BlockChoice
from autoarch.blocks.graph import ModelSpace
from autoarch.blocks.heads import ClassificationHead, Merge, RegressionHead
from autoarch.blocks.resnet import ResNetBlock
from autoarch.blocks.text import TextBlock

BLOCKS = {cls.kind: cls for cls in (DenseBlock, ConvBlock, Conv1DBlock, ResNetBlock, RNNBlock,
                                    TextBlock, CellBlock, ChainBlock, BlockChoice,
                                    ClassificationHead, RegressionHead, Merge)}

__all__ = ["BLOCKS", "Block", "BlockChoice", "CellBlock", "ChainBlock", "ClassificationHead",
           "Conv1DBlock", "ConvBlock", "DenseBlock", "Merge", "ModelSpace", "RNNBlock",
           "RegressionHead", "ResNetBlock", "TextBlock"]
