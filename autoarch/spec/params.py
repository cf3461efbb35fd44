"""Parameter definitions (int, float, choice, boolean, fixed; conditional; nested scopes),
declared into ``keras_tuner.HyperParameters`` (a search) or a
:class:`~autoarch.spec.space.ParameterSpace` (checking a spec, without TensorFlow).

A definition is a mapping with a ``type``; a mapping without one is a nested scope whose
parameter names get the ``scope/`` prefix. ``when: {parent: value-or-list}`` makes a
parameter exist only when its parent(s) take one of the listed values.
"""

import math

from autoarch.spec.checks import check_keys, did_you_mean, expect, expect_one_of
from autoarch.spec.space import domain

PARAM_TYPES = ("int", "float", "choice", "boolean", "fixed")
_FIELDS = {
    "int": ("min", "max", "step", "sampling", "default"),
    "float": ("min", "max", "step", "sampling", "default"),
    "choice": ("values", "ordered", "default"),
    "boolean": ("default",),
    "fixed": ("value",),
}
_ALL_FIELDS = {"type", "when"} | {f for fields in _FIELDS.values() for f in fields}
SAMPLINGS = ("linear", "log", "reverse_log")


def is_definition(value):
    return isinstance(value, dict) and "type" in value


def add_parameters(hp, doc, path, mapping, prefix=""):
    """Add every parameter of a ``parameters:`` mapping (recursively through scopes) to ``hp``."""
    expect(doc, path, mapping, dict, "a mapping of parameter names to definitions")
    for name, definition in mapping.items():
        item_path = path + (name,)
        if not isinstance(name, str) or not name or "/" in name:
            raise doc.error(item_path, f"parameter names must be non-empty strings without '/', "
                            f"got {name!r}", at_key=True)
        full = f"{prefix}{name}"
        if is_definition(definition):
            add_parameter(hp, doc, item_path, full, definition, scope_prefix=prefix)
        elif isinstance(definition, dict):
            stray = sorted(set(definition) & (_ALL_FIELDS - {"type"}))
            if stray:
                hint = [k for k in definition if k not in _ALL_FIELDS]
                extra = f"; is '{hint[0]}' a misspelt 'type'?" if hint else ""
                raise doc.error(item_path, f"parameter '{full}' has fields ({', '.join(stray)}) "
                                f"but no 'type' (one of {', '.join(PARAM_TYPES)}){extra}")
            add_parameters(hp, doc, item_path, definition, prefix=f"{full}/")
        else:
            hp.Fixed(full, _check_scalar(doc, item_path, definition))
    return hp


def _check_scalar(doc, path, value):
    if isinstance(value, (dict, list)) or value is None:
        raise doc.error(path, "expected a parameter definition (a mapping with 'type'), a nested "
                        f"scope, or a fixed scalar value; got {type(value).__name__}")
    return value


def add_parameter(hp, doc, path, full_name, definition, scope_prefix=""):
    """Add one parameter definition under its ``when`` conditions; returns the HyperParameter."""
    kind = expect_one_of(doc, path + ("type",), definition["type"], PARAM_TYPES)
    check_keys(doc, path, definition, {"type", "when", *_FIELDS[kind]})
    conditions = _conditions(hp, doc, path, definition.get("when"), scope_prefix)
    return _with_conditions(hp, conditions, lambda: _make(hp, doc, path, full_name, kind, definition))


def _with_conditions(hp, conditions, make):
    if not conditions:
        return make()
    (parent, values), rest = conditions[0], conditions[1:]
    with hp.conditional_scope(parent, values):
        return _with_conditions(hp, rest, make)


def _conditions(hp, doc, path, when, scope_prefix):
    if when is None:
        return []
    expect(doc, path + ("when",), when, dict, "a mapping of parent parameter to value(s)")
    known = {p.name: p for p in hp.space}
    result = []
    for parent, values in when.items():
        cpath = path + ("when", parent)
        full = f"{scope_prefix}{parent}" if f"{scope_prefix}{parent}" in known else parent
        if full not in known:
            raise doc.error(cpath, f"condition on unknown parameter '{parent}'"
                            f"{did_you_mean(parent, known)}; a parent must be defined before "
                            "the parameters that depend on it", at_key=True)
        values = values if isinstance(values, list) else [values]
        if not values:
            raise doc.error(cpath, "empty list of parent values")
        possible = domain(known[full])
        for value in values:
            if possible is not None and value not in possible:
                raise doc.error(cpath, f"{value!r} is not a possible value of '{full}' "
                                f"(possible: {', '.join(map(repr, possible))})")
        result.append((full, values))
    return result


def _number(doc, path, definition, key, kind, required=True):
    if key not in definition:
        if required:
            raise doc.error(path, f"missing required key '{key}'")
        return None
    value = expect(doc, path + (key,), definition[key], kind)
    if kind is float and not math.isfinite(value):
        raise doc.error(path + (key,), f"must be finite, got {value!r}")
    return value


def _make(hp, doc, path, name, kind, d):
    if kind in ("int", "float"):
        num = int if kind == "int" else float
        low, high = _number(doc, path, d, "min", num), _number(doc, path, d, "max", num)
        if low > high:
            raise doc.error(path + ("min",), f"min ({low}) is greater than max ({high})")
        step = _number(doc, path, d, "step", num, required=False)
        if step is not None and step <= 0:
            raise doc.error(path + ("step",), f"step must be > 0, got {step}")
        sampling = expect_one_of(doc, path + ("sampling",), d.get("sampling", "linear"), SAMPLINGS)
        if sampling != "linear" and low <= 0:
            raise doc.error(path + ("min",), f"{sampling} sampling needs min > 0, got {low}")
        default = _number(doc, path, d, "default", num, required=False)
        if default is not None and not low <= default <= high:
            raise doc.error(path + ("default",), f"default {default} is outside [{low}, {high}]")
        maker = hp.Int if kind == "int" else hp.Float
        return maker(name, low, high, step=step, sampling=sampling, default=default)
    if kind == "choice":
        values = d.get("values")
        if values is None:
            raise doc.error(path, "missing required key 'values'")
        expect(doc, path + ("values",), values, list)
        if not values:
            raise doc.error(path + ("values",), "a choice needs at least one value, got an empty list")
        kinds = {_scalar_kind(doc, path + ("values", i), v) for i, v in enumerate(values)}
        if len(kinds) > 1:
            raise doc.error(path + ("values",), f"all values of a choice must share one type, got "
                            f"{', '.join(sorted(kinds))}")
        if len(set(values)) != len(values):
            raise doc.error(path + ("values",), "a choice lists the same value twice")
        default = d.get("default")
        if default is not None and default not in values:
            raise doc.error(path + ("default",), f"default {default!r} is not one of the values")
        ordered = d.get("ordered")
        if ordered is not None:
            expect(doc, path + ("ordered",), ordered, bool)
        return hp.Choice(name, values, ordered=ordered, default=default)
    if kind == "boolean":
        default = d.get("default", False)
        expect(doc, path + ("default",), default, bool)
        return hp.Boolean(name, default=default)
    if "value" not in d:
        raise doc.error(path, "missing required key 'value'")
    return hp.Fixed(name, _check_scalar(doc, path + ("value",), d["value"]))


def _scalar_kind(doc, path, value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    raise doc.error(path, f"choice values must be numbers, strings or booleans, got {value!r}")
