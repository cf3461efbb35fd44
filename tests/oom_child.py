"""Child process of the out-of-memory test: a search under an address-space cap.

Each candidate holds a scratch tensor of ``batch x floats_per_row`` floats, so its memory
grows with the batch size. After warm-up the process's address space is capped at what it
uses now plus ``HEADROOM``: TensorFlow's allocator then fails with a real
``ResourceExhaustedError`` when a batch needs more, as it does on a full GPU. The grid runs a
candidate that fits at half the batch, then one that fits at no batch size.
"""

import os
import resource
import sys

import keras
import numpy as np
import tensorflow as tf

from autoarch.blocks import ClassificationHead, DenseBlock, ModelSpace
from autoarch.blocks.base import Block, choice
from autoarch.engine.search import ModelSearch

MiB = 2**20
HEADROOM = 1500 * MiB
BATCH = 16
FITS_AT_HALF = 30_000_000  # 16 rows: 1.9 GB (over the cap); 8 rows: 0.96 GB
NEVER_FITS = 250_000_000  # 8 rows: 8 GB


class Scratch(keras.layers.Layer):
    """Fills a ``(batch, floats_per_row)`` tensor; adds nothing to the output."""

    def __init__(self, floats_per_row, **kwargs):
        super().__init__(**kwargs)
        self.floats_per_row = floats_per_row

    def call(self, x):
        big = tf.fill([tf.shape(x)[0], self.floats_per_row], 1.0)
        return x + tf.stop_gradient(tf.reduce_mean(big)) * 0.0


class ScratchBlock(Block):
    kind = "scratch"

    def search_space(self):
        return {"floats_per_row": choice(FITS_AT_HALF, NEVER_FITS)}

    def build(self, hp, inputs):
        return Scratch(self.declare(hp)["floats_per_row"])(inputs)


def vm_size():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmSize"))
    return int(line.split()[1]) * 1024


directory = sys.argv[1]
rng = np.random.default_rng(0)
x = rng.normal(size=(40, 4)).astype("float32")
y = (x[:, 0] > 0).astype("int32")
head = ClassificationHead(num_classes=2, dropout=0.0)
warm_up = ModelSpace([DenseBlock(num_layers=1, units=4), head])  # threads, traces, imports
ModelSearch(warm_up, max_trials=1, epochs=1, seed=0, final_fit=False,
            directory=os.path.join(directory, "warm-up")).fit({"input": x}, y)
resource.setrlimit(resource.RLIMIT_AS, (vm_size() + HEADROOM, resource.RLIM_INFINITY))
dense = DenseBlock(num_layers=1, units=4, activation="relu", dropout=0.0, batch_norm=False)
space = ModelSpace([ScratchBlock(name="scratch"), dense, head], training={"learning_rate": 1e-3})
search = ModelSearch(space, strategy="grid", max_trials=2, epochs=1, seed=0, batch_size=BATCH,
                     directory=os.path.join(directory, "search"), early_stopping_patience=None)
search.fit({"input": x}, y)
print("final model predicts", search.best_model.predict(x, batch_size=8, verbose=0).shape)
