"""autoarch: Keras-native AutoML and neural architecture search."""

import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter quiet

from autoarch.engine import Journal, Study, Trial  # noqa: E402
from autoarch.estimators import (  # noqa: E402
    AutoClassifier,
    AutoRegressor,
    ImageClassifier,
    ImageRegressor,
    SequenceClassifier,
    SequenceRegressor,
    StructuredDataClassifier,
    StructuredDataRegressor,
    TextClassifier,
    TextRegressor,
)
from autoarch.errors import (  # noqa: E402
    AutoarchError,
    SearchFinished,
    SpecError,
    StudyMismatch,
    TooManyFailures,
)
from autoarch.spec import load_space, load_spec  # noqa: E402
from autoarch.strategies import STRATEGIES  # noqa: E402

__version__ = "0.1.0"

__all__ = ["AutoClassifier", "AutoRegressor", "ImageClassifier", "ImageRegressor",
           "SequenceClassifier", "SequenceRegressor", "StructuredDataClassifier",
           "StructuredDataRegressor", "TextClassifier", "TextRegressor", "AutoarchError", "Journal", "STRATEGIES", "SearchFinished", "SpecError", "Study",
           "StudyMismatch", "TooManyFailures", "Trial", "load_space", "load_spec"]
