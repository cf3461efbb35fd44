"""What lets ``autoarch validate`` check a spec without TensorFlow stays equal to the real
thing: the parameter record to keras-tuner's, the strategies' option table to their
constructors, the input kinds' names to their classes, and the list of modules that register
Keras objects to every module that does."""

import importlib
import inspect
import os
import pkgutil
import subprocess
import sys

import keras_tuner as kt
import pytest

import autoarch
from autoarch.blocks import ModelSpace
from autoarch.blocks.layout import SpaceLayout
from autoarch.cli import builtin_specs_dir
from autoarch.inputs import INPUT_KINDS, KIND_NAMES
from autoarch.spec.space import ParameterSpace
from autoarch.specfile import load_spec
from autoarch.strategies import OPTIONS, check_options, make_strategy, strategy_class

READY = sorted(f for f in os.listdir(builtin_specs_dir()) if f.endswith(".yaml"))


def _described(hp):
    return [(p.name, type(p).__name__, p.default, [(c.name, list(c.values)) for c in p.conditions])
            for p in hp.space], dict(hp.values)


@pytest.mark.parametrize("name", READY)
def test_a_ready_spec_declares_the_same_parameters_in_both_records(name):
    path = os.path.join(builtin_specs_dir(), name)
    spaces = []
    for make in (ModelSpace, SpaceLayout):
        spec = load_spec(path)
        spaces.append(make(spec.blocks, training=spec.config.training.choices())
                      .hyperparameters())
    assert isinstance(spaces[0], kt.HyperParameters) and isinstance(spaces[1], ParameterSpace)
    assert len(spaces[0].space) > 3
    assert _described(spaces[0]) == _described(spaces[1])


def test_free_parameters_with_conditions_declare_the_same_in_both_records():
    spec = load_spec({"space": {"parameters": {
        "model": {"type": "choice", "values": ["a", "b"]},
        "depth": {"type": "int", "min": 1, "max": 4, "when": {"model": "b"}},
        "rate": {"type": "float", "min": 1e-4, "max": 1e-1, "sampling": "log", "default": 1e-3},
        "nested": {"flag": {"type": "boolean", "default": True}, "width": 3}}}})
    light = spec.declare(ParameterSpace())
    assert _described(spec.hyperparameters) == _described(light)
    assert light.values == {"model": "a", "rate": 1e-3, "nested/flag": True, "nested/width": 3}


def _constructor_options(cls):
    """``{option: default}`` over the autoarch classes of ``cls``'s MRO (keras-tuner's own
    arguments are given by the search, not the user)."""
    options = {}
    for klass in reversed(cls.__mro__):
        if "__init__" in vars(klass) and klass.__module__.startswith("autoarch"):
            for p in inspect.signature(klass.__init__).parameters.values():
                if p.default is not inspect.Parameter.empty:
                    options[p.name] = p.default
    reserved = {"objective", "max_trials", "hyperparameters", "seed", "max_retries_per_trial",
                "max_consecutive_failed_trials"}
    return {k: v for k, v in options.items() if k not in reserved}


@pytest.mark.parametrize("name", list(OPTIONS))
def test_the_option_table_is_what_each_strategy_constructor_takes(name):
    assert _constructor_options(strategy_class(name)) == OPTIONS[name]
    oracle = make_strategy(name, kt.HyperParameters(), kt.Objective("value", "max"), seed=0)
    assert oracle.name == name


