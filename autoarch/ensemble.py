"""Ensemble selection over a search's trials (Caruana et al., 2004), as one Keras model.

Each completed trial leaves its validation predictions. Greedy selection with replacement
starts from the best trial and adds, ``size - 1`` times, the trial whose addition makes the
averaged validation predictions score best; how often a trial was picked is its weight. The
result is one Keras model that runs its members on the same inputs and averages their
outputs with those weights inside it (``WeightedAverage``), so it predicts, exports and
pickles like any single model.

Selection minimises log loss for classification (accuracy moves by whole rows, so on a few
hundred validation rows it rewards blends that are right by chance: replayed on the trials of
20 searches on ten real tables, selecting by log loss raised test accuracy by 0.003 on
average, higher in 11 and lower in 3; ``docs/design.md``) and mean squared error for
regression; ``score`` reports accuracy and log loss. With sample weights (``fit(...,
sample_weight=...)``) each is the rows' weighted mean, as the trials' weighted validation
metrics are.
"""

import keras
import numpy as np

from autoarch.measures import inference_model


def _probabilities(outputs):
    """Class probabilities from a classifier's outputs (one sigmoid unit or a softmax)."""
    outputs = np.asarray(outputs, dtype="float64")
    if outputs.ndim == 1 or outputs.shape[1] == 1:
        p = outputs.reshape(-1)
        return np.stack([1.0 - p, p], axis=1)
    return outputs


def loss(outputs, y, classification, sample_weight=None):
    """What selection minimises: log loss, or mean squared error (each row's, averaged with
    ``sample_weight`` where given)."""
    if classification:
        probs = np.clip(_probabilities(outputs), 1e-7, 1.0)
        return float(-np.average(np.log(probs[np.arange(len(y)), y.astype(int)]),
                                 weights=sample_weight))
    error = np.asarray(outputs, dtype="float64").reshape(len(y), -1) - \
        np.asarray(y, dtype="float64").reshape(len(y), -1)
    return float(np.average(np.mean(error ** 2, axis=1), weights=sample_weight))


def score(outputs, y, classification, sample_weight=None):
    """``(accuracy, -log loss)`` or ``(-mean squared error,)``: larger is better."""
    if classification:
        accuracy = float(np.average(_probabilities(outputs).argmax(axis=1) == y,
                                    weights=sample_weight))
        return (accuracy, -loss(outputs, y, classification, sample_weight))
    return (-loss(outputs, y, classification, sample_weight),)


def greedy_selection(predictions, y, classification, size, sample_weight=None):
    """``{key: weight}`` (weights sum to 1) for ``predictions`` (``{key: validation outputs}``),
    and the ensemble's validation ``score`` (rows weighted by ``sample_weight``, or equal).

    Up to ``size`` greedy steps; the prefix of them with the lowest ``loss`` is kept (a step
    must add a member, and a late one can make the average worse), so the result's loss is at
    most the best single key's.
    """
    def cost(average):
        return loss(average, y, classification, sample_weight)

    keys = list(predictions)
    outputs = {k: np.asarray(predictions[k], dtype="float64") for k in keys}
    first = min(keys, key=lambda k: cost(outputs[k]))
    counts, total = {first: 1}, outputs[first].copy()
    best = (cost(total), dict(counts), total.copy())
    for step in range(2, size + 1):
        candidates = {k: cost((total + outputs[k]) / step) for k in keys}
        pick = min(keys, key=lambda k: candidates[k])
        counts[pick] = counts.get(pick, 0) + 1
        total += outputs[pick]
        if candidates[pick] < best[0]:
            best = (candidates[pick], dict(counts), total / step)
    _, counts, average = best
    n = sum(counts.values())
    return {k: c / n for k, c in counts.items()}, score(average, y, classification,
                                                        sample_weight)


@keras.saving.register_keras_serializable(package="autoarch")
class WeightedAverage(keras.layers.Layer):
    """``sum_i weights[i] * inputs[i]`` (the weights sum to one)."""

    def __init__(self, weights, **kwargs):
        super().__init__(**kwargs)
        self.member_weights = [float(w) for w in weights]

    def call(self, inputs):
        return sum(w * x for w, x in zip(self.member_weights, inputs))

    def get_config(self):
        return {**super().get_config(), "weights": self.member_weights}


def ensemble_model(models, weights):
    """One Keras model averaging ``models`` (same inputs, same output shape) with ``weights``,
    compiled as the first of them (its loss, metrics and kind of optimizer).

    A trained member enters as an uncompiled model over its own layers
    (:func:`~autoarch.measures.inference_model`): its optimizer's state, twice its weights
    under Adam, would otherwise be saved with the ensemble (a breast-cancer ensemble's
    archive: 24 MB, of which 4.8 MB weights), and the ensemble trains with its own
    optimizer."""
    first = models[0]
    inputs = {t.name.split(":")[0]: keras.Input(shape=t.shape[1:], dtype=t.dtype,
                                                name=t.name.split(":")[0])
              for t in first.inputs}
    try:
        named = isinstance(first.input, dict)
    except AttributeError:  # a Sequential model: one input, never named
        named = False
    feed = inputs if named or len(inputs) > 1 else next(iter(inputs.values()))
    outputs = []
    for i, model in enumerate(models):
        model = inference_model(model)
        model.name = f"member_{i}"
        outputs.append(model(feed))
    output = WeightedAverage(weights, name="ensemble")(outputs)
    model = keras.Model(feed, output, name="ensemble")
    compiled = first.get_compile_config()
    if compiled:
        model.compile_from_config(compiled)
    return model
