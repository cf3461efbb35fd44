"""Quality: model-based strategies beat random search on a structured landscape.

Median best-found value over 12 seeds after 60 trials on ``architecture_landscape``
(311,040 points, interacting categorical and integer decisions). Bayesian optimization
takes six: its Gaussian process costs about 5 s a seed, and it reached the landscape's
optimum (12.07) in 23 of 24 seeds when measured, against random search's median of 7.42.
"""

import numpy as np
import pytest

from autoarch import Study
from autoarch.landscapes import architecture_landscape, architecture_space

SEEDS, TRIALS = range(12), 60
FEWER_SEEDS = {"bayesian": range(6)}


def median_best(strategy):
    bests = []
    for seed in FEWER_SEEDS.get(strategy, SEEDS):
        study = Study(architecture_space(), strategy=strategy, objective="max", seed=seed)
        study.optimize(lambda t: architecture_landscape(t.params), max_trials=TRIALS)
        bests.append(study.best_value)
    return float(np.median(bests))


@pytest.fixture(scope="module")
def random_median():
    return median_best("random")


@pytest.mark.parametrize("strategy", ["evolution", "bayesian", "reinforce"])
def test_beats_random_search(strategy, random_median):
    assert median_best(strategy) > random_median + 0.5
