"""The scikit-learn face: the README example, pipelines, clone + GridSearchCV, export round
trips, pickling, messy tables, datasets and every documented error."""

import os
import pickle

import keras
import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import autoarch
import autoarch.estimators
from autoarch import AutoClassifier, AutoRegressor, ImageClassifier

FAST = dict(max_trials=1, epochs=2, strategy="random")


@pytest.fixture(scope="module")
def iris():
    x, y = load_iris(return_X_y=True)
    return train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def fitted(iris):
    x_train, _, y_train, _ = iris
    return AutoClassifier(max_trials=2, epochs=20, strategy="random").fit(x_train, y_train)


def test_readme_example(iris):
    X_train, X_test, y_train, y_test = iris
    clf = AutoClassifier(max_trials=2, epochs=20).fit(X_train, y_train)
    predictions = clf.predict(X_test)
    assert predictions.shape == y_test.shape and set(predictions) <= set(clf.classes_)
    assert clf.score(X_test, y_test) > 0.6
    assert clf.n_features_in_ == 4 and len(clf.search_results_) == 2
    assert set(clf.best_params_) and clf.best_model_ is not None


def test_fitted_attributes_and_proba(fitted, iris):
    _, x_test, _, _ = iris
    probs = fitted.predict_proba(x_test)
    assert probs.shape == (len(x_test), 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert list(fitted.classes_) == [0, 1, 2]


def test_select_outside_the_front_of_one_objective_says_why(tmp_path):
    x = np.random.default_rng(0).normal(size=(80, 3))
    reg = AutoRegressor(max_trials=2, epochs=2, strategy="random", ensemble_size=1,
                        boosted_trees=False, directory=str(tmp_path)).fit(x, x[:, 0])
    (best,) = reg.pareto_front_  # one objective: the best trial alone
    other = next(r["number"] for r in reg.search_results_ if r["number"] != best["trial"])
    with pytest.raises(ValueError, match=r"trial \d is not on the Pareto front \(front: "
                                         r"\[\d\]\); a search with one objective"):
        reg.select(other)
    for kept in ("best_model.keras", "estimator.pkl"):
        os.remove(tmp_path / kept)
    assert reg.select(best["trial"]).selected_trial_ == best["trial"]
    # the trial's own model now predicts, and the search's folder follows
    kept = keras.models.load_model(tmp_path / "best_model.keras")
    for saved, own in zip(kept.get_weights(), reg.best_model_.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, own)
    with open(tmp_path / "estimator.pkl", "rb") as handle:
        np.testing.assert_allclose(pickle.load(handle).predict(x), reg.predict(x), rtol=1e-6)


def test_in_pipeline_with_scaler(iris):
    x_train, x_test, y_train, y_test = iris
    pipe = make_pipeline(StandardScaler(), AutoClassifier(**FAST)).fit(x_train, y_train)
    assert pipe.predict(x_test).shape == y_test.shape
    x, y = load_digits(return_X_y=True)
    reg = make_pipeline(StandardScaler(), AutoRegressor(**FAST)).fit(x[:200], y[:200] * 1.0)
    assert np.isfinite(reg.score(x[200:260], y[200:260] * 1.0))


def test_clone_and_grid_search_over_max_trials(iris):
    x_train, _, y_train, _ = iris
    estimator = AutoClassifier(epochs=2, strategy="random", final_fit=False)
    assert clone(estimator).get_params() == estimator.get_params()
    grid = GridSearchCV(estimator, {"max_trials": [1, 2]}, cv=2).fit(x_train, y_train)
    assert grid.best_params_["max_trials"] in (1, 2)
    scores = cross_val_score(AutoClassifier(**FAST), x_train, y_train, cv=2)
    assert scores.shape == (2,)


@pytest.fixture(scope="module")
def fitted_regressor(iris):
    """Predicts petal width (in cm, around 1.2) from the three other columns."""
    x_train, _, _, _ = iris
    return AutoRegressor(max_trials=1, epochs=5, strategy="random").fit(
        np.delete(x_train, 3, axis=1), x_train[:, 3])


@pytest.mark.parametrize("fmt", ["keras", "savedmodel", "tflite"])
@pytest.mark.parametrize("task", ["classifier", "regressor"])
def test_export_round_trip(fitted, fitted_regressor, iris, tmp_path, fmt, task):
    import keras
    import tensorflow as tf

    _, x_test, _, _ = iris
    if task == "regressor":  # its head maps standardized outputs back to centimetres
        fitted, x_test = fitted_regressor, np.delete(x_test, 3, axis=1)
    x = {f"x{i}": x_test[:, i:i + 1].astype("float32")
         for i in range(x_test.shape[1])}  # raw columns
    expected = fitted.best_model_.predict(x, verbose=0)
    target = str(tmp_path / {"keras": "m.keras", "savedmodel": "saved", "tflite": "m.tflite"}[fmt])
    result = fitted.export(target, format=fmt)
    assert result["bytes"] > 0 and os.path.exists(target)
    if fmt == "keras":
        got = keras.models.load_model(target, safe_mode=True).predict(x, verbose=0)
    elif fmt == "savedmodel":
        loaded = tf.saved_model.load(target)  # keep a reference: it owns the variables
        got = loaded.serve(x).numpy()
    else:
        runner = tf.lite.Interpreter(model_path=target).get_signature_runner()
        rows = [runner(**{k: v[i:i + 1] for k, v in x.items()}) for i in range(len(x_test))]
        got = np.concatenate([next(iter(r.values())) for r in rows])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_pickle_round_trip(fitted, iris):
    _, x_test, _, _ = iris
    copy = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(copy.predict_proba(x_test), fitted.predict_proba(x_test), rtol=1e-5)


def test_messy_dataframe_and_string_labels(tmp_path):
    rng = np.random.default_rng(0)
    n = 80
    frame = pd.DataFrame({
        "age": np.where(rng.random(n) < 0.2, np.nan, rng.normal(40, 10, n)),
        "city": rng.choice(["paris", "rome", None], n),
        "member": rng.random(n) < 0.5,
        "score": rng.integers(0, 100, n),
    })
    labels = np.where(frame["score"] > 50, "high", "low")
    clf = AutoClassifier(**FAST).fit(frame, labels)
    assert set(clf.predict(frame)) <= {"high", "low"}
    assert list(clf.feature_names_in_) == ["age", "city", "member", "score"]
    unseen = frame.head(3).assign(city=["tokyo", None, "paris"])  # out-of-vocabulary is fine
    assert clf.predict(unseen).shape == (3,)
    # columns by name in any order; by position from an array with none (as scikit-learn)
    np.testing.assert_allclose(clf.predict_proba(frame[frame.columns[::-1]]),
                               clf.predict_proba(frame), rtol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(frame.to_numpy()), clf.predict_proba(frame),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="lacks columns seen in fit: 'city' .*'town' instead"):
        clf.predict(frame.rename(columns={"city": "town"}))
    with pytest.raises(ValueError, match="expecting 4 features as input \\(it lacks 'age'\\)"):
        clf.predict(frame.drop(columns=["age"]))
    with pytest.raises(ValueError, match="expecting 4 features as input \\(fit did not see 'id'\\)"):
        clf.predict(frame.assign(id=1))
    path = clf.export(str(tmp_path / "raw.keras"))["path"]
    import keras

    model = keras.models.load_model(path, safe_mode=True)
    assert sorted(model.input_names if hasattr(model, "input_names") else
                  [t.name.split(":")[0] for t in model.inputs]) == ["age", "city", "member", "score"]


def test_dataframe_with_integer_column_names_keeps_numbers_numeric(iris):
    x_train, x_test, y_train, _ = iris
    clf = AutoClassifier(**FAST).fit(pd.DataFrame(x_train), y_train)
    assert clf.input_kinds_["input"].numeric == {"x0", "x1", "x2", "x3"}  # its input names
    assert clf.predict(pd.DataFrame(x_test)).shape == (len(x_test),)


def test_one_hot_labels_and_tf_dataset():
    import tensorflow as tf

    x, y = load_iris(return_X_y=True)
    one_hot = np.eye(3)[y]
    clf = AutoClassifier(**FAST).fit(x, one_hot)
    assert list(clf.classes_) == [0, 1, 2]
    dataset = tf.data.Dataset.from_tensor_slices((x.astype("float32"), y)).batch(16)
    clf = AutoClassifier(**FAST).fit(dataset)
    assert clf.predict(x[:5]).shape == (5,)
    # predict and score take datasets as fit does: inputs alone, or with targets (dropped)
    expected = clf.predict(x)
    for data in (tf.data.Dataset.from_tensor_slices(x).batch(7), dataset,
                 tf.data.Dataset.from_tensor_slices(x)):
        np.testing.assert_array_equal(clf.predict(data), expected)
    assert clf.score(dataset) == clf.score(x, y)
    weights = np.r_[np.ones(75), np.zeros(75)]
    weighted = tf.data.Dataset.from_tensor_slices((x, y, weights)).batch(16)
    assert clf.score(weighted) == clf.score(x[:75], y[:75])
    with pytest.raises(ValueError, match=r"score needs y"):
        clf.score(x)
    # named inputs, batched: joined along their rows
    named = tf.data.Dataset.from_tensor_slices(({"a": x}, y)).batch(32)
    clf = AutoClassifier(**FAST).fit(named)
    assert list(clf.input_kinds_) == ["a"] and clf.predict(named).shape == (150,)
    # two tables: their columns go in by name, which must differ
    with pytest.raises(ValueError, match="inputs 'a' and 'b' both give the model an input "
                                         "named 'x0'"):
        AutoClassifier(**FAST).fit({"a": x[:, :2], "b": x[:, 2:]}, y)
    tables = {"a": pd.DataFrame(x[:, :2], columns=["a0", "a1"]),
              "b": pd.DataFrame(x[:, 2:], columns=["b0", "b1"])}
    clf = AutoClassifier(**FAST).fit(tables, y)
    assert clf.score(tables, y) > 0.5


def test_validation_data_is_the_rows_candidates_are_chosen_on():
    """Given as Keras's and AutoKeras's fit take it: the trials are scored on those rows
    (labels that disagree with every training row's score near zero), checked and encoded
    as X and y are."""
    import tensorflow as tf

    x, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    rows = np.random.default_rng(0).permutation(150)
    train, val = rows[:100], rows[100:]
    settings = dict(max_trials=1, epochs=20, strategy="random", ensemble_size=1, seed=0)
    scores = {}
    for name, labels in (("same", names[val]), ("shifted", np.roll(np.unique(names), 1)[y[val]])):
        clf = AutoClassifier(**settings).fit(x[train], names[train],
                                             validation_data=(x[val], labels))
        scores[name] = clf.best_score_
    assert scores["same"] >= 0.8 and scores["shifted"] <= 0.2
    assert list(clf.classes_) == list(np.unique(names))
    regressor = AutoRegressor(**FAST).fit(x[train, :3], x[train, 3], validation_data=(
        tf.data.Dataset.from_tensor_slices((x[val, :3], x[val, 3])).batch(16)))
    assert regressor.predict(x[:4, :3]).shape == (4,)
    bad = {"labels that fit's y does not: 'daisy'": (x[val], np.append(names[val][:-1], "daisy")),
           "X has 3 features, but AutoClassifier is expecting 4": (x[val, :3], names[val]),
           "X has 50 samples, y has shape": (x[val], names[val][:10]),
           "must be \\(X_val, y_val\\)": (x[val],)}
    for message, data in bad.items():
        with pytest.raises(ValueError, match=message):
            AutoClassifier(**FAST).fit(x[train], names[train], validation_data=data)
    with pytest.raises(ValueError, match="fit's y had 1 target"):
        AutoRegressor(**FAST).fit(x[train, :3], x[train, 3],
                                  validation_data=(x[val, :3], x[val, 2:]))
    with pytest.raises(ValueError, match="no validation_data"):
        AutoClassifier(**FAST).fit(x[train], names[train], sensitive_features=y[train] % 2,
                                   validation_data=(x[val], names[val]))


def test_a_directory_resumes_its_own_data_and_refuses_other_data(tmp_path):
    """A search folder holds trials of the data they were trained on: the same data
    resumes them, other data (here as many rows) is refused by name instead of being
    answered with those trials' models."""
    x, y = load_iris(return_X_y=True)
    directory = str(tmp_path / "search")
    AutoClassifier(max_trials=1, epochs=2, directory=directory).fit(x, y)
    resumed = AutoClassifier(max_trials=2, epochs=2, directory=directory).fit(x, y)
    assert len(resumed.search_results_) == 2
    # the folder keeps the final model and the fitted estimator, as a command's search does
    kept = pickle.loads((tmp_path / "search" / "estimator.pkl").read_bytes())
    np.testing.assert_allclose(kept.predict_proba(x), resumed.predict_proba(x), rtol=1e-5)
    saved = autoarch.load_model(directory + "/best_model.keras").get_weights()
    assert len(saved) == len(resumed.best_model_.get_weights())
    for ours, theirs in zip(saved, resumed.best_model_.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(autoarch.StudyMismatch, match="other data \\(as many rows"):
        AutoClassifier(max_trials=2, epochs=2, directory=directory).fit(x[::-1], y[::-1])
    with pytest.raises(autoarch.StudyMismatch, match="other data \\(150 rows, now 100\\)"):
        AutoClassifier(max_trials=2, epochs=2, directory=directory).fit(x[:100], y[:100])


def test_a_target_named_by_its_column_in_a_frame_or_a_csv_file(tmp_path):
    """As AutoKeras's structured data takes them: y the target column's name, X a DataFrame
    or a CSV file's path; predict and score leave that column out where it is given."""
    x, y = load_iris(return_X_y=True, as_frame=True)
    frame = x.assign(species=np.array(["setosa", "versicolor", "virginica"])[y])
    frame.to_csv(tmp_path / "iris.csv", index=False)
    clf = AutoClassifier(**FAST).fit(frame, "species")
    assert list(clf.feature_names_in_) == list(x.columns)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    np.testing.assert_array_equal(clf.predict(frame), clf.predict(x))
    assert clf.score(frame, "species") == clf.score(x, frame["species"])
    from_file = AutoClassifier(**FAST).fit(tmp_path / "iris.csv", "species",
                                           validation_data=(str(tmp_path / "iris.csv"), "species"))
    assert from_file.predict(str(tmp_path / "iris.csv")).shape == (150,)
    with pytest.raises(ValueError, match="names no column of X \\(did you mean 'species'"):
        AutoClassifier(**FAST).fit(frame, "Species")
    with pytest.raises(ValueError, match="X is no DataFrame or CSV file"):
        AutoClassifier(**FAST).fit(x.to_numpy(), "species")


def test_image_classifier_on_digits_images():
    x, y = load_digits(return_X_y=True)
    images = (x / 16.0).reshape(-1, 8, 8)
    clf = ImageClassifier(max_trials=1, epochs=1, strategy="random").fit(images[:200], y[:200])
    assert clf.input_kind_ == "image" and clf.predict(images[:4]).shape == (4,)


def test_errors_are_clear(iris):
    x_train, _, y_train, _ = iris
    with pytest.raises(NotFittedError):
        AutoClassifier().predict(x_train)
    with pytest.raises(ValueError, match=r"Found 3 sample\(s\) while a minimum of 5"):
        AutoClassifier(**FAST).fit(x_train[:3], y_train[:3])
    y_nan = y_train.astype(float)
    y_nan[0] = np.nan
    with pytest.raises(ValueError, match="y contains NaN, infinity or a missing value in row 0"):
        AutoClassifier(**FAST).fit(x_train, y_nan)
    missing = pd.Series(y_train, dtype="Int64").where(np.arange(len(y_train)) % 10 != 3)
    with pytest.raises(ValueError, match=r"missing value in row 3 \(and 10 more\)"):
        AutoClassifier(**FAST).fit(x_train, missing)
    with pytest.raises(ValueError, match="missing value in row 3 "):
        AutoRegressor(**FAST).fit(x_train, missing.astype("Float64"))
    with pytest.raises(ValueError, match="one label per sample"):
        AutoClassifier(**FAST).fit(x_train, y_train[:-1])
    # as AutoKeras's fit takes them: settings are the estimator's, and said so
    with pytest.raises(TypeError, match=r"epochs is a setting of the estimator, "
                                        r"AutoClassifier\(epochs=5\)\.fit\(X, y\)"):
        AutoClassifier().fit(x_train, y_train, epochs=5)
    with pytest.raises(TypeError, match="'sample_weights' \\(did you mean 'sample_weight'"):
        AutoClassifier().fit(x_train, y_train, sample_weights=np.ones(len(y_train)))
    # a 2-D y is read as one-hot rows: several labels in a row, none, or scores are refused
    one_hot = np.eye(3)[y_train]
    for row, value, said in ((4, 1.0, r"row 4 is \[1\.0, 1\.0, 1\.0\]: .*multilabel"),
                             (7, 0.0, r"row 7 is \[0\.0, 0\.0, 0\.0\]"),
                             (2, 0.5, r"row 2 is \[0\.5, 0\.5, 0\.5\]")):
        labels = one_hot.copy()
        labels[row] = value
        with pytest.raises(ValueError, match=said):
            AutoClassifier(**FAST).fit(x_train, labels)
    with pytest.raises(ValueError, match=r"row 0 is \['a', 'b'\]"):
        AutoClassifier(**FAST).fit(x_train, np.array([["a", "b"]] * len(x_train)))
    images = np.ones((20, 8, 8))
    images[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="image X contains NaN"):
        AutoClassifier(**FAST).fit(images, np.arange(20) % 2)
    with pytest.raises(ValueError, match=r"single class \(0\.0\)"):
        AutoClassifier(**FAST).fit(x_train, np.zeros(len(x_train)))
    with pytest.raises(ValueError, match=r"single class \('yes'\)"):
        AutoClassifier(**FAST).fit(x_train, np.array(["yes"] * len(x_train), dtype=object))
    ragged = [np.ones((5 + i % 3, 2)) for i in range(20)]
    with pytest.raises(ValueError, match="rows have different shapes .*pad_sequences"):
        AutoClassifier(**FAST).fit(ragged, np.arange(20) % 2)
    with pytest.raises(ValueError, match="infinity"):
        AutoClassifier(**FAST).fit(np.full((10, 2), np.inf), np.arange(10) % 2)
    with pytest.raises(ValueError, match=r"X is a sparse matrix of 10 x 10,000,000 "
                                         r"\(100,000,000 values dense\).*max_features"):
        AutoClassifier(**FAST).fit(scipy.sparse.csr_matrix((10, 10_000_000)), np.arange(10) % 2)
    with pytest.raises(ValueError, match="requires y to be passed"):
        AutoRegressor(**FAST).fit(x_train)
    with pytest.raises(ValueError, match="y holds values up to 1e\\+20: .*rescale y"):
        AutoRegressor(**FAST).fit(x_train, np.where(y_train == 0, 1e20, 1.0))
    with pytest.raises(ValueError, match="Complex data not supported"):
        AutoRegressor(**FAST).fit(x_train, y_train + 1j)


def test_predict_with_wrong_number_of_features(fitted, iris):
    _, x_test, _, _ = iris
    with pytest.raises(ValueError, match="X has 3 features, but AutoClassifier is expecting 4 features"):
        fitted.predict(x_test[:, :3])


@pytest.mark.parametrize("name", [n for n in autoarch.estimators.__all__ if n[0].isupper()])
def test_every_estimator_class_is_named_as_exported_and_pickles(name):
    cls = getattr(autoarch, name)
    estimator = cls(max_trials=2)
    assert cls.__name__ == name and repr(estimator) == f"{name}(max_trials=2)"
    restored = pickle.loads(pickle.dumps(estimator))
    assert type(restored) is cls and restored.get_params() == estimator.get_params()
