"""Searches with several objectives and constraints: Pareto fronts from ask/tell studies and
from a real model search, refusal before training, NSGA-II and ParEGO against random search,
``select`` on the estimators."""

import json
import os
import pickle

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

from autoarch import AutoClassifier, Study
from autoarch.landscapes import ZDT1_OBJECTIVES as BOTH_MIN
from autoarch.landscapes import ZDT1_SPACE as SPACE
from autoarch.landscapes import ZDT1_REFERENCE, zdt1
from autoarch.pareto import dominates, hypervolume


def front_hypervolume(strategy, seed, trials, **options):
    study = Study(SPACE, strategy=strategy, objectives=BOTH_MIN, seed=seed,
                  strategy_options=options)
    study.optimize(lambda t: zdt1(t.params), max_trials=trials)
    return hypervolume([study.vector(t) for t in study.pareto_front()], ZDT1_REFERENCE,
                       ("min", "min"))


def test_nsga_evolution_and_parego_beat_random_search_in_hypervolume():
    seeds = range(8)
    random = np.mean([front_hypervolume("random", s, 80) for s in seeds])
    nsga = np.mean([front_hypervolume("evolution", s, 80, population_size=20, sample_size=5)
                    for s in seeds])
    assert nsga > random + 0.15, (nsga, random)
    parego = np.mean([front_hypervolume("bayesian", s, 30, num_initial_points=10,
                                        num_candidates=200, num_local=50) for s in range(2)])
    assert parego > random + 1.0, (parego, random)


@pytest.mark.parametrize("strategy", ["random", "evolution", "bayesian", "reinforce"])
def test_every_strategy_returns_a_front_without_dominated_points(strategy, tmp_path, capsys):
    study = Study(SPACE, strategy=strategy, objectives=BOTH_MIN, constraints={"f2": 4.0},
                  seed=1, directory=tmp_path)
    study.optimize(lambda t: zdt1(t.params), max_trials=15)
    front = study.pareto_front()
    assert front
    for a in front:
        assert study.violation(a) == 0
        assert not any(dominates(study.vector(b), study.vector(a), ("min", "min"))
                       for b in front)
    feasible = [t for t in study.trials if t.is_finite() and t.metrics["f2"] <= 4.0]
    assert study.best_trial is min(feasible, key=lambda t: (t.value, t.number))
    # the record says it all: a loaded study has the same front
    study.close()
    loaded = Study.load(tmp_path)
    assert [t.number for t in loaded.pareto_front()] == [t.number for t in front]
    assert loaded.constraints == {"f2": 4.0}
    from autoarch.cli import print_trials

    print_trials(loaded)
    line = capsys.readouterr().out.splitlines()[-1]
    assert line.startswith("Pareto front: ") and line.count("trial ") == len(front)


def test_a_refused_trial_is_recorded_and_does_not_count(tmp_path):
    from autoarch import TrialRefused

    def objective(trial):
        if trial.params["x0"] > 0.5:
            raise TrialRefused(f"x0 {trial.params['x0']:.2f} > 0.5")
        return zdt1(trial.params)

    study = Study(SPACE, strategy="random", objectives=BOTH_MIN, seed=0, directory=tmp_path)
    study.optimize(objective, max_trials=6)
    refused = [t for t in study.trials if t.status == "REFUSED"]
    assert refused and study.n_finished == 6
    assert all(t.message.startswith("x0 ") for t in refused)
    # a study whose every candidate is refused stops with a clear error
    from autoarch.errors import TooManyFailures

    stuck = Study(SPACE, strategy="random", seed=0)
    with pytest.raises(TooManyFailures, match="constraints refused the last 100"):
        stuck.optimize(lambda t: (_ for _ in ()).throw(TrialRefused("always")),
                       max_trials=5)


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return (x / 16.0).astype("float32")[:500], y[:500]


