"""Accuracy against demographic parity on a real table: autoarch's Pareto front beside
fairlearn's ExponentiatedGradient(DemographicParity) over a logistic regression.

The data: ``tab_wa_churn.csv.gz`` (``--data-dir``, default ``../shared/data``; the target
``churn``, positive class "Yes"), the sensitive feature ``--sensitive`` (``senior_citizen``
by default); a stratified 75/25 split (``random_state=0``). autoarch searches
``objectives=["val_accuracy", "demographic_parity_difference"]`` with the sensitive column
kept as an input (its default), ``--trials`` trials of ``--epochs`` epochs, NSGA-II
evolution; every point of its front is then scored on the test rows (``select``). fairlearn:
the logistic regression (one-hot strings, scaled numbers) alone and under the
exponentiated-gradient reduction (its default ``eps=0.01``). Printed: test accuracy and test
demographic parity difference of each, and whether a front point dominates fairlearn's
(at least its accuracy and at most its parity difference on test rows).

    python benchmarks/fairness.py [--data-dir D] [--sensitive senior_citizen]
                                  [--trials 20] [--epochs 10] [--seed 0]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported

import pandas as pd  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def encoder(x_train):
    """One-hot strings, imputed and scaled numbers, fitted on the training rows (fairlearn's
    reduction passes sample weights to its estimator, which a Pipeline does not take)."""
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    strings = [c for c in x_train.columns if x_train[c].dtype.kind not in "biuf"]
    numbers = [c for c in x_train.columns if c not in strings]
    return make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), strings),
        (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numbers)
    ).fit(x_train)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.path.join(HERE, "..", "..", "shared", "data"))
    parser.add_argument("--sensitive", default="senior_citizen")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from fairlearn.reductions import DemographicParity, ExponentiatedGradient

    from autoarch import AutoClassifier
    from autoarch.measures import demographic_parity_difference as dpd

    frame = pd.read_csv(os.path.join(args.data_dir, "tab_wa_churn.csv.gz"))
    y = (frame.pop("churn") == "Yes").astype(int).to_numpy()
    x_train, x_test, y_train, y_test = train_test_split(frame, y, test_size=0.25,
                                                        random_state=0, stratify=y)
    group_test = x_test[args.sensitive].to_numpy()
    rows = []

    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    encode = encoder(x_train)
    a_train, a_test = encode.transform(x_train), encode.transform(x_test)
    predicted = LogisticRegression(max_iter=2000).fit(a_train, y_train).predict(a_test)
    rows.append(("logistic regression", (predicted == y_test).mean(),
                 dpd(y_test, predicted, group_test), time.perf_counter() - started))
    started = time.perf_counter()
    reduction = ExponentiatedGradient(LogisticRegression(max_iter=2000), DemographicParity())
    reduction.fit(a_train, y_train, sensitive_features=x_train[args.sensitive])
    predicted = reduction.predict(a_test, random_state=0)
    fair = ((predicted == y_test).mean(), dpd(y_test, predicted, group_test))
    rows.append(("fairlearn ExponentiatedGradient(DemographicParity)", *fair,
                 time.perf_counter() - started))

    started = time.perf_counter()
    clf = AutoClassifier(objectives=["val_accuracy", "demographic_parity_difference"],
                         strategy="evolution", max_trials=args.trials, epochs=args.epochs,
                         seed=args.seed)
    clf.fit(x_train, y_train, sensitive_features=args.sensitive)
    seconds = time.perf_counter() - started
    points = []
    for point in clf.pareto_front_:
        clf.select(point["trial"])
        predicted = clf.predict(x_test)
        points.append((point["trial"], (predicted == y_test).mean(),
                       dpd(y_test, predicted, group_test), point))
    print(f"churn ({len(frame)} rows), sensitive feature {args.sensitive}, test rows "
          f"{len(y_test)}; autoarch: {args.trials} trials of {args.epochs} epochs, "
          f"{seconds:.0f} s\n")
    print("| model | test accuracy | test demographic parity difference | seconds |")
    print("|---|---|---|---|")
    for name, accuracy, parity, spent in rows:
        print(f"| {name} | {accuracy:.4f} | {parity:.4f} | {spent:.1f} |")
    for trial, accuracy, parity, point in points:
        reweigh = next(r for r in clf.search_results_ if r["number"] == trial)["params"].get(
            "training/reweigh")
        print(f"| autoarch front: trial {trial} (reweigh={reweigh}; val accuracy "
              f"{point['val_accuracy']:.4f}, val parity "
              f"{point['demographic_parity_difference']:.4f}) | {accuracy:.4f} | "
              f"{parity:.4f} | |")
    dominating = [t for t, a, p, _ in points if a >= fair[0] and p <= fair[1]]
    print(f"\nfront points dominating fairlearn's on test rows: "
          f"{', '.join(map(str, dominating)) or 'none'}")


if __name__ == "__main__":
    main()
