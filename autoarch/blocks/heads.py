"""Heads turn features into predictions and own the loss; ``Merge`` joins several inputs."""

import numpy as np
from keras import layers

from autoarch.blocks.base import Block, choice
from autoarch.blocks.basic import flatten_to_vector


class ClassificationHead(Block):
    """Softmax over ``num_classes`` (or one sigmoid unit for two classes).

    ``num_classes`` is read from the labels when the search starts if not given.
    """

    kind = "classification_head"

    def __init__(self, name=None, num_classes=None, **arguments):
        self.num_classes = num_classes
        super().__init__(name=name, **arguments)

    def search_space(self):
        return {"dropout": choice(0.0, 0.25, 0.5, ordered=True)}

    @property
    def binary(self):
        return self.num_classes == 2

    @property
    def loss(self):
        return "binary_crossentropy" if self.binary else "sparse_categorical_crossentropy"

    metrics = ("accuracy",)

    def build(self, hp, inputs):
        if self.num_classes is None or self.num_classes < 2:
            raise ValueError(f"{self.name}: num_classes must be >= 2 (got {self.num_classes}); "
                             "it is set from the labels when a search starts")
        v = self.declare(hp)
        x = flatten_to_vector(inputs)
        if v["dropout"]:
            x = layers.Dropout(v["dropout"])(x)
        if self.binary:
            return layers.Dense(1, activation="sigmoid", name=self.name)(x)
        return layers.Dense(self.num_classes, activation="softmax", name=self.name)(x)


class RegressionHead(Block):
    """A linear layer with ``output_dim`` outputs, mean squared error loss.

    Targets far from zero and one (prices, counts) train badly from a layer that starts near
    zero, so the head learns the targets' mean and spread (``adapt_targets``, which a search
    calls) and ends with a layer that maps standardized outputs back to the targets' units:
    the model predicts in the units of ``y`` and the exported model needs no scaler beside it.
    The loss is weighted by one over the targets' variance, so training sees the gradients of
    standardized targets whatever the units (plain SGD too), and ``loss``/``val_loss`` read as
    a fraction of the variance (1.0: no better than predicting the mean); the absolute error
    metric stays in the targets' units.
    """

    kind = "regression_head"
    loss = "mean_squared_error"
    metrics = ("mean_absolute_error",)

    def __init__(self, name=None, output_dim=None, **arguments):
        self.output_dim = output_dim
        self.target_mean = self.target_variance = None
        super().__init__(name=name, **arguments)

    def adapt_targets(self, y):
        y = np.asarray(y, dtype="float64").reshape(len(y), -1)
        self.target_mean = y.mean(axis=0)
        self.target_variance = np.maximum(y.var(axis=0), 1e-12)

    @property
    def loss_weights(self):
        if self.target_variance is None:
            return None
        return [float(1.0 / np.mean(self.target_variance))]

    def search_space(self):
        return {"dropout": choice(0.0, 0.25, ordered=True)}

    def build(self, hp, inputs):
        v = self.declare(hp)
        x = flatten_to_vector(inputs)
        if v["dropout"]:
            x = layers.Dropout(v["dropout"])(x)
        if self.target_mean is None:
            return layers.Dense(self.output_dim or 1, name=self.name)(x)
        x = layers.Dense(len(self.target_mean), name=f"{self.name}_standardized")(x)
        return layers.Normalization(mean=self.target_mean, variance=self.target_variance,
                                    invert=True, name=self.name)(x)


class Merge(Block):
    """Joins several inputs: flattened to vectors, then concatenated or added."""

    kind = "merge"

    def search_space(self):
        return {"method": choice("concatenate", "add")}

    def build(self, hp, inputs):
        v = self.declare(hp)
        tensors = [flatten_to_vector(x) for x in (inputs if isinstance(inputs, list) else [inputs])]
        if len(tensors) == 1:
            return tensors[0]
        if v["method"] == "add":
            width = max(t.shape[-1] for t in tensors)
            tensors = [t if t.shape[-1] == width else layers.Dense(width)(t) for t in tensors]
            return layers.Add()(tensors)
        return layers.Concatenate()(tensors)


HEADS = (ClassificationHead, RegressionHead)
