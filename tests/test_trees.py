"""Boosted trees as a Keras model, and as a member of a table's ensemble."""

import pickle

import keras
import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.datasets import load_diabetes, load_iris

from export_helpers import assert_exports_predict_the_same

from autoarch import AutoClassifier, AutoRegressor
from autoarch.engine.journal import Journal
from autoarch.trees import (MAX_TREES, SETTINGS, CategoryCodes, Prepared, TreeEnsemble,
                            at_most_rows, boosting_rows, fit_boosted_trees, settings_of,
                            tree_arrays)

TINY = dict(strategy="random", seed=0, early_stopping_patience=None, curve_stopping=False,
            isolate_trials=False, table_linear=False)  # the trees as the only classical member


def _scores(x, classification, y, **settings):
    fitted = fit_boosted_trees(x, y, classification, seconds=10, **settings)
    inputs = keras.Input((x.shape[1],))
    model = keras.Model(inputs, TreeEnsemble(**tree_arrays(fitted, x[:4]))(inputs))
    expected = fitted.decision_function(x) if classification else fitted.predict(x)
    return model.predict(x, verbose=0), np.asarray(expected).reshape(len(x), -1), fitted


def _one_hot_table(rows, seed=0):
    """Encoded rows as a table's are: two numeric columns, then two category columns as
    one-hot slots (the unknown slot first, never set), of 12 and 4 values; and their groups.
    The target is high for 6 of the 12 values, so one-hot splits need 6 trees' worth of splits
    where a split on the values' mean target needs one."""
    rng = np.random.default_rng(seed)
    city, colour = rng.integers(0, 12, rows), rng.integers(0, 4, rows)
    x = np.zeros((rows, 2 + 13 + 5), "float32")
    x[:, :2] = rng.normal(size=(rows, 2))
    x[np.arange(rows), 3 + city] = 1
    x[np.arange(rows), 16 + colour] = 1
    signal = np.isin(city, [0, 2, 3, 7, 9, 11]) * 2.0 + 0.5 * x[:, 0] + (colour == 1)
    return x, signal + 0.3 * rng.normal(size=rows), [list(range(2, 15)), list(range(15, 20))]


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression", "mostly zero",
                                  "standardized counts", "standardized counts, regression",
                                  "category codes", "category codes, multiclass",
                                  "category codes, regression"])
