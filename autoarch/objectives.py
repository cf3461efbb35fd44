"""What a search optimizes: one rule for turning the ways users name an objective into a
``keras_tuner.Objective`` with a direction.

Accepted everywhere (Python, specs, command flags): ``"max"`` / ``"min"`` (a plain value, for
ask/tell), a metric name (``"val_accuracy"``), ``"name:direction"``, ``(name, direction)``,
``{"name": ..., "direction": ...}`` and a ``kt.Objective``. Where no direction is given it is
inferred from the name, the same way for every form: the measures of
:mod:`autoarch.measures` have their own (``params``, ``latency_ms``: minimized), names that
measure an error (``loss``, ``error``, ``mse``, ``mae``, ...) are minimized, anything else
is maximized.
"""

import sys

DIRECTIONS = ("max", "min")
_MINIMIZED = ("loss", "error", "mse", "mae", "mape", "rmse", "crossentropy", "hinge")


def infer_direction(name):
    """The measure's own direction for the names of :mod:`autoarch.measures` (``params``:
    min, ``worst_group_accuracy``: max); ``"min"`` for error-like metric names; ``"max"``
    otherwise."""
    from autoarch.measures import DIRECTIONS as MEASURES

    if name in MEASURES:
        return MEASURES[name]
    lowered = str(name).lower()
    return "min" if any(word in lowered for word in _MINIMIZED) else "max"


def _is_keras_tuner_objective(objective):
    kt = sys.modules.get("keras_tuner")  # not imported: it cannot be one
    return kt is not None and isinstance(objective, kt.Objective)


def as_pair(objective):
    """``(name, direction)`` of any accepted form (what journals and workers carry), without
    importing keras-tuner (checking a spec needs no TensorFlow); ``ValueError`` names what
    was wrong."""
    if _is_keras_tuner_objective(objective):
        return objective.name, objective.direction
    if isinstance(objective, str):
        if objective in DIRECTIONS:
            return "value", objective
        name, _, direction = objective.rpartition(":") if ":" in objective else (objective, "", "")
        objective = (name, direction or None)
    elif isinstance(objective, dict):
        unknown = set(objective) - {"name", "direction"}
        if unknown or "name" not in objective:
            raise ValueError(f"objective: a mapping needs 'name' and may have 'direction', got "
                             f"{objective!r}")
        objective = (objective["name"], objective.get("direction"))
    if isinstance(objective, (tuple, list)) and len(objective) == 2:
        name, direction = objective
        if isinstance(name, str) and name and (direction is None or direction in DIRECTIONS):
            return name, direction or infer_direction(name)
    raise ValueError(f"objective: expected 'max', 'min', a metric name, 'name:max|min', "
                     f"(name, 'max'|'min'), {{name:, direction:}} or a keras_tuner.Objective; "
                     f"got {objective!r}")


def make_objective(objective):
    """A ``kt.Objective`` from any accepted form; ``ValueError`` names what was wrong."""
    if _is_keras_tuner_objective(objective):
        return objective
    import keras_tuner as kt

    return kt.Objective(*as_pair(objective))
