"""Strategy benchmark on the synthetic architecture landscape (no training involved).

Prints, for each strategy, the median over seeds of the best value found after 25, 50 and
100 trials, and the mean seconds each suggestion (ask) takes. Paste the table into the README.

    python benchmarks/strategies.py [--seeds 10] [--strategies random,evolution,...]
"""

import argparse
import time

import numpy as np

from autoarch import Study
from autoarch.landscapes import architecture_landscape, architecture_optimum, architecture_space

CHECKPOINTS = (25, 50, 100)


def run(strategy, seed, n_trials, options):
    study = Study(architecture_space(), strategy=strategy, seed=seed, strategy_options=options)
    best, curve, ask_seconds = -np.inf, [], 0.0
    for _ in range(n_trials):
        start = time.perf_counter()
        trial = study.ask()
        ask_seconds += time.perf_counter() - start
        value = architecture_landscape(trial.hyperparameters)
        study.tell(trial, value)
        best = max(best, value)
        curve.append(best)
    return curve, ask_seconds / n_trials


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--strategies", default="random,evolution,bayesian,reinforce,hyperband")
    args = parser.parse_args()
    n_trials = max(CHECKPOINTS)
    optimum = architecture_optimum()  # every point scored, so the figure is the landscape's own
    print(f"median best over {args.seeds} seeds (optimum {optimum:.2f}; larger is better)\n")
    print("| strategy | best @25 | best @50 | best @100 | s / suggestion |")
    print("|---|---|---|---|---|")
    for strategy in args.strategies.split(","):
        options = {"max_epochs": 9, "hyperband_iterations": 100} if strategy == "hyperband" else {}
        curves, seconds = [], []
        for seed in range(args.seeds):
            curve, per_ask = run(strategy, seed, n_trials, options)
            curves.append(curve)
            seconds.append(per_ask)
        medians = [np.median([c[k - 1] for c in curves]) for k in CHECKPOINTS]
        cells = " | ".join(f"{m:.2f}" for m in medians)
        print(f"| {strategy} | {cells} | {np.mean(seconds):.4f} |", flush=True)


if __name__ == "__main__":
    main()
