"""One search configuration: the same defaults and the same checks for Python, specs and
command flags; a spec honoured wholly by the estimators; one objective-direction rule."""

import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris

from autoarch import AutoClassifier, AutoRegressor, SearchConfig, SpecError, load_spec
from autoarch.blocks import ClassificationHead, DenseBlock, ModelSpace
from autoarch.cli import build_parser, setting_flag, main
from autoarch.config import FLAT_FIELDS, ConfigError
from autoarch.engine.journal import Journal
from autoarch.engine.search import ModelSearch
from autoarch.estimators.base import OWN_PARAMETERS
from autoarch.objectives import make_objective
from autoarch.specfile import overridden

X, Y = load_iris(return_X_y=True)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("setting, value, message", [
    ("max_trials", 0, "max_trials: must be an int >= 1 or None; got 0"),
    ("max_trials", 2.5, "max_trials: must be an int >= 1 or None; got 2.5"),
    ("time_limit", -5, "time_limit: must be a number > 0 or None; got -5"),
    ("epochs", 0, "epochs: must be an int >= 1; got 0"),
    ("batch_size", 0, "batch_size: must be an int >= 1; got 0"),
    ("search_data_fraction", 0, "search_data_fraction: must be a number in (0, 1]; got 0"),
    ("validation_split", 1.0, "validation_split: must be a number in (0, 1); got 1.0"),
    ("curve_stopping", "yes", "curve_stopping: must be True or False; got 'yes'"),
    ("isolate_trials", "sometimes", "isolate_trials: must be True, False or 'auto'; got "),
    ("ensemble_size", 0, "ensemble_size: must be an int >= 1; got 0"),
    ("strategy", "bayes", "did you mean 'bayesian'?"),
    ("learning_rate", [0.1, -1.0], "every value must be a number > 0, got -1.0"),
    ("lr_schedule", "cosine", "one of 'constant', 'plateau'"),
    ("weight_decay", -0.1, ">= 0"),
])
def test_bad_values_are_refused_before_anything_trains(setting, value, message, tmp_path):
    with pytest.raises(ValueError) as info:
        AutoClassifier(**{setting: value}, directory=tmp_path).fit(X, Y)
    assert str(info.value).startswith("AutoClassifier: parameter ")
    assert message in str(info.value)
    assert not Journal(tmp_path, create=False).exists()  # refused before the search started


