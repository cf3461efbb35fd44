"""The search journal: one JSON object per line, appended and fsync'd.

Appending a whole line with a single ``write`` then ``fsync`` means a kill at any moment leaves
every earlier line intact; at worst the last line is cut short, and ``read`` drops such a
tail (and says so). Events: ``study`` (what was searched), ``ask`` (a trial's parameters),
``report`` (an intermediate metric, e.g. per epoch), ``tell`` (the outcome).
"""

import json
import math
import os
import warnings

from autoarch.errors import JournalError

JOURNAL_NAME = "journal.jsonl"


def _clean(value):
    """JSON has no NaN/inf: write them as strings so the record stays valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _clean(value.item())
    return value


class Journal:
    """Append-only, crash-safe record of a search in ``directory/journal.jsonl``."""

    def __init__(self, directory, create=True):
        self.directory = os.fspath(directory)
        if create:
            os.makedirs(self.directory, exist_ok=True)
        self.path = os.path.join(self.directory, JOURNAL_NAME)
        self.lines = []  # the line number of each record the last read returned

    def exists(self):
        return os.path.exists(self.path) and os.path.getsize(self.path) > 0

    def append(self, event, **fields):
        record = {"event": event, **_clean(fields)}
        line = json.dumps(record, sort_keys=False, default=str) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return record

    def read(self, repair=False):
        """All complete records; a torn last line (from a kill mid-write) is skipped, and with
        ``repair`` (a search about to append) also cut from the file. Reading alone never
        changes the file. ``self.lines`` then holds each record's line number."""
        self.lines = []
        if not os.path.exists(self.path):
            return []
        if repair and not os.access(self.path, os.W_OK):
            raise PermissionError(f"{self.path}: the journal is read-only, so the search cannot "
                                  "go on here (`autoarch report` reads it as it is)")
        with open(self.path, "rb") as handle:
            lines = handle.read().split(b"\n")
        records, offset = [], 0
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                    self.lines.append(number)
                except ValueError:  # not JSON, or a multi-byte character cut in half
                    if number < len(lines) - 1:
                        raise JournalError(f"{self.path}:{number}: corrupt journal line") from None
                    warnings.warn(f"{self.path}:{number}: dropped a torn last line", stacklevel=2)
                    if repair:
                        self._truncate_torn_tail(offset)
            offset += len(line) + 1  # bytes, so the cut lands exactly before the torn line
        return records

    def _truncate_torn_tail(self, size):
        with open(self.path, "rb+") as handle:
            handle.truncate(size)
            os.fsync(handle.fileno())
