"""A whole spec: one validated object from a YAML file or a dict, checked before anything runs.

This loader sits above the parts a spec names: ``autoarch.spec`` (YAML with positions, checks,
parameters) is the layer below everything; the sections are checked by their owners
(:mod:`autoarch.config` for strategy, objective, seed, budget and training;
:mod:`autoarch.data` for data; :mod:`autoarch.blocks.from_spec` for blocks;
:mod:`autoarch.inputs` for input kinds), and every error carries ``file:line:column``.

Top-level keys::

    name: digits-mlp                  # a plain name (the command's run folder)
    task: classification              # or regression
    data: sklearn:digits              # what the command searches on (see autoarch.data)
    seed: 0
    objective: val_accuracy           # a metric, "name:min", or {name:, direction:}
    objectives: [val_accuracy, params]  # several at once (the first is the objective)
    constraints: {params: 200000, latency_ms: 5}   # bounds on metrics and measures
    strategy: evolution               # or {name: evolution, population_size: 20, ...}
    budget: {max_trials: 10, time_limit: 600, epochs: 5, ...}
    training: {batch_size: 32, learning_rate: [0.001, 0.003], ...}
    ensemble_size: 10                 # how the final model is made: the ensemble, its
    boosted_trees: true               # classical members (table_linear, text_linear,
    crossval_rows: 500                # signal_neighbours), its selection on small data
    inputs:                           # several inputs, each with its own blocks (optional)
      image: {kind: image, blocks: [{block: conv}]}
      table: {kind: tabular}
    space:
      parameters: {...}               # free parameters (ask/tell searches; no blocks)
      blocks: [...]                   # model blocks (after the inputs are merged)

Wherever a spec is given (``autoarch search``, ``AutoClassifier(spec=...)``), all of it is
honoured; an estimator parameter set explicitly overrides the spec's value.
"""

import os
from dataclasses import dataclass, field

from autoarch.blocks.from_spec import validate_blocks
from autoarch.config import FLAT_FIELDS, SECTIONS, ConfigError, SearchConfig
from autoarch.data import validate_data_spec
from autoarch.errors import SpecError
from autoarch.inputs import KIND_NAMES
from autoarch.objectives import DIRECTIONS
from autoarch.spec.checks import check_keys, did_you_mean, expect, expect_one_of, expect_positive
from autoarch.spec.params import add_parameter, add_parameters, is_definition
from autoarch.spec.space import ParameterSpace
from autoarch.spec.yaml_loader import MarkedDocument, load_yaml_file
from autoarch.strategies import STRATEGIES, strategy_options

#: knobs of :class:`SearchConfig` itself that a spec gives by name at its top level (how the
#: final model is made: ``ensemble_size``, the classical members, ``crossval_rows``); the
#: others have keys of their own above, or sections
PLAIN_KEYS = tuple(name for name, (section, _) in FLAT_FIELDS.items() if section is None and
                   name not in ("seed", "objective", "objectives", "constraints", "strategy",
                                "strategy_options"))
TOP_KEYS = ("name", "task", "data", "seed", "objective", "objectives", "constraints",
            "strategy", "budget", "training", "inputs", "space") + PLAIN_KEYS
TASKS = ("classification", "regression")
SPACE_KEYS = ("parameters", "blocks")
INPUT_KEYS = ("kind", "blocks")


@dataclass
class Spec:
    """A validated spec.

    ``settings`` holds the search settings the spec gives, by knob name (see
    :mod:`autoarch.config`); ``config`` is the whole :class:`SearchConfig` (defaults for the
    rest). ``parameters`` is ``space.parameters`` as written (checked), ``hyperparameters``
    the same as ``keras_tuner.HyperParameters``; ``inputs`` maps input names to
    ``{"kind": name or None, "blocks": [...] or None}``.
    """

    parameters: dict = None
    name: str = None
    task: str = None
    data: object = None
    settings: dict = field(default_factory=dict)
    blocks: list = None
    inputs: dict = None
    file: str = None
    document: MarkedDocument = None

    @property
    def config(self):
        return SearchConfig.from_flat(self.settings)

    def declare(self, hp):
        """Declare ``space.parameters`` into ``hp`` (any record with keras-tuner's declaring
        API); returns it."""
        doc = self.document or MarkedDocument(None)
        return add_parameters(hp, doc, ("space", "parameters"), self.parameters or {})

    @property
    def hyperparameters(self):
        """``space.parameters`` as ``keras_tuner.HyperParameters`` (what ask/tell searches)."""
        import keras_tuner as kt

        return self.declare(kt.HyperParameters())


