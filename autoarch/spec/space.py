"""A record of declared parameters with keras-tuner's declaring API, without keras-tuner.

Importing ``keras_tuner`` imports Keras and TensorFlow (seconds). Checking a spec and
counting what it searches only needs the declarations (``Int``, ``Float``, ``Choice``,
``Boolean``, ``Fixed``, ``conditional_scope``, ``space``, ``values``), so ``autoarch
validate`` declares into a :class:`ParameterSpace`; a search declares the same definitions
into ``keras_tuner.HyperParameters``. The two agree on names, defaults and conditions (a test
compares them on every ready spec).
"""

import contextlib


class Condition:
    """Active when the parent parameter takes one of ``values``."""

    def __init__(self, name, values):
        self.name, self.values = name, list(values)

    def is_active(self, values):
        return self.name in values and values[self.name] in self.values


class Parameter:
    def __init__(self, name, default, conditions):
        self.name, self.default, self.conditions = name, default, list(conditions)

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r}, default={self.default!r})"


class Int(Parameter):
    pass


class Float(Parameter):
    pass


class Choice(Parameter):
    def __init__(self, name, values, default, conditions):
        super().__init__(name, values[0] if default is None else default, conditions)
        self.values = list(values)


class Boolean(Parameter):
    pass


class Fixed(Parameter):
    def __init__(self, name, value, conditions):
        super().__init__(name, value, conditions)
        self.value = value


class ParameterSpace:
    """Declared parameters (``space``) and the active ones' default values (``values``)."""

    def __init__(self):
        self.space, self.values, self._scopes = [], {}, []

    @contextlib.contextmanager
    def conditional_scope(self, parent_name, parent_values):
        if not any(p.name == parent_name for p in self.space):
            raise ValueError(f"`conditional_scope` needs the parameter '{parent_name}' to be "
                             "declared first")
        values = parent_values if isinstance(parent_values, (list, tuple)) else [parent_values]
        self._scopes.append(Condition(parent_name, values))
        try:
            yield
        finally:
            self._scopes.pop()

    def _declare(self, param):
        """The parameter's value (its default) when its conditions hold, else ``None``; a
        parameter declared again under the same conditions is the one already there."""
        known = [p for p in self.space if p.name == param.name and
                 [(c.name, c.values) for c in p.conditions] ==
                 [(c.name, c.values) for c in param.conditions]]
        if not known:
            self.space.append(param)
        if all(c.is_active(self.values) for c in param.conditions):
            self.values.setdefault(param.name, param.default)
            return self.values[param.name]
        return None

    def Int(self, name, min_value, max_value, step=None, sampling="linear", default=None):
        return self._declare(Int(name, min_value if default is None else default,
                                 self._scopes))

    def Float(self, name, min_value, max_value, step=None, sampling="linear", default=None):
        return self._declare(Float(name, min_value if default is None else default,
                                   self._scopes))

    def Choice(self, name, values, ordered=None, default=None):
        return self._declare(Choice(name, values, default, self._scopes))

    def Boolean(self, name, default=False):
        return self._declare(Boolean(name, default, self._scopes))

    def Fixed(self, name, value):
        return self._declare(Fixed(name, value, self._scopes))


def is_fixed(param):
    """A fixed parameter, of either record (this one's or keras-tuner's)."""
    return type(param).__name__ == "Fixed"


def domain(param):
    """The values a choice, boolean or fixed parameter can take (``None`` for ranges)."""
    kind = type(param).__name__
    if kind == "Choice":
        return list(param.values)
    if kind == "Boolean":
        return [False, True]
    if kind == "Fixed":
        return [param.value]
    return None
