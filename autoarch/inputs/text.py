"""Texts: one string per sample, vectorized inside the model (see ``TextBlock``)."""

import numpy as np
import pandas as pd

from autoarch.blocks import TextBlock
from autoarch.blocks.base import choice
from autoarch.inputs.base import InputKind


class TextInput(InputKind):
    kind = "text"
    tags = {"string": True}
    # the validation fifth holds n-grams the trial never saw, which the retraining learns:
    # on text_sections averaging its retraining with the trial model gave back 0.006 of the
    # retraining's 0.015 (one search; docs/design.md)
    refit_alone = True

    @classmethod
    def recognises(cls, x):
        return getattr(x, "ndim", 0) == 1 and (x.dtype == object or x.dtype.kind in "US")

    def check(self, x):
        """One string per row; a missing text (None, NaN) is the empty one, as real text
        columns have gaps (a review without a body)."""
        texts = np.asarray(x, dtype=object).reshape(-1)
        texts = np.where(pd.isna(texts), "", texts)
        wrong = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
        if wrong is not None:
            raise ValueError(f"text X must hold strings (or missing values); row {wrong} holds "
                             f"{type(texts[wrong]).__name__} {texts[wrong]!r}")
        return texts

    def n_features(self, x):
        return 1

    def default_blocks(self):
        return [TextBlock()]

    def default_head(self, task):
        # the squared hinge for the first trial, the SGD bag: a linear SVM's loss beats
        # cross-entropy on the tf-idf bag (blocks.layers.squared_hinge); cross-entropy for
        # the next two (TextBlock.first_trials)
        if task != "classification":
            return {}
        return {"loss": ["hinge", "crossentropy"],
                "first_trials": [{"loss": "hinge"}, {"loss": "crossentropy"},
                                 {"loss": "crossentropy"}]}

    def default_training(self):
        # plain SGD for the tf-idf bag: Adam's per-weight step sizes move the weights of
        # n-grams seen once as far as those of common words, and the bag overfits them
        # (on both development text sets: 2-3 points below logistic regression; SGD with
        # momentum matches it)
        return {"optimizer": choice("adam", "sgd"),
                "learning_rate": choice(1e-3, 3e-3, 3e-4, 1e-2, ordered=False)}
