"""What autoarch's own strategies share: per-trial seeded randomness and a view of finished trials.

A strategy's state is a function of its seed and its trials. Each suggestion draws from a
generator seeded by ``(seed, trial number)``, and learned state (population, GP data,
controller weights) is rebuilt from ``self.trials`` in finishing order, so replaying a journal
reproduces the strategy exactly and keras-tuner's own ``reload`` keeps working too.
"""

import contextlib
import math

import keras_tuner as kt
import numpy as np
from keras_tuner.engine.trial import TrialStatus

from autoarch import space as space_ops


class StrategyOracle(kt.Oracle):
    """Base class: a ``keras_tuner.Oracle`` whose ``populate_space`` is ``suggest(rng)``."""

    #: the name under which specs and ``Study(strategy=...)`` find the strategy
    name = None
    max_duplicate_tries = 50

    def __init__(self, objective=None, max_trials=None, hyperparameters=None, seed=None,
                 max_retries_per_trial=0, max_consecutive_failed_trials=3, **kwargs):
        super().__init__(objective=objective, max_trials=max_trials,
                         hyperparameters=hyperparameters, seed=seed,
                         max_retries_per_trial=max_retries_per_trial,
                         max_consecutive_failed_trials=max_consecutive_failed_trials, **kwargs)
        if seed is not None:  # keras-tuner treats seed=0 as "no seed"; 0 is a seed here
            self.seed = seed
        self._replayed = None

    # -- what subclasses write -------------------------------------------------------------
    def suggest(self, rng):
        """Return a dict of values for a new trial, or ``None`` when the space is exhausted."""
        raise NotImplementedError

    # -- shared machinery ------------------------------------------------------------------
    def rng_for(self, trial_id, stream=0):
        return np.random.default_rng([int(self.seed), int(trial_id), stream])

    @contextlib.contextmanager
    def replaying(self, values):
        """Within this block, the next trial gets ``values`` (a recorded point) without a new
        suggestion: resuming a search does not refit a model per replayed trial, since the
        learned state is rebuilt from the finished trials when the next real suggestion
        comes."""
        self._replayed = values
        try:
            yield
        finally:
            self._replayed = None

    def populate_space(self, trial_id):
        if self._replayed is not None:
            return {"status": TrialStatus.RUNNING, "values": dict(self._replayed)}
        rng = self.rng_for(trial_id)
        for _ in range(self.max_duplicate_tries):
            values = self.suggest(rng)
            if values is None:
                break
            values = space_ops.active_values(self.hyperparameters, values)
            if not self._duplicate(values):
                return {"status": TrialStatus.RUNNING, "values": values}
        # the model keeps proposing seen points: fall back to unseen random ones
        for _ in range(self.max_duplicate_tries):
            values = space_ops.sample(self.hyperparameters, rng)
            if not self._duplicate(values):
                return {"status": TrialStatus.RUNNING, "values": values}
        return {"status": TrialStatus.STOPPED, "values": None}

    def oriented(self, score):
        """The score turned so that larger is always better."""
        return score if self.objective.direction == "max" else -score

    def finished_trials(self):
        """Completed trials with a finite score, in the order they finished."""
        done = []
        for trial_id in self.end_order:
            trial = self.trials[trial_id]
            if trial.status == TrialStatus.COMPLETED and trial.score is not None and math.isfinite(trial.score):
                done.append(trial)
        return done
