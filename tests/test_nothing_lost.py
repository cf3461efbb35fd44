"""Nothing lost, nothing silently wrong: one process per run directory, files written whole,
journals checked on replay, only real numbers as values, any column names, huge feature
values, hostile specs. Real processes, real files, real Keras models."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pandas as pd
import pytest

from autoarch import AutoClassifier, Study
from autoarch.blocks import ClassificationHead, DenseBlock, ModelSpace
from autoarch.cli import main as cli_main
from autoarch.engine.search import ModelSearch
from autoarch.errors import DirectoryLocked, JournalError, SpecError
from autoarch.export import export_model
from autoarch.files import DirectoryLock
from autoarch.spec.yaml_loader import load_yaml
from autoarch.specfile import load_spec

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from export_helpers import assert_exports_predict_the_same  # noqa: E402
from strategy_helpers import SPACE, objective  # noqa: E402

FAST = dict(max_trials=1, epochs=20, isolate_trials=False, learning_rate=0.01, ensemble_size=1)


def _child_env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(HERE), HERE]),
                TF_CPP_MIN_LOG_LEVEL="3")


def _wait_for(predicate, seconds=120):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "the child process never got there"
        time.sleep(0.1)


def _asks(directory):
    path = os.path.join(directory, "journal.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line)["number"] for line in handle if '"event": "ask"' in line]


# -- 1. two processes on one run directory --------------------------------------------------
def test_a_second_process_is_refused_and_a_killed_holders_lock_is_taken_over(tmp_path):
    directory = str(tmp_path / "run")
    child = subprocess.Popen([sys.executable, os.path.join(HERE, "strategy_resume_child.py"),
                              "random", directory, "8", "3"], env=_child_env())
    try:
        _wait_for(lambda: 3 in _asks(directory))  # the child is inside trial 3
        with pytest.raises(DirectoryLocked, match=f"in use by process {child.pid} "):
            Study(SPACE, strategy="random", seed=5, directory=directory)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    # the killed holder's lock is stale: the next search takes it over and finishes the run
    study = Study(SPACE, strategy="random", seed=5, directory=directory)
    study.optimize(lambda t: objective(t.params), max_trials=8)
    assert [t.number for t in study.trials] == list(range(8))
    assert _asks(directory) == list(range(8))  # no number asked twice
    reloaded = Study.load(directory)
    assert reloaded.best_value == study.best_value and reloaded.n_finished == 8


def test_the_command_refuses_a_directory_another_process_holds(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text("data: sklearn:iris\nspace:\n  blocks:\n    - {block: dense}\n"
                    "    - {block: classification_head}\n")
    lock = DirectoryLock(tmp_path / "run")
    os.makedirs(tmp_path / "run")
    lock.acquire()
    try:
        result = subprocess.run([sys.executable, "-m", "autoarch.cli", "search", str(spec),
                                 "--dir", str(tmp_path / "run"), "--resume"],
                                capture_output=True, text=True, env=_child_env(), timeout=300)
    finally:
        lock.release()
    assert result.returncode == 1
    assert f"in use by process {os.getpid()} " in result.stderr
    assert not (tmp_path / "run" / "journal.jsonl").exists()


# -- 2. a kill while a model is written ----------------------------------------------------
SAVER = textwrap.dedent("""
    import sys, keras, numpy as np
    from autoarch.export import export_model
    keras.utils.set_random_seed(int(sys.argv[2]))
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(64), keras.layers.Dense(2)])
    print("ready", flush=True)
    while True:
        export_model(model, sys.argv[1], "keras")
