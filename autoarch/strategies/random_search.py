"""Random search: every active parameter drawn independently through its own sampling."""

from autoarch import space as space_ops
from autoarch.strategies.base import StrategyOracle


class RandomSearch(StrategyOracle):
    """Uniform random sampling; the baseline every other strategy must beat."""

    name = "random"

    def suggest(self, rng):
        return space_ops.sample(self.hyperparameters, rng)
