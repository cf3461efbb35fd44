"""Start TensorFlow without the lines its native libraries print while they load (CUDA probes,
absl's "log messages before InitializeLog" notices, "failed call to cuInit" on machines
without a GPU): ``TF_CPP_MIN_LOG_LEVEL`` does not reach them all, so the process's standard
error is pointed at /dev/null while TensorFlow loads and lists its devices. Used by
the command and the trial workers; a library user's own imports are left as they are."""

import importlib
import os
import sys


def import_tensorflow_quietly():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            tf = importlib.import_module("tensorflow")
            tf.config.list_physical_devices()  # the CUDA probe logs here too, on first use
    finally:
        os.dup2(saved, 2)
        os.close(saved)
