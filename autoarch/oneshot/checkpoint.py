"""Supernet checkpoints: one file holding the weights, the optimizers' state and the phase's
progress, written atomically after every epoch, so a killed search resumes its supernet from
the last finished epoch rather than from zero."""

import json
import os

import keras
import numpy as np

from autoarch.files import atomic_path


def save_checkpoint(path, model, optimizers, state):
    """``optimizers``: ``[(optimizer, variables it updates)]``; ``state``: JSON-able dict."""
    arrays = {f"weight_{i}": w for i, w in enumerate(model.get_weights())}
    for k, (optimizer, _) in enumerate(optimizers):
        if optimizer.built:
            arrays.update({f"optimizer_{k}_{i}": keras.ops.convert_to_numpy(v)
                           for i, v in enumerate(optimizer.variables)})
    arrays["state"] = np.frombuffer(json.dumps(state).encode(), dtype=np.uint8)
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as handle:
            np.savez(handle, **arrays)


def load_checkpoint(path, model, optimizers):
    """Restore ``model`` and ``optimizers`` from ``path``; its state, or None without one."""
    if not os.path.exists(path):
        return None
    with np.load(path, allow_pickle=False) as data:
        state = json.loads(bytes(data["state"]).decode())
        model.set_weights([data[f"weight_{i}"] for i in range(len(model.get_weights()))])
        for k, (optimizer, variables) in enumerate(optimizers):
            if f"optimizer_{k}_0" not in data:
                continue
            if not optimizer.built:
                optimizer.build(variables)
            for i, variable in enumerate(optimizer.variables):
                variable.assign(data[f"optimizer_{k}_{i}"])
    return state


class Checkpoint(keras.callbacks.Callback):
    """Saves a checkpoint at the end of every epoch (``state(epoch)`` gives its state)."""

    def __init__(self, path, model, optimizers, state):
        super().__init__()
        self.path, self.net, self.optimizers, self.state = path, model, optimizers, state

    def on_epoch_end(self, epoch, logs=None):
        save_checkpoint(self.path, self.net, self.optimizers, self.state(epoch))
