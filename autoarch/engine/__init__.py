"""The search engine: the ask/tell study, its journal, and (for Keras models) the trainer.

Each name below is imported from its module when first used, so reading a journal (the
command checking a folder before it starts TensorFlow) does not load the study's strategies.
"""

from autoarch.lazy import lazy_names

_MODULE_OF = {"Journal": "autoarch.engine.journal", "Study": "autoarch.engine.study",
              "Trial": "autoarch.engine.trial", "TrialStatus": "autoarch.engine.trial"}

__all__ = sorted(_MODULE_OF)
__getattr__ = lazy_names(__name__, _MODULE_OF)
