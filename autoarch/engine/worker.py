"""Trials in a worker process (``isolate_trials``).

TensorFlow keeps a few MiB per trained model that ``clear_session`` does not give back
(tensorflow#61791; measured here: 4.2 MiB per ``fit`` of a tiny Keras model). Over hundreds of
trials that grows without bound, so a long search can train in a worker process that is
replaced every ``trials_per_worker`` trials: the searching process never trains and stays
flat. A worker that dies (a native crash, the kernel's OOM killer) fails only its trial.

The worker is a fresh interpreter (``WORKER_MAIN``), not a fork of a
process whose TensorFlow runtime already runs, and it never re-imports the user's script. It
talks over an inherited socket, so this needs a POSIX system (Linux, macOS).
It receives a pickled :class:`~autoarch.engine.trainer.TrialTrainer`, says ``("ready",)`` once
it has loaded it (starting TensorFlow takes seconds: a search can train in its own process
meanwhile, see ``ready``), then takes tasks; it answers with ``("report", step, logs)`` per
epoch and ``("done", metrics, info)`` or ``("error", summary, traceback, info)`` per task.
The same two ends, :func:`exchange` and :func:`serve`, run the workers of a parallel search,
local or on other machines (:mod:`autoarch.distributed`, which adds heartbeats).
"""

import os
import pickle
import subprocess
import sys
import threading
import traceback
from multiprocessing.connection import Pipe

from autoarch.engine.runtime import configure_threads


# The worker takes the pickled trainer off the socket first, so that sending it never waits
# (a table's trainer is megabytes, beyond the socket's buffer: the search stood still for the
# seconds TensorFlow takes to load, 8.5 s of churn's 60). Then TensorFlow starts quietly (its
# errors come back as exceptions, not log lines), before this package, which imports it.
WORKER_MAIN = ("import sys; from multiprocessing.connection import Connection; "
               "conn = Connection(int(sys.argv[1])); payload = conn.recv_bytes(); "
               "from autoarch.quiet import import_tensorflow_quietly; "
               "import_tensorflow_quietly(); from autoarch.engine.worker import serve; "
               "serve(conn, payload=payload)")


class WorkerDied(RuntimeError):
    """The worker process ended in the middle of a trial."""


class TrialError(RuntimeError):
    """A trial raised in the worker; the message carries the worker's traceback."""


def trainer_payload(trainer):
    """The pickled trainer a worker loads (its space, data and settings)."""
    try:
        return pickle.dumps(trainer)
    except Exception as err:
        raise ValueError("isolate_trials needs a search space and callbacks that pickle "
                         f"(classes defined in an importable module): {err}") from err


def exchange(conn, task, report, info, silence=None):
    """Send ``task`` over ``conn`` and relay the worker's messages until its result: the
    metrics, or :class:`TrialError`; :class:`WorkerDied` when the connection ends, or
    nothing (not even a heartbeat) arrives for ``silence`` seconds."""
    conn.send(task)
    while True:
        if silence is not None and not conn.poll(silence):
            raise WorkerDied(f"the worker sent nothing for {silence:.0f} s (no heartbeat)")
        message = conn.recv()
        if message[0] in ("ready", "alive"):
            continue
        if message[0] == "report":
            report(message[1], message[2])
            continue
        info.update(message[-1])
        if message[0] == "done":
            return message[1]
        raise TrialError(f"{message[1]}\n\nin the worker process:\n{message[2]}")


