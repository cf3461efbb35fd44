"""Texts: one string per sample, vectorized inside the model (see ``TextBlock``)."""

import numpy as np

from autoarch.blocks import TextBlock
from autoarch.inputs.base import InputKind


class TextInput(InputKind):
    kind = "text"
    tags = {"string": True}

    @classmethod
    def recognises(cls, x):
        return getattr(x, "ndim", 0) == 1 and (x.dtype == object or x.dtype.kind in "US")

    def check(self, x):
        texts = np.asarray(x, dtype=object).reshape(-1)
        if any(not isinstance(t, str) for t in texts):
            raise ValueError("text X must hold strings only")
        return texts

    def n_features(self, x):
        return 1

    def default_blocks(self):
        return [TextBlock()]
