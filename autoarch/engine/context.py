"""What a strategy's phase before the first trial (a supernet, a zero-cost screening) gets
from the model search: the fitted space, the data split, the budget and the journal."""

import dataclasses
import os
import time


@dataclasses.dataclass
class PhaseContext:
    """What a phase gets from the model search."""

    space: object  # the fitted ModelSpace
    train: tuple  # ({input: array}, y)
    val: tuple
    objective: tuple  # (name, direction), e.g. ("val_accuracy", "max")
    epochs: int  # the search's epochs per trial: the supernet's default
    batch_size: int
    distribution: object
    seed: int
    directory: str
    note: object  # study.note
    deadline: float = None  # time.monotonic() by which the whole search must end
    verbose: int = 0
    phase: str = "oneshot"  # the phase's folder in the search's directory
    started: float = dataclasses.field(default_factory=time.monotonic)
    sample_weight: tuple = None  # (training rows' weights, validation rows'), or None
    max_trials: int = None  # the search's, or None

    def weights(self, part):
        """The training (``"train"``) or validation (``"val"``) rows' sample weights, or
        None (as ``TrialTrainer.weights``)."""
        return None if self.sample_weight is None else \
            self.sample_weight[0 if part == "train" else 1]

    def folder(self, *parts):
        return os.path.join(self.directory, self.phase, *parts)

    def until(self, share):
        """When ``share`` of the time left at the phase's start is spent (None: no limit)."""
        if self.deadline is None:
            return None
        return self.started + share * max(0.0, self.deadline - self.started)

    def past(self, share):
        """Whether ``share`` of the time left at the phase's start is spent (never without a
        limit)."""
        until = self.until(share)
        return until is not None and time.monotonic() >= until
