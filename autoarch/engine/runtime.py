"""TensorFlow runtime set-up: sensible thread counts and the distribution strategy."""

import os

_configured = False


def configure_threads():
    """Use every core for one op, at most two ops at once (a 2-core machine stays responsive).

    Only possible before TensorFlow starts its runtime; later calls change nothing.
    """
    global _configured
    if _configured:
        return
    _configured = True
    import tensorflow as tf

    try:
        if not os.environ.get("TF_NUM_INTEROP_THREADS"):
            tf.config.threading.set_inter_op_parallelism_threads(2)
        if not os.environ.get("TF_NUM_INTRAOP_THREADS"):
            tf.config.threading.set_intra_op_parallelism_threads(os.cpu_count() or 1)
    except RuntimeError:
        pass  # the runtime is already initialized: keep its settings


DISTRIBUTIONS = ("auto", "default", "mirrored", "one_device")


def distribution_strategy(name="auto"):
    """``auto``: ``MirroredStrategy`` over several GPUs, else the default strategy."""
    import tensorflow as tf

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
