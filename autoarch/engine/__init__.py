"""The search engine: the ask/tell study, its journal, and (for Keras models) the trainer."""

from autoarch.engine.journal import Journal
from autoarch.engine.study import Study
from autoarch.engine.trial import Trial, TrialStatus

__all__ = ["Journal", "Study", "Trial", "TrialStatus"]
