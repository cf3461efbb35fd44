"""The neural tangent kernel's condition number (Chen et al. 2021, "Neural Architecture
Search on ImageNet in Four GPU Hours: A Theoretically Inspired Perspective", TE-NAS): a
network whose kernel is well conditioned trains fast and well."""

import numpy as np
import tensorflow as tf

from autoarch.proxies.base import scoring_mode, proxy

#: rows of the kernel (one backward pass each)
NTK_ROWS = 16


@proxy
def ntk(model, batch):
    """``-lambda_max / lambda_min`` of ``J J^T``, ``J`` holding each row's gradient of its
    summed logits over all trainable weights (first ``NTK_ROWS`` rows). Higher (a smaller
    condition number) predicts a better network; a singular kernel gives ``-inf``."""
    x = batch.inputs(rows=NTK_ROWS)
    weights = model.trainable_variables
    rows = []
    for i in range(min(NTK_ROWS, batch.rows)):
        one = tf.nest.map_structure(lambda a, i=i: a[i:i + 1], x)
        with scoring_mode(model), tf.GradientTape() as tape:
            total = tf.reduce_sum(model(one, training=False))
        grads = tape.gradient(total, weights)
        rows.append(np.concatenate([np.ravel(g.numpy()) for g in grads if g is not None]))
    jacobian = np.stack(rows).astype("float64")
    eigenvalues = np.linalg.eigvalsh(jacobian @ jacobian.T)
    if eigenvalues[0] <= eigenvalues[-1] * 1e-12:
        return float("-inf")
    return float(-eigenvalues[-1] / eigenvalues[0])
