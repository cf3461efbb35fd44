"""One-shot foundations: a supernet built from a space's own blocks, single-path training over
shared weights, batch-norm recalibration, and sub-models extracted with inherited weights."""

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

from autoarch.blocks import CellBlock, ChainBlock, ClassificationHead, DenseBlock, ModelSpace
from autoarch.blocks.ops import Switch
from autoarch.inputs import ImageInput
from autoarch.oneshot import Supernet


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return (x / 16.0).reshape(-1, 8, 8, 1).astype("float32"), y


def _space(block, x):
    return ModelSpace([block, ClassificationHead(num_classes=10)],
                      training={"learning_rate": 0.01},
                      inputs={"input": ImageInput("input").fit(x)})


def test_a_cell_supernet_shares_weights_and_extracts_paths_with_them(digits, tmp_path):
    x, y = digits
    supernet = Supernet(_space(CellBlock(num_nodes=3, stacks=1, filters=16), x))
    assert sorted(supernet.choices) == ["cell_1/normal_0_1", "cell_1/normal_0_2",
                                        "cell_1/normal_1_2"]
    history = supernet.train(x[:1200], y[:1200], epochs=4, seed=0)
    assert history["loss"][-1] < history["loss"][0] - 0.1  # the shared weights learn
    rng = np.random.default_rng(0)
    for path in [supernet.sample(rng) for _ in range(3)] + [
            {name: "none" for name in supernet.choices}]:
        inherited = supernet.score(path, x[1200:], y[1200:], calibration=x[:640])
        alone = supernet.extract(path)
        assert sum(isinstance(layer, Switch) for layer in alone.layers) == 3
        assert all(len(layer.options) == 1 for layer in alone.layers if isinstance(layer, Switch))
        got = alone.evaluate(x[1200:], y[1200:], verbose=0, return_dict=True)
        assert got["accuracy"] == pytest.approx(inherited["accuracy"], abs=1e-6)
    alone.save(tmp_path / "path.keras")
    reloaded = keras.models.load_model(tmp_path / "path.keras", safe_mode=True)
    np.testing.assert_allclose(reloaded.predict(x[:8], verbose=0),
                               alone.predict(x[:8], verbose=0), rtol=1e-5, atol=1e-6)


def test_calibration_gives_batch_norm_the_paths_own_statistics(digits):
    x, y = digits
    with pytest.raises(ValueError, match="must give one output shape"):  # skip keeps 1 channel
        Supernet(_space(ChainBlock(max_layers=2), x), fixed={"chain_1/num_layers": 2})
    supernet = Supernet(_space(ChainBlock(max_layers=2, operations=("conv3x3", "conv5x5",
                                                                    "maxpool3x3")), x),
                        fixed={"chain_1/num_layers": 2})
    assert sorted(supernet.choices) == ["chain_1/op_0", "chain_1/op_1"]
    supernet.train(x[:600], y[:600], epochs=1)
    path = {"chain_1/op_0": "conv3x3", "chain_1/op_1": "conv3x3"}
    supernet.set_path(path)
    supernet.calibrate(x[:640], batches=10, batch_size=64)
    branch = supernet.switches["chain_1/op_0"][0].branches[0]  # conv3x3: relu, conv, norm
    norm = branch.layers[-1]
    assert isinstance(norm, keras.layers.BatchNormalization)
    # the statistics are the plain mean of what the path's norm sees on those rows
    before_norm = keras.Model(branch.inputs, norm.input)
    seen = before_norm.predict(x[:640], verbose=0)
    np.testing.assert_allclose(norm.moving_mean.numpy(), seen.mean(axis=(0, 1, 2)),
                               rtol=1e-3, atol=1e-4)


def test_a_space_without_operation_choices_has_no_supernet(digits):
    x, _ = digits
    with pytest.raises(ValueError, match="nothing for a supernet to share"):
        Supernet(_space(DenseBlock(), x))
