"""Chain-structured spaces: a sequence of ``num_layers`` layers, each with its own searched
operation and width (Elsken et al.'s chain-structured space)."""

from autoarch.blocks.base import Block, choice
from autoarch.blocks.basic import _ensure_channels
from autoarch.blocks.ops import choose_op

CHAIN_OPS = ("conv3x3", "conv5x5", "sepconv3x3", "sepconv5x5", "maxpool3x3", "avgpool3x3",
             "skip")


class ChainBlock(Block):
    kind = "chain"

    def __init__(self, name=None, max_layers=4, operations=CHAIN_OPS, **arguments):
        self.max_layers = max_layers
        self.operations = tuple(operations)
        super().__init__(name=name, **arguments)

    def search_space(self):
        space = {"num_layers": choice(*range(1, self.max_layers + 1))}
        for i in range(self.max_layers):
            space[f"op_{i}"] = choice(*self.operations)
            space[f"filters_{i}"] = choice(16, 32, 64, ordered=True)
        return space

    def conditions(self):
        """Layer i exists only when ``num_layers > i``."""
        needed = {}
        for i in range(1, self.max_layers):
            depths = list(range(i + 1, self.max_layers + 1))
            needed[f"op_{i}"] = needed[f"filters_{i}"] = {"num_layers": depths}
        return needed

    def build(self, hp, inputs):
        v = self.declare(hp)
        x = _ensure_channels(inputs, 4) if len(inputs.shape) != 3 else inputs
        for i in range(v["num_layers"]):
            x = choose_op(f"{self.name}/op_{i}", v[f"op_{i}"], self.options(f"op_{i}"), x,
                          v[f"filters_{i}"])
        return x
