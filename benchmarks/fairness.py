"""Accuracy against demographic parity on a real table: autoarch's Pareto front beside
fairlearn's ExponentiatedGradient(DemographicParity) over a logistic regression.

The data: ``tab_wa_churn.csv.gz`` (``--data-dir``, default ``../shared/data``; the target
``churn``, positive class "Yes"), the sensitive feature ``--sensitive`` (``senior_citizen``
by default); ``--splits`` stratified 75/25 splits (``random_state`` 0, 1, ...): a parity
difference measured on a few hundred test rows of the smaller group moves by a few
hundredths from one split to the next, so one split cannot rank two fair models. autoarch
searches ``objectives=["val_accuracy", "demographic_parity_difference"]`` under
``constraints={"demographic_parity_difference": --bound}`` with the sensitive column kept
as an input (its default), ``--trials`` trials of ``--epochs`` epochs, NSGA-II evolution;
the model ``fit`` selects (the most accurate on validation rows within the bound) and every
point of its front are scored on the test rows (``select``), each with what it did about
parity (``parity_thresholds``, ``reweigh``, both or none). fairlearn: the logistic
regression (one-hot strings, scaled numbers) alone and under the exponentiated-gradient
reduction (its default ``eps=0.01``). Printed per split and on average: test accuracy and
test demographic parity difference of each, and whether autoarch's selected model, or any
front point, dominates fairlearn's (at least its accuracy and at most its parity
difference on test rows).

    python benchmarks/fairness.py [--data-dir D] [--sensitive senior_citizen] [--splits 5]
                                  [--bound 0.02] [--trials 20] [--epochs 10] [--seed 0]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported

import numpy as np  # noqa: E402
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


def baselines(x_train, y_train, x_test, y_test, sensitive):
    """fairlearn's two models on one split: (name, accuracy, parity) each."""
    from fairlearn.reductions import DemographicParity, ExponentiatedGradient
    from sklearn.linear_model import LogisticRegression

    from autoarch.measures import demographic_parity_difference as dpd

    group_test = x_test[sensitive].to_numpy()
    encode = encoder(x_train)
    a_train, a_test = encode.transform(x_train), encode.transform(x_test)
    predicted = LogisticRegression(max_iter=2000).fit(a_train, y_train).predict(a_test)
    plain = ("logistic regression", (predicted == y_test).mean(),
             dpd(y_test, predicted, group_test))
    reduction = ExponentiatedGradient(LogisticRegression(max_iter=2000), DemographicParity())
    reduction.fit(a_train, y_train, sensitive_features=x_train[sensitive])
    predicted = reduction.predict(a_test, random_state=0)
    return [plain, ("fairlearn ExponentiatedGradient", (predicted == y_test).mean(),
                    dpd(y_test, predicted, group_test))]


def searched(args, x_train, y_train, x_test, y_test):
    """autoarch on one split: the selected model's (accuracy, parity) on test rows, and
    each front point's (trial, accuracy, parity)."""
    from autoarch import AutoClassifier
    from autoarch.measures import demographic_parity_difference as dpd

    group_test = x_test[args.sensitive].to_numpy()
    clf = AutoClassifier(objectives=["val_accuracy", "demographic_parity_difference"],
                         constraints={"demographic_parity_difference": args.bound},
                         strategy="evolution", max_trials=args.trials, epochs=args.epochs,
                         seed=args.seed)
    clf.fit(x_train, y_train, sensitive_features=args.sensitive)

    def scored():
        predicted = clf.predict(x_test)
        return (predicted == y_test).mean(), dpd(y_test, predicted, group_test)

    params = {r["number"]: r["params"] for r in clf.search_results_}

    def mitigation(trial):
        """What the trial did about parity: group thresholds, reweighing, both or none."""
        used = [name for name in ("parity_thresholds", "reweigh")
                if params[trial].get(f"training/{name}")]
        return "+".join(used) or "none"

    selected = (f"{clf.selected_trial_} ({mitigation(clf.selected_trial_)})", *scored())
    points = []
    for point in clf.pareto_front_:
        clf.select(point["trial"])
        points.append((f"{point['trial']} ({mitigation(point['trial'])})", *scored()))
    return selected, points


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.path.join(HERE, "..", "..", "shared", "data"))
    parser.add_argument("--sensitive", default="senior_citizen")
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--bound", type=float, default=0.02)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    frame = pd.read_csv(os.path.join(args.data_dir, "tab_wa_churn.csv.gz"))
    y = (frame.pop("churn") == "Yes").astype(int).to_numpy()
    started = time.perf_counter()
    rows, wins = [], []
    for split in range(args.splits):
        x_train, x_test, y_train, y_test = train_test_split(frame, y, test_size=0.25,
                                                            random_state=split, stratify=y)
        plain, fair = baselines(x_train, y_train, x_test, y_test, args.sensitive)
        selected, points = searched(args, x_train, y_train, x_test, y_test)
        dominating = [t for t, a, p in points if a >= fair[1] and p <= fair[2]]
        rows.append((plain[1:], fair[1:], selected[1:]))
        wins.append((selected[1] >= fair[1] and selected[2] <= fair[2], bool(dominating)))
        print(f"split {split}: LR {plain[1]:.4f}/{plain[2]:.4f}, fairlearn {fair[1]:.4f}/"
              f"{fair[2]:.4f}, autoarch selected trial {selected[0]}: {selected[1]:.4f}/"
              f"{selected[2]:.4f}; front: " + ", ".join(f"{t}: {a:.4f}/{p:.4f}"
                                                         for t, a, p in points), flush=True)
    minutes = (time.perf_counter() - started) / 60
    print(f"\nchurn ({len(frame)} rows), sensitive feature {args.sensitive}, {args.splits} "
          f"splits of {len(y_test)} test rows; autoarch: {args.trials} trials of "
          f"{args.epochs} epochs per split, parity bound {args.bound}; {minutes:.0f} min in all\n")
    print("| model | test accuracy | test demographic parity difference |")
    print("|---|---|---|")
    names = ["logistic regression", "fairlearn ExponentiatedGradient(DemographicParity)",
             f"autoarch, the model fit selects (val parity <= {args.bound})"]
    for i, name in enumerate(names):
        accuracy = [r[i][0] for r in rows]
        parity = [r[i][1] for r in rows]
        print(f"| {name} | {np.mean(accuracy):.4f} ({', '.join(f'{a:.3f}' for a in accuracy)}) "
              f"| {np.mean(parity):.4f} ({', '.join(f'{p:.3f}' for p in parity)}) |")
    print(f"\nsplits where autoarch's selected model dominates fairlearn's: "
          f"{sum(w for w, _ in wins)} of {args.splits}; where a front point does: "
          f"{sum(f for _, f in wins)} of {args.splits}")


if __name__ == "__main__":
    main()
