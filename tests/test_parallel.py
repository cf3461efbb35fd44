"""Several trials at once, with real processes on 127.0.0.1 only: local workers
(``n_jobs`` / ``--workers``), a chief with workers that join it (``autoarch search --chief``,
``autoarch worker``), a worker killed mid-trial, tokens, and a Study evaluated in threads."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from sklearn.datasets import load_digits

from autoarch import Study
from autoarch.blocks import ClassificationHead, DenseBlock, ModelSpace
from autoarch.distributed import Chief, RunnerPool
from autoarch.engine.search import ModelSearch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=ROOT)
SPEC = """
name: tiny
task: classification
data: sklearn:iris
seed: 0
strategy: {name: evolution, population_size: 3, sample_size: 2}
budget: {max_trials: 6, epochs: EPOCHS}
space:
  blocks:
    - {block: dense, num_layers: [1, 2], units: [8, 16, 32]}
    - {block: classification_head}
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def command(*args, **options):
    return subprocess.Popen([sys.executable, "-m", "autoarch.cli", *args], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **options)


def serve(tmp_path, epochs, *flags):
    """``autoarch search`` of the tiny spec as a chief with no local workers: (process,
    address, run directory)."""
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC.replace("EPOCHS", str(epochs)))
    address = f"127.0.0.1:{free_port()}"
    run = tmp_path / "run"
    return command("search", str(spec), "--dir", str(run), "--chief", address, "--workers",
                   "0", *flags), address, run


def journal(directory):
    with open(os.path.join(directory, "journal.jsonl")) as lines:
        return [json.loads(line) for line in lines if line.strip()]


def overlapping(tells):
    spans = sorted((t["time"] - t["duration"], t["time"]) for t in tells)
    return any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:]))


@pytest.mark.parametrize("strategy,options", [
    ("bayesian", {"num_initial_points": 3}), ("evolution", {"population_size": 4, "sample_size": 2}),
    ("reinforce", {}), ("hyperband", {"max_epochs": 9})])
def test_strategies_in_threads_take_results_out_of_order(strategy, options):
    study = Study({"x": {"type": "int", "min": 0, "max": 100}}, strategy=strategy, seed=0,
                  strategy_options=options)
    running, most = [0], [0]
    lock = threading.Lock()

    def objective(trial):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01 * (1 + trial.number % 4))  # they end in another order than asked
        with lock:
            running[0] -= 1
        return -abs(trial.params["x"] - 30)

    study.optimize(objective, max_trials=12, n_jobs=3)
    assert len(study.trials) == study.n_finished == 12
    assert all(t.status == "COMPLETED" for t in study.trials)
    assert most[0] == 3
    if strategy != "hyperband":  # its promotions run a point again, with more epochs
        points = [t.params["x"] for t in study.trials]
        assert len(set(points)) == 12  # asked while others ran, and still no repeats


def test_a_failing_thread_stops_the_search_and_raises():
    study = Study({"x": {"type": "int", "min": 0, "max": 1000}}, seed=0)

    def objective(trial):
        if trial.number == 2:
            raise KeyError("a bug in the objective")
        time.sleep(0.02)
        return trial.params["x"]

    with pytest.raises(KeyError, match="a bug"):
        study.optimize(objective, max_trials=50, n_jobs=2)
    assert 3 <= study.n_finished < 50
    assert study.trials[2].status == "FAILED" and "KeyError" in study.trials[2].message


def test_two_local_workers_train_two_trials_at_once(tmp_path):
    x, y = load_digits(return_X_y=True)
    found = ModelSearch(ModelSpace([DenseBlock(num_layers=1), ClassificationHead(num_classes=10)]),
                        strategy="random", max_trials=4, epochs=2, n_jobs=2, seed=0,
                        final_fit=False, directory=tmp_path).fit((x / 16).astype("float32"), y)
    tells = [r for r in journal(tmp_path) if r["event"] == "tell"]
    assert sorted(r["number"] for r in tells) == [0, 1, 2, 3]
    assert all(r["status"] == "COMPLETED" for r in tells)
    assert all(r["info"]["trained_in"] == "worker process" for r in tells)
    assert overlapping(tells)
    assert found.best_model.predict((x[:5] / 16).astype("float32"), verbose=0).shape == (5, 10)


