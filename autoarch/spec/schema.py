"""The spec: one validated object from a YAML file or a dict, checked before anything runs.

Top-level keys::

    name: digits-mlp                  # optional label
    task: classification              # or regression (for model searches)
    data: sklearn:digits              # where the data comes from (see autoarch.data)
    seed: 0
    objective: val_accuracy           # "max"/"min", a metric, or {name:, direction:}
    strategy: evolution               # or {name: evolution, population_size: 20, ...}
    budget: {max_trials: 10, time_limit: 600, epochs: 5, ...}
    training: {batch_size: 32, ...}   # how each candidate trains
    space:
      parameters: {...}               # free hyperparameters (see autoarch.spec.params)
      blocks: [...]                   # model blocks (see autoarch.blocks)
"""

import os
from dataclasses import dataclass, field

import keras_tuner as kt

from autoarch.errors import SpecError
from autoarch.spec.checks import check_keys, expect, expect_one_of, expect_positive
from autoarch.spec.params import add_parameters
from autoarch.spec.yaml_loader import MarkedDocument, load_yaml_file

TOP_KEYS = ("name", "task", "data", "seed", "objective", "strategy", "budget", "training", "space")
TASKS = ("classification", "regression")
BUDGET_KEYS = ("max_trials", "time_limit", "epochs", "max_consecutive_failures",
               "search_data_fraction", "search_epochs", "early_stopping_patience",
               "curve_stopping", "final_fit")
SPACE_KEYS = ("parameters", "blocks")


@dataclass
class Spec:
    """A validated spec. ``hyperparameters`` holds the free parameters of ``space.parameters``."""

    hyperparameters: kt.HyperParameters
    name: str = None
    task: str = None
    data: object = None
    seed: int = None
    objective: object = None
    strategy: str = "random"
    strategy_options: dict = field(default_factory=dict)
    budget: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    blocks: list = None
    file: str = None
    document: MarkedDocument = None


def _document(source):
    if isinstance(source, MarkedDocument):
        return source
    if isinstance(source, dict):
        return MarkedDocument(source)
    if isinstance(source, (str, os.PathLike)):
        return load_yaml_file(source)
    raise SpecError(f"a spec must be a YAML path or a dict, got {type(source).__name__}")


def load_spec(source):
    """Validate a whole spec (path, dict or parsed document); errors name file:line:column."""
    doc = _document(source)
    data = doc.data
    expect(doc, (), data, dict, "a mapping at the top of the spec")
    check_keys(doc, (), data, TOP_KEYS)
    spec = Spec(hyperparameters=kt.HyperParameters(), file=doc.file, document=doc)
    if "name" in data:
        spec.name = expect(doc, ("name",), data["name"], str)
    if "task" in data:
        spec.task = expect_one_of(doc, ("task",), data["task"], TASKS)
    if "seed" in data:
        spec.seed = expect_positive(doc, ("seed",), data["seed"], int, allow_zero=True)
    if "objective" in data:
        spec.objective = _objective(doc, data["objective"])
    if "strategy" in data:
        spec.strategy, spec.strategy_options = _strategy(doc, data["strategy"])
    if "budget" in data:
        spec.budget = _budget(doc, data["budget"])
    if "data" in data:
        spec.data = data["data"]
        from autoarch.data import validate_data_spec

        validate_data_spec(doc, ("data",), data["data"])
    if "training" in data:
        from autoarch.engine.training_config import validate_training

        spec.training = validate_training(doc, ("training",), data["training"])
    if "space" in data:
        _space(doc, data["space"], spec)
    return spec


def _objective(doc, value):
    path = ("objective",)
    if isinstance(value, str):
        if value in ("max", "min"):
            return value
        if not value:
            raise doc.error(path, "objective name must not be empty")
        return value
    expect(doc, path, value, dict, "a metric name or a mapping {name:, direction:}")
    check_keys(doc, path, value, ("name", "direction"), required=("name",))
    name = expect(doc, path + ("name",), value["name"], str)
    direction = expect_one_of(doc, path + ("direction",), value.get("direction", "max"),
                              ("max", "min"))
    return (name, direction)


def _strategy(doc, value):
    from autoarch.strategies import STRATEGIES, strategy_options
    from autoarch.spec.checks import did_you_mean

    path = ("strategy",)
    if isinstance(value, str):
        name, options = value, {}
        name_path = path
    else:
        expect(doc, path, value, dict, "a strategy name or a mapping {name:, ...options}")
        if "name" not in value:
            raise doc.error(path, "missing required key 'name'")
        name, options = value["name"], {k: v for k, v in value.items() if k != "name"}
        name_path = path + ("name",)
    if name not in STRATEGIES:
        raise doc.error(name_path, f"unknown strategy '{name}'{did_you_mean(name, STRATEGIES)}; "
                        f"available: {', '.join(STRATEGIES)}")
    check_keys(doc, path, {k: None for k in options}, strategy_options(name))
    return name, options


def _budget(doc, value):
    path = ("budget",)
    expect(doc, path, value, dict)
    check_keys(doc, path, value, BUDGET_KEYS)
    budget = dict(value)
    for key in ("max_trials", "epochs", "max_consecutive_failures", "search_epochs",
                "early_stopping_patience"):
        if key in budget and budget[key] is not None:
            expect_positive(doc, path + (key,), budget[key], int)
    if "time_limit" in budget and budget["time_limit"] is not None:
        expect_positive(doc, path + ("time_limit",), budget["time_limit"], float)
    if "search_data_fraction" in budget:
        fraction = expect(doc, path + ("search_data_fraction",), budget["search_data_fraction"],
                          float)
        if not 0 < fraction <= 1:
            raise doc.error(path + ("search_data_fraction",), f"must be in (0, 1], got {fraction}")
    for key in ("curve_stopping", "final_fit"):
        if key in budget:
            expect(doc, path + (key,), budget[key], bool)
    return budget


def _space(doc, value, spec):
    path = ("space",)
    expect(doc, path, value, dict)
    check_keys(doc, path, value, SPACE_KEYS)
    if "parameters" in value:
        add_parameters(spec.hyperparameters, doc, path + ("parameters",), value["parameters"])
    if "blocks" in value:
        from autoarch.blocks.from_spec import validate_blocks

        spec.blocks = validate_blocks(doc, path + ("blocks",), value["blocks"],
                                      spec.hyperparameters)


def load_space(source):
    """A ``kt.HyperParameters`` from itself, a spec path, a full spec dict, a ``space:``
    section (``{"parameters": ...}``) or a bare ``parameters`` mapping."""
    if isinstance(source, kt.HyperParameters):
        return source
    if isinstance(source, dict) and not (set(source) & set(TOP_KEYS)):
        if set(source) <= set(SPACE_KEYS) and isinstance(source.get("parameters", {}), dict):
            source = {"space": source}
        else:
            source = {"space": {"parameters": source}}
    spec = load_spec(source)
    return spec.hyperparameters
