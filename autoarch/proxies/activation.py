"""Proxies from the forward pass alone: how differently the untrained network treats
different rows (NASWOT, Jacobian covariance) and how much a small change of its input moves
its features (Zen). No labels needed."""

import keras
import numpy as np
import tensorflow as tf

from autoarch.proxies.base import (activation_layers, output_layers, outputs_of, proxy,
                                   scoring_mode, untouched)


@proxy
def naswot(model, batch):
    """The log-determinant of the kernel ``K[i, j]`` = the number of ReLU-like units on the
    same side of their threshold for rows i and j (Mellor et al. 2021, "Neural Architecture
    Search without Training"). Rows the network cannot tell apart make ``K`` singular:
    ``-inf``. NaN for a network without such units."""
    layers = activation_layers(model)
    if not layers:
        return float("nan")
    outputs = outputs_of(model, [layer for layer, _ in layers], batch.inputs())
    codes = np.concatenate([
        (np.reshape(np.asarray(out), (len(out), -1)) > threshold).astype("float64")
        for out, (_, threshold) in zip(outputs, layers)], axis=1)
    kernel = codes @ codes.T + (1.0 - codes) @ (1.0 - codes).T
    sign, logdet = np.linalg.slogdet(kernel)
    return float(logdet) if sign > 0 else float("-inf")


@proxy
def jacob_cov(model, batch):
    """How uncorrelated the rows' input Jacobians are (Mellor et al. 2021, first version of
    "Neural Architecture Search without Training"): ``-sum(log(l + k) + 1 / (l + k))`` over
    the eigenvalues ``l`` of the Jacobians' correlation matrix, ``k = 1e-5``. NaN where the
    inputs are not numeric or a Jacobian is zero."""
    x = batch.inputs()
    if batch.inputs(fill="ones") is None:
        return float("nan")
    x = tf.nest.map_structure(lambda a: tf.constant(a, tf.float32), x)
    with scoring_mode(model), tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(model(x, training=False))
    grads = tf.nest.flatten(tape.gradient(total, x))
    jacobians = np.concatenate([np.reshape(g.numpy(), (g.shape[0], -1)) for g in grads], axis=1)
    if np.any(np.std(jacobians, axis=1) == 0):
        return float("nan")
    eigenvalues = np.linalg.eigvalsh(np.corrcoef(jacobians))
    k = 1e-5
    return float(-np.sum(np.log(np.maximum(eigenvalues, 0) + k)
                         + 1.0 / (np.maximum(eigenvalues, 0) + k)))


@proxy
def zen(model, batch, alpha=0.01):
    """The Zen-score (Lin et al. 2021, "Zen-NAS: A Zero-Shot NAS for High-Performance Image
    Recognition"): with every kernel drawn from a standard Gaussian, Gaussian inputs ``x``
    and noise ``e``, ``log E|f(x) - f(x + alpha e)|_1`` for the features ``f`` that enter the
    output layer, plus, per batch normalization, the log of the square root of its input's
    mean variance (what the normalization divides away). Training mode, as Zen-NAS. NaN
    for non-numeric inputs."""
    x = batch.inputs(fill="gaussian")
    if x is None:
        return float("nan")
    rng = np.random.default_rng(1)
    noise = tf.nest.map_structure(lambda a: rng.standard_normal(a.shape).astype("float32"), x)
    moved = tf.nest.map_structure(lambda a, e: a + alpha * e, x, noise)
    head = output_layers(model)[0]
    norms = [layer for layer in model.layers
             if isinstance(layer, keras.layers.BatchNormalization)]
    with untouched(model):
        for layer in model.layers:
            kernel = getattr(layer, "kernel", None)
            if kernel is not None and getattr(kernel, "trainable", False):
                kernel.assign(rng.standard_normal(kernel.shape).astype("float32"))
        before, after = (outputs_of(model, [head], inputs, "input", training=True)[0]
                         for inputs in (x, moved))
        scales = outputs_of(model, norms, x, "input", training=True) if norms else []
    change = np.abs(np.reshape(np.asarray(before) - np.asarray(after), (len(before), -1)))
    change = change.sum(axis=1).mean()
    if not change > 0:
        return float("-inf")
    scale = sum(0.5 * np.log(np.mean(np.var(np.reshape(np.asarray(v), (-1, v.shape[-1])),
                                            axis=0)) + 1e-12) for v in scales)
    return float(np.log(change) + scale)
