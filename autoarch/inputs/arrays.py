"""Images (N, H, W[, C]) and sequences (N, T[, C]): numeric arrays fed as they are."""

import numpy as np
from sklearn.utils import check_array

from autoarch.blocks import BlockChoice, Conv1DBlock, ConvBlock, ResNetBlock, RNNBlock
from autoarch.inputs.base import InputKind


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


class ImageInput(_NumericArray):
    """Images: 4-D arrays, or 3-D arrays whose two last sides are both >= 5 and similar."""

    kind = "image"
    layout = "N, H, W[, C]"

    @classmethod
    def recognises(cls, x):
        ndim = getattr(x, "ndim", 0)
        return ndim == 4 or (ndim == 3 and _similar_sides(x.shape[1:]))

    def default_blocks(self):
        return [BlockChoice([ConvBlock(), ResNetBlock()], name="image_block")]


class SequenceInput(_NumericArray):
    """Sequences: 3-D arrays (N, T, C) that are not images."""

    kind = "sequence"
    layout = "N, T, C"

    @classmethod
    def recognises(cls, x):
        return getattr(x, "ndim", 0) == 3 and not _similar_sides(x.shape[1:])

    def default_blocks(self):
        return [BlockChoice([Conv1DBlock(), RNNBlock()], name="sequence_block")]
