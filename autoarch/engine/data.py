"""Arrays by model input name, their rows, and the ``tf.data`` pipelines trials train on."""

import numpy as np
import tensorflow as tf
from scipy import sparse

from autoarch.blocks.layout import DEFAULT_INPUT


def as_input_dict(x):
    """``{input name: data}`` from one input's data or a dict of them."""
    if isinstance(x, dict) and not sparse.issparse(x):  # a DOK sparse matrix is a dict
        return {str(k): v for k, v in x.items()}
    return {DEFAULT_INPUT: x}


def take_rows(inputs, rows):
    return {name: array[rows] for name, array in inputs.items()}


def n_rows(inputs):
    return len(next(iter(inputs.values())))


def make_dataset(inputs, y, batch_size, shuffle_seed=None, sample_weight=None):
    """A batched, prefetched pipeline (features only when ``y`` is None; with
    ``sample_weight``, ``(features, y, weight)``); a single default input is passed as a
    plain tensor."""
    features = inputs[DEFAULT_INPUT] if list(inputs) == [DEFAULT_INPUT] else inputs
    parts = features if y is None else (features, y) if sample_weight is None else (
        features, y, np.asarray(sample_weight, dtype="float32"))
    dataset = tf.data.Dataset.from_tensor_slices(parts)
    if shuffle_seed is not None:
        dataset = dataset.shuffle(n_rows(inputs), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
