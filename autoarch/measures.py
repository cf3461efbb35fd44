"""What a candidate costs and how fair it is, beside how accurate: each measure a small named
function, usable as an objective or a constraint of a search (by its name) or on its own.

``DIRECTIONS`` says which way each is better and ``STAGE`` when a search can know it:
``"built"`` (from the untrained model: a constraint on it refuses a candidate before
training), ``"trained"`` (from the trained model) or ``"predictions"`` (from validation
predictions and a sensitive feature: the fairness measures). The model measures take a
Keras model and ``rows``, its inputs for a few rows (an array or a dict of arrays).
"""

import os
import statistics
import tempfile
import time
import warnings

import numpy as np

DIRECTIONS = {
    "params": "min", "flops": "min", "keras_bytes": "min", "tflite_bytes": "min",
    "latency_ms": "min", "latency_batch_ms": "min", "tflite_latency_ms": "min",
    "demographic_parity_difference": "min", "equalized_odds_difference": "min",
    "worst_group_accuracy": "max",
}
STAGE = {"params": "built", "flops": "built", "keras_bytes": "trained",
         "tflite_bytes": "trained", "latency_ms": "trained", "latency_batch_ms": "trained",
         "tflite_latency_ms": "trained", "demographic_parity_difference": "predictions",
         "equalized_odds_difference": "predictions", "worst_group_accuracy": "predictions"}
#: rows of the batch ``latency_batch_ms`` times
BATCH_ROWS = 32
REPEATS, WARMUP = 30, 5


# -- size ------------------------------------------------------------------------------------
def params(model, rows=None):
    """Every weight of the model, trainable or not (what it stores)."""
    return int(model.count_params())


def flops(model, rows):
    """Floating-point operations of one row's forward pass (a multiply-add is two)."""
    from autoarch.proxies.size import count_flops

    return int(count_flops(model, _take(rows, 1)))


def keras_bytes(model, rows=None):
    """Size on disk of the model saved as a ``.keras`` archive, as it predicts: without the
    optimizer's state that a trained model's archive also holds (twice its weights under
    Adam, none under plain SGD), which would make a candidate's size turn on how it was
    trained."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        inference_model(model).save(path)
        return os.path.getsize(path)


def inference_model(model):
    """``model``'s layers as a Keras model of their own that was never compiled: it predicts
    what ``model`` does, shares its weights, and saves without an optimizer's state. A
    model with no graph of layers to reuse (a subclassed one) is returned as it is."""
    import keras

    if not model.compiled or not getattr(model, "outputs", None):
        return model
    try:
        inputs = model.input
    except AttributeError:  # a Sequential model never called: its one input
        inputs = model.inputs[0]
    outputs = model.outputs[0] if len(model.outputs) == 1 else model.outputs
    return keras.Model(inputs, outputs, name=model.name)


def tflite_bytes(model, rows=None):
    """Size of the model's TFLite flatbuffer."""
    return len(_tflite(model))


# -- speed -----------------------------------------------------------------------------------
def latency_ms(model, rows):
    """Median milliseconds of one row's prediction (a traced call of the Keras model, after
    warm-up): an edge device's view."""
    return _median_ms(_traced(model), _take(rows, 1))


def latency_batch_ms(model, rows):
    """Median milliseconds of predicting ``BATCH_ROWS`` rows at once: a server's view."""
    return _median_ms(_traced(model), _take(rows, BATCH_ROWS, repeat=True))


def tflite_latency_ms(model, rows):
    """Median milliseconds of one row through the TFLite interpreter."""
    import tensorflow as tf

    with warnings.catch_warnings():  # its deprecation in favour of LiteRT, said on each use
        warnings.simplefilter("ignore", UserWarning)
        interpreter = tf.lite.Interpreter(model_content=_tflite(model))
    runner = interpreter.get_signature_runner()
    names = list(runner.get_input_details())
    row = _take(rows, 1)
    if isinstance(row, dict):
        feed = {name: row[key] for name, key in zip(names, _matched(names, list(row)))}
    else:
        feed = {names[0]: row}
    return _median_ms(lambda: runner(**feed), None)


def _matched(names, keys):
    """The model input key for each signature input name (names may be sanitised)."""
    plain = {"".join(c for c in k.lower() if c.isalnum()): k for k in keys}
    found = [plain.get("".join(c for c in n.lower() if c.isalnum())) for n in names]
    return found if None not in found else sorted(keys)


def _traced(model):
    import tensorflow as tf

    return tf.function(lambda x: model(x, training=False))


def _median_ms(call, argument):
    run = call if argument is None else (lambda: call(argument))
    for _ in range(WARMUP):
        run()
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        out = run()
        if hasattr(out, "numpy"):
            out.numpy()
        times.append(1000.0 * (time.perf_counter() - started))
    return statistics.median(times)


def _take(rows, n, repeat=False):
    def take(a):
        a = np.asarray(a)
        if repeat and len(a) < n:
            a = np.resize(a, (n, *a.shape[1:]))
        return a[:n]

    return {k: take(v) for k, v in rows.items()} if isinstance(rows, dict) else take(rows)


def _tflite(model):
    from autoarch.export import export_model

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.tflite")
        export_model(model, path, format="tflite")
        with open(path, "rb") as handle:
            return handle.read()


# -- fairness (on predictions; as fairlearn defines them) -------------------------------------
def _groups(sensitive):
    sensitive = np.asarray(sensitive)
    return [sensitive == g for g in np.unique(sensitive)]


def _positive(y, positive):
    y = np.asarray(y)
    return y == positive


def demographic_parity_difference(y_true, y_pred, sensitive, positive=1):
    """Largest gap between two groups' rates of predicting ``positive``."""
    rates = [_positive(y_pred, positive)[g].mean() for g in _groups(sensitive)]
    return float(max(rates) - min(rates))


def equalized_odds_difference(y_true, y_pred, sensitive, positive=1):
    """The larger of the gaps between groups in true-positive rate and in false-positive
    rate (a rate a group cannot have, with no rows of that class, is left out)."""
    truth, said = _positive(y_true, positive), _positive(y_pred, positive)
    gaps = []
    for actual in (True, False):
        rates = [said[g & (truth == actual)].mean() for g in _groups(sensitive)
                 if np.any(g & (truth == actual))]
        if rates:
            gaps.append(max(rates) - min(rates))
    return float(max(gaps)) if gaps else 0.0


def group_accuracy(y_true, y_pred, sensitive):
    """``{group: accuracy}``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    values = np.unique(np.asarray(sensitive))
    return {v.item() if hasattr(v, "item") else v: float((y_true[g] == y_pred[g]).mean())
            for v, g in zip(values, _groups(sensitive))}


def worst_group_accuracy(y_true, y_pred, sensitive):
    """The accuracy of the group the model serves worst."""
    return min(group_accuracy(y_true, y_pred, sensitive).values())


MODEL_MEASURES = {f.__name__: f for f in (params, flops, keras_bytes, tflite_bytes,
                                          latency_ms, latency_batch_ms, tflite_latency_ms)}
FAIRNESS_MEASURES = {f.__name__: f for f in (demographic_parity_difference,
                                             equalized_odds_difference, worst_group_accuracy)}
