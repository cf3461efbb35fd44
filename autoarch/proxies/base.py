"""What every zero-cost proxy shares: one batch, the model's logits, a loss, and the promise
that the model leaves a proxy as it came.

A proxy is a function ``(model, batch) -> float`` registered under its name with
:func:`proxy`, oriented so that **higher predicts a better trained accuracy**. It runs on an
untrained Keras model (any functional or sequential model, not only autoarch's) and on one
batch of real rows; some proxies (``synflow``, ``zen``) use inputs of their own shape.
"""

import contextlib
import dataclasses

import keras
import numpy as np
import tensorflow as tf

#: name -> proxy function, in the order :func:`autoarch.proxies.score` computes them
PROXIES = {}


def proxy(function):
    """Register ``function`` as the proxy of its name."""
    PROXIES[function.__name__] = function
    return function


@dataclasses.dataclass
class Batch:
    """The rows a proxy sees: model inputs (an array or ``{input: array}``), labels and a
    loss ``(y_true, output) -> scalar`` on the model's logits (see :func:`scoring_mode`)."""

    x: object
    y: object
    loss: object

    @property
    def rows(self):
        return len(np.asarray(next(iter(self.x.values())) if isinstance(self.x, dict)
                              else self.x))

    def inputs(self, fill=None, rows=None):
        """The inputs (their first ``rows``), or, with ``fill`` (``"ones"``, ``"gaussian"``),
        float arrays of their shape filled so; ``None`` when an input is not numeric."""
        def one(a):
            a = np.asarray(a)[:rows]
            if fill is None:
                return a
            if not np.issubdtype(a.dtype, np.floating):
                return None
            if fill == "ones":
                return np.ones(a.shape, "float32")
            return np.random.default_rng(0).standard_normal(a.shape).astype("float32")

        if isinstance(self.x, dict):
            out = {k: one(v) for k, v in self.x.items()}
            return None if any(v is None for v in out.values()) else out
        return one(self.x)


def as_model_inputs(model, x):
    """``x`` shaped as the model takes it: a dict of one input for a model of one plain
    input becomes that input's array."""
    if isinstance(x, dict) and not isinstance(getattr(model, "input", None), dict) \
            and len(x) == 1:
        return next(iter(x.values()))
    return x


def output_layers(model):
    """The layers whose outputs are the model's outputs."""
    names = set(getattr(model, "output_names", None) or ())  # functional models name them
    return [layer for layer in model.layers if layer.name in names] or model.layers[-1:]


@contextlib.contextmanager
def scoring_mode(model):
    """Within this block the model outputs logits (a final softmax or sigmoid activation is
    switched off) and its dropout drops nothing; both come back afterwards. Yields the
    switched-off activation's name, or ``None``."""
    switched, dropouts = [], []
    for layer in output_layers(model):
        activation = getattr(layer, "activation", None)
        name = getattr(activation, "__name__", None)
        if name in ("softmax", "sigmoid"):
            switched.append((layer, activation))
            layer.activation = keras.activations.linear
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Dropout, keras.layers.GaussianDropout,
                              keras.layers.AlphaDropout)) and layer.rate:
            dropouts.append((layer, layer.rate))
            layer.rate = 0.0
    try:
        yield switched[0][1].__name__ if switched else None
    finally:
        for layer, activation in switched:
            layer.activation = activation
        for layer, rate in dropouts:
            layer.rate = rate


def default_loss(model, y):
    """A loss on logits fitting the model's last activation and the labels: sparse (or
    one-hot) cross-entropy after a softmax, binary after a sigmoid, else the squared error."""
    with scoring_mode(model) as activation:
        pass
    y = np.asarray(y)
    if activation == "softmax":
        if y.ndim > 1 and y.shape[-1] > 1:
            return keras.losses.CategoricalCrossentropy(from_logits=True)
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    if activation == "sigmoid":
        return keras.losses.BinaryCrossentropy(from_logits=True)
    return keras.losses.MeanSquaredError()


def user_loss(loss):
    """A loss the user named (a Keras name, object or function) applied to the logits'
    activation again, so that it sees the model's own outputs."""
    loss = keras.losses.get(loss)

    def on_outputs(y_true, logits, activation=None):
        out = logits if activation is None else keras.activations.get(activation)(logits)
        return loss(y_true, out)

    on_outputs.wants_activation = True
    return on_outputs


def batch_loss(model, batch):
    """The batch's loss on the model (in training mode: batch normalization on the batch's
    statistics, as the proxies' papers score networks), differentiable in its weights."""
    with scoring_mode(model) as activation:
        out = model(batch.inputs(), training=True)
        if getattr(batch.loss, "wants_activation", False):
            return batch.loss(batch.y, out, activation)
        return batch.loss(batch.y, out)


def gradients(model, batch):
    """``[(weight, gradient)]`` of the batch's loss over the trainable weights."""
    weights = model.trainable_variables
    with tf.GradientTape() as tape:
        loss = batch_loss(model, batch)
    return [(w, g) for w, g in zip(weights, tape.gradient(loss, weights)) if g is not None]


@contextlib.contextmanager
def untouched(model):
    """Whatever a proxy does to the model's variables (trainable or not) is undone."""
    saved = [v.numpy() for v in model.variables]
    try:
        yield
    finally:
        for variable, value in zip(model.variables, saved):
            variable.assign(value)


def activation_layers(model):
    """Top-level layers whose outputs are nonlinear activations (ReLU and its kin, as layers
    or as a layer's ``activation``), with the threshold that splits their outputs in two."""
    found = []
    for layer in model.layers:
        if isinstance(layer, (keras.layers.ReLU, keras.layers.LeakyReLU, keras.layers.ELU,
                              keras.layers.PReLU)):
            found.append((layer, 0.0))
            continue
        activation = getattr(layer, "activation", None)
        name = getattr(activation, "__name__", None)
        if name in ("relu", "relu6", "gelu", "silu", "swish", "elu", "selu", "leaky_relu",
                    "tanh", "mish"):
            found.append((layer, 0.0))
        elif name == "sigmoid" and layer not in output_layers(model):
            found.append((layer, 0.5))
    return found


def outputs_of(model, layers, inputs, which="output", training=False):
    """The outputs (or ``which="input"``: inputs) of ``layers`` (top-level layers of a
    functional model) on ``inputs``, dropout off."""
    probe = keras.Model(model.input, [getattr(layer, which) for layer in layers])
    with scoring_mode(model):
        out = probe(inputs, training=training)
    return out if isinstance(out, (list, tuple)) else [out]
