"""Measures of cost and fairness: model measures on a real Keras model, fairness against
values computed by hand."""

import keras
import numpy as np
import pytest

from autoarch import measures


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((5,))
    hidden = keras.layers.Dense(4, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(hidden))


def test_size_measures(model):
    rows = np.zeros((8, 5), "float32")
    assert measures.params(model) == 5 * 4 + 4 + 4 * 3 + 3
    # a multiply-add is two operations: 2 * (5 * 4 + 4 * 3), plus biases, relu and softmax
    assert 2 * (5 * 4 + 4 * 3) <= measures.flops(model, rows) <= 2 * (5 * 4 + 4 * 3) + 40
    assert measures.keras_bytes(model) > 1000
    assert 4 * measures.params(model) < measures.tflite_bytes(model) < 100_000


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_models_size_is_the_same_however_it_was_trained(optimizer):
    """``keras_bytes`` is the model as it predicts: Adam's state (twice the weights) or
    none, the same size, and the model keeps predicting and training as it did."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((64,))
    hidden = keras.layers.Dense(256, activation="relu")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(hidden))
    untrained = measures.keras_bytes(model)
    assert untrained > 4 * measures.params(model)  # the weights are in it
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(32, 64)).astype("float32")
    model.fit(x, np.arange(32) % 3, epochs=1, verbose=0)
    assert model.optimizer.built
    assert abs(measures.keras_bytes(model) - untrained) < 0.05 * untrained
    model.fit(x, np.arange(32) % 3, epochs=1, verbose=0)  # still compiled as it was
    inference = measures.inference_model(model)
    assert not inference.compiled
    np.testing.assert_allclose(inference.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_subclassed_model_is_measured_as_it_is():
    """No graph of layers to reuse: its archive, optimizer and all."""

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(3)

        def call(self, x):
            return self.dense(x)

    model = Subclassed()
    x = np.zeros((4, 5), "float32")
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.zeros((4, 3)), verbose=0)
    assert measures.inference_model(model) is model
    assert measures.keras_bytes(model) > 4 * measures.params(model)


def test_latencies_are_positive_medians(model):
    rows = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    for name in ("latency_ms", "latency_batch_ms", "tflite_latency_ms"):
        value = measures.MODEL_MEASURES[name](model, rows)
        assert 0 < value < 1000, name


def test_fairness_measures_by_hand():
    group = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])
    y_true = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    y_pred = np.array([1, 1, 1, 0, 1, 0, 0, 0])
    # selection rates: a 3/4, b 1/4
    assert measures.demographic_parity_difference(y_true, y_pred, group) == pytest.approx(0.5)
    # true-positive rates: a 2/2, b 1/2; false-positive rates: a 1/2, b 0/2
    assert measures.equalized_odds_difference(y_true, y_pred, group) == pytest.approx(0.5)
    assert measures.group_accuracy(y_true, y_pred, group) == {"a": 0.75, "b": 0.75}
    assert measures.worst_group_accuracy(y_true, y_pred, group) == 0.75
    # a perfectly fair classifier
    assert measures.demographic_parity_difference(y_true, y_true, group) == 0.0
    assert measures.equalized_odds_difference(y_true, y_true, group) == 0.0


def test_every_measure_has_a_direction_and_a_stage():
    names = set(measures.MODEL_MEASURES) | set(measures.FAIRNESS_MEASURES)
    assert names == set(measures.DIRECTIONS) == set(measures.STAGE)
