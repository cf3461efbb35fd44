"""Stratified splits that do not fail on rare classes."""

import math

import numpy as np


def stratify_labels(y, test_size):
    """``y`` when every class has at least two rows and as many rows as there are classes fit
    on each side of a ``test_size`` split (a fraction), else ``None`` (a plain split):
    scikit-learn's ``train_test_split`` refuses to stratify otherwise."""
    counts = np.unique(y, return_counts=True)[1]
    n_test = math.ceil(test_size * len(y))
    if counts.min() >= 2 and min(n_test, len(y) - n_test) >= len(counts):
        return y
    return None
