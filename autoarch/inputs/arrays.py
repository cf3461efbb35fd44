"""Images (N, H, W[, C]) and sequences (N, T[, C]): numeric arrays fed as they are.

Their default spaces are the project's proven ones (``specs/digits.yaml``,
``specs/mnist1d.yaml``), with a residual network or recurrent layers beside them as a choice
the search makes.
"""

import numpy as np
from sklearn.utils import check_array

from autoarch.blocks import (BlockChoice, CellBlock, Conv1DBlock, ConvBlock, DenseBlock,
                             ResNetBlock, RNNBlock)
from autoarch.inputs.base import InputKind


#: the first trial of the convolutional stacks: two pooled stages of two 64-filter layers,
#: regularised (on digits such a stack reaches 0.99 where a shallow unpooled one, whose
#: global average pooling loses where the strokes are, stays near 0.6)
PROVEN_CONVOLUTIONS = {"num_blocks": 2, "num_layers": 2, "filters": 64, "separable": False,
                       "pooling": "max", "batch_norm": True, "dropout": 0.25}
#: the classifier layer's, with the learning rate of the ready specs
PROVEN_CLASSIFIER = {"units": 128, "dropout": 0.25, "activation": "relu",
                     "training/learning_rate": 1e-3}


def image_convolutions():
    """The small convolutional stacks of ``specs/digits.yaml``."""
    return ConvBlock(num_blocks=[1, 2], num_layers=[1, 2], filters=[32, 64], kernel_size=3,
                     pooling=["max", "none"], batch_norm=True, dropout=[0.0, 0.25],
                     first_trials=[PROVEN_CONVOLUTIONS])


def sequence_convolutions():
    """The 1-D convolutional stacks of ``specs/mnist1d.yaml``."""
    return Conv1DBlock(num_blocks=[2, 3], num_layers=[1, 2], filters=[32, 64],
                       kernel_size=[3, 5, 7], pooling="max", batch_norm=[True, False],
                       dropout=[0.0, 0.25], first_trials=[{**PROVEN_CONVOLUTIONS,
                                                           "kernel_size": 5}])


def supernet_cell(rank):
    """The cell of ``specs/oneshot.yaml`` (4 nodes, two stacks of 16 and 32 filters): what
    the one-shot strategies search where no blocks are given."""
    return CellBlock(num_nodes=4, rank=rank, stacks=2, cells_per_stack=1, filters=16)


def classifier_layer():
    """One hidden layer between the features and the head, as in the ready specs."""
    return DenseBlock(num_layers=1, units=[64, 128], dropout=[0.25, 0.5], batch_norm=False,
                      first_trials=[PROVEN_CLASSIFIER])


def _similar_sides(shape):
    h, w = shape
    return min(h, w) >= 5 and max(h, w) <= 4 * min(h, w)


class _NumericArray(InputKind):
    """Checks shared by numeric array kinds: numbers only, no NaN or infinity."""

    dims = (3, 4)
    tags = {"three_d_array": True}

    def check(self, x):
        array = np.asarray(x)
        if array.dtype.kind not in "fiubc":
            raise ValueError(f"{self.kind} X must be numeric, got dtype {array.dtype}")
        if array.ndim not in self.dims:
            raise ValueError(f"{self.kind} X must have {' or '.join(map(str, self.dims))} "
                             f"dimensions ({self.layout}), got shape {array.shape}")
        try:
            return check_array(array, dtype="float32", allow_nd=True)
        except ValueError as err:
            if "NaN" in str(err) or "infinity" in str(err):
                raise ValueError(f"{self.kind} X contains NaN or infinity (only tables may have "
                                 "missing values)") from err
            raise

    def scaled(self, x):
        """``x`` as the nearest neighbours compare it (:mod:`autoarch.neighbours`): each
        row's values in one flat row, as given (one nearest neighbour does not change with
        one scale for all values, and their temperature takes it in); not cast, so a large
        set of 8-bit images is not copied whole before the rows kept are drawn."""
        x = np.asarray(x)
        return x.reshape(len(x), -1)


class ImageInput(_NumericArray):
    """Images: 4-D arrays, or 3-D arrays whose two last sides are both >= 5 and similar."""

    kind = "image"
    layout = "N, H, W[, C]"

    @classmethod
    def recognises(cls, x):
        ndim = getattr(x, "ndim", 0)
        return ndim == 4 or (ndim == 3 and _similar_sides(x.shape[1:]))

    def default_blocks(self):
        """Convolutional stacks; from 24 pixels a side, a residual network beside them."""
        height, width = self.specs[self.input_name][0][:2] if self.specs else (0, 0)
        if min(height, width) < 24:
            return [image_convolutions(), classifier_layer()]
        resnet = ResNetBlock(stages=[2, 3], units_per_stage=[1, 2], filters=[16, 32])
        return [BlockChoice([image_convolutions(), resnet], name="image_block"),
                classifier_layer()]

    def supernet_blocks(self):
        return [supernet_cell(4)]


class SequenceInput(_NumericArray):
    """Sequences: 3-D arrays (N, T, C) that are not images."""

    kind = "sequence"
    layout = "N, T, C"

    @classmethod
    def recognises(cls, x):
        return getattr(x, "ndim", 0) == 3 and not _similar_sides(x.shape[1:])

    def default_blocks(self):
        return [BlockChoice([sequence_convolutions(), RNNBlock()], name="sequence_block"),
                classifier_layer()]

    def supernet_blocks(self):
        return [supernet_cell(3)]
