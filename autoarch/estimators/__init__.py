"""scikit-learn-conformant estimators: a fitted best model behind fit/predict."""

from autoarch.estimators.base import (AutoClassifier, AutoRegressor, ImageClassifier,
                                      ImageRegressor, SequenceClassifier, SequenceRegressor,
                                      StructuredDataClassifier, StructuredDataRegressor,
                                      TextClassifier, TextRegressor)
from autoarch.estimators.from_spec import estimator_from_spec

__all__ = ["AutoClassifier", "AutoRegressor", "ImageClassifier", "ImageRegressor",
           "SequenceClassifier", "SequenceRegressor", "StructuredDataClassifier",
           "StructuredDataRegressor", "TextClassifier", "TextRegressor", "estimator_from_spec"]
