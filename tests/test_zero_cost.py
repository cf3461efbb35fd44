"""The ``zero_cost`` strategy and ``prescreen`` in real model searches on tiny data."""

import json
import os

import numpy as np
import pytest
from sklearn.datasets import load_digits

from autoarch import AutoClassifier
from autoarch.blocks import ClassificationHead, DenseBlock


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return (x / 16.0).astype("float32")[:400], y[:400]


def _journal(directory):
    with open(os.path.join(directory, "journal.jsonl")) as handle:
        return [json.loads(line) for line in handle]


def _spec():
    return [DenseBlock(), ClassificationHead()]


def test_zero_cost_trains_the_best_scored_candidates_in_order(digits, tmp_path):
    x, y = digits
    options = {"samples": 8, "top_k": 2}
    clf = AutoClassifier(spec=_spec(), strategy="zero_cost", strategy_options=options,
                         epochs=1, seed=0, directory=str(tmp_path), final_fit=False,
                         ensemble_size=1).fit(x, y)
    with open(tmp_path / "zero_cost" / "scores.jsonl") as handle:
        scored = [json.loads(line) for line in handle]
    assert len(scored) == 8 and all("naswot" in s["scores"] for s in scored)
    note = [r for r in _journal(tmp_path) if r["event"] == "zero_cost"][-1]
    assert note["screened"] == 8 and len(note["top"]) == 2
    ranks = [t["rank_score"] for t in note["top"]]
    assert ranks == sorted(ranks, reverse=True)
    # the top two by vote, recomputed from the record, are the trials, in that order
    from autoarch import proxies

    votes = proxies.vote([s["scores"] for s in scored])
    best = [scored[i]["params"] for i in np.argsort(-votes, kind="stable")[:2]]
    trials = clf.search_results_
    assert [t["params"] for t in trials] == [t["params"] for t in note["top"]] == best
    page = open(clf.report(tmp_path / "report.html")).read()
    assert "Zero-cost screening" in page and "8 candidates scored" in page
    # a second fit in the same directory reads the screening back: nothing is scored again
    AutoClassifier(spec=_spec(), strategy="zero_cost", strategy_options=options, epochs=1,
                   seed=0, directory=str(tmp_path), final_fit=False, ensemble_size=1).fit(x, y)
    with open(tmp_path / "zero_cost" / "scores.jsonl") as handle:
        assert len(handle.readlines()) == 8


def test_by_default_it_screens_fifty_for_each_candidate_it_trains(digits, tmp_path):
    from autoarch.strategies.zero_cost import ZeroCost

    assert [ZeroCost().samples_for(m) for m in (None, 2, 50)] == [500, 100, 500]
    assert ZeroCost(samples=8).samples_for(2) == 8
    x, y = digits
    small = [DenseBlock(num_layers=[1, 2], units=[4, 8, 16], dropout=[0.0, 0.1, 0.2],
                        batch_norm=False), ClassificationHead()]  # quick, with 50 points
    AutoClassifier(spec=small, strategy="zero_cost", strategy_options={"top_k": 3},
                   max_trials=1, epochs=1, seed=0, directory=str(tmp_path), final_fit=False,
                   ensemble_size=1).fit(x, y)
    note = [r for r in _journal(tmp_path) if r["event"] == "zero_cost"][-1]
    assert note["screened"] == 50 and len(note["top"]) == 3


def test_prescreen_trains_the_best_scored_of_each_trials_draws(digits, tmp_path):
    x, y = digits
    clf = AutoClassifier(spec=_spec(), strategy="random",
                         strategy_options={"prescreen": 3}, max_trials=2, epochs=1, seed=0,
                         directory=str(tmp_path), final_fit=False, ensemble_size=1).fit(x, y)
    notes = [r for r in _journal(tmp_path) if r["event"] == "prescreen"]
    assert [n["drawn"] for n in notes] == [3, 3]
    from autoarch import proxies

    for note in notes:
        assert note["chosen"] == int(np.argmax(proxies.vote(note["scores"])))
    assert len(clf.search_results_) == 2


def test_unknown_proxies_and_misplaced_prescreen_are_refused(digits):
    x, y = digits
    with pytest.raises(ValueError, match="strategy_options: unknown proxy 'synflw'.*synflow"):
        AutoClassifier(spec=_spec(), strategy="zero_cost",
                       strategy_options={"proxy": "synflw"}, epochs=1).fit(x, y)
    with pytest.raises(ValueError, match="prescreen applies to strategies that suggest"):
        AutoClassifier(spec=_spec(), strategy="zero_cost",
                       strategy_options={"prescreen": 2}, epochs=1).fit(x, y)


def test_prescreen_needs_a_model_search():
    from autoarch import Study

    study = Study({"a": {"type": "int", "min": 0, "max": 9}}, strategy="evolution",
                  strategy_options={"prescreen": 2})
    with pytest.raises(RuntimeError, match="prescreen scores Keras models"):
        study.ask()


