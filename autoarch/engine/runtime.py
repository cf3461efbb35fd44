"""TensorFlow runtime set-up when a search starts: thread counts sized from the machine, the
retracing false alarm dropped from TensorFlow's logger, the distribution strategy, a new
Keras session before each model, and a model's training variables made before ``fit``.
Nothing here runs on import."""

import os
import time

import keras
import numpy as np
import tensorflow as tf

from autoarch.config import DISTRIBUTIONS
from autoarch.engine import data as data_ops

_configured = False

#: the most often :func:`clear_session` collects garbage: a full collection scans
#: TensorFlow's whole heap (about 0.25 s), as long as a small trial's epoch, while a dropped
#: model's cycles wait a few seconds at most
COLLECT_SECONDS = 2.0
_last_collection = [float("-inf")]


def clear_session():
    """Keras's ``clear_session`` before each model a search builds, with the garbage
    collection it makes at most once per :data:`COLLECT_SECONDS`: building many small models
    (screening, short trials) spent up to half its time collecting."""
    collect = time.monotonic() - _last_collection[0] >= COLLECT_SECONDS
    keras.backend.clear_session(free_memory=collect)
    if collect:
        _last_collection[0] = time.monotonic()


def usable_cores():
    """The cores this process may use (its CPU affinity where the system says, else all)."""
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return set(range(os.cpu_count() or 1))


def cores():
    """How many cores this process may use."""
    return len(usable_cores())


def configure_threads():
    """Every usable core for one op, and a few ops at once (a quarter of the cores, 2 to 8):
    small models are mostly one op after another, so many parallel ops only oversubscribe.

    ``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS`` win when set; and since TensorFlow
    fixes its threads when its runtime starts, a user who configured TensorFlow before the
    first search keeps those settings.
    """
    global _configured
    if _configured:
        return
    _configured = True
    tf.get_logger().addFilter(_drop_retracing_notes)
    n = cores()
    try:
        if not os.environ.get("TF_NUM_INTEROP_THREADS"):
            tf.config.threading.set_inter_op_parallelism_threads(min(8, max(2, n // 4)))
        if not os.environ.get("TF_NUM_INTRAOP_THREADS"):
            tf.config.threading.set_intra_op_parallelism_threads(n)
    except RuntimeError:
        pass  # the runtime is already initialized: keep its settings


def _drop_retracing_notes(record):
    """A search predicts with many new models, one ``predict`` function each, and TensorFlow
    takes that for a retracing problem ("N out of the last N calls ... triggered tf.function
    retracing"): a false alarm here, so that one message is dropped from its logger."""
    return "triggered tf.function retracing" not in record.getMessage()


def distribution_strategy(name="auto"):
    """``auto``: ``MirroredStrategy`` over several GPUs, else the default strategy."""
    if isinstance(name, tf.distribute.Strategy):
        return name
    if name not in DISTRIBUTIONS:
        raise ValueError(f"distribution: unknown strategy {name!r}; expected one of "
                         f"{', '.join(DISTRIBUTIONS)} or a tf.distribute.Strategy")
    gpus = tf.config.list_logical_devices("GPU")
    if name == "mirrored" or (name == "auto" and len(gpus) > 1):
        return tf.distribute.MirroredStrategy()
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    return tf.distribute.get_strategy()


def build_training_variables(model, inputs, y, variables=None):
    """Make ``model``'s optimizer slots (for ``variables``, its trainable ones by default) and
    its compiled metrics' variables now, from two rows of ``inputs`` and ``y``.

    Without a distribution strategy Keras makes them inside the first trace of the train
    step, and ``tf.function`` traces a function again when its first trace made variables:
    every ``fit`` traced its train step twice (a cell supernet's trace alone is half a minute
    on one core). Made beforehand, it is traced once.
    """
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables if variables is None else variables)
    features, target = next(iter(data_ops.make_dataset(
        data_ops.take_rows(inputs, slice(0, 2)), np.asarray(y)[:2], 2)))
    model.compute_metrics(features, target, model(features, training=False))
    model.reset_metrics()