def test_chief_and_two_workers_finish_a_six_trial_search(tmp_path):
    chief, address, run = serve(tmp_path, 2, "--token", "s3cret")
    workers = [command("worker", address, "--token", "s3cret") for _ in range(2)]
    intruder = command("worker", address, "--token", "wrong", "--wait", "120")
    out, err = chief.communicate(timeout=600)
    assert chief.returncode == 0, out + err[-3000:]
    ends = [w.communicate(timeout=120) for w in workers]
    assert all(w.returncode == 0 for w in workers), ends
    assert all("the search is over" in o for o, _ in ends)
    _, refused = intruder.communicate(timeout=120)
    assert intruder.returncode == 1 and "wrong token" in refused
    records = journal(run)
    tells = [r for r in records if r["event"] == "tell"]
    assert sorted(r["number"] for r in tells) == list(range(6))
    assert all(r["status"] == "COMPLETED" for r in tells)
    assert len({r["info"]["trained_in"] for r in tells}) == 2  # both workers trained
    assert sum(r["event"] == "worker_joined" for r in records) == 2
    assert any(r["event"] == "worker_refused" for r in records)
    assert (run / "best_model.keras").exists() and "test accuracy:" in out


def test_a_worker_killed_mid_trial_does_not_stop_the_search(tmp_path):
    chief, address, run = serve(tmp_path, 40, "--early-stopping-patience", "40",
                                "--no-curve-stopping")
    doomed, survivor = command("worker", address), command("worker", address)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # until each worker has a trial running
        records = journal(run) if (run / "journal.jsonl").exists() else []
        if sum(r["event"] == "report" for r in records) >= 4:
            break
        time.sleep(0.5)
    doomed.send_signal(signal.SIGKILL)
    out, err = chief.communicate(timeout=600)
    assert chief.returncode == 0, out + err[-3000:]
    assert survivor.wait(timeout=120) == 0
    records = journal(run)
    tells = [r for r in records if r["event"] == "tell"]
    assert sorted(r["number"] for r in tells) == list(range(6))  # none twice, none lost
    assert all(r["status"] == "COMPLETED" for r in tells)
    restarts = [r for r in records if r["event"] == "restart"]
    assert len(restarts) == 1 and "was lost" in restarts[0]["reason"]


def test_a_worker_without_a_chief_says_so_and_exits():
    port = free_port()
    worker = command("worker", f"127.0.0.1:{port}", "--wait", "1")
    _, err = worker.communicate(timeout=120)
    assert worker.returncode == 1 and f"no chief answers at 127.0.0.1:{port}" in err


def test_a_chief_other_machines_reach_needs_a_token(monkeypatch):
    monkeypatch.delenv("AUTOARCH_TOKEN", raising=False)
    with pytest.raises(ValueError, match="needs a shared token"):
        Chief("0.0.0.0:0", b"", RunnerPool())
    chief = Chief("127.0.0.1:0", b"", RunnerPool())  # loopback: no token needed
    try:
        assert chief.port > 0
    finally:
        chief.close()


def test_local_workers_share_the_cores(monkeypatch):
    from autoarch.engine import search

    pins = search._local_pins(2)
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("one core")
    assert [p["cpus"] for p in pins] == [set(cores[:len(cores) // 2]),
                                         set(cores[len(cores) // 2:2 * (len(cores) // 2)])]
    assert np.all([len(p["cpus"]) == len(cores) // 2 for p in pins])


def test_workers_is_the_commands_flag_and_n_jobs_the_estimators_parameter():
    from autoarch import AutoClassifier
    from autoarch.cli import build_parser

    assert build_parser().parse_args(["search", "digits", "--workers", "2"]).n_jobs == 2
    assert AutoClassifier(n_jobs=3)._config(None).training.n_jobs == 3
    with pytest.raises(ValueError, match="n_jobs=0 trains nothing"):
        x, y = load_digits(return_X_y=True)
        ModelSearch(ModelSpace([DenseBlock(num_layers=1), ClassificationHead(num_classes=10)]),
                    max_trials=1, epochs=1, n_jobs=0).fit(x[:60], y[:60])


def test_a_silent_worker_is_given_up_and_its_trial_handed_out_again():
    """A worker that joined and then went quiet (a frozen machine, a cut cable: no end of
    connection) is lost after the chief's silence limit, not after an hour."""
    from multiprocessing.connection import Client

    from autoarch.distributed import _LOCAL_KEY, WorkerLost

    pool, notes = RunnerPool(), []
    chief = Chief("127.0.0.1:0", b"the trainer", pool, silence=1.0,
                  note=lambda event, **fields: notes.append(event))
    try:
        with Client(("127.0.0.1", chief.port), authkey=_LOCAL_KEY) as frozen:
            frozen.send("frozen-worker")
            assert frozen.recv_bytes() == b"the trainer"
            frozen.send(("ready",))
            runner = pool.take(lambda: False)
            started = time.monotonic()
            with pytest.raises(WorkerLost, match="frozen-worker was lost: .*no heartbeat"):
                runner.run({"params": {}}, lambda *a: None, {})
            assert time.monotonic() - started < 10
            assert frozen.recv() == {"params": {}}  # it had been sent the task
    finally:
        chief.close()
    assert notes == ["worker_joined"]
