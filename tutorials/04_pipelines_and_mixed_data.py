"""Tutorial 4: mixed tables, text, and scikit-learn's tools around an autoarch estimator.

A DataFrame with numbers, strings and missing values goes in as it is: imputation, missing
indicators, normalization and string lookup are layers of the model, so the exported model
takes the raw columns. Estimators follow scikit-learn's conventions, so ``Pipeline``,
``GridSearchCV``, ``cross_val_score``, ``clone`` and pickling work as usual.

Run it: ``python tutorials/04_pipelines_and_mixed_data.py`` (a few minutes on 2 CPU cores).
``AUTOARCH_SMOKE=1`` shrinks every budget to a few seconds.
"""

import os
import pickle

import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from autoarch import StructuredDataClassifier, TextClassifier

SMOKE = os.environ.get("AUTOARCH_SMOKE") == "1"
budget = dict(max_trials=1, epochs=1) if SMOKE else dict(max_trials=6, epochs=30)

# 1. A table with a numeric, a string and a boolean column, and missing values.
rng = np.random.default_rng(0)
n = 600
frame = pd.DataFrame({
    "age": rng.integers(18, 80, n).astype(float),
    "plan": rng.choice(["basic", "plus", "pro"], n),
    "monthly_spend": rng.gamma(2.0, 30.0, n),
    "has_support": rng.random(n) < 0.3,
})
frame.loc[rng.random(n) < 0.1, "monthly_spend"] = np.nan  # 10% missing
churn = ((frame["plan"] == "basic") & (frame["age"] < 40)) | (frame["monthly_spend"] > 120)
X_train, X_test, y_train, y_test = train_test_split(frame, churn.map({True: "churn",
                                                                      False: "stays"}),
                                                    stratify=churn, random_state=0)
clf = StructuredDataClassifier(seed=0, **budget).fit(X_train, y_train)
print("mixed table: test accuracy", round(clf.score(X_test, y_test), 4),
      "| classes", clf.classes_.tolist())

# 2. Inside a Pipeline, and GridSearchCV over the search budget itself.
log_spend = FunctionTransformer(lambda df: df.assign(monthly_spend=np.log1p(df.monthly_spend)))
pipe = make_pipeline(log_spend, StructuredDataClassifier(seed=0, **budget))
grid = GridSearchCV(pipe, {"structureddataclassifier__max_trials": [1, 2]}, cv=2)
grid.fit(X_train, y_train)
print("grid search over max_trials: best", grid.best_params_,
      "cv accuracy", round(grid.best_score_, 4))

# 3. Pickle round trip: the Keras model travels as a .keras archive, not as raw pickle.
restored = pickle.loads(pickle.dumps(clf))
same = np.array_equal(restored.predict(X_test), clf.predict(X_test))
print("pickled and restored, same predictions:", same)

# 4. Text: a list of strings in; TextVectorization, embedding and the encoder are searched.
words = {"good": ["great", "fine", "lovely", "excellent"], "bad": ["awful", "poor", "broken"]}
texts, labels = [], []
for i in range(300):
    label = "good" if i % 2 else "bad"
    texts.append(" ".join(rng.choice(words[label], 3)) + " product " + str(i % 7))
    labels.append(label)
text_clf = TextClassifier(seed=0, **budget).fit(texts[:240], labels[:240])
print("text: test accuracy", round(text_clf.score(texts[240:], labels[240:]), 4))
print("text: predictions for two new reviews:",
      text_clf.predict(["lovely great product", "broken awful thing"]).tolist())
