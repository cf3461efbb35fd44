"""Proxies of size: how many weights, how much arithmetic. On NAS-Bench-201 both already
rank well (Spearman rho 0.72 for params; Abdelfattah et al. 2021, "Zero-Cost Proxies for
Lightweight NAS"), so every other proxy must beat them to be worth its cost."""

import logging

import numpy as np
import tensorflow as tf

from autoarch.proxies.base import proxy


@proxy
def params(model, batch):
    """The number of trainable weights."""
    return float(sum(int(np.prod(v.shape)) for v in model.trainable_variables))


@proxy
def flops(model, batch):
    """Floating-point operations of one row's forward pass (inference mode), as TensorFlow's
    profiler counts them in the traced graph (a multiply-add is two)."""
    return float(count_flops(model, batch.inputs(rows=1)))


def count_flops(model, row):
    """FLOPs of ``model`` on ``row`` (its inputs for one row: an array or a dict)."""
    row = tf.nest.map_structure(tf.constant, row)
    spec = tf.nest.map_structure(tf.TensorSpec.from_tensor, row)
    graph = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    quiet = tf.get_logger()
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the v1 profiler announces its deprecation on every call
    try:
        return tf.compat.v1.profiler.profile(graph=graph, options=options).total_float_ops
    finally:
        quiet.setLevel(level)
