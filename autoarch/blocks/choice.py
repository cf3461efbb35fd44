"""Macro spaces: a searched choice between whole blocks (and so between layer types and
depths); each option's own arguments exist only when that option is chosen."""

from autoarch.blocks.base import Block


class BlockChoice(Block):
    kind = "choice"

    def __init__(self, options, name=None):
        if not options:
            raise ValueError("BlockChoice needs at least one option")
        names = [o.name for o in options if not o.auto_named]  # the others get named by place
        if len(set(names)) != len(names):
            raise ValueError(f"BlockChoice options need distinct names, got {names}")
        self.options = list(options)
        super().__init__(name=name)

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

    def build(self, hp, inputs):
        chosen = self.declare(hp)["block"]
        option = next(o for o in self.options if o.name == chosen)
        with hp.conditional_scope(f"{self.name}/block", [option.name]):
            return option.build(hp, inputs)

    def adapt(self, data):
        for option in self.options:
            option.adapt(data)

    def __repr__(self):
        return f"BlockChoice({self.options!r})"