@pytest.mark.parametrize("name, options, message", [
    ("evolution", {"population_size": 1}, "population_size must be >= 2"),
    ("evolution", {"sample_size": 30}, r"sample_size must be in \[1, population_size=20\]"),
    ("bayesian", {"num_initial_points": 1}, "num_initial_points must be >= 2"),
    ("reinforce", {"baseline_decay": 1.0}, r"baseline_decay must be in \[0, 1\)"),
    ("hyperband", {"max_epochs": 0}, "max_epochs must be >= 1"),
    ("zero_cost", {"rows": 0}, "rows must be an int >= 1"),
    ("oneshot", {"prescreen": 2}, "prescreen applies to strategies that suggest one"),
    ("random", {"prescreen": 0}, "prescreen must be an int >= 1"),
    ("evolution", {"population_size": "20"}, "wrong type.*population_size='20'"),
    ("darts", {"architecture_learning_rate": "fast"},
     "darts: architecture_learning_rate must be a number > 0, got 'fast'"),
    ("gdas", {"architecture_learning_rate": 0}, "gdas: architecture_learning_rate must be"),
    ("darts", {"max_skips": -1}, "darts: max_skips must be an int >= 0"),
    ("gdas", {"top_k": 0}, "gdas: top_k must be an int >= 1"),
    ("oneshot", {"shrink_rounds": -1}, "oneshot: shrink_rounds must be an int >= 0"),
    ("oneshot", {"shrink_samples": 0}, "oneshot: shrink_samples must be an int >= 1"),
    ("darts", {"selection": "weights"},
     r"unknown selection 'weights' \(did you mean 'weight'\?\)"),
])
def test_the_table_and_the_constructor_refuse_the_same_values(name, options, message):
    with pytest.raises(ValueError, match=message):
        check_options(name, options)
    with pytest.raises(ValueError, match=message):
        strategy_class(name)(objective=kt.Objective("value", "max"), **options)


def test_a_phased_strategy_of_ones_own_refuses_prescreening_too():
    from autoarch.strategies.base import PhasedStrategy

    class Mine(PhasedStrategy):
        name = "mine"

    with pytest.raises(ValueError, match="strategy 'mine': prescreen applies to strategies"):
        Mine(objective=kt.Objective("value", "max"), prescreen=2)
    assert Mine(objective=kt.Objective("value", "max")).prescreen == 1


def test_an_unknown_option_is_named_with_a_suggestion():
    with pytest.raises(autoarch.SpecError, match="unknown option 'populaton_size'.*did you "
                       "mean 'population_size'"):
        check_options("evolution", {"populaton_size": 4})


def test_the_kind_names_are_the_input_kinds():
    assert KIND_NAMES == tuple(INPUT_KINDS)
    assert all(cls.kind == name for name, cls in INPUT_KINDS.items())


def test_register_objects_registers_what_every_module_registers():
    every = ("import importlib, pkgutil, autoarch\n"
             "for m in pkgutil.walk_packages(autoarch.__path__, 'autoarch.'):\n"
             "    if m.name != 'autoarch.__main__':\n        importlib.import_module(m.name)\n")
    listed = "from autoarch.export import register_objects\nregister_objects()\n"
    show = ("import keras\nprint(sorted(k for k in keras.saving.get_custom_objects() "
            "if k.startswith('autoarch>')))")
    found = [subprocess.run([sys.executable, "-c", code + show], capture_output=True,
                            text=True, timeout=300).stdout.strip().splitlines()[-1]
             for code in (every, listed)]
    assert found[0] == found[1] and "autoarch>Switch" in found[0] and \
        "autoarch>SelectFeatures" in found[0]


def test_importing_every_module_by_itself_works():
    """Lazy package attributes leave no module depending on an import done elsewhere."""
    names = [m.name for m in pkgutil.walk_packages(autoarch.__path__, "autoarch.")
             if m.name != "autoarch.__main__"]
    code = ("import importlib, sys\nfor name in sys.argv[1:]:\n"
            "    importlib.import_module(name)\n    for m in [m for m in sys.modules "
            "if m.startswith('autoarch')]:\n        del sys.modules[m]\nprint('ok')")
    result = subprocess.run([sys.executable, "-c", code, *names], capture_output=True,
                            text=True, timeout=300)
    assert result.stdout.strip().endswith("ok"), result.stderr[-2000:]
    assert importlib.import_module("autoarch.blocks").ModelSpace is ModelSpace
