"""Turning user data (numpy, pandas, dicts of arrays, ``tf.data``) into checked arrays and
``tf.data`` pipelines for training."""

import numpy as np

from autoarch.blocks.graph import DEFAULT_INPUT


def dataset_to_arrays(dataset):
    """Materialize a finite ``tf.data.Dataset`` of ``(x, y)`` pairs (batched or not)."""
    import tensorflow as tf

    spec = dataset.element_spec
    if not (isinstance(spec, tuple) and len(spec) == 2):
        raise ValueError("a tf.data.Dataset must yield (x, y) pairs")
    if dataset.cardinality() == tf.data.INFINITE_CARDINALITY:
        raise ValueError("the tf.data.Dataset is infinite; give a finite one (e.g. .take(n))")
    first_x = spec[0]
    batched = not isinstance(first_x, dict) and first_x.shape.rank is not None and \
        first_x.shape.rank > 0 and first_x.shape[0] is None
    xs, ys = [], []
    for x, y in dataset.as_numpy_iterator():
        xs.append(x)
        ys.append(y)
    if not xs:
        raise ValueError("the tf.data.Dataset is empty")
    join = np.concatenate if batched else np.stack
    if isinstance(xs[0], dict):
        x = {k: join([item[k] for item in xs]) for k in xs[0]}
    else:
        x = join(xs)
    y = join(ys)
    if x.dtype == object or x.dtype.kind == "S":
        x = np.array([v.decode() if isinstance(v, bytes) else v for v in x.reshape(-1)],
                     dtype=object).reshape(x.shape)
    return x, y


def as_input_dict(x):
    """``{input name: array}`` from one array or a dict of arrays."""
    if isinstance(x, dict):
        return {str(k): np.asarray(v) for k, v in x.items()}
    return {DEFAULT_INPUT: np.asarray(x)}


def _is_text(array):
    return array.dtype == object or array.dtype.kind in "UST"


def input_specs(inputs):
    """``{name: (shape, dtype)}`` for ``keras.Input``; text becomes one string per sample."""
    specs = {}
    for name, array in inputs.items():
        if _is_text(array):
            specs[name] = ((1,), "string")
        else:
            specs[name] = (tuple(array.shape[1:]), "float32")
    return specs


def prepare_inputs(inputs):
    """Arrays as the model's inputs take them: float32 numbers, (n, 1) strings."""
    prepared = {}
    for name, array in inputs.items():
        if _is_text(array):
            prepared[name] = np.asarray(array, dtype=str).reshape(-1, 1)
        else:
            prepared[name] = np.asarray(array, dtype="float32")
    return prepared


def take_rows(inputs, rows):
    return {name: array[rows] for name, array in inputs.items()}


def n_rows(inputs):
    return len(next(iter(inputs.values())))


def make_dataset(inputs, y, batch_size, shuffle_seed=None):
    """A batched, prefetched pipeline (features only when ``y`` is None); a single default
    input is passed as a plain tensor."""
    import tensorflow as tf

    features = inputs[DEFAULT_INPUT] if list(inputs) == [DEFAULT_INPUT] else inputs
    dataset = tf.data.Dataset.from_tensor_slices(features if y is None else (features, y))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(n_rows(inputs), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
