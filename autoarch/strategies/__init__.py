"""Search strategies by name. Each is a ``keras_tuner.Oracle`` subclass, so it also plugs
into any keras-tuner ``Tuner``; ``get_strategy`` is how specs and ``Study`` find them."""

import inspect

from autoarch.errors import SpecError
from autoarch.spec.checks import did_you_mean
from autoarch.strategies.bayesian import BayesianOptimization
from autoarch.strategies.evolution import Evolution
from autoarch.strategies.grid import GridSearch
from autoarch.strategies.hyperband import Hyperband
from autoarch.strategies.oneshot import Darts, Gdas, OneShot
from autoarch.strategies.random_search import RandomSearch
from autoarch.strategies.reinforce import ReinforceController
from autoarch.strategies.zero_cost import ZeroCost

STRATEGIES = {cls.name: cls for cls in
              (RandomSearch, GridSearch, BayesianOptimization, Evolution, ReinforceController,
               Hyperband, OneShot, Darts, Gdas, ZeroCost)}

#: arguments every strategy gets from the search itself, never from the user's options
_RESERVED = {"self", "objective", "max_trials", "hyperparameters", "seed", "kwargs",
             "allow_new_entries", "tune_new_entries", "max_retries_per_trial",
             "max_consecutive_failed_trials"}


def strategy_class(name):
    if name not in STRATEGIES:
        raise SpecError(f"unknown strategy '{name}'{did_you_mean(name, STRATEGIES)}; "
                        f"available: {', '.join(STRATEGIES)}", "strategy")
    return STRATEGIES[name]


def strategy_options(name):
    """The option names a strategy accepts (its constructor's own keyword arguments)."""
    options = set()
    for klass in strategy_class(name).__mro__:
        if "__init__" in vars(klass):
            options |= set(inspect.signature(klass.__init__).parameters)
    return sorted(options - _RESERVED)


def make_strategy(name, hyperparameters, objective, seed=None, options=None):
    """Build the oracle ``name`` with the user's ``options`` (validated, with suggestions)."""
    options = dict(options or {})
    allowed = strategy_options(name)
    for key in options:
        if key not in allowed:
            raise SpecError(f"unknown option '{key}' for strategy '{name}'"
                            f"{did_you_mean(key, allowed)}; allowed: {', '.join(allowed)}",
                            f"strategy.{key}")
    return strategy_class(name)(hyperparameters=hyperparameters, objective=objective, seed=seed,
                                max_consecutive_failed_trials=2**31, **options)


__all__ = ["STRATEGIES", "make_strategy", "strategy_class", "strategy_options",
           "BayesianOptimization", "Darts", "Evolution", "Gdas", "GridSearch", "Hyperband",
           "OneShot", "RandomSearch", "ReinforceController", "ZeroCost"]
