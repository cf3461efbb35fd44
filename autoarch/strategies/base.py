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
from autoarch.pareto import crowding_distance, non_dominated_sort
from autoarch.strategies.options import check_values


class StrategyOracle(kt.Oracle):
    """Base class: a ``keras_tuner.Oracle`` whose ``populate_space`` is ``suggest(rng)``.

    ``prescreen`` > 1 (any autoarch strategy in a model search): each trial draws that many
    suggestions and trains only the one that zero-cost proxies score best (``screen``, set
    by the model search: ``screen(trial_id, [values]) -> index``)."""

    #: the name under which specs and ``Study(strategy=...)`` find the strategy
    name = None
    max_duplicate_tries = 50

    def __init__(self, objective=None, max_trials=None, hyperparameters=None, seed=None,
                 max_retries_per_trial=0, max_consecutive_failed_trials=3, prescreen=1,
                 **kwargs):
        super().__init__(objective=objective, max_trials=max_trials,
                         hyperparameters=hyperparameters, seed=seed,
                         max_retries_per_trial=max_retries_per_trial,
                         max_consecutive_failed_trials=max_consecutive_failed_trials, **kwargs)
        if seed is not None:  # keras-tuner treats seed=0 as "no seed"; 0 is a seed here
            self.seed = seed
        check_values(self.name, {"prescreen": prescreen},
                     phased=getattr(self, "runs_phase", False))
        self.prescreen, self.screen = prescreen, None
        #: {trial id: the trial id its values came from} where a strategy derives a child
        #: from a parent (``evolution``), for weight inheritance; not kept across a resume
        self.parents = {}
        self._parent = None
        self._replayed = None
        #: ``[(name, direction)]`` of every objective, the first being ``objective``, and
        #: ``{name: (bound, direction)}``, both set by the Study; ``outcomes``: {trial id:
        #: (objective values, constraint violation)}, filled by the Study as trials end
        self.objectives, self.constraints, self.outcomes = None, {}, {}

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
        if self.prescreen > 1 and self.screen is None:
            raise RuntimeError(f"strategy '{self.name}': prescreen scores Keras models built "
                               "from a model space: use it in a model search, not in a "
                               "Study of a plain function")
        rng = self.rng_for(trial_id)
        count = self.prescreen
        drawn = []
        while len(drawn) < count:
            values = self._draw(rng, drawn)
            if values is None:
                break
            drawn.append(values)
        if not drawn:
            return {"status": TrialStatus.STOPPED, "values": None}
        best = self.screen(trial_id, [v for v, _ in drawn]) if len(drawn) > 1 else 0
        values, parent = drawn[best]
        if parent is not None:
            self.parents[trial_id] = parent
        return {"status": TrialStatus.RUNNING, "values": values}

    def _draw(self, rng, drawn):
        """A suggestion unseen in the trials and in ``drawn`` and the trial it derives from
        (``suggest`` sets ``self._parent``); None when there is none."""
        def new(values):
            return not self._duplicate(values) and all(values != v for v, _ in drawn)

        for _ in range(self.max_duplicate_tries):
            self._parent = None
            values = self.suggest(rng)
            if values is None:
                break
            values = space_ops.active_values(self.hyperparameters, values)
            if new(values):
                return values, self._parent
        # the model keeps proposing seen points: fall back to unseen random ones
        for _ in range(self.max_duplicate_tries):
            values = space_ops.sample(self.hyperparameters, rng)
            if new(values):
                return values, None
        return None

    def oriented(self, score):
        """The score turned so that larger is always better."""
        return score if self.objective.direction == "max" else -score

    @property
    def multi_objective(self):
        return bool(self.constraints) or len(self.objectives or ()) > 1

    def ranking(self, trials):
        """A sort key per trial, larger better: the oriented score with one objective and no
        constraints; else NSGA-II's order within ``trials`` (constrained non-dominated
        front, then crowding distance)."""
        if not self.multi_objective:
            return [(self.oriented(t.score),) for t in trials]
        directions = [d for _, d in self.objectives]
        worst = [-np.inf if d == "max" else np.inf for d in directions]
        vectors = [[w if math.isnan(v) else v for v, w in zip(self.outcomes[t.trial_id][0], worst)]
                   for t in trials]
        keys = [None] * len(trials)
        fronts = non_dominated_sort(vectors, directions,
                                    [self.outcomes[t.trial_id][1] for t in trials])
        for depth, front in enumerate(fronts):
            crowding = crowding_distance([vectors[i] for i in front])
            for i, distance in zip(front, crowding):
                keys[i] = (-depth, distance)
        return keys

    def scalarized(self, trials, rng=None):
        """One number per trial, larger better, for strategies that model a single score.
        One objective: the oriented score. Several (ParEGO; Knowles 2006): the augmented
        Chebyshev scalarisation of the objectives normalised over ``trials``, with weights
        drawn from ``rng`` (equal without one), minus each trial's constraint violation."""
        if not self.multi_objective:
            return np.array([self.oriented(t.score) for t in trials], dtype=float)
        signs = np.array([1.0 if d == "max" else -1.0 for _, d in self.objectives])
        values = np.array([self.outcomes[t.trial_id][0] for t in trials], dtype=float) * signs
        low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
        normal = np.nan_to_num((values - low) / np.where(high > low, high - low, 1.0), nan=0.0)
        k = normal.shape[1]
        weights = rng.dirichlet(np.ones(k)) if rng is not None else np.full(k, 1.0 / k)
        scalar = (normal * weights).min(axis=1) + 0.05 * (normal * weights).sum(axis=1)
        return scalar - np.array([self.outcomes[t.trial_id][1] for t in trials])

    def finished_trials(self):
        """Completed trials with a finite score, in the order they finished."""
        done = []
        for trial_id in self.end_order:
            trial = self.trials[trial_id]
            if trial.status == TrialStatus.COMPLETED and trial.score is not None and math.isfinite(trial.score):
                done.append(trial)
        return done


class PhasedStrategy(StrategyOracle):
    """Base of strategies whose trials are found before the first one, by a phase the model
    search runs (``run_phase(context)``, context: :class:`~autoarch.engine.context.PhaseContext`):
    a supernet, a zero-cost screening. Its trials are the phase's candidates, best first;
    then the strategy is exhausted."""

    #: the search engine runs ``run_phase`` before the first trial
    runs_phase = True
    #: the phase's folder in the search's directory
    phase = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.candidates = None

    def run_phase(self, context):
        self.candidates = self.find_candidates(context)
        return self.candidates

    def find_candidates(self, context):
        """Parameter sets, best first."""
        raise NotImplementedError

    def populate_space(self, trial_id):
        if self._replayed is not None:
            return super().populate_space(trial_id)
        if self.candidates is None:
            raise RuntimeError(f"strategy '{self.name}' evaluates Keras models built from a "
                               "model space: use it in a model search (AutoClassifier, "
                               "AutoRegressor, ModelSearch or `autoarch search`), not in a "
                               "Study of a plain function")
        for values in self.candidates:
            values = space_ops.active_values(self.hyperparameters, dict(values))
            if not self._duplicate(values):
                return {"status": TrialStatus.RUNNING, "values": values}
        return {"status": TrialStatus.STOPPED, "values": None}
