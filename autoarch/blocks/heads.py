"""Heads turn features into predictions and own the loss; ``Merge`` joins several inputs."""

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
    """A linear layer with ``output_dim`` outputs, mean squared error loss."""

    kind = "regression_head"
    loss = "mean_squared_error"
    metrics = ("mean_absolute_error",)

    def __init__(self, name=None, output_dim=None, **arguments):
        self.output_dim = output_dim
        super().__init__(name=name, **arguments)

    def search_space(self):
        return {"dropout": choice(0.0, 0.25, ordered=True)}

    def build(self, hp, inputs):
        v = self.declare(hp)
        x = flatten_to_vector(inputs)
        if v["dropout"]:
            x = layers.Dropout(v["dropout"])(x)
        return layers.Dense(self.output_dim or 1, name=self.name)(x)


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
