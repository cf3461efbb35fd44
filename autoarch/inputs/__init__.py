"""Input kinds (tables, images, sequences, texts) by name, and recognising the kind of ``X``.

Each kind is a small :class:`~autoarch.inputs.base.InputKind` subclass; ``INPUT_KINDS`` lists
them in the order ``infer_kind`` tries them. The kinds import Keras and scikit-learn, so they
are imported when first used; ``KIND_NAMES`` (what a spec's ``kind:`` may say) is known
without them (a test keeps it equal to ``INPUT_KINDS``).
"""

import importlib

#: ``{name: (module, class)}`` in the order ``infer_kind`` tries them
_CLASSES = {"signal": ("signal", "SignalInput"), "tabular": ("tabular", "TabularInput"),
            "image": ("arrays", "ImageInput"), "sequence": ("arrays", "SequenceInput"),
            "text": ("text", "TextInput")}
KIND_NAMES = tuple(_CLASSES)
_EXPORTS = {cls: module for module, cls in _CLASSES.values()}
_EXPORTS.update(InputKind="base", recognise="base")


def infer_kind(x):
    """The kind class for ``x`` (a DataFrame or 2-D array is a table, ...)."""
    from autoarch.inputs.base import recognise

    return recognise(x, __getattr__("INPUT_KINDS").values())


def __getattr__(name):
    if name == "INPUT_KINDS":
        return {kind: __getattr__(cls) for kind, (_, cls) in _CLASSES.items()}
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"autoarch.inputs.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'autoarch.inputs' has no attribute {name!r}")


__all__ = ["INPUT_KINDS", "KIND_NAMES", "ImageInput", "InputKind", "SequenceInput",
           "SignalInput", "TabularInput", "TextInput", "infer_kind"]
