"""A small mixed, conditional space and a deterministic objective over it, shared by the
strategy tests (and run in a subprocess by the kill-and-resume test)."""

import math

SPACE = {
    "depth": {"type": "int", "min": 1, "max": 6},
    "op": {"type": "choice", "values": ["conv", "pool", "skip"]},
    "kernel": {"type": "choice", "values": [3, 5], "when": {"op": "conv"}},
    "width": {"type": "int", "min": 8, "max": 64, "step": 8},
    "lr": {"type": "float", "min": 1e-4, "max": 1e-1, "sampling": "log"},
    "bn": {"type": "boolean"},
}


def objective(params):
    score = -abs(params["depth"] - 4) - abs(params["width"] - 40) / 8
    score -= abs(math.log10(params["lr"]) + 2.5)
    score += {"conv": 2.0, "pool": 0.5, "skip": 0.0}[params["op"]]
    score += 0.5 * (params.get("kernel") == 5) + 0.3 * params["bn"]
    return score
