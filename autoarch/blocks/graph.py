"""A model space: input branches, a trunk of blocks ending in a head, and training choices.

``ModelSpace(blocks=[ConvBlock(), ClassificationHead()])`` is a chain from one input;
``ModelSpace(branches={"image": [ConvBlock()], "meta": [DenseBlock()]}, blocks=[Merge(),
ClassificationHead()])`` takes a dict of inputs. It is a ``keras_tuner.HyperModel``: ``build(hp)``
returns a compiled Keras model, so it also works with keras-tuner's own tuners.
"""

import keras
import keras_tuner as kt

from autoarch.blocks.base import Block, boolean, choice
from autoarch.blocks.heads import HEADS, Merge

DEFAULT_INPUT = "input"


class TrainingChoices(Block):
    """Optimizer, learning rate, its schedule and weight decay, searched like any block (under
    ``training/``); with sensitive features given to the search (``groups``), also whether
    to train with reweighing (:mod:`autoarch.fairness`), and, where the groups are a binary
    classifier's input column and a fairness measure is an objective or constraint, whether
    to move each group's threshold to the same positive rate
    (:mod:`autoarch.engine.parity`)."""

    kind = "training"
    #: the search has sensitive features: ``reweigh`` becomes a choice
    groups = False
    #: the sensitive column is an input of a binary classifier whose fairness is measured:
    #: ``parity_thresholds`` becomes a choice
    thresholds = False

    def __init__(self, **arguments):
        super().__init__(name="training", **arguments)

    def search_space(self):
        space = {"optimizer": "adam", "learning_rate": choice(1e-3, 3e-3, 3e-4, ordered=False),
                 "lr_schedule": "constant", "weight_decay": None}
        if self.groups:
            space["reweigh"] = boolean(False)
        if self.groups and self.thresholds:
            space["parity_thresholds"] = boolean(False)
        return space

    def optimizer(self, hp):
        v = self.declare(hp)
        options = {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW,
                   "sgd": lambda **kwargs: keras.optimizers.SGD(momentum=0.9, **kwargs),
                   "rmsprop": keras.optimizers.RMSprop}
        if v["optimizer"] not in options:
            raise ValueError(f"training.optimizer: unknown optimizer {v['optimizer']!r}; "
                             f"known: {', '.join(options)}")
        decay = {} if v["weight_decay"] is None else {"weight_decay": v["weight_decay"]}
        return options[v["optimizer"]](learning_rate=v["learning_rate"], **decay)

    def lr_schedule(self, hp):
        """The trial's learning-rate schedule, by name (:mod:`autoarch.engine.schedules`)."""
        from autoarch.config import LR_SCHEDULES

        name = self.declare(hp)["lr_schedule"]
        if name not in LR_SCHEDULES:
            raise ValueError(f"training.lr_schedule: unknown schedule {name!r}; "
                             f"known: {', '.join(LR_SCHEDULES)}")
        return name


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
    """Inputs, their branches of blocks, a trunk ending in a head, and training choices.

    ``inputs`` maps input names to fitted input kinds (:mod:`autoarch.inputs`), which make the
    model's ``keras.Input`` layers and the first tensor of each branch; a search sets plain
    array inputs itself when none are given. With one input the trunk follows it directly;
    with several, each has a branch in ``branches`` and the trunk starts with a ``Merge``.
    """

    def __init__(self, blocks, branches=None, training=None, inputs=None, name="model_space"):
        super().__init__(name=name)
        self.blocks = list(blocks)
        self.branches = {k: list(v) for k, v in (branches or {}).items()}
        self.inputs = dict(inputs or {})
        self.training = TrainingChoices(**{k: v for k, v in (training or {}).items()
                                           if v is not None})
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
        """A classification head, or a head of one's own with a cross-entropy loss."""
        return hasattr(self.head, "num_classes") or \
            str(getattr(self.head, "loss", "")).endswith("crossentropy")

    def all_blocks(self):
        for branch in self.branches.values():
            yield from branch
        yield from self.blocks

    def hyperparameters(self):
        """The whole search space, declared without building a model."""
        hp = kt.HyperParameters()
        for block in self.all_blocks():
            block.declare_all(hp)
        self.training.declare(hp)
        return hp

    def first_trials(self, hp=None):
        """The blocks' first trials (:meth:`Block.first_trials`, the i-th of every block in
        one point) as ``{parameter: value}``, keeping only searched parameters and values
        their choice holds, each distinct point once; the strategy fills in the rest."""
        hp = hp or self.hyperparameters()
        params = {p.name: p for p in hp.space}
        points = []
        for block in self.all_blocks():
            for i, point in enumerate(block.first_trials()):
                while len(points) <= i:
                    points.append({})
                for key, value in point.items():
                    name = key if "/" in key else f"{block.name}/{key}"
                    param = params.get(name)
                    if param is not None and value in getattr(param, "values", [value]) \
                            and not isinstance(param, kt.engine.hyperparameters.Fixed):
                        points[i][name] = value
        return [p for i, p in enumerate(points) if p and p not in points[:i]]

    def _input_order(self):
        if self.branches:
            missing = sorted(set(self.inputs) ^ set(self.branches))
            if missing:
                raise ValueError(f"every input needs a branch and every branch an input; "
                                 f"unmatched: {', '.join(missing)}")
            return list(self.branches)
        if len(self.inputs) > 1:
            raise ValueError(f"{len(self.inputs)} inputs ({', '.join(self.inputs)}) need one "
                             "branch each (ModelSpace(branches={name: [blocks]}))")
        return list(self.inputs)

    def arrays(self, data):
        """``{model input name: array}`` from ``{input name: data}`` (a table feeds one
        array per column)."""
        arrays = {}
        for name, kind in self.inputs.items():
            arrays.update(kind.arrays(data[name]))
        return arrays

    def adapt(self, arrays, y=None):
        """Let blocks learn preprocessing state from training arrays (``{model input name:
        array}``), the head from the targets ``y`` (a regression head's target scale), and
        blocks with an ``adapt_target`` from both (a table's column ranking)."""
        if y is not None and hasattr(self.head, "adapt_targets"):
            self.head.adapt_targets(y)
        for name in self._input_order():
            for block in self.branches.get(name, self.blocks if not self.branches else []):
                if name in arrays:  # a table's columns are its model inputs instead
                    block.adapt(arrays[name])
                if y is not None and hasattr(block, "adapt_target"):
                    block.adapt_target(arrays, y, classification=self.is_classification)

    def build(self, hp):
        return self.build_for_training(hp)[0]

    def build_for_training(self, hp):
        """The compiled model, and a compiled view of it that trains on the input encoded
        ahead (:meth:`encoder`), or None where the input is not encoded ahead.

        The view shares the model's layers and optimizer: training it trains the model,
        which keeps taking the raw inputs (to predict, export and save). A table's encoding
        (imputing, scaling, a one-hot per string column) has no weights, so computing it once
        per search instead of on every batch changes nothing but the time: on the 73-column
        ames table a 60 s search trained 11 trials instead of 5. Spaces of several inputs
        train on the raw inputs (Keras cannot yet save a model with such a view beside it).
        """
        if not self.inputs:
            raise ValueError("the space has no inputs yet: a search sets them from the data, or "
                             "give ModelSpace(inputs={name: fitted input kind})")
        keras_inputs, tensors, ahead, ahead_kind = {}, [], None, self._ahead()
        for name in self._input_order():
            kind = self.inputs[name]
            made = kind.keras_inputs()
            keras_inputs.update(made)
            encoded = kind.encode(made)
            if kind is ahead_kind:
                encoded = ahead = keras.layers.Identity(name=f"{name}_encoded")(encoded)
            tensors.append(self._chain(hp, self.branches.get(name, []), encoded))
        output = self._chain(hp, self.blocks, tensors if self.branches else tensors[0])
        model_inputs = keras_inputs[DEFAULT_INPUT] if list(keras_inputs) == [DEFAULT_INPUT] \
            else keras_inputs
        model = keras.Model(model_inputs, output, name="candidate")
        head = self.head  # a head of one's own may give just ``loss`` and ``metrics``
        options = head.compile_options(hp) if hasattr(head, "compile_options") else \
            {"loss": head.loss, "metrics": list(getattr(head, "metrics", ()))}
        optimizer = self.training.optimizer(hp)
        model.compile(optimizer=optimizer, **options)
        if ahead is None:
            return model, None
        view = keras.Model(ahead, output, name="candidate_training")
        view.compile(optimizer=optimizer, **options)
        return model, view

    def _ahead(self):
        """The space's one input when its kind encodes ahead, else None."""
        kinds = list(self.inputs.values())
        return kinds[0] if len(kinds) == 1 and getattr(kinds[0], "encodes_ahead", False) \
            else None

    def encoder(self):
        """A model from the raw inputs to the encoding the training view
        (:meth:`build_for_training`) takes, or None where there is no view."""
        kind = self._ahead()
        if kind is None:
            return None
        made = kind.keras_inputs()
        return keras.Model(made, kind.encode(made), name="encoder")

    @staticmethod
    def _chain(hp, blocks, x):
        for block in blocks:
            x = block.build(hp, x)
        return x
