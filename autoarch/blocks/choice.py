"""Macro spaces: a searched choice between whole blocks (and so between layer types and
depths); each option's own arguments exist only when that option is chosen. In a supernet
the choice is a switch over its options (blocks of one output shape), as an operation choice
of the cell and chain spaces is."""

from autoarch.blocks.base import Block
from autoarch.blocks.ops import SUPERNET, supernet_switch


class BlockChoice(Block):
    kind = "choice"

    def __init__(self, options, name=None, first_trials=None):
        if not options:
            raise ValueError("BlockChoice needs at least one option")
        names = [o.name for o in options if not o.auto_named]  # the others get named by place
        if len(set(names)) != len(names):
            raise ValueError(f"BlockChoice options need distinct names, got {names}")
        self.options = list(options)
        super().__init__(name=name, first_trials=first_trials)

    def search_space(self):
        return {"block": {"type": "choice", "values": [o.name for o in self.options]}}

    def declare_all(self, hp):
        chosen = self.declare(hp)["block"]
        for option in self.options:
            with hp.conditional_scope(f"{self.name}/block", [option.name]):
                option.declare_all(hp)
        return chosen

    def children(self):
        return self.options

    def first_trials(self):
        """The given ones, else the options': the i-th first trial chooses the first option
        (in order) that has an i-th first trial of its own, whose values it then takes."""
        points = super().first_trials()
        if points:
            return points
        for option in self.options:
            for _ in option.first_trials()[len(points):]:
                points.append({"block": option.name})
        return points

    def build(self, hp, inputs):
        supernet = SUPERNET.get()
        if supernet is not None and len(self.options) > 1 and hasattr(inputs, "shape"):
            return self._switch(supernet, hp, inputs)
        chosen = self.declare(hp)["block"]
        option = next(o for o in self.options if o.name == chosen)
        with hp.conditional_scope(f"{self.name}/block", [option.name]):
            return option.build(hp, inputs)

    def _switch(self, supernet, hp, x):
        """While a supernet is built: a switch over the options (those a single path keeps),
        each built as a Keras model of its own with the parameters the supernet fixes. The
        options must give one output shape."""
        import keras

        name = f"{self.name}/block"
        kept = supernet.only.get(name, [o.name for o in self.options])
        options = [o for o in self.options if o.name in kept]
        models = []
        for option in options:
            inputs = keras.Input(tuple(x.shape[1:]))
            models.append(keras.Model(inputs, option.build(hp, inputs),
                                      name=f"{self.name}_{option.name}"))
        return supernet_switch(supernet, name, [o.name for o in options], x, models=models)

    def adapt(self, data):
        for option in self.options:
            option.adapt(data)

    def __repr__(self):
        return f"BlockChoice({self.options!r})"
