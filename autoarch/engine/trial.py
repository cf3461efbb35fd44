"""A trial as the user sees it: plain parameters, outcome, timing and the reason for failure."""

import enum
import math
from dataclasses import asdict, dataclass, field


class TrialStatus(str, enum.Enum):
    """Where a trial stands; a ``str``, so it compares equal to and is recorded as its name."""

    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    #: refused before training: it broke a constraint knowable from the built model
    REFUSED = "REFUSED"

    def is_finished(self):
        return self is not TrialStatus.RUNNING

    def __str__(self):
        return self.value


@dataclass
class Trial:
    number: int
    params: dict
    seed: int
    trial_id: str = None
    status: TrialStatus = TrialStatus.RUNNING
    value: float = None
    metrics: dict = field(default_factory=dict)
    intermediate: list = field(default_factory=list)
    started: float = None
    finished: float = None
    message: str = None
    traceback: str = None
    info: dict = field(default_factory=dict)

    @property
    def duration(self):
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started

    @property
    def hyperparameters(self):
        """The searched values without keras-tuner's bookkeeping (``tuner/...``) entries."""
        return {k: v for k, v in self.params.items() if not k.startswith("tuner/")}

    def is_finite(self):
        return self.status == TrialStatus.COMPLETED and self.value is not None and \
            math.isfinite(self.value)

    def as_dict(self):
        record = asdict(self)
        record["status"] = self.status.value
        record["duration"] = self.duration
        return record