def test_bad_values_in_a_spec_name_their_place(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("strategy: evolution\nbudget:\n  epochs: 5\n  max_trials: 0\n")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(info.value) == (f"{path}:4:15: budget.max_trials: must be an int >= 1 or None; "
                               "got 0")
    path.write_text("strategy: {name: evolution, population_size: 1}\n")
    with pytest.raises(SpecError, match=r"spec.yaml:1:11: strategy: evolution: population_size "
                                        "must be >= 2"):
        load_spec(path)


@pytest.mark.parametrize("flag, value", [("--max-trials", "0"), ("--epochs", "0"),
                                         ("--time-limit", "0")])
def test_bad_command_flags_name_the_flag(flag, value, capsys):
    assert main(["search", "digits", flag, value]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"error: {flag}: must be ")


@pytest.mark.parametrize("word, value", [("auto", "auto"), ("yes", True), ("no", False),
                                         ("off", False)])
def test_three_way_switches_read_from_the_command_line(word, value):
    flags = build_parser().parse_args(["search", "digits", "--isolate-trials", word])
    assert flags.isolate_trials == value
    assert SearchConfig.from_flat({"isolate_trials": value}).training.isolate_trials == value


def test_one_set_of_defaults_everywhere():
    space = ModelSpace([DenseBlock(), ClassificationHead()])
    assert ModelSearch(space).config == SearchConfig()
    assert AutoClassifier()._config(None) == SearchConfig()
    assert load_spec({"name": "x"}).config == SearchConfig()
    flags = build_parser().parse_args(["search", "digits"])
    assert all(getattr(flags, name) is None for name, (_, f) in FLAT_FIELDS.items()
               if f.metadata["flag"])  # unset flags leave the spec's values and the defaults


def test_every_setting_is_an_estimator_parameter_and_a_flag():
    """A new setting of autoarch.config reaches the estimators and the command by itself."""
    assert list(AutoRegressor().get_params()) == sorted([*OWN_PARAMETERS, *FLAT_FIELDS])
    help_text = build_parser()._subparsers._group_actions[0].choices["search"].format_help()
    for name, (_, f) in FLAT_FIELDS.items():
        if f.metadata["flag"]:
            assert setting_flag(name) + " " in help_text, name
        else:
            assert "--" + name.replace("_", "-") not in help_text, name
        assert f"{name} : " in AutoClassifier.__doc__, name
    with pytest.raises(ConfigError, match="unknown setting.*did you mean 'max_trials'"):
        SearchConfig.from_flat({"max_trial": 3})


SPEC = """
task: classification
seed: 3
strategy: {name: evolution, population_size: 4, sample_size: 2}
objective: val_loss
budget: {max_trials: 3, epochs: 4, early_stopping_patience: 2, curve_stopping: false}
training: {batch_size: 16, learning_rate: [0.01, 0.02], optimizer: sgd,
           lr_schedule: [constant, plateau], weight_decay: [0.0, 0.05]}
space:
  blocks:
    - {block: dense, num_layers: 1, units: [4, 8]}
    - {block: classification_head}
"""


def test_a_spec_is_honoured_wholly_and_set_parameters_override_it(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    clf = AutoClassifier(spec=str(path), max_trials=2, epochs=1, directory=tmp_path / "run")
    clf.fit(X, Y)
    config = clf.config_
    assert (config.strategy, config.seed) == ("evolution", 3)
    assert config.strategy_options == {"population_size": 4, "sample_size": 2}
    assert config.objective == "val_loss" and clf.search_results_[0]["metrics"]["batch_size"] == 16
    assert (config.budget.max_trials, config.budget.epochs) == (2, 1)  # set: they override
    assert config.budget.early_stopping_patience == 2 and not config.budget.curve_stopping
    header = Journal(tmp_path / "run").read()[0]
    assert header["strategy"] == "evolution" and header["objective"] == ["val_loss", "min"]
    params = [t["params"] for t in clf.search_results_]
    assert {p["training/learning_rate"] for p in params} <= {0.01, 0.02}
    assert {p["training/lr_schedule"] for p in params} <= {"constant", "plateau"}
    assert type(clf.best_model_.optimizer).__name__ == "SGD"
    assert clf.best_model_.optimizer.weight_decay == clf.best_params_["training/weight_decay"]
    # a strategy set explicitly drops the spec's strategy's options that it does not take
    assert AutoClassifier(spec=str(path), strategy="random")._config(
        load_spec(path)).strategy_options == {}
    oneshot = {"strategy": "oneshot", "strategy_options": {"supernet_epochs": 2,
                                                           "search_trials": 4}}
    assert overridden(oneshot, {"strategy": "darts"}) == (
        {"strategy": "darts", "strategy_options": {"supernet_epochs": 2}}, ["search_trials"])
    assert overridden(oneshot, {"strategy": "darts", "strategy_options": {}}) == (
        {"strategy": "darts", "strategy_options": {}}, [])  # given: the options too
    assert overridden(oneshot, {"seed": 1}) == ({**oneshot, "seed": 1}, [])


def test_a_spec_of_the_other_task_is_refused(tmp_path):
    with pytest.raises(ValueError, match="the spec's task is classification, but AutoRegressor"):
        AutoRegressor(spec={"task": "classification"}).fit(X, Y * 1.0)


def test_space_parameters_beside_blocks_are_refused_not_ignored():
    with pytest.raises(SpecError, match="space.parameters: a model space declares its "
                                        "parameters through its blocks"):
        load_spec({"space": {"parameters": {"a": {"type": "int", "min": 1, "max": 3}},
                             "blocks": [{"block": "dense"}]}})


@pytest.mark.parametrize("given, expected", [
    ("val_loss", ("val_loss", "min")), ("val_accuracy", ("val_accuracy", "max")),
    ("val_mean_absolute_error", ("val_mean_absolute_error", "min")),
    ({"name": "val_loss"}, ("val_loss", "min")), ("val_loss:max", ("val_loss", "max")),
    (("val_auc", "min"), ("val_auc", "min")), ("max", ("value", "max")),
])
def test_one_rule_for_an_objective_direction(given, expected):
    objective = make_objective(given)
    assert (objective.name, objective.direction) == expected
    if isinstance(given, dict):  # a spec's {name: ...} reads the same way
        assert make_objective(load_spec({"objective": given}).config.objective).direction == \
            expected[1]


def test_importing_autoarch_changes_nothing_process_wide():
    code = ("import os; import autoarch; from autoarch import AutoClassifier, Study; "
            "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = ROOT
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "None"


def test_several_inputs_from_python_and_from_a_spec(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.normal(size=(60, 8, 8)).astype("float32")
    table = {"a": rng.normal(size=60)}
    import pandas as pd

    frame = pd.DataFrame(table).assign(b=np.where(np.arange(60) % 2, "x", "y"))
    y = (frame["a"] > 0).astype(int).to_numpy()
    fast = dict(max_trials=1, epochs=2, strategy="random")
    clf = AutoClassifier(**fast).fit({"image": images, "table": frame}, y)
    assert clf.input_kind_ == {"image": "image", "table": "tabular"}
    assert clf.predict({"image": images[:5], "table": frame.head(5)}).shape == (5,)
    with pytest.raises(ValueError, match=r"X must give the inputs seen in fit \(image, table\)"):
        clf.predict(images)
    spec = {"inputs": {"pixels": {"kind": "sequence", "blocks": [{"block": "conv1d"}]},
                       "meta": {"blocks": [{"block": "dense", "units": 8}]}},
            "space": {"blocks": [{"block": "dense", "num_layers": 1},
                                 {"block": "classification_head"}]}}
    clf = AutoClassifier(spec=spec, **fast).fit({"pixels": images, "meta": frame}, y)
    assert clf.input_kind_ == {"pixels": "sequence", "meta": "tabular"}
    names = {p.split("/")[0] for p in clf.best_params_}
    assert {"conv1d_1", "dense_1", "dense_2", "merge"} <= names


def test_the_readme_spec_is_valid(tmp_path):
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    text = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "my_spec.yaml").write_text(text)
    spec = load_spec(tmp_path / "my_spec.yaml")
    assert spec.config.strategy == "evolution" and spec.config.budget.max_trials == 12
    assert [b.kind for b in spec.blocks] == ["choice", "classification_head"]


def test_a_blocks_first_trials_in_a_spec_come_first_and_a_bad_one_names_its_place(tmp_path):
    text = ("task: classification\nspace:\n  blocks:\n    - block: dense\n"
            "      first_trials: {points}\n    - block: classification_head\n")
    path = tmp_path / "space.yaml"
    path.write_text(text.format(points="[{units: 64, num_layers: 2}]"))
    space = ModelSpace(load_spec(str(path)).blocks)
    assert space.first_trials() == [{"dense_1/units": 64, "dense_1/num_layers": 2}]
    path.write_text(text.format(points="3"))
    with pytest.raises(SpecError, match=r"space.yaml:4:7: space.blocks\[0\]: DenseBlock: "
                                        r"first_trials must be a list"):
        load_spec(str(path))
