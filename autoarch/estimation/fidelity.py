"""Low-fidelity estimation: search on a fraction of the training data."""

import numpy as np


def subsample(n_samples, fraction, seed, labels=None):
    """Indices of a ``fraction`` of ``n_samples`` rows, stratified by ``labels`` when given."""
    if fraction >= 1.0:
        return np.arange(n_samples)
    rng = np.random.default_rng(seed)
    if labels is None:
        count = max(1, int(round(n_samples * fraction)))
        return np.sort(rng.choice(n_samples, size=count, replace=False))
    picked = []
    labels = np.asarray(labels)
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        count = max(1, int(round(len(rows) * fraction)))
        picked.append(rng.choice(rows, size=count, replace=False))
    return np.sort(np.concatenate(picked))
