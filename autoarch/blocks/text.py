"""Text in: raw strings -> ``TextVectorization`` -> a searched encoder: a bag of word 1-2
grams weighted by tf-idf (then linear or one hidden layer), or an embedding followed by a
convolutional, recurrent or small transformer encoder."""

import re

import keras
import numpy as np
from keras import layers
from sklearn.feature_extraction.text import TfidfVectorizer

from autoarch.blocks.base import Block, choice


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


# The bag's words: runs of letters, digits and underscores, lowercased ("x86-64" is "x86" and
# "64", as scikit-learn's default tokenizer sees it, not Keras's "x8664"). The same rule runs
# in scikit-learn (vocabulary and document frequencies) and inside the model (a registered
# function, so saved models reload in safe mode).
_WORD = re.compile(r"\w+")
BAG_SCALE = 4.0  # what a tf-idf entry of a typical text is scaled to (see TextBlock.adapt)


def words(text):
    return _WORD.findall(text.lower())


@keras.saving.register_keras_serializable(package="autoarch")
def separate_words(texts):
    """Lowercase; every run of characters that are not letters, digits or ``_`` becomes a
    space (the standardization of the bag's ``TextVectorization``)."""
    import tensorflow as tf

    lowered = tf.strings.lower(texts, encoding="utf-8")
    return tf.strings.regex_replace(lowered, r"[^\p{L}\p{N}_]+", " ")


class TextBlock(Block):
    """``max_tokens``: vocabulary of the sequence encoders; ``bag_tokens``: word 1-2 grams of
    the bag encoder (the most frequent first; n-grams seen in one training text count too:
    on both development text sets dropping them cost tf-idf + LinearSVC 0.5-1 point of
    accuracy, and the bag 1-2 points)."""

    kind = "text"

    def __init__(self, name=None, max_tokens=20000, sequence_length=128, bag_tokens=50000,
                 **arguments):
        self.max_tokens = max_tokens
        self.sequence_length = sequence_length
        self.bag_tokens = bag_tokens
        self.vocabulary = self.bag_vocabulary = self.bag_idf = None
        self.bag_scale = 1.0
        super().__init__(name=name, **arguments)

    def search_space(self):
        return {
            "encoder": choice("bag", "conv", "rnn", "transformer"),
            "hidden": choice(0, 64, ordered=True),
            "embedding_dim": choice(32, 64, 128, ordered=True),
            "filters": choice(32, 64, 128, ordered=True),
            "units": choice(32, 64),
            "num_heads": choice(2, 4),
            "dropout": choice(0.0, 0.25, ordered=True),
        }

    def conditions(self):
        sequence = ["conv", "rnn", "transformer"]
        return {"hidden": {"encoder": ["bag"]}, "embedding_dim": {"encoder": sequence},
                "filters": {"encoder": ["conv"]}, "units": {"encoder": ["rnn"]},
                "num_heads": {"encoder": ["transformer"]}}

    def first_trials(self):
        """The bag, linear, trained by SGD: on both development text sets it is within a
        point of tf-idf + a linear SVM after one short trial (the sequence encoders need
        many more seconds to come near it)."""
        return super().first_trials() or [{"encoder": "bag", "hidden": 0, "dropout": 0.0,
                 "training/optimizer": "sgd", "training/learning_rate": 1e-2}]

    def adapt(self, data):
        """Learn the vocabularies (and the bag's document frequencies) once from the
        training texts."""
        texts = [str(t) for t in np.asarray(data, dtype=object).reshape(-1)]
        vectorizer = layers.TextVectorization(max_tokens=self.max_tokens)
        vectorizer.adapt(np.asarray(texts, dtype=object))
        self.vocabulary = vectorizer.get_vocabulary()
        bag = TfidfVectorizer(tokenizer=words, lowercase=False, token_pattern=None,
                              ngram_range=(1, 2), max_features=self.bag_tokens,
                              sublinear_tf=True)
        try:
            bag.fit(texts)
        except ValueError:  # no word at all: the bag has nothing to count
            self.bag_vocabulary = self.bag_idf = None
            return
        self.bag_vocabulary = [str(t) for t in bag.get_feature_names_out()]
        self.bag_idf = [float(w) for w in bag.idf_]
        # unit-length rows spread over k n-grams hold values near 1/sqrt(k): scaled to about
        # BAG_SCALE, small weights make clear logits, so Adam at the usual learning rates
        # trains the bag in a few epochs (unscaled, a linear bag needs hundreds)
        grams = np.asarray((bag.transform(texts) > 0).sum(axis=1)).reshape(-1)
        self.bag_scale = float(BAG_SCALE * np.sqrt(max(1.0, float(np.mean(grams)))))

    def _bag(self, v, inputs):
        if not self.bag_vocabulary:
            raise ValueError(f"{self.name}: the texts hold no word, so there is no bag")
        x = layers.TextVectorization(vocabulary=self.bag_vocabulary, standardize=separate_words,
                                     ngrams=2, output_mode="count")(inputs)
        if len(x.shape) == 3:  # (batch, 1) strings give (batch, 1, tokens)
            x = layers.Reshape((x.shape[-1],))(x)
        x = TfIdf(self.bag_idf, self.bag_scale)(x)
        if v["hidden"]:
            x = layers.Dense(v["hidden"], activation="relu")(x)
        return x

    def build(self, hp, inputs):
        if self.vocabulary is None:
            raise ValueError(f"{self.name}: call adapt(texts) before building (a search does)")
        v = self.declare(hp)
        if v["encoder"] == "bag":
            x = self._bag(v, inputs)
            return layers.Dropout(v["dropout"])(x) if v["dropout"] else x
        x = layers.TextVectorization(vocabulary=self.vocabulary[2:],
                                     output_sequence_length=self.sequence_length)(inputs)
        if len(x.shape) == 3:  # (batch, 1) strings give (batch, 1, length)
            x = layers.Reshape((self.sequence_length,))(x)
        x = layers.Embedding(len(self.vocabulary) + 1, v["embedding_dim"])(x)
        if v["encoder"] == "conv":
            x = layers.Conv1D(v["filters"], 5, padding="same", activation="relu")(x)
            x = layers.GlobalMaxPooling1D()(x)
        elif v["encoder"] == "rnn":
            x = layers.Bidirectional(layers.GRU(v["units"]))(x)
        else:
            x = TransformerEncoder(v["num_heads"], v["embedding_dim"] // v["num_heads"],
                                   2 * v["embedding_dim"], self.sequence_length)(x)
            x = layers.GlobalAveragePooling1D()(x)
        if v["dropout"]:
            x = layers.Dropout(v["dropout"])(x)
        return x
