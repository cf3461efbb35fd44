"""Regularized (aging) evolution, after Real et al. (2019).

With one objective the population is the ``population_size`` most recently finished trials,
so old members age out whatever their score. A child is a one-decision mutation of the best of a random
``sample_size`` tournament; with probability ``crossover_rate`` it is first a uniform
crossover of two tournament winners. With several objectives or constraints "best" is
NSGA-II's (Deb et al. 2002): the lower constrained non-dominated front within the
population, then the larger crowding distance; and the population is NSGA-II's elitist one,
the ``population_size`` best finished trials in that order, so a point of the front found
early is kept until better points crowd it out (aging would drop it after
``population_size`` trials and let the front recede).

With ``inherit`` (the default), each child names its parent (the first tournament winner;
``parents``), and a model search starts the child from the parent's trained weights
wherever a layer of the same name has weights of the same shapes (a mutation of a training
setting, or of one layer, keeps the rest of the network as it was trained).
"""

from autoarch import space as space_ops
from autoarch.space.decisions import crossover
from autoarch.strategies.base import StrategyOracle
from autoarch.strategies.options import check_values


class Evolution(StrategyOracle):
    name = "evolution"

    def __init__(self, population_size=20, sample_size=5, crossover_rate=0.0,
                 mutations=1, inherit=True, **kwargs):
        super().__init__(**kwargs)
        check_values(self.name, {"population_size": population_size, "sample_size": sample_size,
                                 "crossover_rate": crossover_rate, "mutations": mutations})
        self.population_size = population_size
        self.sample_size = sample_size
        self.crossover_rate = crossover_rate
        self.mutations = mutations
        self.inherit = bool(inherit)

    def population(self):
        finished = self.finished_trials()
        if not self.multi_objective or len(finished) <= self.population_size:
            return finished[-self.population_size:]
        keys = self.ranking(finished)
        best = sorted(range(len(finished)), key=lambda i: keys[i], reverse=True)
        return [finished[i] for i in sorted(best[:self.population_size])]

    def _tournament(self, population, rng):
        picks = rng.choice(len(population), size=self.sample_size, replace=False)
        keys = self.ranking(population)
        return population[max(picks, key=lambda i: keys[i])]

    def suggest(self, rng):
        population = self.population()
        if len(population) < self.population_size:
            return space_ops.sample(self.hyperparameters, rng)
        winner = self._tournament(population, rng)
        if self.inherit:
            self._parent = winner.trial_id
        parent = winner.hyperparameters.values
        if rng.random() < self.crossover_rate:
            parent = crossover(self.hyperparameters, parent,
                               self._tournament(population, rng).hyperparameters.values, rng)
        return space_ops.mutate(self.hyperparameters, parent, rng, n_changes=self.mutations)
