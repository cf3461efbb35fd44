"""tf-idf + a linear model as a Keras model, and as a member of a text's ensemble."""

import pickle

import numpy as np
import pytest
import tensorflow as tf
from sklearn.linear_model import Ridge
from sklearn.svm import LinearSVC

from data_helpers import topic_texts
from export_helpers import assert_reloads_predict_the_same

from autoarch import AutoClassifier
from autoarch.engine.journal import Journal
from autoarch.ensemble import loss
from autoarch.export import export_model
from autoarch.inputs.text import TextInput
from autoarch.linear import TextLinear, text_linear_model

TINY = dict(strategy="random", seed=0, early_stopping_patience=None, curve_stopping=False,
            isolate_trials=False)
@pytest.mark.parametrize("task,naive_bayes", [("binary", False), ("multiclass", False),
                                               ("regression", False), ("binary", True),
                                               ("multiclass", True)])
def test_the_keras_linear_model_computes_what_scikit_learn_computes(task, naive_bayes):
    texts, y = topic_texts(classes=2 if task == "binary" else 3)
    target = y + np.random.default_rng(1).normal(size=len(y)) if task == "regression" else y
    fitted = TextLinear(texts[:200], target[:200], task != "regression",
                        naive_bayes=naive_bayes)
    if task != "regression":
        fitted.fit_temperature(texts[200:], y[200:])
    model = text_linear_model(TextInput("input").fit(texts), fitted)
    unseen = np.append(texts[200:], ["nothing here is known", ""])  # and no known word
    got = model.predict(tf.constant([[t] for t in unseen]), verbose=0)
    expected = fitted.outputs(unseen)
    assert got.shape == (len(unseen), 3 if task == "multiclass" else 1)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    rows = fitted.vectorizer.transform(unseen)
    if task == "regression":
        reference = Ridge(alpha=1.0).fit(fitted.vectorizer.transform(texts[:200]), target[:200])
        np.testing.assert_allclose(got.reshape(-1), reference.predict(rows), rtol=1e-4,
                                   atol=1e-4)
    elif not naive_bayes:  # the SVM's own classes
        reference = LinearSVC(C=1.0, random_state=0).fit(
            fitted.vectorizer.transform(texts[:200]), y[:200])
        predicted = got.argmax(axis=1) if task == "multiclass" else (got[:, 0] > 0.5)
        np.testing.assert_array_equal(predicted, reference.predict(rows))
    if task == "multiclass":
        np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-5)


def test_nbsvm_scales_each_class_by_its_naive_bayes_log_count_ratios():
    """Wang and Manning's NBSVM, computed here from its definition: for each class, ratios
    r = log((p / |p|) / (q / |q|)) of smoothed counts of texts holding each n-gram in the
    class (p) and outside it (q); an SVM on the rows times r; its scores are the class's."""
    texts, y = topic_texts(rows=240)
    fitted = TextLinear(texts, y, True, naive_bayes=True)
    rows = fitted.vectorizer.transform(texts)
    present = (rows > 0).toarray()
    for c in range(3):
        p, q = present[y == c].sum(axis=0) + 1.0, present[y != c].sum(axis=0) + 1.0
        ratio = np.log(p / p.sum()) - np.log(q / q.sum())
        svm = LinearSVC(C=1.0, random_state=0).fit(rows.toarray() * ratio, (y == c).astype(int))
        np.testing.assert_allclose(fitted.scores(texts)[:, c],
                                   svm.decision_function(rows.toarray() * ratio),
                                   rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="regression"):
        TextLinear(texts, y.astype(float), False, naive_bayes=True)


def test_the_temperature_is_the_one_with_the_lowest_validation_log_loss():
    texts, y = topic_texts(rows=400)
    fitted = TextLinear(texts[:250], y[:250], True).fit_temperature(texts[250:], y[250:])
    scores = fitted.scores(texts[250:])

    def log_loss(t):
        shifted = np.exp(t * scores - (t * scores).max(axis=1, keepdims=True))
        return loss(shifted / shifted.sum(axis=1, keepdims=True), y[250:], True)

    best = log_loss(fitted.temperature)
    assert fitted.temperature != pytest.approx(1.0, abs=0.05)
    for factor in (0.8, 1.25):
        assert best < log_loss(factor * fitted.temperature)
    assert best < log_loss(1.0)  # what the raw scores would give


def test_a_text_search_weighs_the_linear_models_and_the_result_exports(tmp_path):
    """Networks trained for one epoch at a learning rate of 1e-9 learn nothing; the linear
    models, fitted in closed form, make the final model, retrained on all rows."""
    texts, y = topic_texts(rows=400)
    clf = AutoClassifier(max_trials=2, epochs=1, learning_rate=1e-9,
                         directory=str(tmp_path / "search"), **TINY).fit(texts[:300], y[:300])
    notes = {r["member"]: r for r in Journal(str(tmp_path / "search")).read()
             if r["event"] == "text_linear"}
    assert set(notes) == {"linear", "nb_linear"}
    for note in notes.values():
        assert note["n_grams"] > 20 and note["temperature"] > 0
        assert note["validation_score"][0] > 0.8
    final = clf.search_summary_["final_model"]
    if clf.ensemble_ is None:
        assert final in ("tf-idf linear SVM retrained on all rows",
                         "tf-idf NBSVM retrained on all rows"), final
    else:
        members = clf.ensemble_["members"]
        assert {m["trial"] for m in members if m["weight"]} <= {"linear", "nb_linear"}
        assert all(m["retrained"] for m in members)
    assert clf.best_model_.loss is not None  # compiled as the trials were
    assert "linear on " in clf.search_summary_["text_linear"]
    assert clf.score(texts[300:], y[300:]) > 0.8  # the networks alone: chance, 0.33
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict(texts[300:]),
                                  clf.predict(texts[300:]))
    assert_reloads_predict_the_same(clf.best_model_, tf.constant([[t] for t in texts[300:305]]),
                                    tmp_path)
    # TFLite has no kernel for word pairs (tf.StringNGrams), its TensorFlow ops included
    with pytest.raises(ValueError, match="StringNGrams.*keras.*savedmodel"):
        export_model(clf.best_model_, str(tmp_path / "m.tflite"), "tflite")
    assert not (tmp_path / "m.tflite").exists()


def test_text_linear_off_leaves_only_trials_and_missing_texts_are_empty(tmp_path):
    texts, y = topic_texts(rows=200)
    texts[:3] = [None, np.nan, ""]  # gaps, as real text columns have
    clf = AutoClassifier(max_trials=1, epochs=1, directory=str(tmp_path), text_linear=False,
                         **TINY).fit(texts, y)
    assert not [r for r in Journal(str(tmp_path)).read() if r["event"] == "text_linear"]
    assert "text_linear" not in clf.search_summary_
    assert clf.search_summary_["final_model"].startswith("trial 0")
    np.testing.assert_allclose(clf.predict_proba(np.array([None, np.nan], dtype=object)),
                               clf.predict_proba(np.array(["", ""], dtype=object)))
    with pytest.raises(ValueError, match="row 1 holds int 7"):
        clf.predict(np.array(["a text", 7], dtype=object))
