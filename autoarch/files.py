"""Files written whole or not at all, and one process per run directory.

``atomic_path`` hands out a temporary name in the target's own folder; once the writer is
done the file (or folder) is flushed to disk and renamed over the target, so a kill at any
moment leaves either the old target or the new one, never half of one. ``DirectoryLock``
keeps a second process off a run directory (as Optuna's journal storage does): an ``flock``
on ``DIR/lock``, which the kernel lets go when its holder dies, so a killed run's lock is
taken over without asking anyone to delete a file.
"""

import contextlib
import glob
import json
import os
import shutil
import socket
import uuid

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the lock file still names the holder
    fcntl = None

from autoarch.errors import DirectoryLocked


#: what a search's folder keeps of its end: the final model, and the fitted estimator
#: (pickled: the model and what reads new rows into it, a table's columns, the class labels),
#: which ``autoarch predict`` loads
BEST_MODEL, ESTIMATOR = "best_model.keras", "estimator.pkl"


def _fsync_tree(path):
    if os.path.isdir(path):
        for folder, _, names in os.walk(path):
            for name in names:
                _fsync(os.path.join(folder, name))
    else:
        _fsync(path)


def _fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` (same suffix, so writers that look at it, like
    ``model.save``, accept it); on a clean exit it replaces ``path``, on an error it is
    removed and ``path`` is untouched. What a killed writer left of an earlier attempt at the
    same target is removed first (one writer per run directory: see ``DirectoryLock``)."""
    path = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(path)
    stem, suffix = os.path.splitext(name)
    temporary = os.path.join(folder, f".{stem}.{uuid.uuid4().hex[:8]}.partial{suffix}")
    created = not os.path.isdir(folder)
    os.makedirs(folder, exist_ok=True)
    pattern = f".{glob.escape(stem)}.{'?' * 8}.partial{glob.escape(suffix)}*"
    for stale in glob.glob(os.path.join(glob.escape(folder), pattern)):
        _remove(stale)
    try:
        yield temporary
        _fsync_tree(temporary)
        if os.path.isdir(temporary):  # a folder cannot be renamed over a full one
            old = None
            if os.path.exists(path):
                old = temporary + ".old"
                os.replace(path, old)
            os.replace(temporary, path)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temporary, path)
        with contextlib.suppress(OSError):  # the rename itself, on file systems that allow it
            _fsync(folder)
    except BaseException:
        if created:  # nothing was written: the folder made for it goes too
            _remove(temporary)
            with contextlib.suppress(OSError):
                os.removedirs(folder)
        raise
    finally:
        _remove(temporary)


def _remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.exists(path):
        os.remove(path)


def write_json(path, value):
    """``json.dump`` to ``path``, atomically."""
    with atomic_path(path) as temporary:
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(value, handle, indent=2, default=str)


class DirectoryLock:
    """An exclusive lock of one run directory for this process.

    Several holders in one process share it (a search and the estimator around it); another
    process is refused with :class:`~autoarch.errors.DirectoryLocked` naming the holder."""

    _held = {}  # real path -> [open lock file, number of holders in this process]

    def __init__(self, directory):
        self.path = os.path.join(os.path.realpath(os.fspath(directory)), "lock")
        self.acquired = False

    def acquire(self):
        if self.acquired:
            return self
        entry = self._held.get(self.path)
        if entry is None:
            try:
                handle = open(self.path, "a+", encoding="utf-8")
            except OSError as err:
                raise PermissionError(f"{os.path.dirname(self.path)}: cannot write here, so "
                                      f"no search can run in it ({err.strerror})") from None
            if fcntl is not None:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    handle.close()
                    raise DirectoryLocked(
                        f"{os.path.dirname(self.path)} is in use by {holder}; wait for it to "
                        "finish (or stop it), or use another directory") from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"process {os.getpid()} on {socket.gethostname()}\n")
            handle.flush()
            entry = self._held[self.path] = [handle, 0]
        entry[1] += 1
        self.acquired = True
        return self

    def release(self):
        if not self.acquired:
            return
        self.acquired = False
        entry = self._held.get(self.path)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] <= 0:
            del self._held[self.path]
            entry[0].close()  # closing the file lets the flock go

    def __del__(self):
        with contextlib.suppress(Exception):
            self.release()
