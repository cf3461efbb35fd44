"""A model space: input branches, a trunk of blocks ending in a head, and training choices.

``ModelSpace(blocks=[ConvBlock(), ClassificationHead()])`` is a chain from one input;
``ModelSpace(branches={"image": [ConvBlock()], "meta": [DenseBlock()]}, blocks=[Merge(),
ClassificationHead()])`` takes a dict of inputs. It is a ``keras_tuner.HyperModel``: ``build(hp)``
returns a compiled Keras model, so it also works with keras-tuner's own tuners.
"""

import keras
import keras_tuner as kt

from autoarch.blocks.layout import DEFAULT_INPUT, SpaceLayout, TrainingChoices

# TrainingChoices stays importable from here, where pickles of earlier versions name it
__all__ = ["DEFAULT_INPUT", "ModelSpace", "TrainingChoices"]


class ModelSpace(SpaceLayout, kt.HyperModel):
    """Inputs, their branches of blocks, a trunk ending in a head, and training choices.

    ``inputs`` maps input names to fitted input kinds (:mod:`autoarch.inputs`), which make the
    model's ``keras.Input`` layers and the first tensor of each branch; a search sets plain
    array inputs itself when none are given. With one input the trunk follows it directly;
    with several, each has a branch in ``branches`` and the trunk starts with a ``Merge``.
    """

    #: whether the head's metrics weigh each row by its sample weight (Keras's
    #: ``weighted_metrics``): a search with sample weights sets it, so that the validation
    #: metrics it chooses on are weighted as the loss is
    weighted_metrics = False

    def __init__(self, blocks, branches=None, training=None, inputs=None, name="model_space"):
        kt.HyperModel.__init__(self, name=name)
        SpaceLayout.__init__(self, blocks, branches, training, inputs)

    def hyperparameters(self):
        """The whole search space as ``keras_tuner.HyperParameters``, declared without
        building a model."""
        return self.declare(kt.HyperParameters())

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
        options = self.compile_options(hp)
        model.compile(**options)
        if ahead is None:
            return model, None
        view = keras.Model(ahead, output, name="candidate_training")
        view.compile(**options)  # the same optimizer
        return model, view

    def compile_options(self, hp):
        """``Model.compile``'s arguments for ``hp``'s candidate: the head's loss and metrics
        (a head of one's own may give just ``loss`` and ``metrics``; weighted where
        :attr:`weighted_metrics`) and the optimizer."""
        head = self.head
        options = head.compile_options(hp) if hasattr(head, "compile_options") else \
            {"loss": head.loss, "metrics": list(getattr(head, "metrics", ()))}
        if self.weighted_metrics:
            options["weighted_metrics"] = options.pop("metrics", None)
        return {"optimizer": self.training.optimizer(hp), **options}

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