def _document(source):
    if isinstance(source, MarkedDocument):
        return source
    if isinstance(source, dict):
        return MarkedDocument(source)
    if isinstance(source, (str, os.PathLike)):
        return load_yaml_file(source)
    raise SpecError(f"a spec must be a YAML path or a dict, got {type(source).__name__}")


def load_spec(source):
    """Validate a whole spec (path, dict, parsed document or :class:`Spec`); errors name
    file:line:column."""
    if isinstance(source, Spec):
        return source
    doc = _document(source)
    data = doc.data
    expect(doc, (), data, dict, "a mapping at the top of the spec")
    _misplaced(doc, (), data, TOP_KEYS)
    check_keys(doc, (), data, TOP_KEYS)
    spec = Spec(file=doc.file, document=doc)
    if "name" in data:
        spec.name = _name(doc, data["name"])
    if "task" in data:
        spec.task = expect_one_of(doc, ("task",), data["task"], TASKS)
    if "data" in data:
        validate_data_spec(doc, ("data",), data["data"])
        spec.data = data["data"]
    spec.settings = _settings(doc, data)
    if "inputs" in data:
        spec.inputs = _inputs(doc, data["inputs"])
    if "space" in data:
        _space(doc, data["space"], spec)
    return spec


def overridden(settings, given):
    """``(settings, dropped)``: a spec's flat ``settings`` overridden by ``given`` (the
    command's flags, an estimator's parameters). Where ``given`` names another strategy
    and no options of its own, the spec's strategy options that it does not take are left
    out and named in ``dropped``: they were the spec's strategy's (``search_trials`` of
    ``oneshot`` means nothing to ``darts``)."""
    settings, dropped = dict(settings), []
    if "strategy" in given and given["strategy"] != settings.get("strategy") and \
            "strategy_options" not in given:
        name = given["strategy"]  # an unknown one is refused with the other settings
        accepted = set(strategy_options(name)) if isinstance(name, str) and \
            name in STRATEGIES else set()
        options = settings.pop("strategy_options", None) or {}
        settings["strategy_options"] = {k: v for k, v in options.items() if k in accepted}
        dropped = sorted(set(options) - accepted)
    return {**settings, **given}, dropped


def _name(doc, value):
    name = expect(doc, ("name",), value, str)
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise doc.error(("name",), f"a spec's name is a plain name (no '/', '\\' or '..'), "
                        f"got {name!r}")
    return name


# -- search settings (owned by autoarch.config) ------------------------------------------
def _settings(doc, data):
    settings = {}
    if "seed" in data:
        settings["seed"] = expect_positive(doc, ("seed",), data["seed"], int, allow_zero=True)
    if "objective" in data:
        settings["objective"] = _objective(doc, data["objective"])
    if "objectives" in data:
        items = expect(doc, ("objectives",), data["objectives"], list, "a list of objectives")
        settings["objectives"] = [_objective(doc, item, ("objectives", i))
                                  for i, item in enumerate(items)]
    if "constraints" in data:
        settings["constraints"] = expect(doc, ("constraints",), data["constraints"], dict,
                                         "a mapping {name: bound}")
    if "strategy" in data:
        settings["strategy"], settings["strategy_options"] = _strategy(doc, data["strategy"])
    settings.update({name: data[name] for name in PLAIN_KEYS if name in data})
    for section, cls in SECTIONS.items():
        if section in data:
            settings.update(_section(doc, section, cls, data[section]))
    try:
        SearchConfig.from_flat(settings)
    except ConfigError as err:  # a combination, e.g. an option value the strategy refuses
        where = ("strategy",) if err.name in ("strategy", "strategy_options") else \
            _where(settings, err.name)
        raise doc.error(where, err.message) from None
    return settings


def _where(settings, name):
    section = FLAT_FIELDS[name][0]
    return (name,) if section is None else (section, name)


def _objective(doc, value, path=("objective",)):
    if isinstance(value, str):
        if not value:
            raise doc.error(path, "objective name must not be empty")
        return value
    expect(doc, path, value, dict, "a metric name or a mapping {name:, direction:}")
    check_keys(doc, path, value, ("name", "direction"), required=("name",))
    name = expect(doc, path + ("name",), value["name"], str)
    if "direction" not in value:
        return name  # the one rule of autoarch.objectives infers it
    return (name, expect_one_of(doc, path + ("direction",), value["direction"], DIRECTIONS))


