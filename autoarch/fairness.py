"""Sensitive features in a search: the group of each row, and reweighing, the training-time
mitigation a search can choose (``training/reweigh``).

Reweighing (Kamiran & Calders 2012, "Data preprocessing techniques for classification
without discrimination") weights each row by P(group) P(label) / P(group, label), so that in
the weighted training data the label is independent of the group: a model no longer gains
by learning the group's base rate. The measures themselves are in :mod:`autoarch.measures`.
"""

import numpy as np


def group_labels(sensitive, n_rows):
    """One group label (a string) per row from a 1-D array, or a 2-D one / several columns
    (their values joined: the groups are the combinations, as fairlearn has them)."""
    values = np.asarray(sensitive, dtype=object)
    if values.ndim == 2:
        values = np.array(["|".join(map(str, row)) for row in values], dtype=object)
    if values.ndim != 1 or len(values) != n_rows:
        raise ValueError(f"sensitive_features: expected one value per row ({n_rows}), got "
                         f"shape {np.shape(sensitive)}")
    if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in values):
        raise ValueError("sensitive_features: missing values (None or NaN); give every row "
                         "a group")
    return np.array([str(v) for v in values])


def reweighing(y, groups):
    """Per row, P(group) P(label) / P(group, label) over these rows."""
    y, groups = np.asarray(y), np.asarray(groups)
    n = len(y)
    weights = np.ones(n)
    for g in np.unique(groups):
        in_group = groups == g
        for label in np.unique(y):
            cell = in_group & (y == label)
            if cell.any():
                weights[cell] = in_group.mean() * (y == label).mean() / (cell.sum() / n)
    return weights


def training_weights(params, y, groups, sample_weight=None):
    """The sample weights a candidate trains with: the caller's ``sample_weight`` (or None),
    times reweighing over ``groups`` (one per row of ``y``) where its parameters choose it
    (``training/reweigh``)."""
    if groups is None or not params.get("training/reweigh"):
        return sample_weight
    weights = reweighing(y, groups)
    return weights if sample_weight is None else weights * sample_weight


def predicted_labels(predictions):
    """Class indices from a classifier's outputs (probabilities per class, or one
    probability of class 1)."""
    predictions = np.asarray(predictions)
    if predictions.ndim == 2 and predictions.shape[1] > 1:
        return predictions.argmax(axis=1)
    return (predictions.reshape(len(predictions)) > 0.5).astype(int)
