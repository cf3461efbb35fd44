"""A model space's structure and parameters, without Keras: the input branches, the trunk
ending in a head, the training choices, the blocks' names by place, and every parameter
declared into any record with keras-tuner's declaring API (``keras_tuner.HyperParameters``,
or :class:`~autoarch.spec.space.ParameterSpace` where ``autoarch validate`` counts a spec's
parameters without starting TensorFlow). :class:`~autoarch.blocks.graph.ModelSpace` builds
the models.
"""

from autoarch.blocks.base import Block, boolean, choice
from autoarch.blocks.heads import HEADS, Merge
from autoarch.lazy import lazy_module
from autoarch.spec.space import ParameterSpace, is_fixed

keras = lazy_module("keras")

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


class SpaceLayout:
    """Inputs, their branches of blocks, a trunk ending in a head, and training choices.

    With one input the trunk follows it directly; with several, each has a branch in
    ``branches`` and the trunk starts with a ``Merge``.
    """

    def __init__(self, blocks, branches=None, training=None, inputs=None):
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
        """The whole search space as a :class:`~autoarch.spec.space.ParameterSpace`."""
        return self.declare(ParameterSpace())

    def declare(self, hp):
        """Declare the whole search space into ``hp`` without building a model; returns it."""
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
        for block in _walk(self.all_blocks()):  # a choice's options too
            for i, point in enumerate(block.first_trials()):
                while len(points) <= i:
                    points.append({})
                for key, value in point.items():
                    name = key if "/" in key else f"{block.name}/{key}"
                    param = params.get(name)
                    if param is not None and value in getattr(param, "values", [value]) \
                            and not is_fixed(param):
                        points[i][name] = value
        return [p for i, p in enumerate(points) if p and p not in points[:i]]
