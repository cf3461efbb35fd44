"""Nearest neighbours as a Keras model: the member the ensemble of a raw signal, of images
or of sequences may take.

On a few dozen or hundred recorded signals (the UCR archive's gestures, leaves, power
demand), one nearest neighbour by Euclidean distance is the one-second baseline, and a
60 s search of networks lost to it: the networks overfit so few rows, and validation rows
a fifth of that few cannot tell the trials apart. So a search on one signal input with
classes (:mod:`autoarch.inputs.signal`) also fits this member (``signal_neighbours``, on
by default), which greedy ensemble selection (:mod:`autoarch.ensemble`) may weigh beside the
trials:

- each class's score is minus the distance to its nearest training row, on the signal as
  the input standardizes it;
- a softmax of the scores times a temperature gives class probabilities (a sigmoid of the
  difference for two classes); its argmax is the 1-NN prediction. The temperature is the
  one of lowest log loss when each training row is scored against the others (leave one
  out), so the member's validation outputs are as unseen as a trial's.

The member is one Keras model from the raw signal (:class:`ClassDistances` holding the
rows), so it predicts, exports and pickles like any trial; its refit on training and
validation rows is a new member on them all (the temperature fitted again).

Images and sequences (:mod:`autoarch.inputs.arrays`) get the member too, each row's values
flattened as given (inside the model a ``Flatten`` layer): on digits as 8 x 8 images it is
weighed as on the same pixels given flat. The rows kept are at most ``MAX_VALUES`` values,
so a member of larger images stays small enough to export.
"""

import keras
import numpy as np
from keras import layers

from autoarch.trees import member_inputs

#: rows kept at most (a random subset of more): the member's model holds them as weights
MAX_ROWS = 10_000
#: values (rows x features) kept at most, so the model stays small enough to export and
#: load: 16 MB of float32 (28 x 28 images: 5,102 rows)
MAX_VALUES = 4_000_000
#: rows whose distances are computed at a time
CHUNK = 1024


class NearestNeighbours:
    """Encoded training rows ``x`` (``(n, features)``), their classes ``y`` (0..K-1 of
    ``classes``), and the temperature of the scores, fitted leaving each row out (each
    row's log loss at its ``sample_weight``: the nearest row does not depend on weights,
    the confidence does)."""

    def __init__(self, x, y, classes, seed=0, sample_weight=None):
        self.classes, self.seed = int(classes), seed
        self.rows, self.labels, weights = _at_most(x, y, seed, sample_weight)
        self.temperature = self._fitted_temperature(
            self.distances(self.rows, leave_out=True), self.labels, weights)

    def distances(self, x, leave_out=False):
        """``(n, classes)``: each row's Euclidean distance to the nearest row of each class
        (infinite where a class has none); ``leave_out``: ``x`` are the rows themselves,
        each not counted as its own neighbour."""
        x = np.asarray(x)  # cast a chunk at a time: a large set of images is not copied whole
        rows = self.rows.astype("float64")
        squares = np.sum(rows ** 2, axis=1)
        mine = [self.labels == c for c in range(self.classes)]
        nearest = np.full((len(x), self.classes), np.inf)
        for start in range(0, len(x), CHUNK):
            part = x[start:start + CHUNK].astype("float32").astype("float64")
            d = np.sum(part ** 2, axis=1)[:, None] + squares[None, :] - 2.0 * part @ rows.T
            d = np.sqrt(np.maximum(d, 0.0))
            if leave_out:
                d[np.arange(len(part)), start + np.arange(len(part))] = np.inf
            for c, of_class in enumerate(mine):
                if of_class.any():
                    nearest[start:start + len(part), c] = d[:, of_class].min(axis=1)
        return nearest

    def _fitted_temperature(self, distances, y, sample_weight):
        from scipy.optimize import minimize_scalar

        from autoarch.ensemble import loss

        found = minimize_scalar(
            lambda t: loss(_outputs(distances, np.exp(t)), y, True, sample_weight),
            bounds=(-8.0, 8.0), method="bounded")
        return float(np.exp(found.x))

    def outputs(self, x):
        """What a trial model outputs: class probabilities (one sigmoid unit for two
        classes)."""
        return _outputs(self.distances(x), self.temperature)