def test_the_keras_trees_compute_what_scikit_learn_computes(task, tmp_path):
    """On dense rows; on one-hot-like rows that the boosting fits as a sparse matrix; on
    counts standardized as a table's numbers are (mostly one value per column, not zero),
    which it fits less each column's usual value, sparse again; and on a table's one-hot
    category columns with their values' mean targets as more columns (the third setting;
    none with three classes, which no one order of the values serves)."""
    regression = task.endswith("regression")
    settings = {}
    if task == "regression":
        x, y = load_diabetes(return_X_y=True)
    elif task.startswith(("mostly zero", "standardized counts")):
        rng = np.random.default_rng(0)
        x = (rng.random((600, 200)) < 0.03) * rng.uniform(0.5, 2, (600, 200))
        y = x[:, :10].sum(axis=1)
        y = y if regression else (y > 0.3).astype(int)
        if task.startswith("standardized counts"):
            x = (x - x.mean(axis=0)) / x.std(axis=0)
    elif task.startswith("category codes"):
        x, y, groups = _one_hot_table(600)
        y = y if regression else np.digitize(y, [1.0, 2.2]) if "multiclass" in task else \
            (y > 1.2).astype(int)
        settings = {"groups": groups, "settings": SETTINGS[2]}
    else:
        x, y = load_iris(return_X_y=True)
        y = (y == 2).astype(int) if task == "binary" else y
    x = x.astype("float32")
    got, expected, fitted = _scores(x, not regression, y, **settings)
    outputs = 3 if task.endswith("multiclass") else 1
    assert got.shape == (len(x), outputs)
    assert fitted.n_estimators_ > 10
    assert sparse.issparse(at_most_rows(x, y, 0, "float32")[0]) == (task == "mostly zero")
    coded = task in ("category codes", "category codes, regression")  # not with 3 classes
    assert isinstance(fitted, Prepared) == (coded or task.startswith("standardized counts"))
    assert (getattr(fitted, "codes", None) is not None) == coded
    if coded:  # the fit's own rows got cross-fitted codes, a column for each category column
        assert settings_of(fitted) == SETTINGS[2] and fitted.n_features_in_ == 22
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)
    shared = boosting_rows(x, y, groups=settings.get("groups"), classification=not regression)
    assert (shared.shift is not None) == task.startswith("standardized counts")
    again = fit_boosted_trees(None, None, not regression, seconds=10, rows=shared,
                              settings=settings.get("settings", SETTINGS[0]))
    np.testing.assert_array_equal(again.predict(x), fitted.predict(x))
    if isinstance(fitted, Prepared):  # the shift and the codes travel with the model
        inputs = keras.Input((x.shape[1],))
        model = keras.Model(inputs, TreeEnsemble(**tree_arrays(fitted, x[:4]))(inputs))
        model.save(tmp_path / "trees.keras")
        reloaded = keras.models.load_model(tmp_path / "trees.keras", safe_mode=True)
        np.testing.assert_allclose(reloaded.predict(x, verbose=0), got, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(pickle.loads(pickle.dumps(fitted)).predict(x),
                                   fitted.predict(x))


def test_category_codes_let_the_trees_group_a_columns_values():
    """Six of twelve values raise the target: on 300 rows, depth-5 trees of 20 rows a leaf
    over one-hot slots need a split per value (and 20 rows a leaf stops them), where one
    split on the values' mean target groups them; each value's code is its mean target,
    shrunk towards the overall mean, and an unseen value's (no slot set) the overall mean."""
    x, y, groups = _one_hot_table(2300)
    errors = {}
    for codes in (False, True):
        fitted = fit_boosted_trees(x[:300], y[:300], False, seconds=30, groups=groups,
                                   settings={**SETTINGS[2], "category_codes": codes})
        errors[codes] = np.mean((fitted.predict(x[300:]) - y[300:]) ** 2)
    assert errors[True] < 0.8 * errors[False]
    codes = fitted.codes(x[:300])
    city = x[:300, 3:15].argmax(axis=1)
    high = np.isin(city, [0, 2, 3, 7, 9, 11])
    assert codes[high, 0].min() > codes[~high, 0].max()  # the six values above the others
    np.testing.assert_allclose(fitted.codes(np.zeros((1, 20), "float32"))[0],
                               [y[:300].mean()] * 2, rtol=1e-5)  # the overall mean
    dense, own = CategoryCodes.fit(x[:300], y[:300], groups, False)
    thin, thin_own = CategoryCodes.fit(sparse.csr_matrix(x[:300]), y[:300], groups, False)
    np.testing.assert_array_equal(thin_own, own)  # a sparse table's rows: the same codes
    np.testing.assert_array_equal(thin.kernel, dense.kernel)


def test_a_split_between_neighbouring_floats_sends_each_to_its_own_side():
    """The split of two float32 values one step apart lies between them in float64; rounded
    to float32 it may equal the larger one, which must still go right."""
    low = np.float32(1.0)
    values = [low]
    for _ in range(7):
        values.append(np.nextafter(values[-1], np.float32(2.0)))
    x = np.repeat(np.asarray(values, "float32"), 10).reshape(-1, 1)
    y = np.repeat(np.arange(8) % 2, 10)  # alternating labels: a split between every pair
    got, expected, _ = _scores(x, True, y)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)


def test_early_stopping_ends_the_boosting_where_validation_stops_improving():
    """Labels of pure noise: the held-out rows' loss never improves much, so far fewer
    trees than ``MAX_TREES`` are kept."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(600, 5)).astype("float32"), rng.integers(0, 2, 600)
    assert fit_boosted_trees(x, y, True, seconds=60).n_estimators_ < MAX_TREES // 5


def test_the_seconds_bound_the_boosting():
    """A smooth noiseless target keeps improving: the limit, not early stopping, ends it."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(3000, 8)).astype("float32")
    y = np.sin(3 * x).sum(axis=1)
    unbounded = fit_boosted_trees(x, y, False).n_estimators_
    bounded = fit_boosted_trees(x, y, False, seconds=0.05).n_estimators_
    assert unbounded > 500 and 0 < bounded < unbounded // 2


