"""Sampling, mutating, discretizing and encoding points of a ``keras_tuner.HyperParameters`` space.

Every operation respects conditional parameters: only active parameters get values, and a
change to a parent re-derives which children exist. All randomness comes from a
``numpy.random.Generator`` the caller owns, so strategies stay seeded and replayable.
"""

import numpy as np
from keras_tuner.engine import hyperparameters as hp_module

_MAX_OPTIONS = 16


def decisions(space):
    """The parameters a strategy actually decides (everything except ``Fixed``)."""
    return [p for p in space.space if not isinstance(p, hp_module.Fixed)]


def _is_categorical(param):
    return isinstance(param, hp_module.Choice) and not param.ordered


def is_active(param, values):
    """Whether every condition of ``param`` holds under ``values`` (parents come first)."""
    return all(condition.is_active(values) for condition in param.conditions)


def _fill(space, pick):
    """Walk the space in order, giving each active parameter ``pick(param, values_so_far)``."""
    values = {}
    for param in space.space:
        if is_active(param, values):
            values[param.name] = pick(param, values)
    return values


def active_values(space, values):
    """Keep only the values of parameters active under ``values``; add defaults for missing ones."""
    return _fill(space, lambda p, _: values.get(p.name, p.default))


def sample(space, rng):
    """A uniformly random point: each active parameter drawn through its own sampling."""
    return _fill(space, lambda p, _: p.prob_to_value(rng.random()))


def _different_value(param, current, rng):
    if isinstance(param, hp_module.Fixed):
        return current
    for _ in range(20):
        if _is_categorical(param) or isinstance(param, hp_module.Boolean) or rng.random() < 0.5:
            candidate = param.prob_to_value(rng.random())
        else:  # a local step for ordered parameters
            prob = param.value_to_prob(current) + rng.normal(0.0, 0.15)
            candidate = param.prob_to_value(float(np.clip(prob, 0.0, 1.0 - 1e-9)))
        if candidate != current:
            return candidate
    return current


def mutate(space, values, rng, n_changes=1):
    """Change ``n_changes`` active decisions; children of a changed parent are re-derived."""
    values = active_values(space, values)
    for _ in range(n_changes):
        active = [p for p in decisions(space) if p.name in values and _changeable(p)]
        if not active:
            return values
        param = active[rng.integers(len(active))]
        values[param.name] = _different_value(param, values[param.name], rng)
        values = _rederive(space, values, rng)
    return values


def _changeable(param):
    if isinstance(param, (hp_module.Choice, hp_module.Boolean)):
        return len(param.values) > 1
    return param.min_value < param.max_value


def _rederive(space, values, rng):
    """Drop values that became inactive and sample those that became active."""
    return _fill(space, lambda p, _: values[p.name] if p.name in values
                 else p.prob_to_value(rng.random()))


def crossover(space, first, second, rng):
    """Uniform crossover: each decision from either parent, conditions re-derived."""
    mixed = {}
    for param in decisions(space):
        source = first if rng.random() < 0.5 else second
        other = second if source is first else first
        if param.name in source:
            mixed[param.name] = source[param.name]
        elif param.name in other:
            mixed[param.name] = other[param.name]
    return _rederive(space, active_values(space, mixed) | mixed, rng)


def discrete_options(param, max_options=_MAX_OPTIONS):
    """A finite list of values for ``param`` (Float and wide Int ranges are binned)."""
    if isinstance(param, (hp_module.Choice, hp_module.Boolean, hp_module.Fixed)):
        return list(param.values)
    if isinstance(param, hp_module.Int):
        values = list(param.values)
        if len(values) <= max_options:
            return values
    points = [param.prob_to_value((i + 0.5) / max_options) for i in range(max_options)]
    return list(dict.fromkeys(points))


def encode(space, values):
    """A vector in [0, 1]^d for model-based strategies: one-hot for categories, a scaled
    position for ordered parameters, and an activity flag for conditional ones."""
    features = []
    for param in decisions(space):
        active = param.name in values and is_active(param, values)
        if param.conditions:
            features.append(1.0 if active else 0.0)
        if _is_categorical(param):
            one_hot = [0.0] * len(param.values)
            if active:
                one_hot[list(param.values).index(values[param.name])] = 1.0
            features.extend(one_hot)
        elif active:
            features.append(float(param.value_to_prob(values[param.name])))
        else:
            features.append(0.5)
    return np.asarray(features, dtype=float)
