"""Text in: raw strings -> ``TextVectorization`` -> embedding -> a searched encoder
(convolutional, recurrent, or a small transformer)."""

import keras
import numpy as np
from keras import layers

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


class TextBlock(Block):
    kind = "text"

    def __init__(self, name=None, max_tokens=20000, sequence_length=128, **arguments):
        self.max_tokens = max_tokens
        self.sequence_length = sequence_length
        self.vocabulary = None
        super().__init__(name=name, **arguments)

    def search_space(self):
        return {
            "embedding_dim": choice(32, 64, 128, ordered=True),
            "encoder": choice("conv", "rnn", "transformer"),
            "filters": choice(32, 64, 128, ordered=True),
            "units": choice(32, 64),
            "num_heads": choice(2, 4),
            "dropout": choice(0.0, 0.25, ordered=True),
        }

    def conditions(self):
        return {"filters": {"encoder": ["conv"]}, "units": {"encoder": ["rnn"]},
                "num_heads": {"encoder": ["transformer"]}}

    def adapt(self, data):
        """Learn the vocabulary once from the training texts."""
        vectorizer = layers.TextVectorization(max_tokens=self.max_tokens)
        vectorizer.adapt(np.asarray(data, dtype=object).reshape(-1))
        self.vocabulary = vectorizer.get_vocabulary()

    def build(self, hp, inputs):
        if self.vocabulary is None:
            raise ValueError(f"{self.name}: call adapt(texts) before building (a search does)")
        v = self.declare(hp)
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
