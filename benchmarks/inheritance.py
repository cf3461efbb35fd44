"""Starting trials from other trials' weights: the same search (space, seeds, trials) with
and without it, for evolution (children inherit their parents' weights, widened and
deepened where they grew) and for Hyperband (promotions continue their parents' models).

The space: a searched dense network (``DenseBlock``'s default ranges and the default
learning rates) on scikit-learn's digits as 64 flat columns, 75 % training rows of which a
fifth validates; trials in this process. Aging evolution (population 4, tournament 2) runs
``--trials`` trials of up to ``--epochs`` epochs with early stopping; Hyperband
(``max_epochs=--epochs``, factor 3) runs ``--trials`` trials. Printed per setting, over
``--seeds`` seeds: the best validation accuracy, the search's wall seconds, the epochs its
trials trained, and the seconds until it first reached the best validation accuracy that
both settings reached in that seed (the lower of their two bests).

    python benchmarks/inheritance.py [--seeds 3] [--trials 16] [--epochs 10]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402


SETTINGS = {  # strategy -> (option that turns it on and off, other options)
    "evolution": ("inherit", {"population_size": 4, "sample_size": 2}),
    "hyperband": ("continue_training", {"factor": 3}),
}


def search(x, y, seed, strategy, on, trials, epochs):
    """``[(seconds since the start, value)]`` per finished trial, epochs, wall seconds."""
    from autoarch.blocks import ClassificationHead, DenseBlock, ModelSpace
    from autoarch.engine.search import ModelSearch

    switch, options = SETTINGS[strategy]
    options = {**options, switch: on}
    if strategy == "hyperband":
        options["max_epochs"] = epochs
    started = time.monotonic()
    found = ModelSearch(ModelSpace([DenseBlock(), ClassificationHead(num_classes=10)]),
                        strategy=strategy, strategy_options=options,
                        max_trials=trials, epochs=epochs, seed=seed, final_fit=False,
                        ensemble_size=1, isolate_trials=False).fit(x, y)
    points = [(t.finished - found.study.trials[0].started, t.value)
              for t in found.study.trials if t.is_finite()]
    epochs_run = sum(int(t.metrics.get("epochs_run", 0)) for t in found.study.trials)
    return points, epochs_run, time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    from autoarch.engine.runtime import configure_threads

    configure_threads()
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    x_train, _, y_train, _ = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    for strategy, (switch, _) in SETTINGS.items():
        rows = {True: [], False: []}
        for seed in range(args.seeds):
            runs = {on: search(x_train, y_train, seed, strategy, on, args.trials, args.epochs)
                    for on in (True, False)}
            target = min(max(v for _, v in points) for points, _, _ in runs.values())
            for on, (points, epochs_run, wall) in runs.items():
                reached = min(s for s, v in points if v >= target)
                rows[on].append((max(v for _, v in points), wall, epochs_run, reached))
        print(f"\n{strategy} on digits (64 columns), {args.trials} trials of up to "
              f"{args.epochs} epochs, {args.seeds} seeds (mean)\n")
        print(f"| {switch} | best val accuracy | wall seconds | epochs trained | seconds to "
              "the common best |")
        print("|---|---|---|---|---|")
        for on in (True, False):
            best, wall, epochs_run, reached = np.mean(rows[on], axis=0)
            print(f"| {str(on).lower()} | {best:.4f} | {wall:.0f} | {epochs_run:.0f} "
                  f"| {reached:.0f} |")

if __name__ == "__main__":
    main()
