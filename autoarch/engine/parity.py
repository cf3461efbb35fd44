"""Group thresholds for demographic parity, inside the model (``training/parity_thresholds``).

A post-processing in the spirit of Hardt et al. (2016) and fairlearn's
``ThresholdOptimizer``: a trained binary classifier predicts the positive class (class 1)
above a threshold of its group's own, chosen on the training rows so that every group is
predicted positive at the same rate, the rate that is most accurate there. The thresholds
become a layer after the model's output that reads the sensitive column from the model's
own inputs, so the model that predicts and exports applies them, with no group passed
beside it. Fitted on all the training rows, not on the few hundred validation rows whose
parity the search then checks: on wa_churn, with senior citizens as groups, the threshold
moved a linear model's test parity difference from 0.25 to 0.016, and the search's
selected models reached 0.013 at fairlearn's accuracy (five splits; ``docs/design.md``).
"""

import keras
import numpy as np
import tensorflow as tf

EPSILON = 1e-6
RATES = np.linspace(0.01, 0.99, 99)


def parity_thresholds(probabilities, groups, y):
    """``{group: threshold}``: each group's ``1 - rate`` quantile of its positive-class
    probabilities, for the rate (1 % to 99 %) whose predictions are most accurate on these
    rows (the first such rate)."""
    p, groups, y = np.asarray(probabilities, "float64"), np.asarray(groups), np.asarray(y)
    names = np.unique(groups)
    best, chosen = -1.0, None
    for rate in RATES:
        cut = {g: float(np.quantile(p[groups == g], 1.0 - rate)) for g in names}
        predicted = p > np.array([cut[g] for g in groups])
        accuracy = float(np.mean(predicted == (y == 1)))
        if accuracy > best:
            best, chosen = accuracy, cut
    return {str(g): float(np.clip(t, EPSILON, 1.0 - EPSILON)) for g, t in chosen.items()}


def positive_probability(predictions):
    """Class 1's probability from one sigmoid unit or two softmax units."""
    predictions = np.asarray(predictions)
    return predictions.reshape(-1) if predictions.ndim == 1 or predictions.shape[1] == 1 \
        else predictions[:, 1]


@keras.saving.register_keras_serializable(package="autoarch")
class GroupThresholds(keras.layers.Layer):
    """Moves class 1's log-odds by ``-logit(threshold)`` of the row's group (matched on the
    sensitive column's value; a value seen in no group keeps 0.5), so that 0.5 on the
    output is the group's threshold on the input probabilities."""

    def __init__(self, values, thresholds, **kwargs):
        super().__init__(**kwargs)
        self.values = list(values)
        self.thresholds = [float(t) for t in thresholds]

    def call(self, inputs):
        probabilities, column = inputs
        if column.dtype != tf.string:
            column = tf.cast(column, "float32")
        one = tf.clip_by_value(probabilities[:, -1:], EPSILON, 1.0 - EPSILON)
        log_odds = tf.math.log(one / (1.0 - one))
        for value, threshold in zip(self.values, self.thresholds):
            match = tf.cast(tf.equal(column, value), "float32")
            log_odds -= match * float(np.log(threshold / (1.0 - threshold)))
        moved = tf.sigmoid(log_odds)
        return moved if probabilities.shape[-1] == 1 else tf.concat([1.0 - moved, moved], -1)

    def get_config(self):
        return {**super().get_config(), "values": self.values, "thresholds": self.thresholds}


def with_thresholds(model, input_name, numeric, thresholds):
    """``model`` followed by :class:`GroupThresholds` on its input ``input_name`` (the
    sensitive column; ``numeric``: its groups are numbers, matched as floats), compiled
    as ``model``."""
    column = model.input[input_name]
    values = [_number(g) if numeric else str(g) for g in thresholds]
    output = GroupThresholds(values, list(thresholds.values()), name="parity_thresholds")(
        [model.output, column])
    return _compiled_as(model, output)


def _number(group):
    """A numeric column's group label (``group_labels`` wrote ``str(value)``) as the float
    the model's input holds."""
    booleans = {"True": 1.0, "False": 0.0}
    return booleans[group] if group in booleans else float(group)


def without_thresholds(model):
    """The model under its :class:`GroupThresholds` (a saved trial that continues training
    learns without them), or ``model`` itself."""
    layer = next((layer for layer in model.layers if isinstance(layer, GroupThresholds)),
                 None)
    if layer is None:
        return model
    return _compiled_as(model, layer.input[0])


def _compiled_as(model, output):
    """A model from ``model``'s inputs to ``output`` (a tensor of its graph), named and
    compiled as ``model``."""
    other = keras.Model(model.input, output, name=model.name)
    compiled = model.get_compile_config()
    if compiled:
        other.compile_from_config(compiled)
    return other
