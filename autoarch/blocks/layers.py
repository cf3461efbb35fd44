"""The Keras layers, losses and functions autoarch's blocks put into models, registered for
saving (``autoarch>Name``), so every saved model reloads in safe mode.

They live apart from the blocks (which import this module when they build), so the blocks
can be imported, checked and counted without Keras; :func:`autoarch.export.register_objects`
imports this module with the others that register objects before a model is loaded.
"""

import keras
from keras import layers

from autoarch.blocks.ops import POOLINGS, apply_op


@keras.saving.register_keras_serializable(package="autoarch")
class Switch(layers.Layer):
    """Every option of one searched operation, with its own weights, and one of them applied
    per call: the option numbered by the ``active`` variable (set between training steps, so a
    supernet trains one sampled path per batch, as single-path one-shot NAS does). The
    options are operations (``OPS``, built here with ``filters`` and ``stride``; ``none``
    gives zeros of the others' output shape) or, for a ``BlockChoice``, whole blocks built
    beforehand: ``models``, one Keras model per option."""

    def __init__(self, options, filters=0, stride=1, models=None, **kwargs):
        super().__init__(**kwargs)
        self.options, self.filters, self.stride = list(options), int(filters), int(stride)
        self.models = None if models is None else [
            m if isinstance(m, keras.Model) else keras.saving.deserialize_keras_object(m)
            for m in models]
        self.branches, self._output_shape = [], None

    def _branch(self, option, input_shape):
        """Option ``option``'s model (None for ``none``)."""
        if self.models is not None:
            return self.models[self.options.index(option)]
        if option == "none":
            return None
        inputs = keras.Input(tuple(input_shape[1:]))
        return keras.Model(inputs, apply_op(option, inputs, self.filters, self.stride),
                           name=f"{self.name}_{option}")

    def build(self, input_shape):
        self.active = self.add_weight(shape=(), dtype="int32", initializer="zeros",
                                    trainable=False, name="active")
        for option in self.options:
            branch = self._branch(option, input_shape)
            self.branches.append(branch)
            if branch is None:
                continue
            shape = tuple(branch.outputs[0].shape[1:])
            if self._output_shape not in (None, shape):
                raise ValueError(
                    f"{self.name}: the options of one choice must give one output shape to "
                    f"share a place in a supernet; {self.options[0]!r} and the others give "
                    f"{self._output_shape}, {option!r} gives {shape} (from input "
                    f"{tuple(input_shape[1:])})")
            self._output_shape = shape
        if self._output_shape is None:  # 'none' alone: what any option would give
            self._output_shape = tuple(-(-d // self.stride) for d in input_shape[1:-1]) + \
                (self.filters,)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._output_shape

    def call(self, x, training=None):
        def branch(model):
            if model is None:
                return lambda x: keras.ops.zeros((keras.ops.shape(x)[0],) + self._output_shape,
                                                 dtype=x.dtype)
            return lambda x: model(x, training=training)

        return keras.ops.switch(self.active, [branch(b) for b in self.branches], x)

    def get_config(self):
        config = {**super().get_config(), "options": self.options, "filters": self.filters,
                  "stride": self.stride}
        if self.models is not None:
            config["models"] = [keras.saving.serialize_keras_object(m) for m in self.models]
        return config


@keras.saving.register_keras_serializable(package="autoarch")
class MixedOp(Switch):
    """Every option of one searched operation at once, weighted by the softmax of its
    architecture weights (``logits``, one per option): DARTS's continuous relaxation
    (``sampling="softmax"``). With ``sampling="gumbel"`` (GDAS) training draws one option
    per step from the Gumbel-softmax at ``temperature``: the forward pass uses that option
    alone (a one-hot weight), the backward pass the soft weights (straight-through), so the
    logits learn from every step. Outside training both use the softmax weights."""

    def __init__(self, options, filters, stride=1, sampling="softmax", seed=None, **kwargs):
        super().__init__(options, filters, stride, **kwargs)
        if sampling not in ("softmax", "gumbel"):
            raise ValueError(f"sampling must be 'softmax' or 'gumbel', got {sampling!r}")
        self.sampling = sampling
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        super().build(input_shape)
        self.logits = self.add_weight(shape=(len(self.options),), initializer="zeros",
                                      name="architecture")
        self.temperature = self.add_weight(shape=(), initializer="ones", trainable=False,
                                           name="temperature")
        self.mask = self.add_weight(shape=(len(self.options),), initializer="ones",
                                    trainable=False, name="mask")

    def _branch(self, option, input_shape):
        """As a switch's, but for DARTS a pooling option's output batch-normalized without
        scale or shift (DARTS's search cell does the same): the operations with weights end
        in batch norm, so unnormalized pooling would enter the mix at another scale, and an
        option's weight, or the loss without it, would measure that scale, not the
        operation. GDAS runs one option per step, and measured worse with it."""
        branch = super()._branch(option, input_shape)
        if option not in POOLINGS or self.models is not None or \
                self.sampling != "softmax":
            return branch
        return keras.Model(branch.inputs[0], layers.BatchNormalization(
            momentum=0.9, center=False, scale=False)(branch.outputs[0]), name=branch.name)

    def mixing_weights(self, training=None):
        """The options' weights for one call (a one-hot draw for GDAS in training)."""
        ops = keras.ops
        soft = ops.softmax(self.logits)
        if self.sampling != "gumbel" or not training:
            return soft
        uniform = keras.random.uniform(ops.shape(self.logits), minval=1e-6, maxval=1 - 1e-6,
                                       seed=self.seed_generator)
        drawn = ops.softmax((self.logits - ops.log(-ops.log(uniform))) / self.temperature)
        hard = ops.one_hot(ops.argmax(drawn), len(self.options), dtype=drawn.dtype)
        return hard - ops.stop_gradient(drawn) + drawn

    def call(self, x, training=None):
        weights = self.mixing_weights(training) * self.mask
        total = keras.ops.zeros((keras.ops.shape(x)[0],) + self._output_shape, dtype=x.dtype)
        for k, branch in enumerate(self.branches):
            if branch is not None:  # "none" adds nothing, whatever its weight
                total = total + weights[k] * branch(x, training=training)
        return total

    def get_config(self):
        return {**super().get_config(), "sampling": self.sampling}

#: the hinge loss's margin, in log-probability units (see :func:`squared_hinge`)
HINGE_MARGIN = 16.0


@keras.saving.register_keras_serializable(package="autoarch")
def squared_hinge(y_true, y_pred):
    """Crammer and Singer's multiclass squared hinge, ``max(0, 1 - (s_true - max s_other) /
    HINGE_MARGIN)^2``, on the scores ``s = log p`` of the head's probabilities (for one sigmoid
    unit, the log-odds against 0): softmax logits up to a constant, which the margin ignores,
    so the model keeps its softmax output. As a linear SVM's loss it stops pulling on rows
    that are classified with room to spare, where cross-entropy keeps growing every weight:
    on the tf-idf bag of the development text_sections set it gave 0.895 test accuracy
    against 0.875-0.889 with cross-entropy (LinearSVC: 0.893). The margin of 16 (the bag's
    rows are scaled to a typical entry of 4) matched it; a margin of 1 reached 0.82."""
    y_pred = keras.ops.cast(y_pred, "float32")
    labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
    if y_pred.shape[-1] == 1:  # log-odds, in float32 at most about 16.6 either way
        p = keras.ops.clip(keras.ops.reshape(y_pred, (-1,)), 1e-7, 1.0 - 1e-7)
        margin = (keras.ops.log(p) - keras.ops.log1p(-p)) * (2.0 * keras.ops.cast(labels,
                                                                                 "float32") - 1.0)
    else:
        scores = keras.ops.log(keras.ops.maximum(y_pred, 1e-30))
        true = keras.ops.one_hot(labels, y_pred.shape[-1])
        margin = keras.ops.sum(scores * true, axis=-1) - keras.ops.max(scores - 1e9 * true,
                                                                       axis=-1)
    return keras.ops.square(keras.ops.relu(1.0 - margin / HINGE_MARGIN))



@keras.saving.register_keras_serializable(package="autoarch")
def log1p_squared_error(y_true, y_pred):
    """Squared error between ``log1p`` of the targets and of the predictions: the loss of a
    head that predicts ``expm1`` of its output, so the gradient is that of a plain squared
    error in log space."""
    y_pred = keras.ops.log1p(keras.ops.maximum(y_pred, -1.0 + 1e-7))
    y_true = keras.ops.log1p(keras.ops.maximum(keras.ops.cast(y_true, y_pred.dtype), 0.0))
    return keras.ops.mean(keras.ops.square(y_pred - y_true), axis=-1)


@keras.saving.register_keras_serializable(package="autoarch")
class Expm1(layers.Layer):
    """``exp(x) - 1``, capped before float32 overflows: maps log-space outputs back."""

    def call(self, inputs):
        return keras.ops.expm1(keras.ops.minimum(inputs, 80.0))



@keras.saving.register_keras_serializable(package="autoarch")
class TransformerEncoder(layers.Layer):
    """One pre-norm transformer encoder layer with learned positions (a registered class, so
    saved models reload in safe mode)."""

    def __init__(self, num_heads, key_dim, ff_dim, sequence_length, dropout=0.1, **kwargs):
        super().__init__(**kwargs)
        self.config = dict(num_heads=num_heads, key_dim=key_dim, ff_dim=ff_dim,
                           sequence_length=sequence_length, dropout=dropout)
        self.attention = layers.MultiHeadAttention(num_heads, key_dim, dropout=dropout)
        self.norm1, self.norm2 = layers.LayerNormalization(), layers.LayerNormalization()
        self.ff1, self.drop = layers.Dense(ff_dim, activation="gelu"), layers.Dropout(dropout)
        self.positions = self.ff2 = None  # sized by the input width in build

    def build(self, input_shape):
        width = input_shape[-1]
        self.positions = layers.Embedding(self.config["sequence_length"], width)
        self.ff2 = layers.Dense(width)
        super().build(input_shape)

    def call(self, x, training=None):
        positions = keras.ops.arange(keras.ops.shape(x)[1])
        x = x + self.positions(positions)
        y = self.norm1(x)
        x = x + self.attention(y, y, training=training)
        y = self.norm2(x)
        return x + self.drop(self.ff2(self.ff1(y)), training=training)

    def get_config(self):
        return {**super().get_config(), **self.config}


@keras.saving.register_keras_serializable(package="autoarch")
class TfIdf(layers.Layer):
    """n-gram counts (the out-of-vocabulary slot first, as ``TextVectorization`` gives them)
    to sublinear tf-idf rows of length ``scale``: ``(1 + log count) * idf`` per known n-gram,
    as scikit-learn's ``TfidfVectorizer(sublinear_tf=True)``. The unknown n-grams' slot is
    dropped: kept, it held most of each row's length (a short text has many unseen bigrams)
    and squashed the words that matter. ``idf`` is a weight (saved with the model's weights,
    not in its config: it has one entry per n-gram)."""

    def __init__(self, idf=None, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.initial_idf, self.scale = idf, float(scale)

    def build(self, input_shape):
        initial = self.initial_idf
        self.idf = self.add_weight(
            shape=(input_shape[-1] - 1,), trainable=False, name="idf",
            initializer="zeros" if initial is None else keras.initializers.Constant(initial))
        super().build(input_shape)

    def call(self, counts):
        counts = counts[..., 1:]
        safe = keras.ops.maximum(counts, 1.0)
        x = keras.ops.where(counts > 0, 1.0 + keras.ops.log(safe), 0.0) * self.idf
        norm = keras.ops.sqrt(keras.ops.sum(x * x, axis=-1, keepdims=True))
        return x * (self.scale / keras.ops.maximum(norm, 1e-12))

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}



@keras.saving.register_keras_serializable(package="autoarch")
def separate_words(texts):
    """Lowercase; every run of characters that are not letters, digits or ``_`` becomes a
    space, and each character of a script written without spaces is set apart
    (:data:`autoarch.blocks.text.UNSPACED`): the standardization of the texts'
    ``TextVectorization``, which then splits on the spaces."""
    import tensorflow as tf

    from autoarch.blocks.text import UNSPACED

    lowered = tf.strings.lower(texts, encoding="utf-8")
    spaced = tf.strings.regex_replace(lowered, r"[^\p{L}\p{N}_]+", " ")
    return tf.strings.regex_replace(spaced, f"([{UNSPACED}])", r" \1 ")