class TrialWorker:
    """Runs tasks of ``trainer`` in a worker process, replaced every ``trials_per_worker``.

    ``env``: variables set for the worker process (e.g. ``CUDA_VISIBLE_DEVICES``, to pin it
    to a GPU); ``cpus``: the cores it may use (its affinity; TensorFlow sizes its threads
    from it), so that several workers share a machine without oversubscribing it."""

    def __init__(self, trainer, trials_per_worker=25, env=None, cpus=None, payload=None):
        self._payload = payload if payload is not None else trainer_payload(trainer)
        self.env, self.cpus = dict(env or {}), cpus
        self.trials_per_worker = max(1, int(trials_per_worker))
        self._process = self._conn = None
        self._trials, self._ready = 0, False

    @property
    def used_up(self):
        """Whether the next task needs a new worker process."""
        return self._process is None or self._trials >= self.trials_per_worker

    def start(self):
        """Start a new worker process (replacing the current one); it loads in the background."""
        self.close()
        ours, theirs = Pipe()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p or os.getcwd() for p in sys.path))
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # its errors come back as exceptions
        env.update(self.env)
        cpus = self.cpus
        self._process = subprocess.Popen(
            [sys.executable, "-c", WORKER_MAIN, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),), env=env,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
            # its own session: a Ctrl-C in the terminal goes to the searching process alone,
            # which stops this worker (its traceback would only bury the one-line message)
            start_new_session=True)
        theirs.close()
        self._conn, self._trials, self._ready = ours, 0, False
        self._conn.send_bytes(self._payload)

    def ready(self):
        """Whether the worker has loaded and waits for tasks (never blocks)."""
        if not self._ready and self._process is not None and self._conn.poll():
            try:
                self._ready = self._conn.recv() == ("ready",)
            except (EOFError, OSError):
                status = self._process.wait()
                self._process = None
                raise WorkerDied(f"the worker process ended while starting (exit status "
                                 f"{status})") from None
        return self._ready

    def run(self, task, report, info):
        if self.used_up:
            self.start()
        self._trials += 1
        try:
            metrics = exchange(self._conn, task, report, info)
        except (EOFError, OSError):
            status = self._process.wait()
            self._process = None
            raise WorkerDied(f"the worker process training this trial ended with exit "
                             f"status {status} (a native crash, the system's OOM killer, or "
                             "a kill)") from None
        self._ready = True
        return metrics

    def kill(self):
        """End the worker process now, in the middle of a trial if need be (Ctrl-C)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._conn.close()
            self._process = self._conn = None

    def close(self):
        """Tell the worker process to end, without waiting for it: TensorFlow takes 1.5 s to
        wind down, which at the end of a search is the final model's time (a digits search
        found 17.1 s left for a retraining estimated at 17.5 s, and kept its trial model). A
        thread reaps it, killing it if it has not ended within 30 s."""
        if self._process is None:
            return
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if not self._ready:  # still starting: nothing of it is needed
            process.kill()
        try:
            conn.send(None)
        except OSError:
            pass
        threading.Thread(target=_reap, args=(process, conn), daemon=True).start()


def _reap(process, conn):
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    conn.close()


def serve(conn, heartbeat=None, where="worker process", payload=None):
    """A worker's life: load the trainer sent over ``conn`` (or its ``payload``, already
    received), then run tasks until told to stop (``None``) or the searching process is
    gone. Returns the number of tasks run. ``heartbeat``: seconds between ``("alive",)``
    messages sent meanwhile, so a chief on another machine can tell a busy worker from a
    lost one."""
    configure_threads()
    trainer = pickle.loads(conn.recv_bytes() if payload is None else payload)
    lock, stopped = threading.Lock(), threading.Event()

    def send(message):
        with lock:
            conn.send(message)

    if heartbeat:
        def beat():
            while not stopped.wait(heartbeat):
                try:
                    send(("alive",))
                except OSError:
                    return
        threading.Thread(target=beat, daemon=True).start()
    try:
        send(("ready",))
    except OSError:  # the searching process ended (an error) while this one started
        stopped.set()
        return 0
    tasks = 0
    try:
        while True:
            try:
                task = conn.recv()
            except (EOFError, OSError):  # the searching process is gone
                return tasks
            if task is None:
                return tasks
            tasks += 1
            info = {"trained_in": where}
            try:
                metrics = trainer.run(task, lambda step, logs: send(("report", step, logs)),
                                      info)
            except Exception as err:  # noqa: BLE001 - sent back as the trial's failure
                send(("error", f"{type(err).__name__}: {err}", traceback.format_exc(), info))
            else:
                send(("done", metrics, info))
    finally:
        stopped.set()
