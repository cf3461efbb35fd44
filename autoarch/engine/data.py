"""Arrays by model input name, their rows, and the ``tf.data`` pipelines trials train on."""

import numpy as np
import tensorflow as tf
from scipy import sparse

from autoarch.blocks.layout import DEFAULT_INPUT


#: values a sparse matrix may hold once dense (400 MB of float64)
MAX_DENSE_VALUES = 50_000_000
#: inputs beyond which :func:`predict_rows` calls the model on chunks of ``CHUNK_ROWS`` rows:
#: ``tf.data`` slices every input of every row apart, and a table of 1,502 columns (one
#: input each) took 4.6 s to pass 6,142 rows through its encoder so, 0.5 s in chunks
MANY_INPUTS = 64
CHUNK_ROWS = 8192
#: rows a step when a model only predicts (validation, predictions): a forward pass keeps no
#: activations for a backward one, and on the CPU 32-row steps took 2.5 times as long as
#: 256-row ones (a table's network predicting 5,000 rows: 0.30 s against 0.12 s)
EVAL_BATCH = 256


def as_input_dict(x):
    """``{input name: data}`` from one input's data or a dict of them; a SciPy sparse matrix
    (a scikit-learn vectorizer's or one-hot encoder's output, in a pipeline) made dense."""
    if isinstance(x, dict) and not sparse.issparse(x):  # a DOK sparse matrix is a dict
        return {str(k): dense(v, f"X[{k!r}]") for k, v in x.items()}
    return {DEFAULT_INPUT: dense(x, "X")}


def dense(x, name="X"):
    """``x`` as a NumPy array where it is a sparse matrix of at most
    :data:`MAX_DENSE_VALUES` values; ``x`` itself where it is not sparse."""
    if not sparse.issparse(x):
        return x
    rows, columns = x.shape
    if rows * columns > MAX_DENSE_VALUES:
        raise ValueError(
            f"{name} is a sparse matrix of {rows:,} x {columns:,} ({rows * columns:,} values "
            f"dense), more than autoarch makes dense ({MAX_DENSE_VALUES:,}): keep fewer "
            "columns (a vectorizer's max_features), or pass the raw texts, from which "
            "autoarch builds its own tf-idf")
    return x.toarray()


def take_rows(inputs, rows):
    return {name: array[rows] for name, array in inputs.items()}


def n_rows(inputs):
    return len(next(iter(inputs.values())))


def fingerprint(rows, *parts):
    """``{"rows": rows, "blake2b": digest of parts}``, the parts arrays or ``{name: array}``
    dicts (None skipped): what a search learns from, recorded in its journal so that a
    resume with other data is refused (:class:`autoarch.engine.study.Study`)."""
    import hashlib

    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        for name, array in sorted(part.items()) if isinstance(part, dict) else [("", part)]:
            if array is None:
                continue
            array = np.asarray(array)
            digest.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
            if array.dtype == object:  # texts, a table's strings: their printed values (not
                # astype(str), whose fixed width is the longest text's for every row)
                digest.update("\0".join(map(str, array.ravel())).encode("utf-8", "replace"))
            else:
                digest.update(np.ascontiguousarray(array).tobytes())
    return {"rows": int(rows), "blake2b": digest.hexdigest()}


def eval_batch(batch_size):
    """The rows a prediction step takes where training takes ``batch_size``."""
    return max(int(batch_size), EVAL_BATCH)


def predict_rows(model, inputs, batch_size):
    """``model``'s outputs (one array) on ``inputs``, ``batch_size`` rows a step; on more
    than :data:`MANY_INPUTS` inputs (a wide table's columns), ``CHUNK_ROWS`` at a time by
    calling the model, without ``tf.data``."""
    if len(inputs) <= MANY_INPUTS:
        return model.predict(make_dataset(inputs, None, batch_size), verbose=0)
    return np.concatenate([
        np.asarray(model(take_rows(inputs, slice(start, start + CHUNK_ROWS)), training=False))
        for start in range(0, n_rows(inputs), CHUNK_ROWS)])


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


def sample_weights(sample_weight, n, name="sample_weight"):
    """``sample_weight`` checked (one finite, non-negative number per row, not all zero)
    and scaled to a mean of 1, so that a weighted loss keeps the scale the learning rates
    were chosen for; None where it is None or every weight is the same (weighing alike is
    not weighing)."""
    if sample_weight is None:
        return None
    try:
        weights = np.asarray(sample_weight, dtype="float64")
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, one per row") from None
    if weights.ndim != 1 or len(weights) != n:
        raise ValueError(f"{name} must hold one weight per row: X has {n} rows, {name} has "
                         f"shape {np.shape(sample_weight)}")
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} must be finite and non-negative: row {row} is "
                         f"{weights[row]}")
    if not weights.any():
        raise ValueError(f"{name} is zero on every row: nothing to fit")
    if np.all(weights == weights[0]):
        return None
    return weights / weights.mean()


def class_weights(class_weight, y):
    """``{class: weight}`` for the labels ``y`` (one-hot rows read as their classes):
    ``"balanced"``, rows / (classes x the class's rows); or a mapping's, the classes it does
    not name weighing 1 (a label it names that ``y`` lacks is refused)."""
    labels = class_labels(y)
    classes, counts = np.unique(labels, return_counts=True)
    classes = classes.tolist()
    if class_weight == "balanced":
        return {c: len(labels) / (len(classes) * n) for c, n in zip(classes, counts)}
    check_class_labels(class_weight, classes)
    return {c: float(class_weight.get(c, 1.0)) for c in classes}


def check_class_labels(class_weight, classes):
    """Refuse a ``class_weight`` mapping naming a label not among ``classes`` (a list)."""
    unknown = [label for label in class_weight if label not in classes]
    if unknown:
        raise ValueError(f"class_weight: no class {unknown[0]!r} in y (its classes: "
                         f"{', '.join(map(repr, classes[:10]))}"
                         f"{' ...' if len(classes) > 10 else ''})")


def row_class_weights(weights, y):
    """Each row's class's weight in ``weights`` (``{class: weight}``; 1 for a class it
    lacks)."""
    labels = class_labels(y)
    classes, index = np.unique(labels, return_inverse=True)
    return np.array([weights.get(c, 1.0) for c in classes.tolist()])[index.reshape(-1)]


def class_labels(y):
    """Integer class labels, one per row, from labels or one-hot rows."""
    y = np.asarray(y)
    return y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
