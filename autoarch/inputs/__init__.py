"""Input kinds (tables, images, sequences, texts) by name, and recognising the kind of ``X``.

Each kind is a small :class:`~autoarch.inputs.base.InputKind` subclass; ``INPUT_KINDS`` lists
them in the order ``infer_kind`` tries them.
"""

from autoarch.inputs.arrays import ImageInput, SequenceInput
from autoarch.inputs.base import InputKind, recognise
from autoarch.inputs.signal import SignalInput
from autoarch.inputs.tabular import TabularInput
from autoarch.inputs.text import TextInput

INPUT_KINDS = {cls.kind: cls for cls in (SignalInput, TabularInput, ImageInput, SequenceInput,
                                         TextInput)}


def infer_kind(x):
    """The kind class for ``x`` (a DataFrame or 2-D array is a table, ...)."""
    return recognise(x, INPUT_KINDS.values())


__all__ = ["INPUT_KINDS", "ImageInput", "InputKind", "SequenceInput", "SignalInput",
           "TabularInput", "TextInput", "infer_kind"]
