"""Zero-cost proxies against values computed by hand, and the promises every proxy keeps."""

import keras
import numpy as np
import pytest

from autoarch import proxies
from autoarch.strategies.options import PROXY_NAMES


def _dense_net(widths, activation=None, use_bias=False, head=None, seed=0, batch_norm=False):
    """Dense layers of ``widths`` after an input of ``widths[0]``; ``head``: the last
    layer's activation."""
    keras.utils.set_random_seed(seed)
    x = inputs = keras.Input((widths[0],))
    for i, units in enumerate(widths[1:]):
        last = i == len(widths) - 2
        x = keras.layers.Dense(units, activation=head if last else activation,
                               use_bias=use_bias)(x)
        if batch_norm and not last:
            x = keras.layers.BatchNormalization()(x)
    return keras.Model(inputs, x)


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    return rng.standard_normal((12, 5)).astype("float32"), rng.integers(0, 3, 12)


def _kernels(model):
    return [v.numpy().astype("float64") for v in model.trainable_variables]


def test_every_proxy_is_named_for_spec_checks():
    assert set(PROXY_NAMES) == set(proxies.PROXIES)


def test_params_and_flops_are_exact(batch):
    x, y = batch
    model = _dense_net([5, 4, 3], use_bias=True)
    scores = proxies.score(model, x, y, ["params", "flops"])
    assert scores["params"] == 5 * 4 + 4 + 4 * 3 + 3
    linear = _dense_net([5, 4, 3])
    # one row: two matrix products, a multiply-add counted as two operations
    assert proxies.score(linear, x, proxies=["flops"])["flops"] == 2 * (5 * 4 + 4 * 3)


def test_synflow_of_a_two_layer_linear_net(batch):
    x, _ = batch
    model = _dense_net([5, 4, 3])
    w1, w2 = (np.abs(k) for k in _kernels(model))
    # R = 1^T |W1| |W2| 1; each layer's sum of |dR/dW * W| is R itself
    expected = 2 * (np.ones(5) @ w1 @ w2 @ np.ones(3))
    assert proxies.score(model, x, proxies=["synflow"])["synflow"] == pytest.approx(expected,
                                                                                   rel=1e-5)


def test_grad_norm_and_snip_of_a_linear_regression(batch):
    x, _ = batch
    target = np.arange(12, dtype="float32")[:, None] / 12
    model = _dense_net([5, 1])  # a linear output: the squared error is the loss
    (w,) = _kernels(model)
    grad = 2 * x.T.astype("float64") @ (x @ w - target) / len(x)
    scores = proxies.score(model, x, target, ["grad_norm", "snip"])
    assert scores["grad_norm"] == pytest.approx(np.linalg.norm(grad), rel=1e-4)
    assert scores["snip"] == pytest.approx(np.abs(grad * w).sum(), rel=1e-4)


def test_grad_norm_uses_cross_entropy_on_the_logits(batch):
    x, y = batch
    model = _dense_net([5, 3], head="softmax")
    (w,) = _kernels(model)
    logits = x.astype("float64") @ w
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    grad = x.T.astype("float64") @ (p - np.eye(3)[y]) / len(x)
    assert proxies.score(model, x, y, ["grad_norm"])["grad_norm"] == pytest.approx(
        np.linalg.norm(grad), rel=1e-4)


def test_naswot_is_the_log_determinant_of_the_activation_kernel(batch):
    x, _ = batch
    model = _dense_net([5, 16, 3], activation="relu", head="softmax")
    w1, _ = _kernels(model)
    codes = (x @ w1 > 0).astype("float64")
    kernel = codes @ codes.T + (1 - codes) @ (1 - codes).T
    assert proxies.score(model, x, proxies=["naswot"])["naswot"] == pytest.approx(
        np.linalg.slogdet(kernel)[1], rel=1e-6)


def test_ntk_and_jacob_cov_of_a_linear_model(batch):
    x, _ = batch
    model = _dense_net([5, 1])
    (w,) = _kernels(model)
    rows = x[:16].astype("float64")  # each row's gradient over the weights is the row
    eigenvalues = np.linalg.eigvalsh(rows @ rows.T)
    # 12 rows in 5 dimensions: a singular kernel
    assert proxies.score(model, x, proxies=["ntk"])["ntk"] == float("-inf")
    few = x[:4]
    eigenvalues = np.linalg.eigvalsh(few.astype("float64") @ few.T.astype("float64"))
    assert proxies.score(model, few, proxies=["ntk"])["ntk"] == pytest.approx(
        -eigenvalues[-1] / eigenvalues[0], rel=1e-3)
    # every row's input Jacobian is w: perfectly correlated, eigenvalues (n, 0, ..., 0)
    k, n = 1e-5, len(x)
    expected = -((np.log(n + k) + 1 / (n + k)) + (n - 1) * (np.log(k) + 1 / k))
    assert proxies.score(model, x, proxies=["jacob_cov"])["jacob_cov"] == pytest.approx(
        expected, rel=1e-3)
    assert w.shape == (5, 1)


def test_proxies_leave_weights_and_batch_norm_statistics_untouched(batch):
    x, y = batch
    model = _dense_net([5, 32, 32, 3], activation="relu", head="softmax", use_bias=True,
                       batch_norm=True)
    before = [v.numpy().copy() for v in model.variables]
    scores = proxies.score(model, x, y)
    assert set(scores) == set(proxies.PROXIES)
    assert all(np.isfinite(v) for v in scores.values()), scores
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(before, model.variables))
    assert model.layers[-1].activation is keras.activations.softmax  # switched back


def test_vote_ranks_a_working_model_above_a_broken_one(batch):
    x, y = batch
    good = _dense_net([5, 16, 3], activation="relu", head="softmax")
    broken = _dense_net([5, 16, 3], activation="relu", head="softmax")
    for v in broken.trainable_variables:
        v.assign(np.zeros(v.shape))
    scores = proxies.score([broken, good], x, y, ["vote"])
    assert scores[1]["vote"] == 1.0 and scores[0]["vote"] == 0.0
    assert set(scores[0]) == {"vote", *proxies.VOTERS}


def test_vote_averages_ranks_with_ties():
    scores = [{"a": 1.0, "b": 5.0}, {"a": 2.0, "b": 5.0}, {"a": float("nan"), "b": 7.0}]
    # a ranks (1, 2, 0), b ranks (0.5, 0.5, 2); over 2 proxies and n - 1 = 2
    np.testing.assert_allclose(proxies.vote(scores, ["a", "b"]), [0.375, 0.625, 0.5])


def test_bad_requests_say_what_is_wrong(batch):
    x, y = batch
    model = _dense_net([5, 3], head="softmax")
    with pytest.raises(ValueError, match="pass a list of models"):
        proxies.score(model, x, y, ["vote"])
    with pytest.raises(ValueError, match="unknown proxy 'synflw'"):
        proxies.score(model, x, y, ["synflw"])
    with pytest.raises(ValueError, match="'grad_norm' needs the labels y"):
        proxies.score(model, x, proxies=["grad_norm"])
