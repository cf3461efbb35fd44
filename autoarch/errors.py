"""Error classes: every message names the place the problem is (file:line:column, a spec path, a parameter)."""


class AutoarchError(Exception):
    """Base class of autoarch's own errors."""


class SpecError(AutoarchError, ValueError):
    """A spec (YAML file or dict) is invalid.

    ``str(err)`` reads ``file:line:column: path: message`` with whatever of these is known.
    """

    def __init__(self, message, path="", file=None, line=None, column=None):
        self.message = message
        self.path = path
        self.file = file
        self.line = line
        self.column = column
        super().__init__(self._format())

    def _format(self):
        where = []
        if self.file is not None:
            loc = str(self.file)
            if self.line is not None:
                loc += f":{self.line}"
                if self.column is not None:
                    loc += f":{self.column}"
            where.append(loc)
        elif self.line is not None:
            where.append(f"line {self.line}, column {self.column}")
        if self.path:
            where.append(self.path)
        return ": ".join(where + [self.message])

    def __reduce__(self):
        return (type(self), (self.message, self.path, self.file, self.line, self.column))


class SearchFinished(AutoarchError):
    """The strategy has no further trial to suggest (for example a grid is exhausted)."""


class TrialRefused(AutoarchError):
    """Raised by an objective function: the trial breaks a constraint knowable before it
    runs (``Study.optimize`` records it as refused, not failed)."""


class TooManyFailures(AutoarchError, RuntimeError):
    """The search stopped because too many consecutive trials failed."""


class StudyMismatch(AutoarchError, ValueError):
    """A directory already holds a journal of a different study."""


class DirectoryLocked(AutoarchError, RuntimeError):
    """Another process is searching in this run directory."""


class JournalError(AutoarchError, ValueError):
    """A journal line that cannot be part of a search (its message names the file and line)."""


class TrialsPending(AutoarchError, RuntimeError):
    """The strategy waits for running trials before it suggests another (Hyperband at the
    end of a rung): ask again once one of them is told."""