def _strategy(doc, value):
    path = ("strategy",)
    if isinstance(value, str):
        name, options, name_path = value, {}, path
    else:
        expect(doc, path, value, dict, "a strategy name or a mapping {name:, ...options}")
        if "name" not in value:
            raise doc.error(path, "missing required key 'name'")
        name, options = value["name"], {k: v for k, v in value.items() if k != "name"}
        name_path = path + ("name",)
    if name not in STRATEGIES:
        raise doc.error(name_path, f"unknown strategy '{name}'{did_you_mean(name, STRATEGIES)}; "
                        f"available: {', '.join(STRATEGIES)}")
    check_keys(doc, path, options, strategy_options(name))
    return name, options


def _misplaced(doc, path, mapping, allowed):
    """A setting written where another section holds it (``time_limit`` at the top, not
    under ``budget``): say where it goes."""
    for key in mapping:
        home = FLAT_FIELDS[key][0] if key in FLAT_FIELDS else None
        if key not in allowed and (home or key in TOP_KEYS):
            where = f"under '{home}:' ({home}: {{{key}: ...}})" if home else "at the top level"
            raise doc.error(path + (key,), f"'{key}' goes {where}", at_key=True)


def _section(doc, section, cls, value):
    path = (section,)
    expect(doc, path, value, dict)
    names = [f for f, (s, _) in FLAT_FIELDS.items() if s == section]
    _misplaced(doc, path, value, names)
    check_keys(doc, path, value, names)
    for key, item in value.items():  # searched values: precise positions inside them
        if isinstance(item, list) or is_definition(item):
            definition = item if is_definition(item) else {"type": "choice", "values": item}
            add_parameter(ParameterSpace(), doc, path + (key,), key, definition)
    try:
        cls(**value)
    except ConfigError as err:
        raise doc.error(path + (err.name,), err.message) from None
    return dict(value)


# -- inputs and space ---------------------------------------------------------------------
def _inputs(doc, value):
    path = ("inputs",)
    expect(doc, path, value, dict, "a mapping of input names to {kind:, blocks:}")
    if not value:
        raise doc.error(path, "list at least one input, or leave 'inputs' out")
    inputs = {}
    for name, item in value.items():
        item_path = path + (name,)
        if not isinstance(name, str) or not name:
            raise doc.error(item_path, f"input names are non-empty strings, got {name!r}",
                            at_key=True)
        item = {} if item is None else item
        expect(doc, item_path, item, dict, "a mapping {kind:, blocks:}")
        check_keys(doc, item_path, item, INPUT_KEYS)
        kind = item.get("kind")
        if kind is not None:
            expect_one_of(doc, item_path + ("kind",), kind, KIND_NAMES)
        blocks = None
        if "blocks" in item:
            blocks = validate_blocks(doc, item_path + ("blocks",), item["blocks"])
        inputs[name] = {"kind": kind, "blocks": blocks}
    return inputs


def _space(doc, value, spec):
    path = ("space",)
    expect(doc, path, value, dict)
    check_keys(doc, path, value, SPACE_KEYS)
    if "parameters" in value and ("blocks" in value or spec.inputs):
        raise doc.error(path + ("parameters",), "a model space declares its parameters through "
                        "its blocks' arguments (a list or a definition on the argument); "
                        "'parameters' is for searches over plain Python objectives")
    if "parameters" in value:
        spec.parameters = value["parameters"]
        spec.declare(ParameterSpace())  # checked where it is written
    if "blocks" in value:
        spec.blocks = validate_blocks(doc, path + ("blocks",), value["blocks"])


def load_space(source):
    """A ``kt.HyperParameters`` from itself, a spec path, a full spec dict, a ``space:``
    section (``{"parameters": ...}``) or a bare ``parameters`` mapping."""
    import keras_tuner as kt

    if isinstance(source, kt.HyperParameters):
        return source
    if isinstance(source, dict) and not (set(source) & set(TOP_KEYS)):
        if set(source) <= set(SPACE_KEYS) and isinstance(source.get("parameters", {}), dict):
            source = {"space": source}
        else:
            source = {"space": {"parameters": source}}
    return load_spec(source).hyperparameters