def test_a_boosting_whose_stages_of_a_tree_per_class_outlast_its_time_is_not_fitted(tmp_path):
    """A stage grows a tree per class, and the seconds are checked between stages: 50
    classes on 12,800 rows had taken 88 s of a 60 s search for one stage a setting. Given
    less time than ``MIN_STAGES`` stages take (one tree timed), the boosting is refused
    before it starts; the search then notes the trees skipped and goes on without them."""
    from autoarch.trees import MIN_STAGES, TooSlow

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 20)).astype("float32")
    y = np.digitize(x[:, 0] + 0.3 * rng.normal(size=3000), np.linspace(-2, 2, 39))  # 40
    with pytest.raises(TooSlow, match=f"a stage of 40 trees .* left for {MIN_STAGES}"):
        fit_boosted_trees(x, y, True, seconds=0.01)
    assert fit_boosted_trees(x[:, :2], y % 2, True, seconds=0.01).n_estimators_ >= 1
    wide = np.tile(x, (3, 1)) + 0.01 * rng.normal(size=(9000, 20)).astype("float32")
    clf = AutoClassifier(max_trials=1, epochs=1, time_limit=30, directory=str(tmp_path),
                         **TINY).fit(pd.DataFrame(wide, columns=[f"c{i}" for i in range(20)]),
                                     np.tile(y, 3))
    notes = [r for r in Journal(str(tmp_path)).read() if r["event"] == "boosted_trees"]
    assert len(notes) == 1 and notes[0]["skipped"].startswith("a stage of 40 trees")
    assert "boosted_trees" not in clf.search_summary_


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_deep_trees_give_no_leaf_to_a_few_outlying_rows(seed):
    """Heavy-tailed noise (incomes, prices): depth-5 trees that may end in a leaf of one row
    fit the outliers; with the setting's 20 rows a leaf they stay near the signal."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=(4000, 5)).astype("float32")
    signal = np.sin(2 * x[:, 0]) + x[:, 1] ** 2 / 2
    y = signal + rng.standard_t(1.5, size=4000)
    errors = []
    assert {**SETTINGS[2], "min_samples_leaf": 1, "category_codes": False} == \
        {**SETTINGS[1], "category_codes": False}
    for leaf in (1, SETTINGS[2]["min_samples_leaf"]):
        fitted = fit_boosted_trees(x[:3000], y[:3000], False, seed=seed, seconds=30,
                                   settings={**SETTINGS[2], "min_samples_leaf": leaf})
        errors.append(np.mean((fitted.predict(x[3000:]) - signal[3000:]) ** 2))
        smallest = min(t.tree_.n_node_samples[t.tree_.children_left == -1].min()
                       for t in fitted.estimators_.ravel())
        assert smallest >= leaf
    assert errors[1] < errors[0] / 2


def _stepped_table(rows=400, seed=0):
    """A target of thresholds on two columns and a string column, which trees learn at once
    and a network trained for one epoch does not."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.uniform(size=rows), "b": rng.uniform(size=rows),
                          "noise": rng.normal(size=rows),
                          "city": rng.choice(["x", "y", "z"], size=rows)})
    y = ((frame.a > 0.3) ^ (frame.b > 0.7) ^ (frame.city == "z")).astype(int).to_numpy()
    return frame, y


def _fit(directory, **settings):
    frame, y = _stepped_table()
    clf = AutoClassifier(max_trials=2, epochs=1, directory=str(directory), **TINY, **settings)
    return clf.fit(frame.iloc[:300], y[:300]), frame.iloc[300:], y[300:]


def test_a_table_search_weighs_the_boosted_trees_and_the_result_exports(tmp_path):
    clf, x_test, y_test = _fit(tmp_path / "search")
    notes = [r for r in Journal(str(tmp_path / "search")).read() if r["event"] == "boosted_trees"]
    assert len(notes) == 1 and notes[0]["trees"] > 0 and notes[0]["validation_score"][0] > 0.9
    members = {m["trial"] for m in (clf.ensemble_ or {}).get("members", ())}
    assert "trees" in members or clf.search_summary_["final_model"].startswith("boosted trees")
    assert clf.score(x_test, y_test) > 0.9  # the networks alone: near chance after one epoch
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict(x_test),
                                  clf.predict(x_test))
    assert_exports_predict_the_same(clf, x_test, tmp_path)


def test_trees_that_no_blend_improves_are_the_final_model_alone(tmp_path):
    """Networks that learn nothing (a learning rate of 1e-9) predict near the mean, and
    averaging them in only pulls the trees' predictions of a stepped target towards it."""
    frame, steps = _stepped_table()
    y = 100.0 * steps + frame.a.to_numpy()
    reg = AutoRegressor(max_trials=1, epochs=1, directory=str(tmp_path), learning_rate=1e-9,
                        **TINY).fit(frame.iloc[:300], y[:300])
    assert reg.search_summary_["final_model"] == "boosted trees retrained on all rows"
    assert reg.ensemble_ is None and reg.score(frame.iloc[300:], y[300:]) > 0.7
    assert reg.search_summary_["boosted_trees"].endswith(" s")
    assert reg.best_model_.loss is not None  # compiled as the trials were, their rate too
    assert float(reg.best_model_.optimizer.learning_rate) == pytest.approx(1e-9)


