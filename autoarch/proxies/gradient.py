"""Proxies from one backward pass: how strongly the untrained weights feel the loss.

``grad_norm`` and ``snip`` use a batch of real rows and their labels; ``synflow`` needs no
data at all (an input of ones through the network with every weight made positive).
"""

import numpy as np
import tensorflow as tf

from autoarch.proxies.base import Batch, gradients, scoring_mode, proxy, untouched


@proxy
def grad_norm(model, batch):
    """The sum over weight tensors of the Euclidean norm of the loss's gradient
    (Abdelfattah et al. 2021, "Zero-Cost Proxies for Lightweight NAS")."""
    return float(sum(np.linalg.norm(g.numpy()) for _, g in gradients(model, batch)))


@proxy
def snip(model, batch):
    """The summed connection sensitivity ``|dL/dw * w|`` (Lee et al. 2019, "SNIP:
    Single-shot Network Pruning based on Connection Sensitivity")."""
    return float(sum(np.abs((g * w).numpy()).sum() for w, g in gradients(model, batch)))


@proxy
def synflow(model, batch):
    """Synaptic flow (Tanaka et al. 2020, "Pruning neural networks without any data by
    iteratively conserving synaptic flow"): with every weight replaced by its absolute value
    and an input of ones, ``R`` is the sum of the logits and the score is the sum of
    ``|dR/dw * w|``. Batch normalization runs in inference mode (its initial statistics
    leave the flow unscaled). No labels needed; non-numeric inputs give NaN."""
    ones = Batch(batch.inputs(fill="ones", rows=1), None, None)
    if ones.x is None:
        return float("nan")
    with untouched(model):
        weights = model.trainable_variables
        for w in weights:
            w.assign(tf.abs(w))
        with scoring_mode(model), tf.GradientTape() as tape:
            total = tf.reduce_sum(model(ones.inputs(), training=False))
        grads = tape.gradient(total, weights)
        return float(sum(np.abs((g * w).numpy()).sum()
                         for w, g in zip(weights, grads) if g is not None))
