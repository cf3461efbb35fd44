"""Tutorial 3: the ask/tell core, for any objective (no Keras model needed), and resuming.

Every strategy works on a plain Python function of the sampled parameters. The journal in
``directory`` records each ask and tell as it happens, so a search stopped at any point (even
``kill -9``) continues where it stopped when run again on the same directory.

Run it: ``python tutorials/03_ask_tell.py`` (seconds). ``AUTOARCH_SMOKE=1`` uses fewer trials.
"""

import os
import tempfile

from autoarch import Study

SMOKE = os.environ.get("AUTOARCH_SMOKE") == "1"
n_trials = 12 if SMOKE else 60

# 1. A search space as a dict (the same syntax as a YAML spec's ``space.parameters``):
#    ``learning_rate`` on a log scale, a choice, and a parameter that exists only sometimes.
space = {
    "learning_rate": {"type": "float", "min": 1e-4, "max": 1e-1, "sampling": "log"},
    "optimizer": {"type": "choice", "values": ["adam", "sgd"]},
    "momentum": {"type": "float", "min": 0.0, "max": 0.99, "when": {"optimizer": "sgd"}},
    "layers": {"type": "int", "min": 1, "max": 6},
}


def objective(params):
    """A made-up score with its optimum at lr=1e-2, 3 layers, sgd with momentum 0.9."""
    import math

    score = -abs(math.log10(params["learning_rate"]) + 2) - 0.3 * abs(params["layers"] - 3)
    if params["optimizer"] == "sgd":
        score += 0.5 - abs(params["momentum"] - 0.9)
    return score


# 2. Ask and tell by hand: the strategy proposes, you evaluate, you report.
study = Study(space, strategy="evolution", objective="max", seed=0)
for _ in range(5):
    trial = study.ask()
    study.tell(trial, objective(trial.params))
print("after 5 asks: best", round(study.best_value, 3), study.best_params)

# 3. Or let optimize() loop; compare strategies on the same budget.
for strategy in ("random", "evolution", "bayesian", "reinforce"):
    study = Study(space, strategy=strategy, objective="max", seed=0)
    study.optimize(lambda t: objective(t.params), max_trials=n_trials)
    print(f"{strategy:>10}: best {study.best_value:.3f} after {n_trials} trials")

# 4. Resume: a study on a directory picks up from its journal.
directory = tempfile.mkdtemp(prefix="autoarch-study-")
Study(space, strategy="bayesian", objective="max", seed=0,
      directory=directory).optimize(lambda t: objective(t.params), max_trials=n_trials // 2)
resumed = Study(space, strategy="bayesian", objective="max", seed=0, directory=directory)
print("resumed with", resumed.n_finished, "finished trials from", directory)
resumed.optimize(lambda t: objective(t.params), max_trials=n_trials)
print("after resuming: best", round(resumed.best_value, 3), "over", resumed.n_finished, "trials")