""")


def test_a_model_killed_mid_save_is_the_old_one_or_the_new_one_never_half(tmp_path):
    path = str(tmp_path / "best_model.keras")
    rng = np.random.default_rng(0)
    sample = np.ones((1, 4), dtype="float32")
    for seed in range(3):
        child = subprocess.Popen([sys.executable, "-c", SAVER, path, str(seed)],
                                 env=_child_env(), stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(float(rng.uniform(0.05, 1.0)))  # somewhere inside a save, most of the time
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        if os.path.exists(path):  # whole: it loads and predicts
            model = keras.models.load_model(path, safe_mode=True)
            assert model.predict(sample, verbose=0).shape == (1, 2)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    export_model(model, path)
    assert sorted(os.listdir(tmp_path)) == ["best_model.keras"]  # leftovers cleaned up


def test_report_and_export_say_plainly_when_the_model_is_missing_or_broken(tmp_path, capsys):
    directory = tmp_path / "run"
    Study(SPACE, strategy="random", seed=0, directory=directory).optimize(
        lambda t: objective(t.params), max_trials=2)
    assert cli_main(["report", str(directory)]) == 1
    err = capsys.readouterr().err
    assert "no best model yet" in err and "--resume" in err
    (directory / "best_model.keras").write_bytes(b"")  # what a kill left before the fix
    assert cli_main(["export", str(directory)]) == 1
    assert "best_model.keras: unreadable" in capsys.readouterr().err
    assert not (directory / "export").exists()


def test_a_failed_export_leaves_nothing_behind(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError):
        export_model(model, tmp_path / "out" / "model.keras", "no-such-format")
    target = tmp_path / "out" / "model"
    with pytest.raises(Exception):
        export_model(object(), target, "savedmodel")  # not a model: the writer fails
    assert not (tmp_path / "out").exists()


# -- 3. feature values near float32's limits -----------------------------------------------
def _frame(rows=300):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3))
    return pd.DataFrame({0: x[:, 0], "0": x[:, 1], "km/h": x[:, 2]}), \
        (x[:, 0] + x[:, 1] > 0).astype(int)


def test_features_scaled_by_1e20_train_as_well_as_unscaled():
    x, y = _frame()
    plain = AutoClassifier(**FAST).fit(x, y).score(x, y)
    huge = AutoClassifier(**FAST).fit(x * 1e20, y)
    assert plain > 0.9 and huge.score(x * 1e20, y) >= plain - 0.03
    with pytest.raises(ValueError, match=r"column 'km/h' holds values up to 1e\+39"):
        AutoClassifier(**FAST).fit(x.assign(**{"km/h": x["km/h"] * 0 + 1e39}), y)


# -- 4. column names are data -------------------------------------------------------------
def test_any_column_names_fit_predict_and_export(tmp_path):
    x, y = _frame()
    clf = AutoClassifier(**FAST).fit(x, y)
    assert clf.n_features_in_ == 3 and len(clf.best_model_.inputs) == 3
    assert clf.score(x, y) > 0.9
    expected = clf.predict_proba(x[:5])[:, 1:]  # the model has one sigmoid output
    for fmt, name in (("keras", "m.keras"), ("savedmodel", "saved"), ("tflite", "m.tflite")):
        assert clf.export(tmp_path / name, fmt)["bytes"] > 0
    reloaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    inputs = {"x0_0": x[0].to_numpy("float32")[:5, None],
              "x0_1": x["0"].to_numpy("float32")[:5, None],
              "km_h": x["km/h"].to_numpy("float32")[:5, None]}
    np.testing.assert_allclose(reloaded.predict(inputs, verbose=0), expected, rtol=1e-5)
    duplicated = pd.DataFrame(x.to_numpy(), columns=["a", "a", "b"])
    with pytest.raises(ValueError, match="duplicated column names: 'a'"):
        AutoClassifier(**FAST).fit(duplicated, y)


# -- 5 and 7. a journal is checked on replay, line by line --------------------------------
def _journal_lines(directory):
    Study(SPACE, strategy="random", seed=0, directory=directory).optimize(
        lambda t: objective(t.params), max_trials=3)
    return (directory / "journal.jsonl").read_text().splitlines()


@pytest.mark.parametrize("edit, line, problem", [
    (lambda lines: lines[:2] + [lines[1]] + lines[2:], 3,
     "ask for trial 0, but the next trial is 1"),
    (lambda lines: lines + ['{"foo": 1}'], -1, "expected a JSON object with an 'event'"),
    (lambda lines: lines + ["[1, 2]"], -1, "expected a JSON object with an 'event'"),
    (lambda lines: lines + ['{"event": "tell", "number": 99, "status": "COMPLETED"}'], -1,
     "tell for trial 99, which was never asked"),
    (lambda lines: lines + ['{"event": "ask", "number": 3}'], -1, "ask without its parameters"),
    (lambda lines: lines[:-1] + [lines[-1].replace('"value": ', '"value": "x", "old": ')], -1,
     "value 'x'"),
])
def test_a_journal_that_does_not_fit_is_refused_with_its_line(tmp_path, edit, line, problem):
    directory = tmp_path / "run"
    lines = edit(_journal_lines(directory))
    (directory / "journal.jsonl").write_text("\n".join(lines) + "\n")
    line = len(lines) if line == -1 else line
    for open_it in (lambda: Study.load(directory),
                    lambda: Study(SPACE, strategy="random", seed=0, directory=directory)):
        with pytest.raises(JournalError, match=f"journal.jsonl:{line}: .*{problem}"):
            open_it()


# -- 6. only real numbers are values; a redone trial reports anew ---------------------------
@pytest.mark.parametrize("value", ["0.5", True, 10**400, [0.5]])
def test_only_real_numbers_are_objective_values(tmp_path, value):
    study = Study(SPACE, strategy="random", seed=0, directory=tmp_path)
    trial = study.tell(study.ask(), value)
    assert trial.status == "FAILED" and trial.value is None and "objective" in trial.message
    assert Study.load(tmp_path).trials[0].status == "FAILED"
    assert study.tell(study.ask(), np.float32(0.25)).value == 0.25


def test_a_redone_trial_keeps_only_its_own_reports(tmp_path):
    first = Study(SPACE, strategy="random", seed=0, directory=tmp_path)
    trial = first.ask()
    first.report(trial, 1, loss=1.0)
    first.report(trial, 2, loss=0.9)  # ... and the process dies here
    del first
    second = Study(SPACE, strategy="random", seed=0, directory=tmp_path)
    redone = second.ask()
    assert redone.number == 0 and redone.intermediate == []
    second.report(redone, 1, loss=0.8)
    second.tell(redone, 0.5)
    assert [r["step"] for r in Study.load(tmp_path).trials[0].intermediate] == [1]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="file permissions do not bind root")
def test_a_read_only_journal_is_reported_and_not_resumed(tmp_path):
    Study(SPACE, strategy="random", seed=0, directory=tmp_path).optimize(
        lambda t: objective(t.params), max_trials=2)
    os.chmod(tmp_path / "journal.jsonl", 0o444)
    assert Study.load(tmp_path).n_finished == 2
    with pytest.raises(PermissionError, match="read-only"):
        Study(SPACE, strategy="random", seed=0, directory=tmp_path)


# -- 8. when every trial fails, say why ----------------------------------------------------
class Boom(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        raise ValueError("boom")


def test_no_trial_completed_names_the_most_frequent_reason():
    x, y = _frame(60)
    search = ModelSearch(ModelSpace([DenseBlock(num_layers=1), ClassificationHead(num_classes=2)]),
                         max_trials=2, epochs=1, isolate_trials=False, strategy="random")
    with pytest.raises(RuntimeError, match=r"no trial completed; 2 of 2 trials failed with: "
                                           r"ValueError: boom \(trials 0, 1\)"):
        search.fit({"input": x.to_numpy("float32")}, y, callbacks=[Boom()])


def test_without_a_completed_trial_the_classical_members_are_the_final_model(tmp_path):
    """Every trial failed (or none finished in the time limit): the boosted trees and the
    logistic regression fitted beside the trials still make a model, with a warning that
    names why, and the journal keeps the failures."""
    x, y = _frame(300)
    with pytest.warns(UserWarning, match=r"no trial completed; 2 of 2 trials failed with: "
                                         r"ValueError: boom .*classical members alone "
                                         r"\(boosted trees, linear model\)"):
        clf = AutoClassifier(max_trials=2, epochs=1, isolate_trials=False, strategy="random",
                             directory=tmp_path).fit(x, y, callbacks=[Boom()])
    assert clf.score(x, y) > 0.9  # y is linear in two columns
    assert clf.best_params_ == {} and clf.best_score_ is None and clf.selected_trial_ is None
    assert all(m["trial"] in ("trees", "table_linear") for m in clf.ensemble_["members"])
    notes = [json.loads(line) for line in open(tmp_path / "journal.jsonl")]
    assert [n["members"] for n in notes if n["event"] == "no_trial_completed"] == \
        ["boosted trees, linear model"]
    assert sum(n["event"] == "tell" and n["status"] == "FAILED" for n in notes) == 2
    assert_exports_predict_the_same(clf, x, tmp_path)
    clf.report(tmp_path / "report.html")
    assert "No trial completed (2 of 2 trials failed with: ValueError: boom (trials 0, 1)): " \
        "the final model is made of the classical members alone (boosted trees, linear " \
        "model)" in (tmp_path / "report.html").read_text()


# -- 9 and 10. hostile specs ---------------------------------------------------------------
def _refused_fast(text, match):
    started = time.monotonic()
    with pytest.raises(SpecError, match=match):
        load_yaml(text, "hostile.yaml")
    assert time.monotonic() - started < 5


def test_billion_laughs_deep_nesting_and_huge_specs_are_refused_fast():
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    _refused_fast(laughs, "expands to more than 100,000 values")
    _refused_fast("x: " + "[" * 10_000 + "]" * 10_000, "hostile.yaml:1:.*nests deeper than 64")
    _refused_fast("a: " + "x" * (2 << 20), "at most 1,048,576 are read")


@pytest.mark.parametrize("name", ["../../../x", "/tmp/x", "..", "a/b"])
def test_a_specs_name_is_a_plain_name(name):
    with pytest.raises(SpecError, match="plain name"):
        load_spec({"name": name, "space": {"blocks": [{"block": "dense"}]}})
