"""A model space: input branches, a trunk of blocks ending in a head, and training choices.

``ModelSpace(blocks=[ConvBlock(), ClassificationHead()])`` is a chain from one input;
``ModelSpace(branches={"image": [ConvBlock()], "meta": [DenseBlock()]}, blocks=[Merge(),
ClassificationHead()])`` takes a dict of inputs. It is a ``keras_tuner.HyperModel``: ``build(hp)``
returns a compiled Keras model, so it also works with keras-tuner's own tuners.
"""

import keras
import keras_tuner as kt

from autoarch.blocks.base import Block, choice
from autoarch.blocks.heads import HEADS, Merge

DEFAULT_INPUT = "input"


class TrainingChoices(Block):
    """Optimizer and learning rate, searched like any block (under ``training/``)."""

    kind = "training"

    def __init__(self, **arguments):
        super().__init__(name="training", **arguments)

    def search_space(self):
        return {"optimizer": "adam", "learning_rate": choice(1e-3, 3e-3, 3e-4, ordered=False)}

    def optimizer(self, hp):
        v = self.declare(hp)
        options = {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW,
                   "sgd": lambda learning_rate: keras.optimizers.SGD(learning_rate, momentum=0.9),
                   "rmsprop": keras.optimizers.RMSprop}
        if v["optimizer"] not in options:
            raise ValueError(f"training.optimizer: unknown optimizer {v['optimizer']!r}; "
                             f"known: {', '.join(options)}")
        return options[v["optimizer"]](learning_rate=v["learning_rate"])


def _walk(blocks):
    for block in blocks:
        yield block
        yield from _walk(block.children())


def _name_by_place(blocks):
    """Blocks without a given name are named by kind and place in this space (``dense_1``,
    ``dense_2``, ...), so a space's parameter names do not depend on how many blocks the
    process made before it (a second search in a notebook resumes the first one's journal)."""
    every = list(_walk(blocks))
    taken = {b.name for b in every if not getattr(b, "auto_named", False)}
    counters = {}
    for block in every:
        if getattr(block, "auto_named", False):
            kind = block.kind or type(block).__name__.lower()
            number = counters.get(kind, 0) + 1
            while f"{kind}_{number}" in taken:
                number += 1
            counters[kind] = number
            block.name = f"{kind}_{number}"
            taken.add(block.name)


class ModelSpace(kt.HyperModel):
    def __init__(self, blocks, branches=None, training=None, preprocessor=None,
                 name="model_space"):
        super().__init__(name=name)
        self.blocks = list(blocks)
        self.preprocessor = preprocessor  # e.g. a TabularPreprocessor: raw columns in
        self.branches = {k: list(v) for k, v in (branches or {}).items()}
        self.training = TrainingChoices(**(training or {}))
        self.input_specs = None  # {name: (shape without batch, dtype)}, set from the data
        if not self.blocks or not isinstance(self.blocks[-1], HEADS):
            raise ValueError("a model space's blocks must end with a head (ClassificationHead or "
                             f"RegressionHead); got {self.blocks[-1:] or 'no blocks'}")
        _name_by_place(list(self.all_blocks()))
        names = [b.name for b in self.all_blocks()]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"block names must be unique; repeated: {', '.join(duplicated)}")
        if len(self.branches) > 1 and not isinstance(self.blocks[0], Merge):
            self.blocks.insert(0, Merge(name="merge"))

    @property
    def head(self):
        return self.blocks[-1]

    @property
    def is_classification(self):
        return getattr(self.head, "loss", "").endswith("crossentropy")

    def all_blocks(self):
        for branch in self.branches.values():
            yield from branch
        yield from self.blocks

    def input_names(self):
        if self.preprocessor is not None:
            return list(self.preprocessor.columns)
        return list(self.branches) or [DEFAULT_INPUT]

    def hyperparameters(self):
        """The whole search space, declared without building a model."""
        hp = kt.HyperParameters()
        for block in self.all_blocks():
            block.declare_all(hp)
        self.training.declare(hp)
        return hp

    def adapt(self, inputs, y=None):
        """Let blocks learn preprocessing state from training inputs ({input name: array}) and
        the head from the targets ``y`` (a regression head's target scale)."""
        if y is not None and hasattr(self.head, "adapt_targets"):
            self.head.adapt_targets(y)
        if self.preprocessor is not None:
            return
        for name in self.input_names():
            for block in self.branches.get(name, self.blocks if name == DEFAULT_INPUT else []):
                block.adapt(inputs[name])

    def build(self, hp):
        if self.input_specs is None:
            raise ValueError("set input_specs (from the data) before building; a search does")
        inputs = {name: keras.Input(shape=shape, dtype=dtype, name=name)
                  for name, (shape, dtype) in self.input_specs.items()}
        if self.preprocessor is not None:
            x = self.preprocessor.encode(inputs)
        elif self.branches:
            x = [self._chain(hp, blocks, inputs[name]) for name, blocks in self.branches.items()]
        else:
            x = inputs[DEFAULT_INPUT]
        output = self._chain(hp, self.blocks, x)
        model_inputs = inputs if list(inputs) != [DEFAULT_INPUT] else inputs[DEFAULT_INPUT]
        model = keras.Model(model_inputs, output, name="candidate")
        model.compile(optimizer=self.training.optimizer(hp), loss=self.head.loss,
                      loss_weights=getattr(self.head, "loss_weights", None),
                      metrics=list(self.head.metrics))
        return model

    @staticmethod
    def _chain(hp, blocks, x):
        for block in blocks:
            x = block.build(hp, x)
        return x
