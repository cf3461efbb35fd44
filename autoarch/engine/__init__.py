"""The search engine: the ask/tell study, its journal, and (for Keras models) the trainer.

Each name below is imported from its module when first used, so reading a journal (the
command checking a folder before it starts TensorFlow) does not load the study's strategies.
"""

import importlib

_MODULE_OF = {"Journal": "autoarch.engine.journal", "Study": "autoarch.engine.study",
              "Trial": "autoarch.engine.trial", "TrialStatus": "autoarch.engine.trial"}

__all__ = sorted(_MODULE_OF)


def __getattr__(name):
    if name in _MODULE_OF:
        value = getattr(importlib.import_module(_MODULE_OF[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'autoarch.engine' has no attribute {name!r}")
