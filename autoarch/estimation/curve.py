"""Learning-curve extrapolation: stop a trial whose curve cannot beat the best so far.

After ``min_epochs`` epochs the validation curve is fitted with ``y = a + b log(epoch)``, a
model that keeps improving (optimistic for curves that flatten out). If even the best of that
extrapolation and the trial's own best so far stays worse than the search's best at the
trial's last epoch, training stops, and the reason goes into the journal.
"""

import math

import keras
import numpy as np


def extrapolate(values, final_epoch):
    """Value of the ``a + b log(t)`` least-squares fit of ``values`` (epochs 1..n) at ``final_epoch``."""
    t = np.log(np.arange(1, len(values) + 1))
    slope, intercept = np.polyfit(t, np.asarray(values, dtype=float), 1)
    return float(intercept + slope * math.log(final_epoch))


class CurveStopping(keras.callbacks.Callback):
    def __init__(self, monitor, direction, best_so_far, final_epoch, min_epochs=3, margin=0.0):
        super().__init__()
        self.monitor, self.direction = monitor, direction
        self.best_so_far, self.final_epoch = best_so_far, final_epoch
        self.min_epochs, self.margin = min_epochs, margin
        self.history, self.reason = [], None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or self.best_so_far is None:
            return
        self.history.append(float(value))
        n = len(self.history)
        if n < self.min_epochs or n >= self.final_epoch:
            return
        sign = 1.0 if self.direction == "max" else -1.0
        predicted = sign * extrapolate(self.history, self.final_epoch)
        optimistic = max(predicted, sign * (max(self.history) if sign > 0 else min(self.history)))
        if optimistic + self.margin < sign * self.best_so_far:
            self.reason = (f"learning curve: after {n} epochs {self.monitor} is predicted to "
                           f"reach {sign * optimistic:.4g} by epoch {self.final_epoch}, which "
                           f"cannot beat the best so far ({self.best_so_far:.4g})")
            self.model.stop_training = True
