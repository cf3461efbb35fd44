"""Conformance suite run against every strategy: determinism, resume after SIGKILL, NaN
handling, all-failed history, conditional parameters."""

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest

import autoarch
from autoarch import STRATEGIES, Study, TooManyFailures, TrialStatus
from autoarch.engine.journal import Journal
from autoarch.strategies import RandomSearch
from strategy_helpers import SPACE, objective

# the built-in sampling strategies, before any test registers its own (the one-shot ones
# need a model space: tests/test_oneshot.py)
ALL = sorted(n for n, cls in STRATEGIES.items() if not getattr(cls, "runs_phase", False))
N_TRIALS = 14
HERE = os.path.dirname(os.path.abspath(__file__))


def run(strategy, seed, n=N_TRIALS, directory=None, fn=None):
    study = Study(SPACE, strategy=strategy, objective="max", seed=seed, directory=directory)
    study.optimize(fn or (lambda t: objective(t.params)), max_trials=n)
    return study


@pytest.mark.parametrize("strategy", ALL)
def test_same_seed_same_suggestions(strategy):
    first = [t.params for t in run(strategy, seed=3).trials]
    second = [t.params for t in run(strategy, seed=3).trials]
    other = [t.params for t in run(strategy, seed=4).trials]
    assert len(first) == N_TRIALS and first == second
    if strategy != "grid":  # a grid walks the same order whatever the seed
        assert first != other


@pytest.mark.parametrize("strategy", ALL)
def test_conditional_parameters_respected(strategy):
    study = run(strategy, seed=1)
    for trial in study.trials:
        params = trial.hyperparameters
        assert ("kernel" in params) == (params["op"] == "conv"), params
        assert set(params) <= set(SPACE)


@pytest.mark.parametrize("strategy", ALL)
def test_nan_and_inf_are_failures_and_search_goes_on(strategy, tmp_path):
    def fn(trial):
        if trial.number % 3 == 1:
            return math.nan
        if trial.number % 3 == 2:
            return {"value": math.inf, "other": 1.0}
        return objective(trial.params)

    study = Study(SPACE, strategy=strategy, seed=0, directory=tmp_path,
                  max_consecutive_failures=None)
    study.optimize(fn, max_trials=12)
    statuses = [t.status for t in study.trials]
    assert statuses.count("FAILED") == 8 and statuses.count("COMPLETED") == 4
    failed = [t for t in study.trials if t.status == "FAILED"]
    assert all(t.value is None and ("nan" in t.message or "inf" in t.message) for t in failed)
    assert math.isfinite(study.best_value)
    if hasattr(study.oracle, "finished_trials"):  # model-based strategies only learn from finite
        assert all(math.isfinite(t.score) for t in study.oracle.finished_trials())
    tells = [r for r in Journal(tmp_path).read() if r["event"] == "tell"]
    assert [r["status"] for r in tells] == statuses


@pytest.mark.parametrize("strategy", ALL)
def test_all_failed_history_stops_with_clear_message(strategy, tmp_path):
    def broken(trial):
        raise RuntimeError(f"boom in trial {trial.number}")

    study = Study(SPACE, strategy=strategy, seed=0, directory=tmp_path, max_consecutive_failures=4)
    with pytest.raises(TooManyFailures, match=r"last 4 trials failed.*boom in trial 3"):
        study.optimize(broken, max_trials=10, catch=(RuntimeError,))
    assert study.best_trial is None
    tells = [r for r in Journal(tmp_path).read() if r["event"] == "tell"]
    assert len(tells) == 4 and all(r["status"] == "FAILED" for r in tells)
    assert all("RuntimeError: boom" in r["traceback"] for r in tells)


