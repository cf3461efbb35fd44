"""Several objectives: Pareto fronts of NSGA-II evolution and ParEGO against random search
at the same trial count, on ZDT1 (no training) and on digits (accuracy against size and
against TFLite latency).

ZDT1 (``autoarch.landscapes.zdt1``, both objectives minimised): ``--zdt-trials`` trials per
search, ``--zdt-seeds`` seeds; printed, each strategy's mean hypervolume from (1.1, 11) (the
true front's: 11.77).

The space: a searched dense network (``DenseBlock``'s default ranges: 1-3 layers of 32-512
units, activations, dropout, batch norm; the default learning rates) on scikit-learn's digits
as 64 flat columns, 75 % training rows of which a fifth validates; ``--trials`` trials of
``--epochs`` epochs, in this process. For each second objective (``params``, then
``tflite_latency_ms``) and seed, both strategies search ``[val_accuracy, measure]``; printed:
the mean and per-seed hypervolume of each front (reference point: accuracy 0.5 and the
largest value of the measure any trial of that seed reached, so the figure is a share of
what the reference box allows), and how many seeds evolution's front is larger in.

    python benchmarks/pareto.py [--zdt-seeds 8] [--zdt-trials 80] [--seeds 3] [--trials 20]
                                [--epochs 5] [--measures params tflite_latency_ms]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

STRATEGIES = {"random": {}, "evolution": {"population_size": 4, "sample_size": 2}}
ZDT_STRATEGIES = {"random": {}, "evolution": {"population_size": 20, "sample_size": 5},
                  "bayesian": {}}


def zdt_table(seeds, trials):
    from autoarch import Study
    from autoarch.landscapes import (ZDT1_BEST_HYPERVOLUME, ZDT1_OBJECTIVES, ZDT1_REFERENCE,
                                     ZDT1_SPACE, zdt1)
    from autoarch.pareto import hypervolume

    print(f"ZDT1, {trials} trials, {seeds} seeds: mean hypervolume of the front (the true "
          f"front's: {ZDT1_BEST_HYPERVOLUME:.2f})\n")
    print("| strategy | hypervolume | lowest seed |")
    print("|---|---|---|")
    for name, options in ZDT_STRATEGIES.items():
        volumes = []
        for seed in range(seeds):
            study = Study(ZDT1_SPACE, strategy=name, objectives=ZDT1_OBJECTIVES, seed=seed,
                          strategy_options=options)
            study.optimize(lambda t: zdt1(t.params), max_trials=trials)
            volumes.append(hypervolume([study.vector(t) for t in study.pareto_front()],
                                       ZDT1_REFERENCE, ("min", "min")))
        print(f"| {name} | {np.mean(volumes):.2f} | {min(volumes):.2f} |")
    print()


def front(x, y, strategy, measure, seed, trials, epochs):
    """Every completed trial's (accuracy, measure) and the front's, of one search."""
    from autoarch.blocks import ClassificationHead, DenseBlock, ModelSpace
    from autoarch.engine.search import ModelSearch

    found = ModelSearch(ModelSpace([DenseBlock(), ClassificationHead(num_classes=10)]),
                        strategy=strategy, strategy_options=STRATEGIES[strategy],
                        objectives=["val_accuracy", measure], max_trials=trials,
                        epochs=epochs, seed=seed, final_fit=False, ensemble_size=1,
                        isolate_trials=False).fit(x, y)
    study = found.study
    return ([study.vector(t) for t in study.trials if t.is_finite()],
            [study.vector(t) for t in study.pareto_front()])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zdt-seeds", type=int, default=8)
    parser.add_argument("--zdt-trials", type=int, default=80)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--measures", nargs="+", default=["params", "tflite_latency_ms"])
    args = parser.parse_args()
    from autoarch.engine.runtime import configure_threads
    from autoarch.pareto import hypervolume

    configure_threads()
    zdt_table(args.zdt_seeds, args.zdt_trials)
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    x_train, _, y_train, _ = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    print(f"digits (64 columns), {args.trials} trials of {args.epochs} epochs per search, "
          f"{args.seeds} seeds; hypervolume of the front of val_accuracy (max) against the "
          "measure (min), as a share of the reference box\n")
    print("| second objective | random | NSGA-II evolution | seeds evolution is larger |")
    print("|---|---|---|---|")
    for measure in args.measures:
        volumes = {name: [] for name in STRATEGIES}
        for seed in range(args.seeds):
            runs = {name: front(x_train, y_train, name, measure, seed, args.trials,
                                args.epochs) for name in STRATEGIES}
            worst = max(v[1] for every, _ in runs.values() for v in every)
            reference = (0.5, worst)
            box = (1.0 - 0.5) * worst
            for name, (_, points) in runs.items():
                volumes[name].append(hypervolume(points, reference, ("max", "min")) / box)
        wins = sum(e > r for e, r in zip(volumes["evolution"], volumes["random"]))
        print(f"| {measure} | {np.mean(volumes['random']):.3f} "
              f"({', '.join(f'{v:.3f}' for v in volumes['random'])}) | "
              f"{np.mean(volumes['evolution']):.3f} "
              f"({', '.join(f'{v:.3f}' for v in volumes['evolution'])}) | "
              f"{wins} of {args.seeds} |")


if __name__ == "__main__":
    main()
