"""Cell-based spaces (NASNet / NAS-Bench-201 style) and their hierarchical extension.

A cell is a DAG of ``num_nodes`` nodes: node 0 is the cell's input, and node j sums one
searched operation (``ops.OPS``) on every edge i -> j. The normal cell is stacked
``cells_per_stack`` times; stacks are joined by a reduction cell (its own searched edges,
stride 2 from the input node, filters doubled). The searched cell is shared by every
position, as in NASNet. Making the skeleton arguments (``stacks``, ``cells_per_stack``,
``filters``) searched too gives a hierarchical space: searched cells inside a searched
macro skeleton.
"""

from autoarch.blocks.base import Block, choice
from autoarch.blocks.basic import _ensure_channels
from autoarch.blocks.ops import OPS, add_all, apply_op, choose_op, relu_conv_bn


def edges(num_nodes):
    return [(i, j) for j in range(1, num_nodes) for i in range(j)]


class CellBlock(Block):
    kind = "cell"

    def __init__(self, name=None, num_nodes=4, operations=OPS, rank=None, **arguments):
        """``rank``: 4 for images (a (batch, H, W) input gains a channel axis), 3 for
        sequences; by default 3-D inputs are sequences and others images."""
        self.num_nodes = num_nodes
        self.operations = tuple(operations)
        self.rank = rank
        super().__init__(name=name, **arguments)

    def search_space(self):
        space = {"stacks": 2, "cells_per_stack": 1, "filters": 16}
        for prefix in ("normal", "reduce"):
            for i, j in edges(self.num_nodes):
                space[f"{prefix}_{i}_{j}"] = choice(*self.operations)
        return space

    def _cell(self, x, v, prefix, filters, stride):
        nodes = [relu_conv_bn(x, filters, 1)]
        for j in range(1, self.num_nodes):
            incoming = [choose_op(f"{self.name}/{prefix}_{i}_{j}", v[f"{prefix}_{i}_{j}"],
                                  self.options(f"{prefix}_{i}_{j}"), nodes[i], filters,
                                  stride if i == 0 else 1)
                        for i in range(j)]
            nodes.append(add_all(incoming))
        if nodes[-1] is not None:
            return nodes[-1]
        # an all-"none" path: keep the model valid with the (projected) input
        return apply_op("skip", nodes[0], filters, stride)

    def build(self, hp, inputs):
        v = self.declare(hp)
        x = _ensure_channels(inputs, self.rank or (3 if len(inputs.shape) == 3 else 4))
        filters = v["filters"]
        for stack in range(v["stacks"]):
            if stack > 0:
                filters *= 2
                stride = 2 if min(x.shape[1:-1]) >= 2 else 1
                x = self._cell(x, v, "reduce", filters, stride)
            for _ in range(v["cells_per_stack"]):
                x = self._cell(x, v, "normal", filters, 1)
        return x