def test_a_model_search_refuses_before_training_and_selects_from_its_front(digits, tmp_path):
    x, y = digits
    clf = AutoClassifier(objectives=["val_accuracy", "params"], constraints={"params": 12_000},
                         strategy="evolution",
                         strategy_options={"population_size": 3, "sample_size": 2},
                         max_trials=5, epochs=4, seed=0, directory=str(tmp_path))
    clf.fit(x, y)
    records = {r["number"]: r for r in clf.search_results_}
    refused = [r for r in records.values() if r["status"] == "REFUSED"]
    assert refused, [r["status"] for r in records.values()]
    with open(tmp_path / "journal.jsonl") as handle:
        journal = [json.loads(line) for line in handle]
    for record in refused:  # refused with its measure, never trained
        assert record["info"]["refused_by"]["params"]["value"] > 12_000
        assert not any(r["event"] == "report" and r["number"] == record["number"]
                       for r in journal)
        assert not os.path.exists(tmp_path / "trials" / f"trial_{record['number']}.keras")
    assert sum(r["status"] != "REFUSED" for r in records.values()) == 5
    front = clf.pareto_front_
    assert front and all(p["params"] <= 12_000 and p["violation"] == 0 for p in front)
    assert not any(dominates((a["val_accuracy"], a["params"]),
                             (b["val_accuracy"], b["params"]), ("max", "min"))
                   for a in front for b in front)
    assert any(r["event"] == "pareto_front" for r in journal)
    page = open(clf.report(str(tmp_path / "report.html"))).read()
    assert "Pareto front" in page and "refused before training" in page
    assert page.count('r="4" fill="#2a7"') == len(front)  # the front's dots in the plot
    import importlib.util

    if importlib.util.find_spec("matplotlib"):  # mnist1d, a dependency, brings it
        assert os.path.getsize(tmp_path / "report.pareto.png") > 1000
    assert clf.selected_trial_ == front[0]["trial"] and clf.ensemble_ is None
    # select: the smallest model of the front predicts and exports
    smallest = min(front, key=lambda p: p["params"])
    assert smallest["trial"] != clf.selected_trial_, front  # (4 epochs: a front of several)
    clf.select(smallest["trial"])
    assert clf.best_model_.count_params() == smallest["params"]
    # the search's folder follows: autoarch predict there uses the selected trial
    assert keras.models.load_model(tmp_path / "best_model.keras").count_params() == \
        smallest["params"]
    with open(tmp_path / "estimator.pkl", "rb") as handle:
        assert pickle.load(handle).selected_trial_ == smallest["trial"]
    path = clf.export(str(tmp_path / "chosen.keras"))["path"]
    assert keras.models.load_model(path).count_params() == smallest["params"]
    np.testing.assert_allclose(clf.predict_proba(x[:10]),
                               clf.best_model_.predict(x[:10], verbose=0), rtol=1e-5)
    with pytest.raises(ValueError, match="not on the Pareto front"):
        clf.select(refused[0]["number"])


def test_settings_are_checked_before_anything_trains(tmp_path):
    from autoarch.config import ConfigError, SearchConfig
    from autoarch.errors import SpecError
    from autoarch.specfile import load_spec

    with pytest.raises(ConfigError, match="objectives: must be a non-empty list"):
        SearchConfig.from_flat({"objectives": []})
    with pytest.raises(ConfigError, match="constraints: .*params is 'small'"):
        SearchConfig.from_flat({"constraints": {"params": "small"}})
    with pytest.raises(ConfigError, match="objective: is 'val_loss' but the first"):
        SearchConfig.from_flat({"objective": "val_loss", "objectives": ["val_accuracy"]})
    spec = tmp_path / "spec.yaml"
    spec.write_text("task: classification\nobjectives: [val_accuracy, latency_ms]\n"
                    "constraints: {params: 50000}\nspace: {blocks: [{block: dense}]}\n")
    config = load_spec(str(spec)).config
    assert config.objectives == ["val_accuracy", "latency_ms"]
    assert config.constraints == {"params": 50000}
    spec.write_text("task: classification\nobjectives: val_accuracy\n"
                    "space: {blocks: [{block: dense}]}\n")
    with pytest.raises(SpecError, match=r"spec.yaml:2:.*objectives"):
        load_spec(str(spec))
    x, y = load_digits(return_X_y=True)
    with pytest.raises(ValueError, match="sensitive feature"):
        AutoClassifier(objectives=["val_accuracy", "demographic_parity_difference"],
                       max_trials=1, epochs=1).fit(x[:60], y[:60])


