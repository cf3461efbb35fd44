"""Logistic regression on a table's encoding as a Keras model, and as a member of a table's
ensemble; a flat signal's linear member (ridge regression for values)."""

import pickle

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from export_helpers import assert_exports_predict_the_same

from autoarch import AutoClassifier, AutoRegressor
from autoarch.engine import data as data_ops
from autoarch.engine.journal import Journal
from autoarch.inputs.tabular import TabularInput
from autoarch.linear import fit_table_linear, table_linear_model

TINY = dict(strategy="random", seed=0, early_stopping_patience=None, curve_stopping=False,
            isolate_trials=False, boosted_trees=False)


def _linear_table(rows=400, classes=2, seed=0):
    """Numeric columns (one with missing values), a string column and labels (or values) of
    a linear function of them, which a linear model learns at once."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows),
                          "noise": rng.normal(size=rows),
                          "city": rng.choice(["x", "y", "z"], size=rows)})
    frame.loc[rng.random(rows) < 0.1, "noise"] = np.nan
    value = 2.0 * frame.a - 3.0 * frame.b + 2.0 * (frame.city == "z")
    if classes is None:
        return frame, (100.0 * value + 1000.0 + rng.normal(size=rows)).to_numpy()
    cuts = np.quantile(value, np.linspace(0, 1, classes + 1)[1:-1])
    return frame, np.searchsorted(cuts, value.to_numpy())


def _encoded(kind, frame):
    made = kind.keras_inputs()
    encoder = keras.Model(made, kind.encode(made))
    return encoder.predict(data_ops.make_dataset(kind.arrays(frame), None, 64), verbose=0)


@pytest.mark.parametrize("classes", [2, 3])
def test_the_keras_table_linear_model_computes_what_scikit_learn_computes(classes):
    frame, y = _linear_table(classes=classes)
    kind = TabularInput("input").fit(frame.iloc[:300])
    x = _encoded(kind, frame)
    fitted, _ = fit_table_linear(x[:300], y[:300])
    model = table_linear_model(kind, fitted)
    unseen = frame.iloc[300:].copy()
    unseen.iloc[0, unseen.columns.get_loc("city")] = "never seen"  # the unknown slot
    got = model.predict(data_ops.make_dataset(kind.arrays(unseen), None, 64), verbose=0)
    rows = _encoded(kind, unseen)
    expected = fitted.predict_proba(rows)
    assert got.shape == (100, 3 if classes == 3 else 1)
    np.testing.assert_allclose(got, expected[:, 1:] if classes == 2 else expected, rtol=1e-4,
                               atol=1e-4)
    # the classes of a logistic regression fitted apart on the same encoded rows
    reference = LogisticRegression(max_iter=1000).fit(x[:300], y[:300])
    predicted = got.argmax(axis=1) if classes == 3 else (got[:, 0] > 0.5).astype(int)
    np.testing.assert_array_equal(predicted, reference.predict(rows))


def test_the_logistic_regression_stops_in_its_time_and_its_chunks_reach_one_fits_model():
    """Fitted in warm-started chunks, with the time checked between them, it predicts as
    one fit to convergence; given no time, it stops after its first chunk."""
    from autoarch.linear import CHUNK

    rng = np.random.default_rng(0)
    x = (rng.random((3000, 300)) < 0.03).astype("float32")
    y = np.digitize(x[:, :30] @ rng.normal(size=30) * 3 + rng.normal(0, 0.3, 3000), [-0.5, 0.5])
    x[:, -1] = rng.normal(size=3000) * 30 + y  # one badly scaled column: slow to converge
    whole = LogisticRegression(max_iter=1000).fit(x, y)
    assert whole.n_iter_[0] > CHUNK  # the fit takes several chunks
    fitted, iterations = fit_table_linear(x, y, seed=0)
    assert CHUNK < iterations < 1000
    np.testing.assert_allclose(fitted.predict_proba(x), whole.predict_proba(x), atol=0.02)
    _, quick = fit_table_linear(x, y, seconds=0.0)
    assert quick == CHUNK


def test_a_table_search_weighs_the_linear_model_and_the_result_exports(tmp_path):
    """Networks at a learning rate of 1e-9 learn nothing; logistic regression on the
    encoded columns makes the final model, retrained on all rows."""
    frame, y = _linear_table(rows=500, classes=3)
    clf = AutoClassifier(max_trials=2, epochs=1, learning_rate=1e-9,
                         directory=str(tmp_path / "search"), **TINY)
    clf.fit(frame.iloc[:400], y[:400])
    notes = [r for r in Journal(str(tmp_path / "search")).read() if r["event"] == "table_linear"]
    assert len(notes) == 1
    assert notes[0]["features"] == 3 + 3 + 4  # standardized, missing indicators, one-hot
    assert notes[0]["validation_score"][0] > 0.85
    final = clf.search_summary_["final_model"]
    if clf.ensemble_ is None:
        assert final == "linear model retrained on all rows", final
    else:
        members = clf.ensemble_["members"]
        assert {m["trial"] for m in members if m["weight"] > 0.5} == {"table_linear"}
        assert all(m["retrained"] for m in members if m["trial"] == "table_linear")
    assert clf.best_model_.loss is not None  # compiled as the trials were
    assert "logistic regression on 10 encoded columns" in clf.search_summary_["table_linear"]
    x_test, y_test = frame.iloc[400:], y[400:]
    assert clf.score(x_test, y_test) > 0.85  # the networks alone: chance, 0.33
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict(x_test),
                                  clf.predict(x_test))
    assert_exports_predict_the_same(clf, x_test, tmp_path)


def test_a_regression_gets_no_linear_model(tmp_path):
    frame, y = _linear_table(rows=300, classes=None)
    reg = AutoRegressor(max_trials=1, epochs=1, directory=str(tmp_path), **TINY).fit(frame, y)
    assert not [r for r in Journal(str(tmp_path)).read() if r["event"] == "table_linear"]
    assert "table_linear" not in reg.search_summary_


def test_a_signal_regression_weighs_ridge_regression_and_the_result_exports(tmp_path):
    """A flat signal's values are a band of its samples summed (as a spectrum's quantity
    is): networks at a learning rate of 1e-9 learn nothing, and ridge regression on the
    standardized samples, its penalty chosen by leave-one-out error, makes the final
    model, retrained on all rows. Sixteen thousand such rows of 500 samples had scored
    R^2 0.01 after 40 s, their one trial a convolution that took the budget."""
    from sklearn.linear_model import RidgeCV

    from autoarch.linear import RIDGE_ALPHAS

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 48)).astype("float32")
    y = 5.0 * x[:, 10:16].sum(axis=1) + 50.0 + rng.normal(size=400)
    reg = AutoRegressor(max_trials=1, epochs=1, learning_rate=1e-9,
                        directory=str(tmp_path / "search"), **TINY).fit(x[:300], y[:300])
    assert reg.space_.inputs["input"].kind == "signal"
    notes = [r for r in Journal(str(tmp_path / "search")).read() if r["event"] == "table_linear"]
    assert len(notes) == 1 and notes[0]["features"] == 48
    assert "ridge regression on 48 encoded columns" in reg.search_summary_["table_linear"]
    members = reg.ensemble_["members"] if reg.ensemble_ else [{"trial": "table_linear",
                                                                "weight": 1.0}]
    assert {m["trial"] for m in members if m["weight"] > 0.5} == {"table_linear"}
    score = reg.score(x[300:], y[300:])
    # ridge regression fitted apart on the same standardized samples, all 300 rows
    kind = reg.space_.inputs["input"]
    reference = RidgeCV(alphas=RIDGE_ALPHAS).fit(kind.scaled(x[:300]), y[:300])
    assert notes[0]["alpha"] in RIDGE_ALPHAS
    assert score > 0.9 and score == pytest.approx(
        reference.score(kind.scaled(x[300:]), y[300:]), abs=0.02)
    rows = x[300:305]
    np.testing.assert_allclose(pickle.loads(pickle.dumps(reg)).predict(rows), reg.predict(rows),
                               rtol=1e-5)


def test_table_linear_off_leaves_only_trials(tmp_path):
    frame, y = _linear_table(rows=300)
    clf = AutoClassifier(max_trials=1, epochs=1, directory=str(tmp_path),
                         **{**TINY, "table_linear": False}).fit(frame, y)
    assert not [r for r in Journal(str(tmp_path)).read() if r["event"] == "table_linear"]
    assert "table_linear" not in clf.search_summary_
    assert clf.search_summary_["final_model"].startswith("trial 0")