def test_the_search_keeps_the_trees_of_lower_validation_loss(tmp_path):
    """Every boosting is fitted and the one of lowest validation loss is the member: on a
    step where five columns are all above a threshold, which one depth-5 tree holds and
    depth-3 trees only approximate, the depth-5 ones; the refit on all rows keeps their
    settings."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.uniform(-1, 1, size=(2000, 6)), columns=list("abcdef"))
    y = 10.0 * (frame[list("abcde")] > -0.3).all(axis=1).to_numpy() + \
        rng.normal(scale=0.5, size=2000)
    reg = AutoRegressor(max_trials=1, epochs=1, directory=str(tmp_path), learning_rate=1e-9,
                        **TINY).fit(frame.iloc[:1500], y[:1500])
    (note,) = [r for r in Journal(str(tmp_path)).read() if r["event"] == "boosted_trees"]
    losses = note["validation_loss_by_setting"]
    assert set(losses) == {"depth 3", "depth 5", "depth 5, 20 rows a leaf"}
    assert min(losses["depth 5"], losses["depth 5, 20 rows a leaf"]) < losses["depth 3"]
    assert note["depth"] == 5 and losses[note["setting"]] == min(losses.values())
    # the final model's room for the trees is their last fit's, not the three settings' too
    assert 0 < note["refit_seconds"] < note["seconds"] / 2
    assert "trees of depth 5" in reg.search_summary_["boosted_trees"]
    assert reg.search_summary_["final_model"] == "boosted trees retrained on all rows"
    (layer,) = [layer for layer in reg.best_model_.layers if isinstance(layer, TreeEnsemble)]
    assert layer.depth == 5


def test_boosted_trees_off_leaves_only_trials(tmp_path):
    clf, _, _ = _fit(tmp_path, boosted_trees=False)
    assert not [r for r in Journal(str(tmp_path)).read() if r["event"] == "boosted_trees"]
    assert all(isinstance(m["trial"], int) for m in (clf.ensemble_ or {}).get("members", ()))
    assert not clf.search_summary_["final_model"].startswith("boosted trees")


def test_a_regressor_with_the_trees_predicts_in_the_targets_units(tmp_path):
    x, y = load_diabetes(return_X_y=True, as_frame=True)
    reg = AutoRegressor(max_trials=1, epochs=1, directory=str(tmp_path), **TINY)
    reg.fit(x.iloc[:300], y.iloc[:300] * 1000)  # targets far from zero and one
    notes = [r for r in Journal(str(tmp_path)).read() if r["event"] == "boosted_trees"]
    assert len(notes) == 1
    members = {m["trial"] for m in (reg.ensemble_ or {"members": []})["members"]}
    assert "trees" in members or reg.search_summary_["final_model"].startswith("boosted trees")
    predictions = reg.predict(x.iloc[300:])
    assert 0.2 < reg.score(x.iloc[300:], y.iloc[300:] * 1000)
    assert 50_000 < predictions.mean() < 250_000


def test_a_table_with_a_category_column_fits_trees_on_its_values_mean_targets(tmp_path):
    """The third setting takes a category column of twelve values as their mean targets
    too: it is in the journal by name, it wins here (six values raise the target), and the
    final model, the trees alone, computes the codes inside (the Keras, SavedModel and
    TFLite exports predict the same)."""
    rng = np.random.default_rng(0)
    city = rng.choice([f"c{i}" for i in range(12)], size=1200)
    frame = pd.DataFrame({"a": rng.normal(size=1200), "city": city})
    y = np.isin(city, ["c0", "c2", "c3", "c7", "c9", "c11"]) * 2.0 + 0.5 * frame.a + \
        0.3 * rng.normal(size=1200)
    reg = AutoRegressor(max_trials=1, epochs=1, directory=str(tmp_path), learning_rate=1e-9,
                        **TINY).fit(frame.iloc[:900], y[:900])
    (note,) = [r for r in Journal(str(tmp_path)).read() if r["event"] == "boosted_trees"]
    assert set(note["validation_loss_by_setting"]) == {
        "depth 3", "depth 5", "depth 5, 20 rows a leaf, category codes"}
    assert reg.score(frame.iloc[900:], y[900:]) > 0.85
    assert note["setting"] == "depth 5, 20 rows a leaf, category codes"
    assert reg.search_summary_["final_model"] == "boosted trees retrained on all rows"
    (layer,) = [layer for layer in reg.best_model_.layers if isinstance(layer, TreeEnsemble)]
    assert layer.codes == 1
    assert_exports_predict_the_same(reg, frame.iloc[900:], tmp_path)
