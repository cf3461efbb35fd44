"""Several trials at once: worker processes on this machine (``n_jobs``), and workers on
other machines that join a chief over the network (``autoarch search --chief``,
``autoarch worker``).

The searching process stays the only owner of the study: its strategy's keras-tuner
``Oracle`` (whose calls keras-tuner already serialises for its own chief/worker mode), the
journal, the models kept and the final fit. Workers only train: each loads the pickled
:class:`~autoarch.engine.trainer.TrialTrainer` (space, data, settings) once, then runs the
tasks it is sent, exactly as a local ``isolate_trials`` worker does
(:func:`autoarch.engine.worker.serve`), and writes its models where the task says: a worker
on another machine needs the search directory on shared storage.

Why not keras-tuner's gRPC service as it stands: its messages carry hyperparameters and
metric histories only, not a task (epochs, seeds, the model to continue, measures, time
left) or a worker's data; its server blocks forever (keras-tuner#254, #344), has no
authentication and lets a worker wait an hour for a chief that is not there (#990). Here a
connection is Python's ``multiprocessing.connection`` with an HMAC challenge on a shared
token (``--token`` or ``AUTOARCH_TOKEN``; required unless the chief binds to a loopback
address), a worker sends a heartbeat every ``HEARTBEAT`` seconds and is given up after
``SILENCE`` seconds without one (its trial is handed out again), and the chief tells every
worker when the search is over.
"""

import contextlib
import ipaddress
import os
import pickle
import socket
import threading
import time
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Listener

from autoarch.engine.worker import WorkerDied, exchange, serve

#: the environment variable a token may come from, on the chief and on workers
TOKEN_ENV = "AUTOARCH_TOKEN"
#: seconds between a remote worker's heartbeats, and of silence before the chief gives up
HEARTBEAT, SILENCE = 5.0, 60.0
#: seconds a joining worker may take to load the search (starting TensorFlow, unpickling)
JOIN_SECONDS = 300.0
# the key of a chief on a loopback address without a token: only this machine reaches it
_LOCAL_KEY = b"autoarch-local"


class WorkerLost(WorkerDied):
    """A worker on the network was lost in the middle of a trial (killed, disconnected, or
    silent for ``SILENCE`` seconds): the trial is handed out again."""


class ChiefUnreachable(ConnectionError):
    """A worker could not reach its chief (or was refused by it)."""


def parse_address(text):
    """``"host:port"`` (or ``":port"``, meaning 127.0.0.1; port 0: any free one) ->
    ``(host, port)``."""
    host, sep, port = str(text).rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"address {text!r}: expected HOST:PORT, e.g. 127.0.0.1:7070")
    return host.strip("[]") or "127.0.0.1", int(port)


def _is_loopback(host):
    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False


def _authkey(token, host, role):
    token = token or os.environ.get(TOKEN_ENV) or None
    if token is None and not _is_loopback(host):
        raise ValueError(f"{role}: a chief on {host}, which other machines can reach, needs a "
                         f"shared token: pass --token (token=) or set {TOKEN_ENV}, on the "
                         "chief and on every worker")
    return token.encode() if token else _LOCAL_KEY


class RemoteWorker:
    """A worker that joined over the network, as a runner of trials: same ``run`` as a
    local :class:`~autoarch.engine.worker.TrialWorker`."""

    def __init__(self, conn, name, silence=SILENCE):
        self._conn, self.name, self.silence = conn, name, silence

    def run(self, task, report, info):
        try:
            return exchange(self._conn, task, report, info, silence=self.silence)
        except (EOFError, OSError, WorkerDied) as err:
            self.close()
            reason = str(err) if isinstance(err, WorkerDied) else "its connection ended"
            raise WorkerLost(f"worker {self.name} was lost: {reason}") from None

    def close(self):
        with contextlib.suppress(OSError):
            self._conn.send(None)  # the search is over
        with contextlib.suppress(OSError):
            self._conn.close()