def test_a_promoted_hyperband_trial_continues_its_parents_model(digits, tmp_path):
    import keras

    from autoarch.blocks import ModelSpace
    from autoarch.engine.search import ModelSearch

    x, y = digits
    search = ModelSearch(ModelSpace([DenseBlock(), ClassificationHead(num_classes=10)]),
                         strategy="hyperband",
                         strategy_options={"max_epochs": 3, "factor": 3}, max_trials=4, seed=0,
                         directory=str(tmp_path), final_fit=False, ensemble_size=1,
                         isolate_trials=False).fit(x, y)
    trials = search.study.trials
    by_id = {t.trial_id: t for t in trials}
    promoted = [t for t in trials if t.params.get("tuner/trial_id")]
    assert promoted, [t.params for t in trials]
    trial = promoted[0]
    parent = by_id[trial.params["tuner/trial_id"]]
    start = trial.params["tuner/initial_epoch"]
    steps = [r["step"] for r in _journal(tmp_path)
             if r["event"] == "report" and r["number"] == trial.number]
    assert start >= 1 and steps == list(range(start + 1, trial.params["tuner/epochs"] + 1))
    assert trial.info["continued_from"] == parent.number
    assert trial.metrics["best_epoch"] > start
    # the model it starts from is its parent's, optimizer state included
    info = {}
    task = {"params": trial.params, "seed": 0, "parent": parent.number, "initial_epoch": start,
            "initial_model": str(tmp_path / "trials" / f"trial_{parent.number}.keras")}
    model, view, initial_epoch = search._trainer.start_model(task, info)
    saved = keras.models.load_model(task["initial_model"])
    assert initial_epoch == start and view is None and info == {"continued_from": parent.number}
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), saved.get_weights()))
    assert int(model.optimizer.iterations.numpy()) > 0
    # continue_training=False: a promotion trains from scratch to tuner/epochs
    again = ModelSearch(ModelSpace([DenseBlock(), ClassificationHead(num_classes=10)]),
                        strategy="hyperband", max_trials=4, seed=0, final_fit=False,
                        strategy_options={"max_epochs": 3, "factor": 3,
                                          "continue_training": False},
                        directory=str(tmp_path / "scratch"), ensemble_size=1,
                        isolate_trials=False).fit(x, y)
    promoted = [t for t in again.study.trials if t.params.get("tuner/trial_id")]
    assert promoted and all("continued_from" not in t.info for t in promoted)
    steps = [r["step"] for r in _journal(tmp_path / "scratch")
             if r["event"] == "report" and r["number"] == promoted[0].number]
    assert steps == list(range(1, promoted[0].params["tuner/epochs"] + 1))


def test_an_evolution_child_starts_from_its_parents_weights(digits, tmp_path):
    import keras

    from autoarch.blocks import ModelSpace
    from autoarch.engine.search import ModelSearch

    x, y = digits
    search = ModelSearch(ModelSpace([DenseBlock(), ClassificationHead(num_classes=10)]),
                         strategy="evolution",
                         strategy_options={"population_size": 2, "sample_size": 1},
                         max_trials=4, epochs=2, seed=0, directory=str(tmp_path),
                         final_fit=False, ensemble_size=5, isolate_trials=False).fit(x, y)
    trials = search.study.trials
    children = [t for t in trials[2:] if "inherited" in t.info]
    assert children, [t.info for t in trials]
    by_id = {t.trial_id: t.number for t in trials}
    for child in children:
        assert child.info["inherited"]["from"] == by_id[search.study.oracle.parents[
            child.trial_id]]
        assert child.info["inherited"]["layers"] >= 1
    # a child that differs from its parent only in a training setting is its parent
    # before training: same weights, same predictions
    parent = trials[0]
    params = dict(parent.params)
    name = next(k for k in params if k.endswith("learning_rate"))
    options = [v for v in search.study.space.get(name).values if v != params[name]] \
        if hasattr(search.study.space.get(name), "values") else [params[name] * 2]
    params[name] = options[0]
    path = str(tmp_path / "trials" / f"trial_{parent.number}.keras")
    info = {}
    model, _, _ = search._trainer.start_model(
        {"params": params, "seed": 1, "parent": parent.number, "inherit_model": path}, info)
    saved = keras.models.load_model(path)
    assert info["inherited"]["layers"] == info["inherited"]["of"] > 0
    np.testing.assert_allclose(model.predict(x[:20], verbose=0),
                               saved.predict(x[:20], verbose=0), rtol=1e-5, atol=1e-6)
    # inherit=False: no child inherits
    plain = ModelSearch(ModelSpace([DenseBlock(), ClassificationHead(num_classes=10)]),
                        strategy="evolution",
                        strategy_options={"population_size": 2, "sample_size": 1,
                                          "inherit": False},
                        max_trials=3, epochs=1, seed=0, final_fit=False, ensemble_size=1,
                        isolate_trials=False).fit(x, y)
    assert not any("inherited" in t.info for t in plain.study.trials)
