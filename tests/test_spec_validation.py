"""Spec validation: each error kind names file:line:column and the path in the spec."""

import keras_tuner as kt
import pytest

from autoarch import SpecError, load_space, load_spec


def write(tmp_path, text):
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


def error_of(tmp_path, text):
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, text))
    return info.value


def test_malformed_yaml_names_line(tmp_path):
    err = error_of(tmp_path, "space:\n  parameters:\n    a: {type: int, min: 1\n  b: 2\n")
    assert err.file.endswith("spec.yaml") and err.line == 4
    assert "malformed YAML" in str(err) and str(err).startswith(f"{err.file}:4:")


def test_unknown_key_suggests_the_right_one(tmp_path):
    err = error_of(tmp_path, "name: x\nstratgy: random\n")
    assert (err.line, err.column) == (2, 1)
    assert "unknown key 'stratgy'" in str(err) and "did you mean 'strategy'?" in str(err)


def test_a_setting_in_the_wrong_section_says_where_it_goes(tmp_path):
    err = error_of(tmp_path, "name: x\ntime_limit: 60\n")
    assert (err.line, err.path) == (2, "time_limit")
    assert "'time_limit' goes under 'budget:' (budget: {time_limit: ...})" in str(err)
    err = error_of(tmp_path, "budget:\n  max_trials: 3\n  learning_rate: 0.01\n")
    assert (err.line, err.path) == (3, "budget.learning_rate")
    assert "goes under 'training:'" in str(err)
    err = error_of(tmp_path, "training:\n  seed: 3\n")
    assert err.path == "training.seed" and "'seed' goes at the top level" in str(err)


def test_unknown_parameter_field_suggests(tmp_path):
    err = error_of(tmp_path, "space:\n  parameters:\n    units: {type: int, min: 1, maxx: 9}\n")
    assert err.line == 3 and err.path == "space.parameters.units.maxx"
    assert "did you mean 'max'?" in str(err)


def test_duplicate_key(tmp_path):
    err = error_of(tmp_path, "seed: 1\nspace: {}\nseed: 2\n")
    assert (err.line, err.column) == (3, 1)
    assert "duplicate key 'seed' (first defined at line 1)" in str(err)


def test_wrong_type(tmp_path):
    err = error_of(tmp_path, "space:\n  parameters:\n    units: {type: int, min: one, max: 9}\n")
    assert err.line == 3 and err.path == "space.parameters.units.min"
    assert "expected an integer, got a string ('one')" in str(err)


def test_training_section_is_checked(tmp_path):
    err = error_of(tmp_path, "training:\n  batch_size: 32\n  isolate_trials: yes please\n")
    assert err.line == 3 and err.path == "training.isolate_trials"
    err = error_of(tmp_path, "training: {trials_per_worker: 0}\n")
    assert err.path == "training.trials_per_worker"
    spec = load_spec(write(tmp_path, "training: {isolate_trials: true, trials_per_worker: 5}\n"))
    assert spec.settings == {"isolate_trials": True, "trials_per_worker": 5}
    assert spec.config.training.trials_per_worker == 5 and spec.config.budget.epochs == 20


def test_how_the_final_model_is_made_is_set_at_the_top_level(tmp_path):
    config = load_spec(write(tmp_path, "ensemble_size: 1\ncrossval_rows: 0\n"
                                       "boosted_trees: false\n")).config
    assert (config.ensemble_size, config.crossval_rows, config.boosted_trees) == (1, 0, False)
    assert config.table_linear  # the rest keep their defaults
    err = error_of(tmp_path, "seed: 0\ncrossval_rows: -1\n")
    assert (err.line, err.column) == (2, 16) and "crossval_rows: must be an int >= 0" in str(err)


def test_empty_choice(tmp_path):
    err = error_of(tmp_path, "space:\n  parameters:\n    act:\n      type: choice\n      values: []\n")
    assert err.line == 5 and "at least one value" in str(err)


def test_min_greater_than_max(tmp_path):
    err = error_of(tmp_path, "space:\n  parameters:\n    lr: {type: float, min: 0.5, max: 0.1}\n")
    assert err.line == 3 and "min (0.5) is greater than max (0.1)" in str(err)


def test_unknown_strategy_name(tmp_path):
    err = error_of(tmp_path, "strategy:\n  name: evolutoin\n")
    assert (err.line, err.column) == (2, 9)
    assert "unknown strategy 'evolutoin'" in str(err) and "did you mean 'evolution'?" in str(err)


def test_unknown_strategy_option(tmp_path):
    err = error_of(tmp_path, "strategy: {name: evolution, population: 10}\n")
    assert err.line == 1 and "did you mean 'population_size'?" in str(err)


def test_python_object_tags_are_rejected(tmp_path):
    err = error_of(tmp_path, "name: !!python/object/apply:os.system ['echo hi']\n")
    assert err.line == 1 and "unsupported tag" in str(err)


def test_error_path_inside_block_list(tmp_path):
    text = "space:\n  parameters:\n    a: 1\n    b:\n      type: choice\n      values: [1, x]\n"
    err = error_of(tmp_path, text)
    assert err.path == "space.parameters.b.values" and err.line == 6
    assert "share one type" in str(err)


def test_conditional_on_unknown_parent(tmp_path):
    text = "space:\n  parameters:\n    k: {type: int, min: 1, max: 3, when: {opp: conv}}\n"
    err = error_of(tmp_path, text)
    assert err.line == 3 and "unknown parameter 'opp'" in str(err)


def test_dict_spec_errors_name_the_path():
    with pytest.raises(SpecError, match=r"^space\.parameters\.a\.min: min \(3\) is greater"):
        load_spec({"space": {"parameters": {"a": {"type": "int", "min": 3, "max": 1}}}})


def test_valid_spec_maps_onto_keras_tuner(tmp_path):
    text = """
space:
  parameters:
    lr: {type: float, min: 1e-4, max: 1e-1, sampling: log}
    optimizer: {type: choice, values: [adam, sgd]}
    momentum: {type: float, min: 0.0, max: 0.99, when: {optimizer: sgd}}
    use_bn: {type: boolean, default: true}
    epochs: {type: fixed, value: 3}
    encoder:
      units: {type: int, min: 16, max: 128, step: 16}
      act: {type: choice, values: [relu, tanh], when: {units: [16, 32]}}
"""
    spec = load_spec(write(tmp_path, text))
    hp = spec.hyperparameters
    names = [p.name for p in hp.space]
    assert names == ["lr", "optimizer", "momentum", "use_bn", "epochs", "encoder/units",
                     "encoder/act"]
    lr = hp.space[0]
    assert isinstance(lr, kt.engine.hyperparameters.Float) and lr.min_value == 1e-4
    assert lr.sampling == "log"
    momentum = hp.space[2]
    assert momentum.conditions[0].name == "optimizer"
    assert momentum.conditions[0].values == ["sgd"]
    assert hp.space[6].conditions[0].name == "encoder/units"
    assert hp.values["use_bn"] is True


def test_load_space_accepts_all_forms(tmp_path):
    params = {"a": {"type": "int", "min": 1, "max": 4}}
    hp = kt.HyperParameters()
    hp.Int("a", 1, 4)
    for source in (params, {"parameters": params}, {"space": {"parameters": params}}, hp,
                   write(tmp_path, "space:\n  parameters:\n    a: {type: int, min: 1, max: 4}\n")):
        space = load_space(source)
        assert [p.name for p in space.space] == ["a"]
