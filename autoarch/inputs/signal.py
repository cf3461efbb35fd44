"""Raw signals or pixels given flat: a 2-D numeric array of many columns of one kind.

``load_digits()``'s (N, 64) pixels or a sampled waveform (N, 40) are not tables: the order of
the columns carries the information. Such an array is recognised by its width, by its
columns sharing one scale and by a twentieth of its values at least being nonzero (a bag
of words' are not); it is standardized with one mean and spread for all columns (so the
shape of the signal is kept), and gets order-aware candidates beside the MLP: a 1-D
convolution over the columns and, when the count is a square, a 2-D convolution over the
square it makes.
"""

import math

import numpy as np
from keras import layers

from autoarch.blocks import BlockChoice, DenseBlock
from autoarch.inputs.arrays import (classifier_layer, image_convolutions, sequence_convolutions,
                                    supernet_cell)
from autoarch.inputs.base import InputKind

MIN_COLUMNS = 16
MAX_SCALE_RATIO = 25.0  # between the 90th and 10th percentile of the columns' ranges
#: the share of nonzero values below which an array is a bag of words or one-hot columns (a
#: tf-idf matrix of 2,000 words: 0.5 %), not a signal (digits' pixels: 51 %, MNIST's: 19 %)
MIN_NONZERO = 0.05


def one_kind(values):
    """Whether the columns share one scale: the ranges of the varying ones within a factor
    (pixels 0-16, a waveform's samples), their means within a few spreads of each other (a
    table's columns, in different units, differ by orders of magnitude)."""
    spans = np.ptp(values, axis=0)
    varying = spans[spans > 0]
    if len(varying) < values.shape[1] / 2:
        return False
    low, high = np.percentile(varying, [10, 90])
    means = values.mean(axis=0)
    return high / low <= MAX_SCALE_RATIO and np.ptp(means) <= 4 * values.std()


class SignalInput(InputKind):
    kind = "signal"
    tags = {"two_d_array": True}

    def __init__(self, input_name=None):
        super().__init__(input_name)
        self.mean, self.std = 0.0, 1.0

    @classmethod
    def recognises(cls, x):
        if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[1] < MIN_COLUMNS or \
                x.dtype.kind not in "fiu" or len(x) < 2:
            return False
        values = x.astype("float64")
        return bool(np.isfinite(values).all()) and \
            np.count_nonzero(values) >= MIN_NONZERO * values.size and one_kind(values)

    def check(self, x):
        values = np.asarray(x, dtype="float32")
        if values.ndim != 2 or not np.isfinite(values).all():
            raise ValueError("signal X must be a 2-D array of finite numbers")
        return values

    def n_features(self, x):
        return x.shape[1]

    def fit(self, x):
        super().fit(x)
        values = np.asarray(x, dtype="float64")
        self.mean, self.std = float(values.mean()), float(values.std()) or 1.0
        return self

    def scaled(self, x):
        """``x`` standardized as :meth:`encode` does it, as a NumPy array (what the nearest
        neighbours member compares, :mod:`autoarch.neighbours`)."""
        return ((np.asarray(x, dtype="float64") - self.mean) / self.std).astype("float32")

    def encode(self, inputs):
        return layers.Rescaling(1.0 / self.std, offset=-self.mean / self.std)(
            inputs[self.input_name])

    def _square(self):
        """Whether the column count is a square (the columns then also make an image)."""
        columns = self.specs[self.input_name][0][0] if self.specs else MIN_COLUMNS
        return math.isqrt(columns) ** 2 == columns

    def default_blocks(self):
        """An MLP, 1-D convolutions over the columns and, for a square count, 2-D ones."""
        options = [DenseBlock(), sequence_convolutions()]
        if self._square():
            options.insert(1, image_convolutions())  # the first trial's, before the 1-D ones
        return [BlockChoice(options, name="signal_block"), classifier_layer()]

    def supernet_blocks(self):
        """The one-shot cell over the square the columns make where their count is one (as
        the default space's first trial), else over the columns in order."""
        return [supernet_cell(4 if self._square() else 3)]
