"""autoarch: Keras-native AutoML and neural architecture search.

Importing the package configures nothing process-wide and loads nothing heavy: each name below
is imported from its module when first used (so ``autoarch --help`` need not start
TensorFlow). TensorFlow's threads are sized from the machine when a search starts, unless you
configured them; its log level is yours to set.
"""

from autoarch.lazy import lazy_names

__version__ = "0.1.0"

_EXPORTS = {
    "autoarch.config": ("Budget", "SearchConfig", "Training"),
    "autoarch.engine": ("Journal", "Study", "Trial", "TrialStatus"),
    "autoarch.errors": ("AutoarchError", "DirectoryLocked", "JournalError", "SearchFinished",
                        "SpecError", "StudyMismatch", "TooManyFailures", "TrialRefused"),
    "autoarch.estimators": ("AutoClassifier", "AutoRegressor", "ImageClassifier",
                            "ImageRegressor", "SequenceClassifier", "SequenceRegressor",
                            "StructuredDataClassifier", "StructuredDataRegressor",
                            "TextClassifier", "TextRegressor"),
    "autoarch.export": ("export_model", "load_model"),
    "autoarch.specfile": ("load_space", "load_spec"),
    "autoarch.strategies": ("STRATEGIES",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)
__getattr__ = lazy_names(__name__, _MODULE_OF)


def __dir__():
    return sorted(set(globals()) | set(__all__))
