"""scikit-learn-conformant estimators: a fitted best model behind fit/predict."""

from autoarch.estimators.base import (AutoClassifier, AutoRegressor, ImageClassifier,
                                      ImageRegressor, SequenceClassifier, SequenceRegressor,
                                      StructuredDataClassifier, StructuredDataRegressor,
                                      TextClassifier, TextRegressor)



def estimator_for_task(task):
    """The estimator class a spec's ``task`` asks for (classification when it names none)."""
    return AutoRegressor if task == "regression" else AutoClassifier


__all__ = ["AutoClassifier", "AutoRegressor", "ImageClassifier", "ImageRegressor",
           "SequenceClassifier", "SequenceRegressor", "StructuredDataClassifier",
           "StructuredDataRegressor", "TextClassifier", "TextRegressor", "estimator_for_task"]
