"""End-to-end quality and wall time against scikit-learn baselines, on built-in data.

Each task: a stratified 75/25 split with random_state=0, an autoarch search with the ready
spec's space and budget (wall time includes the final fit), test score, and the
scikit-learn baseline on the same split (SVC for digits, HistGradientBoosting* for tables;
for MNIST-1D the reference is the paper's CNN, 94%).

    python benchmarks/end_to_end.py [--tasks digits,breast_cancer,wine,diabetes,mnist1d]
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported

from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from autoarch import load_spec
from autoarch.cli import resolve_spec
from autoarch.data import load_data
from autoarch.estimators import estimator_for_task


def baseline(task, x_train, x_test, y_train, y_test):
    if task == "mnist1d":
        return "paper CNN", 0.94, 0.0
    x_train2 = x_train.reshape(len(x_train), -1)
    x_test2 = x_test.reshape(len(x_test), -1)
    model = SVC() if task == "digits" else HistGradientBoostingRegressor() if \
        task == "diabetes" else HistGradientBoostingClassifier()
    started = time.perf_counter()
    model.fit(x_train2, y_train)
    return type(model).__name__, model.score(x_test2, y_test), time.perf_counter() - started


def run(task):
    path = resolve_spec(task)
    spec = load_spec(path)
    x, y = load_data(spec.data)
    if task == "mnist1d":  # 4,000 train / 1,000 test, as in the paper's set-up
        x_train, x_test, y_train, y_test = x[:4000], x[4000:], y[:4000], y[4000:]
    else:
        stratify = None if spec.task == "regression" else y
        x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0,
                                                            stratify=stratify)
    estimator = estimator_for_task(spec.task)(spec=path, directory=tempfile.mkdtemp())
    started = time.perf_counter()
    estimator.fit(x_train, y_train)
    seconds = time.perf_counter() - started
    score = estimator.score(x_test, y_test)
    name, base_score, base_seconds = baseline(task, x_train, x_test, y_train, y_test)
    metric = "R^2" if spec.task == "regression" else "accuracy"
    print(f"| {task} | {metric} | {score:.4f} | {seconds:.0f} s | {name} {base_score:.4f} "
          f"({base_seconds:.1f} s) |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="digits,breast_cancer,wine,diabetes,mnist1d")
    args = parser.parse_args()
    print("| task | metric | autoarch (test) | wall time | baseline (test, fit time) |")
    print("|---|---|---|---|---|")
    for task in args.tasks.split(","):
        run(task)


if __name__ == "__main__":
    main()
