"""Synthetic objectives for testing and benchmarking strategies without training anything.

``architecture_landscape`` scores a made-up "network" (depth, four cell operations, width,
activation, batch norm: 311,040 points) with per-decision effects, interactions between
neighbouring operations and between width and depth, and a little deterministic noise. It is
cheap, fixed, and structured the way real NAS landscapes are, so a good strategy can exploit
what it has seen and random search cannot.

``zdt1`` is Zitzler, Deb & Thiele's first two-objective problem, for strategies that search
Pareto fronts.
"""

import itertools
import math
import zlib

import numpy as np

OPS = ("conv3x3", "conv5x5", "sepconv3x3", "maxpool", "skip", "none")
WIDTHS = (16, 32, 64, 128, 256)
ACTIVATIONS = ("relu", "gelu", "tanh", "sigmoid")
N_CELL_OPS = 4

_TABLES = np.random.default_rng(20240607)
_OP_EFFECT = _TABLES.normal(0.0, 1.0, size=(N_CELL_OPS, len(OPS)))
_OP_PAIR = _TABLES.normal(0.0, 0.6, size=(N_CELL_OPS - 1, len(OPS), len(OPS)))
_ACT_EFFECT = np.array([0.6, 0.8, -0.2, -0.9])


def architecture_space():
    """The landscape's search space as a spec ``parameters`` mapping."""
    space = {"depth": {"type": "int", "min": 1, "max": 6}}
    for i in range(N_CELL_OPS):
        space[f"op{i}"] = {"type": "choice", "values": list(OPS)}
    space["width"] = {"type": "choice", "values": list(WIDTHS), "ordered": True}
    space["activation"] = {"type": "choice", "values": list(ACTIVATIONS)}
    space["batch_norm"] = {"type": "boolean"}
    return space


def architecture_points():
    """Every point of the space (311,040 of them), as parameter dicts."""
    for depth, ops, width, activation, batch_norm in itertools.product(
            range(1, 7), itertools.product(OPS, repeat=N_CELL_OPS), WIDTHS, ACTIVATIONS,
            (False, True)):
        point = {"depth": depth, "width": width, "activation": activation,
                 "batch_norm": batch_norm}
        point.update({f"op{i}": op for i, op in enumerate(ops)})
        yield point


def architecture_optimum():
    """The largest value over the whole space (found by scoring every point; ~10 s)."""
    return max(architecture_landscape(p) for p in architecture_points())


def architecture_landscape(params):
    """Deterministic score of one point (larger is better; see ``architecture_optimum``)."""
    ops = [OPS.index(params[f"op{i}"]) for i in range(N_CELL_OPS)]
    score = sum(_OP_EFFECT[i, op] for i, op in enumerate(ops))
    score += sum(_OP_PAIR[i, ops[i], ops[i + 1]] for i in range(N_CELL_OPS - 1))
    depth, width = params["depth"], WIDTHS.index(params["width"])
    score += 2.0 - 0.5 * (depth - 4) ** 2 / 4 - 0.4 * (width - 3) ** 2 + 0.3 * (depth * width) / 6
    score += _ACT_EFFECT[ACTIVATIONS.index(params["activation"])]
    score += 0.7 if params["batch_norm"] and depth > 2 else 0.0
    key = zlib.crc32(repr((ops, depth, width, params["activation"], params["batch_norm"])).encode())
    noise = np.random.default_rng(key).normal(0.0, 0.05)
    return float(score + noise)


#: ZDT1's space: five floats in [0, 1]
ZDT1_SPACE = {f"x{i}": {"type": "float", "min": 0.0, "max": 1.0} for i in range(5)}
#: its objectives, both minimised, and the hypervolume of its true front from (1.1, 11)
ZDT1_OBJECTIVES = [("f1", "min"), ("f2", "min")]
ZDT1_REFERENCE = (1.1, 11.0)
ZDT1_BEST_HYPERVOLUME = 10.0 + 2.0 / 3.0 + 1.1


def zdt1(params):
    """``{"f1", "f2"}``: the front is f2 = 1 - sqrt(f1) where x1..x4 are 0."""
    x = [params[f"x{i}"] for i in range(5)]
    g = 1 + 9 * sum(x[1:]) / 4
    return {"f1": x[0], "f2": g * (1 - math.sqrt(x[0] / g))}