class RunnerPool:
    """The workers of a search, each running one trial at a time: ``slot(done)`` waits for
    a free one (the context of :meth:`Study.optimize`'s threads)."""

    def __init__(self, runners=()):
        self._free, self._all = list(runners), list(runners)
        self._changed = threading.Condition()
        self._held = threading.local()

    def add(self, runner):
        with self._changed:
            self._all.append(runner)
            self._free.append(runner)
            self._changed.notify()

    @property
    def runners(self):
        """Every runner of the pool, free or busy."""
        with self._changed:
            return list(self._all)

    @property
    def runner(self):
        """The runner this thread holds."""
        return self._held.runner

    @contextlib.contextmanager
    def slot(self, done):
        """Hold a free runner (``self.runner``) while the block runs; yields None without
        one once ``done()``."""
        runner = self.take(done)
        self._held.runner = runner
        try:
            yield runner
        finally:
            held, self._held.runner = self._held.runner, None
            if held is not None:
                with self._changed:
                    self._free.append(held)
                    self._changed.notify()

    def take(self, done):
        """A free runner, waiting for one; None once ``done()``."""
        with self._changed:
            while not self._free:
                if done():
                    return None
                self._changed.wait(0.5)
            return self._free.pop(0)

    def replace(self, lost, done):
        """Give ``lost`` up and hold another runner instead (None once ``done()``)."""
        with self._changed:
            if lost in self._all:
                self._all.remove(lost)
        self._held.runner = self.take(done)
        return self._held.runner

    def close(self, now=False):
        """Stop every runner: once its trial is done, or ``now`` (local processes are
        killed; a remote worker's trial stays in flight in the journal, for a resume)."""
        with self._changed:
            runners, self._all, self._free = self._all, [], []
        for runner in runners:
            with contextlib.suppress(Exception):
                (getattr(runner, "kill", runner.close) if now else runner.close)()


class Chief:
    """Lets workers on other machines join ``pool`` at ``address``: each is sent
    ``payload`` (the pickled trainer) and becomes a runner once it has loaded it. ``note``:
    where joins and refusals are recorded (the study's journal); ``silence``: seconds
    without a message after which a busy worker counts as lost."""

    def __init__(self, address, payload, pool, token=None, note=None, silence=SILENCE):
        self.host, self.port = parse_address(address)
        self._key = _authkey(token, self.host, "chief")
        self._payload, self._pool, self._note = payload, pool, note or (lambda *a, **k: None)
        self.silence = silence
        try:
            self._listener = Listener((self.host, self.port), authkey=self._key)
        except OSError as err:
            raise OSError(f"chief: cannot listen on {self.host}:{self.port}: {err}") from None
        self.port = self._listener.address[1]
        self._closing = False
        self._thread = threading.Thread(target=self._accept, name="autoarch-chief",
                                        daemon=True)
        self._thread.start()

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    def _accept(self):
        while not self._closing:
            try:
                conn = self._listener.accept()
            except AuthenticationError as err:
                self._note("worker_refused", reason=f"wrong token ({err})", time=time.time())
                continue
            except OSError:
                return
            if self._closing:
                conn.close()
                return
            threading.Thread(target=self._join, args=(conn,), daemon=True).start()

    def _join(self, conn):
        name = "?"
        try:
            name = conn.recv()
            conn.send_bytes(self._payload)
            if not conn.poll(JOIN_SECONDS) or conn.recv() != ("ready",):
                raise OSError(f"it did not load the search in {JOIN_SECONDS:.0f} s")
        except (EOFError, OSError, pickle.UnpicklingError) as err:
            self._note("worker_lost", worker=str(name),
                       reason=f"while joining: {err}", time=time.time())
            conn.close()
            return
        self._note("worker_joined", worker=str(name), time=time.time())
        self._pool.add(RemoteWorker(conn, str(name), self.silence))

    def close(self):
        """Stop taking workers (those that joined are told the search is over by the pool)."""
        if self._closing:
            return
        self._closing = True
        with contextlib.suppress(OSError, AuthenticationError, EOFError):
            Client((self.host, self.port), authkey=self._key).close()  # wakes accept()
        self._thread.join(5)
        self._listener.close()


def run_worker(address, token=None, wait=60.0, name=None):
    """Join the chief at ``address`` and train the trials it sends until the search is
    over; returns how many this worker trained. Raises :class:`ChiefUnreachable` when no
    chief answers within ``wait`` seconds, or the chief refuses this worker's token."""
    host, port = parse_address(address)
    key = _authkey(token, host, "worker")
    name = name or f"{socket.gethostname()}:{os.getpid()}"
    give_up = time.monotonic() + wait
    while True:
        try:
            conn = Client((host, port), authkey=key)
            break
        except AuthenticationError:
            raise ChiefUnreachable(f"the chief at {host}:{port} refused this worker: wrong "
                                   f"token (give the chief's --token, or set {TOKEN_ENV})"
                                   ) from None
        except OSError as err:
            if time.monotonic() >= give_up:
                raise ChiefUnreachable(f"no chief answers at {host}:{port} after "
                                       f"{wait:.0f} s ({err.strerror or err}); is `autoarch "
                                       "search ... --chief` running there?") from None
            time.sleep(1.0)
    with conn:
        conn.send(name)
        return serve(conn, heartbeat=HEARTBEAT, where=f"worker {name}")
