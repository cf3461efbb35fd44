"""Weight inheritance (``autoarch.engine.inherit``) on hand-built Keras models: what is
copied, widened (Net2WiderNet) and deepened (Net2DeeperNet), and that a child computes what
its parent did before training where the morphism applies."""

import keras
import numpy as np
import pytest
from keras import layers

from autoarch.engine.inherit import inherit_weights


def _mlp(widths, norm=False, activation="relu", seed=0):
    """Input(6) -> [Dense(w) -> (BN) -> activation -> Dropout] per width -> Dense(3)."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((6,), name="x")
    x = inputs
    for i, width in enumerate(widths):
        x = layers.Dense(width, name=f"dense_{i}")(x)
        if norm:
            x = layers.BatchNormalization(name=f"norm_{i}")(x)
        x = layers.Activation(activation, name=f"act_{i}")(x)
        x = layers.Dropout(0.3, name=f"drop_{i}")(x)
    return keras.Model(inputs, layers.Dense(3, activation="softmax", name="head")(x))


def _trained(model):
    """Non-trivial weights and batch-norm statistics."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(64, 6)).astype("float32"), rng.integers(0, 3, 64)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    return model


@pytest.fixture(scope="module")
def rows():
    return np.random.default_rng(2).normal(size=(32, 6)).astype("float32")


@pytest.mark.parametrize("norm", [False, True])
def test_a_wider_and_deeper_relu_child_computes_what_its_parent_did(rows, norm):
    parent = _trained(_mlp([4, 5], norm=norm))
    child = _mlp([8, 9, 9], norm=norm, seed=3)
    counts = inherit_weights(child, parent, seed=0)
    # dense_0, dense_1 and the head widened (with their batch norms); dense_2 deepened
    assert counts == {"layers": 0, "widened": 3 + 2 * norm, "deepened": 1}
    np.testing.assert_allclose(child.predict(rows, verbose=0), parent.predict(rows, verbose=0),
                               rtol=1e-5, atol=1e-6)
    # the copies of a unit read the same inputs but pass on different shares, so training
    # can pull them apart
    kernel = child.get_layer("dense_1").get_weights()[0]
    assert kernel.shape == (8, 9)
    head = child.get_layer("head").get_weights()[0]
    assert len({tuple(np.round(row, 6)) for row in head}) == len(head)


def test_the_wider_layer_keeps_the_parents_units_first(rows):
    parent = _trained(_mlp([4]))
    child = _mlp([7], seed=3)
    inherit_weights(child, parent, seed=0)
    theirs, ours = parent.get_layer("dense_0").get_weights(), child.get_layer(
        "dense_0").get_weights()
    np.testing.assert_array_equal(ours[0][:, :4], theirs[0])
    np.testing.assert_array_equal(ours[1][:4], theirs[1])
    # every extra unit repeats a parent unit, incoming weights and bias alike
    for j in range(4, 7):
        match = [u for u in range(4) if np.array_equal(ours[0][:, j], theirs[0][:, u])]
        assert match and ours[1][j] == theirs[1][match[0]]
    # the head's rows for the copies of a unit add up to the parent's row
    head_theirs, head_ours = parent.get_layer("head").get_weights()[0], \
        child.get_layer("head").get_weights()[0]
    for u in range(4):
        copies = [j for j in range(7) if np.array_equal(ours[0][:, j], theirs[0][:, u])]
        np.testing.assert_allclose(head_ours[copies].sum(axis=0), head_theirs[u], rtol=1e-5)


def test_same_shapes_are_copied_and_narrower_layers_keep_their_own_weights():
    parent = _trained(_mlp([4, 4]))
    same = _mlp([4, 4], seed=3)
    assert inherit_weights(same, parent) == {"layers": 3, "widened": 0, "deepened": 0}
    assert all(np.array_equal(a, b) for a, b in zip(same.get_weights(), parent.get_weights()))
    narrow = _mlp([2, 4], seed=3)
    before = [w.copy() for w in narrow.get_weights()]
    counts = inherit_weights(narrow, parent)
    assert counts["widened"] == counts["deepened"] == 0
    # dense_0 and dense_1 (reading two units where the parent read four) keep theirs
    np.testing.assert_array_equal(narrow.get_layer("dense_0").get_weights()[0], before[0])
    np.testing.assert_array_equal(narrow.get_layer("dense_1").get_weights()[0], before[2])


def test_no_identity_layer_between_activations_that_are_not_relu(rows):
    parent = _trained(_mlp([4], activation="tanh"))
    child = _mlp([4, 4], activation="tanh", seed=3)
    before = child.get_layer("dense_1").get_weights()[0].copy()
    counts = inherit_weights(child, parent)
    assert counts["deepened"] == 0
    np.testing.assert_array_equal(child.get_layer("dense_1").get_weights()[0], before)


def test_a_wider_convolution_passes_its_units_through_pooling(rows):
    def cnn(filters, seed):
        keras.utils.set_random_seed(seed)
        inputs = keras.Input((8, 8, 1))
        x = layers.Conv2D(filters, 3, padding="same", name="conv")(inputs)
        x = layers.BatchNormalization(name="norm")(x)
        x = layers.ReLU(name="relu")(x)
        x = layers.MaxPooling2D(name="pool")(x)
        x = layers.GlobalAveragePooling2D(name="gap")(x)
        return keras.Model(inputs, layers.Dense(3, name="head")(x))

    images = np.random.default_rng(4).normal(size=(16, 8, 8, 1)).astype("float32")
    parent = cnn(4, 0)
    parent.compile("adam", "mse")
    parent.fit(images, np.ones((16, 3)), epochs=2, verbose=0)
    child = cnn(10, 1)
    assert inherit_weights(child, parent) == {"layers": 0, "widened": 3, "deepened": 0}
    np.testing.assert_allclose(child.predict(images, verbose=0),
                               parent.predict(images, verbose=0), rtol=1e-5, atol=1e-5)
