"""Zero-cost proxies: score an untrained Keras model on one batch, in well under a second,
to predict how well it would train.

    from autoarch import proxies
    proxies.score(model, x[:64], y[:64])            # {"params": ..., "synflow": ..., ...}
    proxies.score([model_a, model_b], x, y)         # one dict per model, with "vote"

Every proxy is oriented so that higher predicts a better trained accuracy. Each is a small
function ``(model, batch) -> float`` (``autoarch.proxies.PROXIES``) whose docstring names its
paper. ``vote`` rank-combines several proxies across models (Abdelfattah et al. 2021), so it
exists only where several models are scored together. The model's weights and state are
the same afterwards.
"""

import numpy as np

from autoarch.proxies import activation, gradient, ntk, size  # noqa: F401 - they register
from autoarch.proxies.base import (PROXIES, Batch, as_model_inputs, default_loss, untouched,
                                   user_loss)

#: the proxies ``vote`` combines by default (see ``benchmarks/proxies.py`` for why these)
VOTERS = ("naswot", "synflow", "ntk")


def score(model, x, y=None, proxies=None, loss=None):
    """Proxy scores of ``model`` (or of each model of a list) on the batch ``x``, ``y``.

    Args:
        model: an untrained Keras model, or a list of them (then ``vote`` is added).
        x: one batch of inputs (an array, or ``{input name: array}``); a few dozen rows.
        y: their labels; needed by ``grad_norm`` and ``snip`` only.
        proxies: names to compute (``None``: all of ``PROXIES``, and ``vote`` for a list);
            ``vote`` computes its voters (``VOTERS``) too.
        loss: a Keras loss (name, object or function) on the model's outputs; by default
            cross-entropy on the logits, matched to the last activation and the labels.

    Returns:
        ``{proxy: float}`` (a list of them for a list of models); NaN where a proxy does not
        apply (e.g. gradients with respect to string inputs).
    """
    if isinstance(model, (list, tuple)):
        wanted = list(PROXIES) + ["vote"] if proxies is None else list(proxies)
        scores = [score(m, x, y, [p for p in wanted if p != "vote"] +
                        ([v for v in VOTERS if v not in wanted] if "vote" in wanted else []),
                        loss) for m in model]
        if "vote" in wanted:
            for one, value in zip(scores, vote(scores)):
                one["vote"] = float(value)
        return scores
    names = list(PROXIES) if proxies is None else list(proxies)
    unknown = [n for n in names if n not in PROXIES]
    if unknown:
        raise ValueError(f"unknown proxy '{unknown[0]}'"
                         + ("; 'vote' ranks models against each other: pass a list of models"
                            if unknown[0] == "vote" else "")
                         + f"; known: {', '.join(list(PROXIES) + ['vote'])}")
    needs_labels = {"grad_norm", "snip"} & set(names)
    if needs_labels and y is None:
        raise ValueError(f"proxy '{sorted(needs_labels)[0]}' needs the labels y")
    batch = Batch(as_model_inputs(model, x), y, None if y is None else (
        default_loss(model, y) if loss is None else user_loss(loss)))
    with untouched(model):
        return {name: PROXIES[name](model, batch) for name in names}


def vote(scores, proxies=VOTERS):
    """Each model's mean rank over ``proxies``, scaled to [0, 1] (1: first by every proxy),
    from a list of ``score`` dicts. A NaN or missing score ranks last."""
    n = len(scores)
    if n == 0:
        return np.zeros(0)
    total = np.zeros(n)
    for name in proxies:
        values = np.array([s.get(name, np.nan) for s in scores], dtype="float64")
        values = np.where(np.isnan(values), -np.inf, values)
        # average ranks for ties, 0 (worst) .. n - 1 (best)
        order = np.argsort(values, kind="stable")
        ranks = np.empty(n)
        ranks[order] = np.arange(n)
        for value in np.unique(values):
            tied = values == value
            ranks[tied] = ranks[tied].mean()
        total += ranks
    return total / (len(proxies) * max(1, n - 1))


__all__ = ["PROXIES", "VOTERS", "score", "vote"]