def _at_most(x, y, seed, sample_weight=None):
    """``x`` as float32, ``y`` as integer classes and ``sample_weight`` (or None), or a
    random subset of their rows where they have more than ``MAX_ROWS``, or more values than
    ``MAX_VALUES``."""
    x, y = np.asarray(x), np.asarray(y).reshape(-1).astype(int)
    most = min(MAX_ROWS, max(1, MAX_VALUES // max(1, x.shape[1])))
    if len(y) > most:
        rows = np.random.default_rng(seed).choice(len(y), most, replace=False)
        x, y = x[rows], y[rows]
        sample_weight = None if sample_weight is None else np.asarray(sample_weight)[rows]
    return x.astype("float32"), y, sample_weight


def _outputs(distances, temperature):
    """Softmax of ``-temperature * distances`` over the classes; the second class's alone
    for two. A class without rows gets probability 0."""
    scores = -temperature * distances
    scores = scores - np.max(scores, axis=1, keepdims=True)
    shifted = np.exp(scores)
    probabilities = shifted / shifted.sum(axis=1, keepdims=True)
    return probabilities[:, 1:] if distances.shape[1] == 2 else probabilities


@keras.saving.register_keras_serializable(package="autoarch")
class ClassDistances(layers.Layer):
    """Each row's Euclidean distance to the nearest stored row of each class:
    ``(batch, classes)``. The rows (``(n, features)``) and their one-hot classes are
    non-trainable weights."""

    #: added to the distances to rows of other classes, so the minimum skips them
    FAR = 1e30

    def __init__(self, n_rows, features, classes, arrays=None, **kwargs):
        super().__init__(**kwargs)
        self.n_rows, self.features, self.classes = int(n_rows), int(features), int(classes)
        self._arrays = arrays  # initial values; a loaded model reads them from its weights

    def build(self, input_shape):
        given = self._arrays or {}

        def weight(name, shape):
            value = given.get(name)
            initializer = "zeros" if value is None else \
                keras.initializers.Constant(np.asarray(value, dtype="float32"))
            return self.add_weight(name=name, shape=shape, dtype="float32", trainable=False,
                                   initializer=initializer)

        self.rows = weight("rows", (self.n_rows, self.features))
        self.one_hot = weight("one_hot", (self.n_rows, self.classes))
        self._arrays = None

    def call(self, x):
        ops = keras.ops
        x = ops.cast(x, "float32")
        squares = ops.sum(x * x, axis=1, keepdims=True) + \
            ops.expand_dims(ops.sum(self.rows * self.rows, axis=1), 0) - \
            2.0 * ops.matmul(x, ops.transpose(self.rows))
        d = ops.sqrt(ops.maximum(squares, 0.0))  # (batch, rows)
        others = (1.0 - self.one_hot) * self.FAR  # (rows, classes)
        return ops.min(ops.expand_dims(d, 2) + ops.expand_dims(others, 0), axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.classes)

    def get_config(self):
        return {**super().get_config(), "n_rows": self.n_rows, "features": self.features,
                "classes": self.classes}


def neighbours_model(kind, fitted, name="nearest_neighbours"):
    """A Keras model from ``kind``'s raw inputs (a fitted signal, image or sequence input;
    the last two flattened) to ``fitted``'s :meth:`NearestNeighbours.outputs`."""
    made, inputs = member_inputs(kind)
    x = kind.encode(made)
    if len(x.shape) > 2:
        x = layers.Flatten()(x)
    one_hot = np.eye(fitted.classes, dtype="float32")[fitted.labels]
    distances = ClassDistances(len(fitted.rows), fitted.rows.shape[1], fitted.classes,
                               arrays={"rows": fitted.rows, "one_hot": one_hot},
                               name="class_distances")(x)
    scores = layers.Rescaling(-fitted.temperature)(distances)
    if fitted.classes == 2:  # sigmoid(t * (d0 - d1)) is the softmax's second class
        difference = layers.Dense(1, use_bias=False, trainable=False, name="difference")
        score = layers.Activation("sigmoid")(difference(scores))
        difference.set_weights([np.array([[-1.0], [1.0]], dtype="float32")])
    else:
        score = layers.Softmax()(scores)
    return keras.Model(inputs, score, name=name)
