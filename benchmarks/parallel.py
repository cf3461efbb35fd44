"""Several trials at once: trials per minute with 1 and 2 local workers on real training, and
the best value each strategy reaches per wall-clock second with 4 simulated workers.

Real training: a searched dense network (``DenseBlock``'s default ranges) on scikit-learn's
digits (64 columns, 75 % training rows), random search, ``--trials`` trials of ``--epochs``
epochs, each trial in a worker process (``isolate_trials=True``) so both rows pay the same
per-trial costs; ``n_jobs=1`` then ``n_jobs=2`` (each worker pinned to half the cores).
Printed: wall seconds of the search (final model excluded), trials per minute, speed-up.

Simulated workers: each strategy searches the synthetic architecture landscape
(``autoarch.landscapes``) with ``n_jobs`` threads, a trial taking ``--trial-seconds``
times (depth x width index / 6) seconds (bigger networks take longer, as in NAS), for
``--seconds`` seconds of wall-clock time, ``--seeds`` seeds. Printed: the median share of
the landscape's optimum reached after a third, two thirds and all of the time, with 1 and
with 4 workers, so the table shows what asynchronous results do to each strategy.

    python benchmarks/parallel.py [--trials 12] [--epochs 5] [--seconds 12]
                                  [--trial-seconds 0.3] [--seeds 5]
"""

import argparse
import os
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported

import numpy as np  # noqa: E402

STRATEGIES = {"random": {}, "evolution": {"population_size": 10, "sample_size": 3},
              "bayesian": {}, "reinforce": {}}


def real_training(trials, epochs):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from autoarch.blocks import ClassificationHead, DenseBlock, ModelSpace
    from autoarch.engine.search import ModelSearch

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    x_train, _, y_train, _ = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    print(f"digits, random search, {trials} trials of {epochs} epochs, each in a worker "
          f"process ({os.cpu_count()} cores)\n")
    print("| local workers | search seconds | trials per minute | speed-up |")
    print("|---|---|---|---|")
    base = None
    for n_jobs in (1, 2):
        found = ModelSearch(ModelSpace([DenseBlock(), ClassificationHead(num_classes=10)]),
                            strategy="random", max_trials=trials, epochs=epochs, seed=0,
                            n_jobs=n_jobs, isolate_trials=True, final_fit=False,
                            ensemble_size=1).fit(x_train, y_train)
        seconds = found.summary["search_seconds"]
        base = base or seconds
        print(f"| {n_jobs} | {seconds:.1f} | {60 * trials / seconds:.1f} | "
              f"{base / seconds:.2f}x |", flush=True)
    print()


def simulated(strategy, seed, n_jobs, seconds, trial_seconds, marks):
    from autoarch import Study
    from autoarch.landscapes import WIDTHS, architecture_landscape, architecture_space

    study = Study(architecture_space(), strategy=strategy, seed=seed,
                  strategy_options=STRATEGIES[strategy])
    started = time.monotonic()
    found, lock = [], threading.Lock()

    def objective(trial):
        params = trial.params
        time.sleep(trial_seconds * params["depth"] * (1 + WIDTHS.index(params["width"])) / 6)
        value = architecture_landscape(params)
        with lock:
            found.append((time.monotonic() - started, value))
        return value

    study.optimize(objective, time_limit=seconds, n_jobs=n_jobs)
    return [max([v for t, v in found if t <= mark], default=np.nan) for mark in marks]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--trial-seconds", type=float, default=0.3)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    from autoarch.engine.runtime import configure_threads
    from autoarch.landscapes import architecture_optimum

    configure_threads()
    real_training(args.trials, args.epochs)
    optimum = architecture_optimum()
    marks = [args.seconds / 3, 2 * args.seconds / 3, args.seconds]
    print(f"architecture landscape, a trial takes {args.trial_seconds} s x depth x width "
          f"index / 6, {args.seconds:.0f} s per search, {args.seeds} seeds; median share of "
          "the optimum reached by each time\n")
    print("| strategy | workers | " + " | ".join(f"{m:.0f} s" for m in marks) + " |")
    print("|---|---|" + "---|" * len(marks))
    for strategy in STRATEGIES:
        for n_jobs in (1, 4):
            reached = np.array([simulated(strategy, seed, n_jobs, args.seconds,
                                          args.trial_seconds, marks)
                                for seed in range(args.seeds)]) / optimum
            print(f"| {strategy} | {n_jobs} | " + " | ".join(
                f"{v:.3f}" for v in np.nanmedian(reached, axis=0)) + " |", flush=True)


if __name__ == "__main__":
    main()
