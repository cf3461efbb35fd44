"""Search strategies by name. Each is a ``keras_tuner.Oracle`` subclass, so it also plugs
into any keras-tuner ``Tuner``; ``make_strategy`` is how specs and ``Study`` find them.

The classes are imported when first used (importing keras-tuner starts TensorFlow); their
options are known without them (:mod:`autoarch.strategies.options`).
"""

import importlib
import inspect
from collections.abc import MutableMapping

from autoarch.errors import SpecError
from autoarch.spec.checks import did_you_mean
from autoarch.strategies import options as _options
from autoarch.strategies.options import OPTIONS


def _load(path):
    """The class at ``"module:Class"``."""
    module, cls = path.split(":")
    return getattr(importlib.import_module(module), cls)


class StrategyRegistry(MutableMapping):
    """``{name: strategy class}``. autoarch's own are imported when first looked up; a
    strategy of one's own is registered by assigning its class (``STRATEGIES["mine"] =
    Mine``), and its options are its constructor's keyword arguments."""

    def __init__(self, entries):
        self._entries = dict(entries)

    def __getitem__(self, name):
        entry = self._entries[name]
        if isinstance(entry, str):  # "module:Class"
            entry = self._entries[name] = _load(entry)
        return entry

    def __setitem__(self, name, cls):
        self._entries[name] = cls

    def __delitem__(self, name):
        del self._entries[name]

    def __contains__(self, name):  # without importing the class
        return name in self._entries

    def __iter__(self):
        return iter(self._entries)

    def __len__(self):
        return len(self._entries)


_BUILT_IN = {
    "random": "autoarch.strategies.random_search:RandomSearch",
    "grid": "autoarch.strategies.grid:GridSearch",
    "bayesian": "autoarch.strategies.bayesian:BayesianOptimization",
    "evolution": "autoarch.strategies.evolution:Evolution",
    "reinforce": "autoarch.strategies.reinforce:ReinforceController",
    "hyperband": "autoarch.strategies.hyperband:Hyperband",
    "oneshot": "autoarch.strategies.oneshot:OneShot",
    "darts": "autoarch.strategies.oneshot:Darts",
    "gdas": "autoarch.strategies.oneshot:Gdas",
    "zero_cost": "autoarch.strategies.zero_cost:ZeroCost",
}
STRATEGIES = StrategyRegistry(_BUILT_IN)

#: arguments a strategy of one's own gets from the search itself, never from the options
_RESERVED = {"self", "objective", "max_trials", "hyperparameters", "seed", "args", "kwargs",
             "allow_new_entries", "tune_new_entries", "max_retries_per_trial",
             "max_consecutive_failed_trials"}


def strategy_class(name):
    if name not in STRATEGIES:
        raise SpecError(f"unknown strategy '{name}'{did_you_mean(name, STRATEGIES)}; "
                        f"available: {', '.join(STRATEGIES)}", "strategy")
    return STRATEGIES[name]


def strategy_options(name):
    """The option names a strategy accepts: autoarch's from their table (no import), a
    registered strategy's from its constructor."""
    if name in OPTIONS:
        return sorted(OPTIONS[name])
    options = set()
    for klass in strategy_class(name).__mro__:
        if "__init__" in vars(klass):
            options |= set(inspect.signature(klass.__init__).parameters)
    return sorted(options - _RESERVED)


def check_options(name, options):
    """Check a strategy's options before anything is built: unknown names (a ``SpecError``
    with suggestions), then their values (:func:`autoarch.strategies.options.check_values`)."""
    allowed = strategy_options(name)
    for key in sorted(set(options) - set(allowed)):
        raise SpecError(f"unknown option '{key}' for strategy '{name}'"
                        f"{did_you_mean(key, allowed)}; allowed: {', '.join(allowed)}",
                        f"strategy.{key}")
    _options.check_values(name, options)


def make_strategy(name, hyperparameters, objective, seed=None, options=None):
    """Build the oracle ``name`` with the user's ``options`` (validated, with suggestions)."""
    options = dict(options or {})
    check_options(name, options)
    return strategy_class(name)(hyperparameters=hyperparameters, objective=objective, seed=seed,
                                max_consecutive_failed_trials=2**31, **options)


def __getattr__(name):  # the classes by name (``from autoarch.strategies import Evolution``)
    for path in _BUILT_IN.values():
        if path.endswith(f":{name}"):
            return _load(path)
    raise AttributeError(f"module 'autoarch.strategies' has no attribute {name!r}")


__all__ = ["OPTIONS", "STRATEGIES", "StrategyRegistry", "check_options", "make_strategy",
           "strategy_class", "strategy_options", "BayesianOptimization", "Darts", "Evolution",
           "Gdas", "GridSearch", "Hyperband", "OneShot", "RandomSearch", "ReinforceController",
           "ZeroCost"]
