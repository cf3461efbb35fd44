"""Tutorial 1: three lines to a fitted best model, then look at what the search did.

Run it: ``python tutorials/01_quickstart.py`` (about a minute on 2 CPU cores).
``AUTOARCH_SMOKE=1`` shrinks every budget to a few seconds (the test suite runs it that way).
"""

import os
import tempfile

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from autoarch import AutoClassifier

SMOKE = os.environ.get("AUTOARCH_SMOKE") == "1"

# 1. Data: any numpy array or pandas DataFrame. A table of 30 numeric columns here.
X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

# 2. Search. With no spec, the input kind (a table) picks the default space: an MLP with
#    searched depth, width, activation, dropout and batch norm, and a searched learning rate.
#    Every trial is written to `directory` as it happens (journal.jsonl).
directory = tempfile.mkdtemp(prefix="autoarch-quickstart-")
clf = AutoClassifier(max_trials=2 if SMOKE else 10, epochs=2 if SMOKE else 60,
                     early_stopping_patience=8, strategy="bayesian", seed=0,
                     directory=directory)
clf.fit(X_train, y_train)

# 3. Use it like any scikit-learn classifier.
print("test accuracy:", round(clf.score(X_test, y_test), 4))
print("probabilities of the first two rows:", clf.predict_proba(X_test[:2]).round(3).tolist())

# 4. What was tried and why the winner won: one record per trial, best first.
trials = sorted((t for t in clf.search_results_ if t["value"] is not None),
                key=lambda t: -t["value"])
for t in trials:
    print(f"trial {t['number']}: val_accuracy={t['value']:.4f} "
          f"epochs={t['metrics'].get('epochs_run')} params={t['metrics'].get('params')} "
          f"{t.get('info', {}).get('stopped', '')}")
print("best hyperparameters:", clf.best_params_)

# 5. Ship it: the exported model takes the raw columns (scaling lives inside the model).
exported = clf.export(os.path.join(directory, "model.keras"))
print(f"exported {exported['format']} model: {exported['bytes'] / 1024:.0f} KiB at "
      f"{exported['path']}")

# 6. Look at it: one self-contained HTML page (open it in any browser, nothing beside it).
#    It shows what was searched and how (strategy, seed, library versions), how the budget
#    was spent, best-so-far curves against trials and against time, every trial with the
#    reason it stopped or failed (click a column to sort), why the winner won (its margin
#    over the runner-up) and the final model's architecture. From a run directory, the
#    command writes the same page: `autoarch report DIR --html`.
print("report:", clf.report(os.path.join(directory, "report.html")))

# 7. The same without Python: a CSV file and the column to predict. The other columns are
#    the inputs; the task is read off that column (and said), or given with --task.
#        autoarch search houses.csv --target price --time-limit 60
#    The folder it names (autoarch_runs/houses) holds the journal, the best model, the
#    spec it made (spec.yaml), which `autoarch search` runs again like any spec, and the
#    fitted estimator, which predicts new rows (a target column there is scored against):
#        autoarch predict autoarch_runs/houses new_houses.csv --output prices.csv