def test_when_every_trial_breaks_a_constraint_the_least_breaking_is_best():
    study = Study({"x": {"type": "int", "min": 0, "max": 10}}, objectives=["max", ("size", "min")],
                  constraints={"size": 1.0}, seed=0)
    for size, value in [(5.0, 0.9), (2.0, 0.5), (3.0, 0.8)]:
        study.tell(study.ask(), {study.objective.name: value, "size": size})
    assert study.best_trial.number == 1
    assert [t.number for t in study.pareto_front()] == [1]


def test_a_trial_no_better_than_a_trivial_model_never_wins_by_breaking_least():
    """A near-constant classifier is almost fair by demographic parity: with every trial
    over the bound, it would break it least. ``useful_from`` (the majority class's rate,
    which ``ModelSearch`` sets) leaves it out while a better trial exists."""
    study = Study({"x": {"type": "int", "min": 0, "max": 10}},
                  objectives=["val_accuracy", ("parity", "min")],
                  constraints={"parity": 0.02}, seed=0)
    for parity, accuracy in [(0.06, 0.80), (0.028, 0.47), (0.10, 0.81)]:
        study.tell(study.ask(), {"val_accuracy": accuracy, "parity": parity})
    assert study.best_trial.number == 1  # Deb's rule alone: the useless model
    study.useful_from = 0.735
    assert study.best_trial.number == 0
    assert 1 not in [t.number for t in study.pareto_front()]
    study.useful_from = 0.9  # no trial is better than the trivial model: all stay
    assert study.best_trial.number == 1


def test_the_useful_threshold_survives_a_resume_and_a_load(tmp_path):
    space = {"x": {"type": "int", "min": 0, "max": 10}}
    options = dict(objectives=["val_accuracy", ("parity", "min")],
                   constraints={"parity": 0.02}, seed=0)
    study = Study(space, directory=tmp_path, **options)
    for parity, accuracy in [(0.06, 0.80), (0.028, 0.47)]:
        study.tell(study.ask(), {"val_accuracy": accuracy, "parity": parity})
    study.useful_from = 0.735
    study.close()
    loaded = Study.load(tmp_path)
    assert loaded.useful_from == 0.735 and loaded.best_trial.number == 0
    assert [t.number for t in loaded.pareto_front()] == [0]
    resumed = Study(space, directory=tmp_path, **options)
    assert resumed.useful_from == 0.735 and resumed.best_trial.number == 0
    resumed.useful_from = 0.735  # the same value again is not noted twice
    assert sum(n["event"] == "useful_from" for n in Study.load(tmp_path).notes) == 1


def test_curve_stopping_compares_with_a_feasible_best_of_one_objective_only():
    """A trial behind the most accurate one may still be the first within a fairness bound,
    or on the front of several objectives: learning-curve stopping must not cut it."""
    space = {"x": {"type": "int", "min": 0, "max": 10}}
    plain = Study(space, seed=0)
    plain.tell(plain.ask(), 0.8)
    assert plain.value_to_beat == 0.8
    parity = "demographic_parity_difference"
    bounded = Study(space, objective="val_accuracy", constraints={parity: 0.02}, seed=0)
    bounded.tell(bounded.ask(), {"val_accuracy": 0.82, parity: 0.2})
    assert bounded.best_trial.number == 0 and bounded.value_to_beat is None
    bounded.tell(bounded.ask(), {"val_accuracy": 0.79, parity: 0.01})
    assert bounded.value_to_beat == 0.79  # the feasible trial is now the bar
    several = Study(space, objectives=["val_accuracy", ("params", "min")], seed=0)
    several.tell(several.ask(), {"val_accuracy": 0.9, "params": 1000})
    assert several.value_to_beat is None
