"""Search strategies by name. Each is a ``keras_tuner.Oracle`` subclass, so it also plugs
into any keras-tuner ``Tuner``; ``make_strategy`` is how specs and ``Study`` find them.

The classes are imported when first used (importing keras-tuner starts TensorFlow); their
options are known without them (:mod:`autoarch.strategies.options`).
"""

import importlib

from autoarch.errors import SpecError
from autoarch.spec.checks import did_you_mean
from autoarch.strategies.options import OPTIONS, check_options, strategy_options

#: ``{name: (module, class)}``, in the order of :data:`~autoarch.strategies.options.OPTIONS`
_CLASSES = {
    "random": ("random_search", "RandomSearch"), "grid": ("grid", "GridSearch"),
    "bayesian": ("bayesian", "BayesianOptimization"), "evolution": ("evolution", "Evolution"),
    "reinforce": ("reinforce", "ReinforceController"), "hyperband": ("hyperband", "Hyperband"),
    "oneshot": ("oneshot", "OneShot"), "darts": ("oneshot", "Darts"),
    "gdas": ("oneshot", "Gdas"), "zero_cost": ("zero_cost", "ZeroCost"),
}
_NAMES = {cls: name for name, (_, cls) in _CLASSES.items()}


def strategy_class(name):
    if name not in _CLASSES:
        raise SpecError(f"unknown strategy '{name}'{did_you_mean(name, OPTIONS)}; "
                        f"available: {', '.join(OPTIONS)}", "strategy")
    module, cls = _CLASSES[name]
    return getattr(importlib.import_module(f"autoarch.strategies.{module}"), cls)


def make_strategy(name, hyperparameters, objective, seed=None, options=None):
    """Build the oracle ``name`` with the user's ``options`` (validated, with suggestions)."""
    options = dict(options or {})
    strategy_class(name)  # an unknown name, with suggestions
    check_options(name, options)
    return strategy_class(name)(hyperparameters=hyperparameters, objective=objective, seed=seed,
                                max_consecutive_failed_trials=2**31, **options)


def __getattr__(name):
    if name == "STRATEGIES":  # {name: class}
        return {n: strategy_class(n) for n in _CLASSES}
    if name in _NAMES:
        return strategy_class(_NAMES[name])
    raise AttributeError(f"module 'autoarch.strategies' has no attribute {name!r}")


__all__ = ["OPTIONS", "STRATEGIES", "check_options", "make_strategy", "strategy_class",
           "strategy_options", "BayesianOptimization", "Darts", "Evolution", "Gdas",
           "GridSearch", "Hyperband", "OneShot", "RandomSearch", "ReinforceController",
           "ZeroCost"]
