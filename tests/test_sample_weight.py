"""Sample weights: checked, and honoured by every part of a search that fits or chooses (the
trials' training and objective, the classical members, the ensemble, the supernets)."""

import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

from autoarch import AutoClassifier
from autoarch.blocks import CellBlock, ClassificationHead, DenseBlock, ModelSpace, RegressionHead
from autoarch.engine.search import ModelSearch
from autoarch.ensemble import greedy_selection, loss
from autoarch.inputs import ImageInput
from autoarch.linear import TextLinear, fit_table_linear
from autoarch.oneshot import Supernet
from autoarch.oneshot.bilevel import Warmup, bilevel_model, train_bilevel
from autoarch.trees import fit_boosted_trees

TINY = dict(strategy="random", seed=0, early_stopping_patience=None, curve_stopping=False,
            isolate_trials=False)


def _contradicted(rows, seed=0):
    """Every row twice: once with its label (x0 + x1 > 0), weight 1, and once with the other
    label, weight 0.25. Weighted, the label is the rule; unweighted, a coin."""
    x = np.random.default_rng(seed).normal(size=(rows, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    return (np.concatenate([x, x]), np.concatenate([y, 1 - y]),
            np.concatenate([np.ones(rows), np.full(rows, 0.25)]), x, y)


def test_weights_decide_what_a_whole_search_learns():
    """The default path (trials, boosted trees, logistic regression, ensemble, the
    cross-validated selection and the retraining on all rows) learns the weighted labels;
    without the weights the same rows teach nothing."""
    x, y, w = _contradicted(300)[:3]
    x_test, y_test = _contradicted(400, seed=1)[3:]
    settings = dict(max_trials=2, epochs=8, learning_rate=0.01, **TINY)
    weighted = AutoClassifier(**settings).fit(x, y, sample_weight=w)
    plain = AutoClassifier(**settings).fit(x, y)
    assert weighted.score(x_test, y_test) > 0.9
    assert 0.3 < plain.score(x_test, y_test) < 0.7
    summary = weighted.search_summary_
    assert "boosted_trees" in summary and "table_linear" in summary  # they were fitted too
    assert summary["weights"].startswith("sample_weight: the rows weigh 0.4 to 1.6")
    assert "weights" not in plain.search_summary_


def test_the_objective_is_the_weighted_validation_metric(tmp_path):
    """Each trial's val_accuracy (and a regression's val_mean_squared_error) is its saved
    validation predictions' weighted mean, with the weights of validation_data's third
    item."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 3)).astype("float32")
    w = rng.uniform(0.0, 4.0, 240)
    for head, y, name in [
            (ClassificationHead(num_classes=2, dropout=0.0), (x[:, 0] > 0).astype(int),
             "val_accuracy"),
            (RegressionHead(), x[:, 0] * 2.0 + x[:, 1], "val_mean_squared_error")]:
        space = ModelSpace([DenseBlock(num_layers=1, units=[4, 8], dropout=0.0,
                                       batch_norm=False), head])
        directory = tmp_path / name
        search = ModelSearch(space, max_trials=2, epochs=2, ensemble_size=1, final_fit=False,
                             directory=str(directory), **TINY).fit(
            {"input": x[:160]}, y[:160], sample_weight=w[:160],
            validation_data=({"input": x[160:]}, y[160:], w[160:]))
        for trial in search.study.trials:
            predicted = np.load(directory / "trials" / f"trial_{trial.number}.val.npy")
            if name == "val_accuracy":
                right = (predicted.reshape(-1) > 0.5) == y[160:]
                expected, plain = np.average(right, weights=w[160:]), right.mean()
            else:
                error = (predicted.reshape(-1) - y[160:]) ** 2
                expected, plain = np.average(error, weights=w[160:]), error.mean()
            assert trial.value == pytest.approx(expected, rel=1e-4, abs=1e-6)
            assert abs(expected - plain) > 1e-3  # the weights make a difference here


def test_a_dataset_of_triples_carries_its_weights():
    x, y, w = _contradicted(200)[:3]
    x_test, y_test = _contradicted(300, seed=1)[3:]
    data = tf.data.Dataset.from_tensor_slices((x, y, w)).batch(50)
    clf = AutoClassifier(max_trials=1, epochs=8, learning_rate=0.01, **TINY).fit(data)
    assert clf.score(x_test, y_test) > 0.9


@pytest.mark.parametrize("weights, message", [
    (np.ones(7), "one weight per row"),
    (-np.ones(10), "row 0 is -1.0"),
    (np.r_[np.ones(9), np.nan], "row 9 is nan"),
    (np.zeros(10), "zero on every row"),
    (["a"] * 10, "numbers"),
])
def test_bad_weights_are_refused_naming_the_row(weights, message):
    x = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match="sample_weight") as caught:
        AutoClassifier(max_trials=1).fit(x, np.arange(10) % 2, sample_weight=weights)
    assert message in str(caught.value)


def test_the_ensemble_is_selected_on_the_weighted_loss():
    """Two candidates, each right on half the rows: weighting one half picks the candidate
    right on it, and the loss is the weighted mean."""
    y = np.array([0, 0, 1, 1])
    first = np.array([0.1, 0.1, 0.1, 0.1])  # P(class 1): right on rows 0 and 1
    second = np.array([0.9, 0.9, 0.9, 0.9])  # right on rows 2 and 3
    w = np.array([0.1, 0.1, 1.0, 1.0])
    assert loss(second, y, True, w) == pytest.approx(
        np.average(-np.log([0.1, 0.1, 0.9, 0.9]), weights=w))
    for weights, chosen in ((w, "second"), (w[::-1], "first")):
        picked, _ = greedy_selection({"first": first, "second": second}, y, True, 1, weights)
        assert picked == {chosen: 1.0}


def test_the_classical_members_fit_with_the_weights():
    """Trees, the table's logistic regression and the tf-idf models learn the weighted
    labels of contradicted rows."""
    x, y, w, x_test, y_test = _contradicted(300)
    trees = fit_boosted_trees(x, y, True, seed=0, sample_weight=w)
    assert np.mean(trees.predict(x_test) == y_test) > 0.85
    linear, _ = fit_table_linear(x, y, sample_weight=w)
    assert np.mean(linear.predict(x_test) == y_test) > 0.9
    def words(rows):
        return np.array([f"token{int(a > 0)} token{int(b > 0) + 2} filler"
                         for a, b in rows[:, :2]])

    def rule(rows):  # what the words tell: both first values positive
        return ((rows[:, 0] > 0) & (rows[:, 1] > 0)).astype(int)

    truth, half = rule(x_test), rule(x[:300])
    for naive_bayes in (False, True):
        model = TextLinear(words(x), np.r_[half, 1 - half], True, naive_bayes=naive_bayes,
                           sample_weight=w)
        assert np.mean((model.outputs(words(x_test)).reshape(-1) > 0.5) == truth) > 0.95


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return (x / 16.0).reshape(-1, 8, 8, 1).astype("float32")[:600], y[:600]


def _cell_space(x):
    return ModelSpace([CellBlock(num_nodes=2, stacks=1, filters=8,
                                 operations=("skip", "conv3x3", "maxpool3x3")),
                       ClassificationHead(num_classes=10)],
                      training={"learning_rate": 0.01},
                      inputs={"input": ImageInput("input").fit(x)})


def test_supernets_train_on_the_weighted_loss(digits):
    """A supernet's rows weighted zero teach it nothing; DARTS's validation rows weighted
    zero leave its architecture weights where they were, while the network learns."""
    x, y = digits
    for weights, learns in ((np.zeros(len(y)), False), (np.ones(len(y)), True)):
        supernet = Supernet(_cell_space(x))
        before = [v.numpy().copy() for v in supernet.model.trainable_variables]
        supernet.train(x, y, epochs=1, batch_size=64, seed=0, sample_weight=weights)
        changed = any(not np.array_equal(b, v.numpy())
                      for b, v in zip(before, supernet.model.trainable_variables))
        assert changed == learns
    train, val = ({"input": x[:400]}, y[:400]), ({"input": x[400:]}, y[400:])
    for val_weights, moves in ((np.zeros(200), False), (np.ones(200), True)):
        supernet = Supernet(_cell_space(x), sampling="softmax")
        model = bilevel_model(supernet, supernet.model.optimizer, 0.05)
        before = supernet.architecture()
        history = train_bilevel(model, train, val, epochs=2, batch_size=64, seed=0,
                                callbacks=[Warmup(model, 0)],
                                sample_weight=(np.ones(400), val_weights))
        assert history["loss"][-1] < history["loss"][0]
        assert (supernet.architecture() != before) == moves


def _imbalanced(rows, seed):
    """A rare class (about 12 % of rows) that overlaps the common one."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3)).astype("float32")
    y = np.where(x[:, 0] + 0.7 * rng.normal(size=rows) > 1.4, "rare", "common")
    return x, y


def test_balanced_class_weights_find_the_rare_class():
    x, y = _imbalanced(600, 0)
    x_test, y_test = _imbalanced(2000, 1)
    settings = dict(max_trials=2, epochs=8, learning_rate=0.01, **TINY)
    recall = {}
    for class_weight in (None, "balanced", {"rare": 7.0}):
        clf = AutoClassifier(class_weight=class_weight, **settings).fit(x, y)
        recall[str(class_weight)] = np.mean(clf.predict(x_test[y_test == "rare"]) == "rare")
        if class_weight == "balanced":
            assert clf.search_summary_["weights"].startswith("class_weight 'balanced'")
    assert recall["balanced"] > recall["None"] + 0.2
    assert recall["{'rare': 7.0}"] > recall["None"] + 0.2


def test_with_balanced_class_weights_the_objective_is_the_balanced_accuracy(tmp_path):
    from sklearn.metrics import balanced_accuracy_score

    x, y = _imbalanced(400, 0)
    y = (y == "rare").astype(int)
    # a quarter of each class validates: the classes' shares are the training rows' exactly
    rare, common = (rows[:len(rows) // 4 * 4] for rows in (np.flatnonzero(y == 1),
                                                            np.flatnonzero(y == 0)))
    val = np.r_[rare[:len(rare) // 4], common[:len(common) // 4]]
    train = np.r_[rare[len(rare) // 4:], common[len(common) // 4:]]
    assert y[train].mean() == y[val].mean()
    space = ModelSpace([DenseBlock(num_layers=1, units=[8], dropout=0.0, batch_norm=False),
                        ClassificationHead(num_classes=2, dropout=0.0)])
    search = ModelSearch(space, max_trials=1, epochs=3, ensemble_size=1, final_fit=False,
                         class_weight="balanced", directory=str(tmp_path), **TINY).fit(
        {"input": x[train]}, y[train], validation_data=({"input": x[val]}, y[val]))
    (trial,) = search.study.trials
    predicted = np.load(tmp_path / "trials" / "trial_0.val.npy").reshape(-1) > 0.5
    balanced = balanced_accuracy_score(y[val], predicted)
    assert trial.value == pytest.approx(balanced, abs=1e-5)
    assert abs(balanced - np.mean(predicted == y[val])) > 0.02  # it is not the plain one


@pytest.mark.parametrize("settings, fit, message", [
    ({"class_weight": {"rar": 2.0}}, {}, "class_weight: no class 'rar' in y"),
    ({"class_weight": {"rare": 0.0, "common": 0.0}}, {}, "zero on every row"),
    ({"class_weight": "balance"}, {}, "did you mean 'balanced'"),
    ({"class_weight": {"rare": -1}}, {}, "'rare' is -1"),
])
def test_bad_class_weights_are_refused_by_name(settings, fit, message):
    x, y = _imbalanced(60, 0)
    with pytest.raises(ValueError, match="class_weight") as caught:
        AutoClassifier(max_trials=1, **settings).fit(x, y, **fit)
    assert message in str(caught.value)


def test_a_regression_takes_no_class_weights():
    from autoarch import AutoRegressor

    x = np.random.default_rng(0).normal(size=(40, 2))
    with pytest.raises(ValueError, match="class_weight: weights of classes are for classifiers"):
        AutoRegressor(max_trials=1, class_weight="balanced").fit(x, x[:, 0])