@pytest.mark.parametrize("strategy", ALL)
def test_resume_after_sigkill_equals_uninterrupted_run(strategy, tmp_path):
    n, kill_at = 12, 7
    reference = [t.params for t in run(strategy, seed=5, n=n).trials]
    script = os.path.join(HERE, "strategy_resume_child.py")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, os.path.dirname(HERE)]))
    child = subprocess.Popen([sys.executable, script, strategy, str(tmp_path), str(n),
                              str(kill_at)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    journal = Journal(tmp_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        asked = [r for r in journal.read() if r["event"] == "ask"] if journal.exists() else []
        if len(asked) > kill_at or child.poll() is not None:
            break
        time.sleep(0.05)
    assert child.poll() is None, child.communicate()[0].decode()[-2000:]
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    records = journal.read()
    assert sum(r["event"] == "tell" for r in records) == kill_at  # trial kill_at was in flight

    resumed = Study(SPACE, strategy=strategy, seed=5, directory=tmp_path)
    assert resumed.n_finished == kill_at
    resumed.optimize(lambda t: objective(t.params), max_trials=n)
    assert [t.params for t in resumed.trials] == reference
    assert resumed.n_finished == n and len(resumed.trials) == n


def test_resume_refuses_a_different_study(tmp_path):
    run("random", seed=1, n=3, directory=tmp_path)
    with pytest.raises(autoarch.StudyMismatch, match="strategy"):
        Study(SPACE, strategy="evolution", seed=1, directory=tmp_path)
    with pytest.raises(autoarch.StudyMismatch, match="seed"):
        Study(SPACE, strategy="random", seed=2, directory=tmp_path)
    # another space: named by its parameters, not printed whole
    other = {**SPACE, "extra": {"type": "choice", "values": [1, 2]}}
    with pytest.raises(autoarch.StudyMismatch, match=r"\(space: new: 'extra'\)"):
        Study(other, strategy="random", seed=1, directory=tmp_path)


def test_resume_refuses_other_data(tmp_path):
    """The data a study was given is in its header: the same resumes, other data is refused
    (a journal written without it resumes with any)."""
    data = {"rows": 150, "blake2b": "a"}
    first = Study(SPACE, strategy="random", seed=1, directory=tmp_path / "a", data=data)
    first.optimize(lambda t: objective(t.params), max_trials=2)
    first.close()
    resumed = Study(SPACE, strategy="random", seed=1, directory=tmp_path / "a", data=dict(data))
    assert resumed.n_finished == 2
    resumed.close()
    for other, says in (({"rows": 150, "blake2b": "b"}, "as many rows, other values"),
                        ({"rows": 569, "blake2b": "a"}, "150 rows, now 569")):
        with pytest.raises(autoarch.StudyMismatch, match=f"other data \\({says}\\)"):
            Study(SPACE, strategy="random", seed=1, directory=tmp_path / "a", data=other)
    run("random", seed=1, n=2, directory=tmp_path / "b")
    assert Study(SPACE, strategy="random", seed=1, directory=tmp_path / "b",
                 data=data).n_finished == 2


def test_torn_journal_tail_is_dropped(tmp_path):
    run("evolution", seed=2, n=5, directory=tmp_path)
    path = Journal(tmp_path).path
    with open(path, "a") as handle:
        handle.write('{"event": "tell", "number": 9, "sta')  # a kill mid-write
    with pytest.warns(UserWarning, match="torn"):
        resumed = Study(SPACE, strategy="evolution", seed=2, directory=tmp_path)
    assert resumed.n_finished == 5
    with open(path) as handle:
        assert all(json.loads(line) for line in handle)


def test_unknown_strategy_is_a_clear_error():
    with pytest.raises(autoarch.SpecError, match="unknown strategy 'bayes'.*did you mean 'bayesian'"):
        Study(SPACE, strategy="bayes")


def test_torn_tail_after_non_ascii_text_is_cut_at_the_right_byte(tmp_path):
    journal = Journal(tmp_path)
    journal.append("note", text="durée ≈ 3 s")
    with open(journal.path, "ab") as handle:
        handle.write('{"event": "note", "text": "é'.encode()[:-1])  # cut inside a character
    with open(journal.path, "rb") as handle:
        torn = handle.read()
    with pytest.warns(UserWarning, match="torn"):
        assert [r["text"] for r in journal.read()] == ["durée ≈ 3 s"]
    with open(journal.path, "rb") as handle:
        assert handle.read() == torn  # reading alone never changes the file
    with pytest.warns(UserWarning, match="torn"):
        assert [r["text"] for r in journal.read(repair=True)] == ["durée ≈ 3 s"]
    journal.append("note", text="after")
    assert [r["text"] for r in journal.read()] == ["durée ≈ 3 s", "after"]


class CountingRandom(RandomSearch):
    """Random search that counts the suggestions it makes (a real strategy, registered)."""

    name = "counting_random"
    suggestions = 0

    def suggest(self, rng):
        CountingRandom.suggestions += 1
        return super().suggest(rng)


def test_resume_replays_recorded_points_without_asking_the_strategy(tmp_path):
    STRATEGIES[CountingRandom.name] = CountingRandom
    try:
        Study(SPACE, strategy=CountingRandom.name, seed=1, directory=tmp_path).optimize(
            lambda t: objective(t.params), max_trials=8)
        CountingRandom.suggestions = 0
        resumed = Study(SPACE, strategy=CountingRandom.name, seed=1, directory=tmp_path)
        assert resumed.n_finished == 8 and CountingRandom.suggestions == 0
        resumed.optimize(lambda t: objective(t.params), max_trials=9)
        assert CountingRandom.suggestions == 1
    finally:
        del STRATEGIES[CountingRandom.name]


def test_load_is_a_read_only_view_that_writes_nothing(tmp_path):
    study = run("bayesian", seed=2, n=6, directory=tmp_path)
    path = Journal(tmp_path).path
    with open(path, "a") as handle:
        handle.write('{"event": "tell", "number": 9, "sta')  # a torn tail stays where it is
    before = open(path, "rb").read()
    with pytest.warns(UserWarning, match="torn"):
        loaded = Study.load(tmp_path)
    assert open(path, "rb").read() == before
    assert loaded.best_params == study.best_params and loaded.n_finished == 6
    assert loaded.objective.direction == "max" and loaded.strategy == "bayesian"
    assert [t.status for t in loaded.trials] == [TrialStatus.COMPLETED] * 6
    with pytest.raises(RuntimeError, match="read-only"):
        loaded.ask()
    with pytest.raises(FileNotFoundError, match="no search journal"):
        Study.load(tmp_path / "nothing")


def test_an_uncaught_error_in_the_objective_is_raised_and_recorded(tmp_path):
    def buggy(trial):
        return trial.params["no such parameter"]

    study = Study(SPACE, strategy="random", seed=0, directory=tmp_path)
    with pytest.raises(KeyError, match="no such parameter"):
        study.optimize(buggy, max_trials=5)
    assert [t.status for t in study.trials] == ["FAILED"]
    assert "KeyError" in study.trials[0].message
    assert [r["status"] for r in Journal(tmp_path).read() if r["event"] == "tell"] == ["FAILED"]


@pytest.mark.parametrize("strategy", [s for s in ALL if s not in ("grid", "hyperband")])
def test_first_trials_come_first_then_the_strategy(strategy, tmp_path):
    """Given points are the first trials (missing parameters take their defaults); then the
    strategy suggests, and a resumed study does not redo them."""
    point = {"depth": 4, "op": "conv", "kernel": 5, "width": 40}
    study = Study(SPACE, strategy=strategy, seed=3, directory=tmp_path, first_trials=[point])
    study.optimize(lambda t: objective(t.params), max_trials=3)
    study.close()
    first = study.trials[0].params
    assert {k: first[k] for k in point} == point and first["bn"] is False
    assert all(t.params != first for t in study.trials[1:])
    resumed = Study(SPACE, strategy=strategy, seed=3, directory=tmp_path, first_trials=[point])
    resumed.optimize(lambda t: objective(t.params), max_trials=4)
    assert [t.params for t in resumed.trials[:3]] == [t.params for t in study.trials]
    assert resumed.trials[3].params != first
