"""The metrics a search may be asked to optimise beyond the heads' own (``accuracy``; the
squared and absolute errors): ``objective="val_auc"`` makes every candidate compute AUC.

A head compiles only its own metrics (each costs every batch), so an objective, one of
``objectives`` or a constraint that names another metric (``val_auc``, ``recall``) is added
to the head's metrics by the search (:func:`extra_metrics`); a name that is neither the
head's, one of these, nor a measure of :mod:`autoarch.measures` is refused before any
training, naming the ones there are. Multiclass AUC is the one-vs-rest macro average (as
scikit-learn's ``roc_auc_score(multi_class="ovr")``), from the integer labels
(:class:`SparseAUC`).
"""

import keras
from keras import ops

from autoarch.spec.checks import did_you_mean


@keras.saving.register_keras_serializable(package="autoarch")
class SparseAUC(keras.metrics.AUC):
    """AUC of class probabilities against integer labels: each label one-hot over
    ``num_classes`` columns, the area averaged over the classes (one-vs-rest)."""

    def __init__(self, num_classes, **kwargs):
        kwargs.setdefault("multi_label", True)
        kwargs.setdefault("num_labels", num_classes)
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        if sample_weight is not None:  # a weight per row, for each class's column
            sample_weight = ops.reshape(sample_weight, (-1, 1))
        return super().update_state(ops.one_hot(labels, self.num_classes), y_pred,
                                    sample_weight)

    def get_config(self):
        config = super().get_config()
        config.pop("num_labels", None)  # set from num_classes
        return {**config, "num_classes": self.num_classes}


def _auc(curve):
    def make(head):
        name = "auc" if curve == "ROC" else "prc"
        if head.num_classes == 2:
            return keras.metrics.AUC(curve=curve, name=name)
        return SparseAUC(head.num_classes, curve=curve, name=name)

    return make


def _binary(metric):
    def make(head):
        if head.num_classes != 2:
            raise ValueError(f"{metric.__name__.lower()} is for two classes (this head has "
                             f"{head.num_classes}); give auc, prc or accuracy")
        return metric(name=metric.__name__.lower())

    return make


#: ``{name: make(head) -> a new Keras metric}`` per task
CLASSIFICATION = {"auc": _auc("ROC"), "prc": _auc("PR"),
                  "precision": _binary(keras.metrics.Precision),
                  "recall": _binary(keras.metrics.Recall)}
REGRESSION = {"root_mean_squared_error": lambda head: keras.metrics.RootMeanSquaredError(
                  name="root_mean_squared_error"),
              "r2_score": lambda head: keras.metrics.R2Score(name="r2_score"),
              "mean_absolute_percentage_error": lambda head: "mean_absolute_percentage_error"}


def extra_metrics(head, names, classification):
    """The metric names among ``names`` (objectives and constraints, ``val_`` or not) that
    ``head`` must compute beyond its own, checked; a name that is no metric there is
    refused, with the ones there are."""
    from autoarch.measures import DIRECTIONS as MEASURES

    known = CLASSIFICATION if classification else REGRESSION
    own = ("loss", *head.metrics)
    extra = []
    for name in names:
        metric = name[len("val_"):] if name.startswith("val_") else name
        if name in MEASURES or metric in own or metric in extra:
            continue
        if metric not in known:
            choices = [f"val_{m}" for m in (*own, *known)]
            raise ValueError(f"objective {name!r} is no metric a {head.kind} computes"
                             f"{did_you_mean(name, choices)}; there are {', '.join(choices)} "
                             f"(and the measures {', '.join(MEASURES)})")
        known[metric](head)  # refused here, before training, where it does not apply
        extra.append(metric)
    return extra


def made(head, names):
    """New Keras metrics for ``names`` (of :func:`extra_metrics`) on ``head``."""
    known = {**CLASSIFICATION, **REGRESSION}
    return [known[name](head) for name in names]
