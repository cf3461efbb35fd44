"""Heads turn features into predictions and own the loss; ``Merge`` joins several inputs."""

import numpy as np

from autoarch.blocks.base import Block, choice
from autoarch.blocks.basic import flatten_to_vector
from autoarch.lazy import lazy_module

layers = lazy_module("keras.layers")


class ClassificationHead(Block):
    """Softmax over ``num_classes`` (or one sigmoid unit for two classes).

    ``num_classes`` is read from the labels when the search starts if not given. ``loss``:
    ``"crossentropy"`` or ``"hinge"`` (:func:`autoarch.blocks.layers.squared_hinge`; the default text space
    searches both).
    """

    kind = "classification_head"

    def __init__(self, name=None, num_classes=None, **arguments):
        self.num_classes = num_classes
        super().__init__(name=name, **arguments)

    def search_space(self):
        return {"dropout": choice(0.0, 0.25, 0.5, ordered=True), "loss": "crossentropy"}

    @property
    def binary(self):
        return self.num_classes == 2

    def loss(self, name="crossentropy"):
        """The Keras loss called ``name`` for this head's outputs."""
        if name == "hinge":
            from autoarch.blocks.layers import squared_hinge

            return squared_hinge
        if name != "crossentropy":
            raise ValueError(f"{self.name}: unknown loss '{name}'; losses: crossentropy, hinge")
        return "binary_crossentropy" if self.binary else "sparse_categorical_crossentropy"

    metrics = ("accuracy",)
    #: metrics beyond ``metrics`` that an objective or constraint names (the search sets
    #: them: :func:`autoarch.blocks.metrics.extra_metrics`)
    objective_metrics = ()

    def compile_options(self, hp):
        from autoarch.blocks.metrics import made

        return {"loss": self.loss(self.declare(hp)["loss"]),
                "metrics": [*self.metrics, *made(self, self.objective_metrics)]}

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


#: skewness from which non-negative targets also get the log transform as a searched option
SKEWED = 1.0


class RegressionHead(Block):
    """A linear layer with ``output_dim`` outputs, squared error loss.

    Targets far from zero and one (prices, counts) train badly from a layer that starts near
    zero, so the head learns the targets' mean and spread (``adapt_targets``, which a search
    calls) and ends with a layer that maps standardized outputs back to the targets' units:
    the model predicts in the units of ``y`` and the exported model needs no scaler beside it.
    The loss is weighted by one over the targets' variance, so training sees the gradients of
    standardized targets whatever the units (plain SGD too), and ``loss``/``val_loss`` read as
    a fraction of the variance (1.0: no better than predicting the mean); the error metrics
    stay in the targets' units, and a search compares trials by ``val_mean_squared_error``.

    ``target_transform``: ``"standardize"`` (the above) or ``"log"``: the layer predicts
    ``log1p(y)`` standardized, trains on the squared error in that space (skewed positive
    targets such as prices: relative errors, not the few largest values, drive training) and
    maps back with ``expm1``. By default (``None``) non-negative targets with skewness above
    1 get both as a choice the search makes on validation data; other targets standardize.
    """

    kind = "regression_head"
    metrics = ("mean_absolute_error", "mean_squared_error")
    objective_metrics = ()  # as ClassificationHead's

    def __init__(self, name=None, output_dim=None, target_transform=None, **arguments):
        self.output_dim = output_dim
        self.target_mean = self.target_variance = None
        self.log_mean = self.log_variance = None
        super().__init__(name=name, target_transform=target_transform, **arguments)

    def adapt_targets(self, y):
        from scipy import stats

        y = np.asarray(y, dtype="float64").reshape(len(y), -1)
        self.target_mean = y.mean(axis=0)
        self.target_variance = np.maximum(y.var(axis=0), 1e-12)
        self.log_mean = self.log_variance = None
        if y.min() >= 0:
            logs = np.log1p(y)
            self.log_mean, self.log_variance = logs.mean(axis=0), np.maximum(logs.var(axis=0),
                                                                              1e-12)
        self.skewed = bool(self.log_mean is not None and len(y) > 2 and
                           np.all(stats.skew(y, axis=0) > SKEWED))

    def search_space(self):
        transforms = ("standardize", "log") if getattr(self, "skewed", False) else \
            ("standardize",)
        return {"dropout": choice(0.0, 0.25, ordered=True),
                "target_transform": choice(*transforms) if len(transforms) > 1 else
                transforms[0]}

    def _transform(self, v):
        transform = v["target_transform"]
        if transform not in ("standardize", "log"):
            raise ValueError(f"{self.name}: target_transform must be 'standardize' or 'log', "
                             f"got {transform!r}")
        if transform == "log" and self.target_mean is not None and self.log_mean is None:
            raise ValueError(f"{self.name}: target_transform 'log' needs targets >= 0")
        return transform

    def build(self, hp, inputs):
        v = self.declare(hp)
        transform = self._transform(v)
        x = flatten_to_vector(inputs)
        if v["dropout"]:
            x = layers.Dropout(v["dropout"])(x)
        if self.target_mean is None:
            return layers.Dense(self.output_dim or 1, name=self.name)(x)
        mean, variance = (self.log_mean, self.log_variance) if transform == "log" else \
            (self.target_mean, self.target_variance)
        x = layers.Dense(len(mean), name=f"{self.name}_standardized")(x)
        if transform == "standardize":
            return layers.Normalization(mean=mean, variance=variance, invert=True,
                                        name=self.name)(x)
        x = layers.Normalization(mean=mean, variance=variance, invert=True,
                                 name=f"{self.name}_log")(x)
        from autoarch.blocks.layers import Expm1

        return Expm1(name=self.name)(x)

    def compile_options(self, hp):
        """The loss (and its weight) of this trial's transform, and the metrics."""
        v = self.declare(hp)
        log = self._transform(v) == "log"
        from autoarch.blocks.layers import log1p_squared_error
        from autoarch.blocks.metrics import made

        variance = self.log_variance if log else self.target_variance
        return {"loss": log1p_squared_error if log else "mean_squared_error",
                "loss_weights": None if variance is None else [float(1.0 / np.mean(variance))],
                "metrics": [*self.metrics, *made(self, self.objective_metrics)]}


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
