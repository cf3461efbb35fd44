"""Child process of the resume test: runs a search that hangs in trial ``kill_at`` until killed."""

import sys
import time

from autoarch import Study
from strategy_helpers import SPACE, objective

strategy, directory, n, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])


def fn(trial):
    if trial.number == kill_at:
        time.sleep(600)  # the parent kills us here, mid-trial
    return objective(trial.params)


Study(SPACE, strategy=strategy, seed=5, directory=directory).optimize(fn, max_trials=n)
