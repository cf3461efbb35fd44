"""The block contract: ``build(hp, inputs)`` turns input tensors into output tensors.

A block lists its arguments and each one's default search range (``search_space``). An
argument left ``None`` is searched over that default; a plain value fixes it; a list is a
choice; a parameter definition (``{"type": "int", "min": 1, "max": 4}``, as in specs) gives
a range of its own. ``declare(hp)`` registers every searched argument (under the block's
name) without building layers, so a whole space is known before the first trial. Block
modules import Keras only when they build (:mod:`autoarch.lazy`), so a spec's blocks are
checked and counted without starting TensorFlow.
"""

from autoarch.spec.checks import did_you_mean
from autoarch.spec.params import add_parameter, is_definition
from autoarch.spec.space import is_fixed
from autoarch.spec.yaml_loader import MarkedDocument


def choice(*values, ordered=None):
    definition = {"type": "choice", "values": list(values)}
    if ordered is not None:
        definition["ordered"] = ordered
    return definition


def boolean(default=False):
    return {"type": "boolean", "default": default}


def as_definition(value):
    """An argument as a parameter definition, or ``None`` when it is a fixed value."""
    if is_definition(value):
        return value
    if isinstance(value, list):
        return choice(*value)
    return None


def searched_values(value):
    """The values an argument can take: a fixed value's own, a choice's, an int range's;
    none where it is not given or is a float range."""
    definition = as_definition(value)
    if definition is None:
        return [] if value is None else [value]
    if "values" in definition:
        return list(definition["values"])
    if definition.get("type") == "int" and definition.get("sampling", "linear") == "linear":
        return list(range(definition["min"], definition["max"] + 1, definition.get("step") or 1))
    if definition.get("type") == "fixed":
        return [definition["value"]]
    return []


class Block:
    """Base of every block: stores its arguments; subclasses write ``search_space`` and ``build``
    (keras-tuner's ``HyperModel.build`` with the input tensors added)."""

    #: the name specs use for this block (``block: dense``)
    kind = None

    def __init__(self, name=None, first_trials=None, **arguments):
        # an unnamed block is named by its kind and place when a ModelSpace takes it
        self.name = name or self.kind or type(self).__name__.lower()
        self.auto_named = name is None
        self.arguments = arguments
        if not isinstance(first_trials or [], list) or \
                not all(isinstance(point, dict) for point in first_trials or []):
            raise ValueError(f"{type(self).__name__}: first_trials must be a list of "
                             f"{{argument: value}} mappings, got {first_trials!r}")
        self.given_first_trials = [dict(point) for point in first_trials or []]
        defaults = self.search_space()
        unknown = set(arguments) - set(defaults)
        if unknown:
            key = sorted(unknown)[0]
            raise ValueError(f"{type(self).__name__}: unknown argument '{key}'"
                             f"{did_you_mean(key, defaults)}; arguments: {', '.join(defaults)}")

    def search_space(self):
        """``{argument: default definition}`` in declaration order."""
        return {}

    def conditions(self):
        """``{argument: {parent_argument: [values]}}``: arguments that exist only sometimes."""
        return {}

    def first_trials(self):
        """Known-good points of this block's space, tried before the strategy's own
        suggestions (as auto-sklearn and AutoGluon start from proven configurations): a list
        of ``{argument: value}``; a key with a ``/`` names a parameter of the whole space
        (``training/optimizer``). Values the space does not search are ignored. By default
        the ``first_trials`` the block was given."""
        return list(self.given_first_trials)

    def declare(self, hp):
        """Register every searched argument; return ``{argument: value}`` for this trial
        (``None`` for arguments whose conditions do not hold)."""
        values, conditions, fixed = {}, self.conditions(), {}
        for argument, default in self.search_space().items():
            given = self.arguments.get(argument)
            value = default if given is None else given
            when = {}
            for parent, allowed in conditions.get(argument, {}).items():
                full_parent = f"{self.name}/{parent}"
                if parent in fixed or _fixed_in(hp, full_parent):  # decided statically
                    if fixed.get(parent, hp.values.get(full_parent)) not in allowed:
                        break
                else:
                    when[full_parent] = allowed
            else:
                definition = as_definition(value)
                if definition is None:  # a fixed value
                    values[argument] = fixed[argument] = value
                    continue
                definition = dict(definition)
                if when:
                    definition["when"] = when
                full = f"{self.name}/{argument}"
                add_parameter(hp, MarkedDocument(None), (self.name, argument), full, definition)
                values[argument] = hp.values.get(full) if _active(hp, full) else None
                continue
            values[argument] = None  # its fixed parent rules it out
        return values

    def options(self, argument):
        """The values ``argument`` may take: its fixed value alone, or its choice's values
        (what a supernet shares weights between)."""
        given = self.arguments.get(argument)
        value = self.search_space()[argument] if given is None else given
        definition = as_definition(value)
        return [value] if definition is None else list(definition.get("values", [value]))

    def children(self):
        """Sub-blocks, declared after this block's own arguments."""
        return []

    def declare_all(self, hp):
        self.declare(hp)
        for child in self.children():
            child.declare_all(hp)

    def build(self, hp, inputs):  # noqa: D401 - keras-tuner's HyperModel signature, plus inputs
        raise NotImplementedError

    def learned(self):
        """What ``adapt`` or ``adapt_target`` learned that a reader of the journal should see
        (``{field: JSON value}``; empty when nothing)."""
        return {}

    def adapt(self, data):
        """Learn preprocessing state (vocabularies, statistics) from training inputs."""

    def __repr__(self):
        given = ", ".join(f"{k}={v!r}" for k, v in self.arguments.items())
        return f"{type(self).__name__}({given})"


def _fixed_in(hp, name):
    """Whether ``hp`` already holds ``name`` as a fixed value (a caller pinned it)."""
    return any(p.name == name and is_fixed(p) for p in hp.space)


def _active(hp, name):
    for param in hp.space:
        if param.name == name and all(c.is_active(hp.values) for c in param.conditions):
            return True
    return False
