"""Which of a table's columns the network sees, and how.

Networks on tables suffer from columns that carry nothing (Grinsztajn et al., 2022, "Why do
tree-based models still outperform deep learning on tabular data?"): gradient boosting ignores
them, an MLP fits noise to them. On the development churn table (19 columns, among them a
51-state column), an MLP on the half of the columns that matter most reaches 0.956 against
0.912 on all of them. So the columns are ranked once, on the training rows, by the permutation
importance of a quick gradient boosting model, and the search chooses how many of the most
important ones to keep (``keep``: ``"all"``, which wins where every column helps, or
``"informative"``: the columns whose importance is clearly above zero, more than twice its
spread over the shuffles). An embedding of the kept numeric columns appended to them is the
block's second choice (``encode``), and which one the third (``embedding``: the
piecewise-linear encoding, :mod:`autoarch.blocks.piecewise`, or the periodic one,
:mod:`autoarch.blocks.periodic`); their scale the fourth (``scale``: ``"quantile"``, each
column's normal scores, robust to skewed columns' outliers, or ``"standard"``, as the input
kind standardized them, clipped to the range the training rows span: beyond it a network
extrapolates, where a tree stays flat; on ames, three seeds, the clip lifted test R² from
0.847 to 0.860, higher in each seed).
"""

import keras
import numpy as np
import pandas as pd
from keras import layers
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.inspection import permutation_importance
from sklearn.model_selection import train_test_split

from autoarch.blocks.base import Block, boolean, choice, searched_values
from autoarch.blocks.periodic import PeriodicEmbedding
from autoarch.blocks.piecewise import ClipFeatures, PiecewiseLinear, QuantileNormal
from autoarch.splits import stratify_labels

#: a table with fewer columns is not ranked: every column is kept; nor one with more: the
#: ranking's cost grows with the columns times the rows (2,000 columns of tf-idf values took
#: 101 s of a 60 s search, and no trial was left time to finish)
MIN_COLUMNS, MAX_COLUMNS = 4, 200
#: rows the ranking model sees at most (a random subset of larger tables), and values
RANKING_ROWS, RANKING_VALUES = 10_000, 500_000
#: trees the ranking model grows at most (its 100 iterations grow one per class past two
#: each: with 50 classes 5,000 trees, 54 s of a 60 s search), and iterations at least
RANKING_TREES, MIN_RANKING_ITERATIONS = 500, 10
#: the numeric columns' embeddings (``embedding``) when ``encode`` is on
EMBEDDINGS = ("piecewise", "periodic")
#: category codes beyond this count are ranked as ordered numbers (gradient boosting's bins)
MAX_CATEGORIES = 255


def column_importance(columns, numeric, y, classification, seed=0):
    """``{column: (mean, std)}``: the drop of a ``HistGradientBoosting`` model's score
    (accuracy or R²) on a quarter of the rows it did not fit when the column is shuffled,
    over several shuffles. The model makes its 100 iterations, or fewer where it has many
    classes, ``RANKING_TREES`` trees at most (one per class each; on 5,000 rows of 100
    columns and 10 classes 7.0 s instead of 12.5 s, with 10, 13 and 12 of the 20
    informative columns in the top 20 over three draws, against 13, 10 and 12).

    ``columns``: ``{name: (n,) or (n, 1) array}``; ``numeric``: the names of numeric columns
    (the rest are strings, one category per value, numbered in sorted order: beyond
    ``MAX_CATEGORIES`` the model splits them as numbers, and a date's words sort by year).
    """
    frame = {}
    for name, values in columns.items():
        values = np.asarray(values).reshape(-1)
        frame[name] = values.astype("float64") if name in numeric else \
            pd.factorize(pd.Series(values, dtype=object), sort=True)[0].astype("float64")
    frame = pd.DataFrame(frame)
    mask = [name not in numeric and frame[name].max() < MAX_CATEGORIES for name in frame]
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    most = min(RANKING_ROWS, max(1, RANKING_VALUES // frame.shape[1]))
    if len(frame) > most:
        rows = np.sort(rng.choice(len(frame), most, replace=False))
        frame, y = frame.iloc[rows], y[rows]
    x_fit, x_held, y_fit, y_held = train_test_split(
        frame, y, test_size=0.25, random_state=seed,
        stratify=stratify_labels(y, 0.25) if classification else None)
    # a column without a value in the rows fitted on carries nothing, and HistGradientBoosting
    # fails on it (scikit-learn 1.9: "window shape cannot be larger than input array shape")
    x_fit = x_fit.fillna({name: 0.0 for name in x_fit.columns[x_fit.isna().all()]})
    model = (HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor)(
        categorical_features=mask, random_state=seed,
        max_iter=ranking_iterations(len(np.unique(y_fit)) if classification else 1))
    model.fit(x_fit.to_numpy(), y_fit)  # arrays: a frame's checks cost more than the model
    repeats = max(1, min(5, 150 // max(1, frame.shape[1])))
    result = permutation_importance(model, x_held.to_numpy(), y_held, n_repeats=repeats,
                                    random_state=seed)
    return {name: (float(mean), float(std)) for name, mean, std in
            zip(frame.columns, result.importances_mean, result.importances_std)}


def ranking_iterations(classes):
    """The ranking model's iterations: 100, as scikit-learn's default, or as many as grow
    ``RANKING_TREES`` trees where each grows one per class (more than two classes)."""
    per_iteration = classes if classes > 2 else 1
    return max(MIN_RANKING_ITERATIONS, min(100, RANKING_TREES // per_iteration))


@keras.saving.register_keras_serializable(package="autoarch")
class SelectFeatures(layers.Layer):
    """The features at ``indices`` of a (batch, features) input, in that order."""

    def __init__(self, indices, **kwargs):
        super().__init__(**kwargs)
        self.indices = [int(i) for i in indices]

    def call(self, x):
        return keras.ops.take(x, keras.ops.convert_to_tensor(self.indices, "int32"), axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.indices))

    def get_config(self):
        return {**super().get_config(), "indices": self.indices}


class TableFeatures(Block):
    """Searched: which columns are kept (``keep``: ``"all"`` or ``"informative"``), whether
    the kept numeric columns also get an embedding (``encode``), which (``embedding``:
    ``"piecewise"``-linear, of their standardized values, or ``"periodic"``, of their scaled,
    bounded values) and whether
    their values are quantile-transformed (``scale``: ``"quantile"``) or stay standardized,
    clipped to the training range (``"standard"``).

    ``table``: the fitted :class:`~autoarch.inputs.tabular.TabularInput` whose ``encode``
    vector this block reads; a search ranks its columns (``adapt_target``) before the space's
    parameters are declared.
    """

    kind = "table_features"

    def __init__(self, name=None, table=None, **arguments):
        self.table = table  # not an argument: its edges and layout come from the data
        self.importance = None  # {column: (mean, std)}, from adapt_target
        super().__init__(name=name, **arguments)
        unknown = [e for e in searched_values(arguments.get("embedding")) if e not in EMBEDDINGS]
        if unknown:
            raise ValueError(f"TableFeatures: embedding must be one of {', '.join(EMBEDDINGS)}, "
                             f"got {unknown[0]!r}")

    def _numeric(self, kept=None):
        return [c for c in self.table.columns if c in self.table.numeric
                and (kept is None or c in kept)]

    def _ranked(self):
        """The ranked columns, most important first (none before ``adapt_target`` ranks
        them)."""
        if self.importance is None:
            return []
        return sorted(self.importance, key=lambda c: -self.importance[c][0])

    def informative(self):
        """Columns whose importance is above zero by more than twice its spread, most
        important first, then the free-text columns (not ranked: to a ranking model a text
        is a category of one row)."""
        if self.importance is None:
            return []
        return [c for c in self._ranked()
                if self.importance[c][0] > max(0.0, 2 * self.importance[c][1])] + \
            [c for c in self.table.columns if c in self.table.texts and c not in self.importance]

    def search_space(self):
        ranked = self.table is not None and 0 < len(self.informative()) < len(self.table.columns)
        binned = self.table is not None and any(
            len(self.table.edges.get(c, [])) > 2 for c in self._numeric())
        return {"keep": choice("all", "informative") if ranked else "all",
                "encode": boolean(True) if binned else False,
                "scale": choice("quantile", "standard") if binned else "standard",
                "embedding": choice(*EMBEDDINGS) if binned else "piecewise"}

    def conditions(self):
        return {"embedding": {"encode": [True]}}

    def adapt_target(self, arrays, y, classification):
        """Rank the table's columns but free texts by :func:`column_importance` on the
        training rows (dates too: their words sort as their years)."""
        columns = [c for c in self.table.columns
                   if c not in self.table.texts or c in self.table.dates]
        y = np.asarray(y)
        if not MIN_COLUMNS <= len(columns) <= MAX_COLUMNS or (y.ndim > 1 and y.shape[1] > 1):
            self.importance = None
            return
        self.importance = column_importance({c: arrays[c] for c in columns},
                                            self.table.numeric, y.reshape(-1), classification)

    def learned(self):
        """The ranking, most important first (the journal's ``adapted`` note)."""
        if self.importance is None:
            return {}
        informative = set(self.informative())
        return {"column_importance": [[c, round(self.importance[c][0], 5),
                                       round(self.importance[c][1], 5), c in informative]
                                      for c in self._ranked()]}

    def kept(self, keep):
        """The names of the columns ``keep`` (``"all"`` or ``"informative"``) keeps."""
        informative = self.informative() if keep == "informative" else []
        return set(informative or self.table.columns)

    def build(self, hp, inputs):
        v = self.declare(hp)
        kept = self.kept(v["keep"])
        numeric = self._numeric(kept)
        x = inputs
        if len(kept) < len(self.table.columns):  # numeric values, their indicators, one-hots
            layout = self.table.layout()
            indices = [layout[c][0] for c in numeric] + [layout[c][1] for c in numeric] + [
                i for c in self.table.columns if c in kept and c not in self.table.numeric
                for i in layout[c]]
            x = SelectFeatures(indices)(inputs)
        edges = [self.table.edges.get(c, []) for c in numeric]
        embedding = v["embedding"] if v["encode"] else None  # a fixed value stays without encode
        encoded = PiecewiseLinear(edges, compact=True)(x) if embedding == "piecewise" \
            and any(len(e) > 2 for e in edges) else None
        if v["scale"] == "quantile" and numeric:  # the numeric values come first in x
            x = QuantileNormal([self.table.knots.get(c, ([], [])) for c in numeric])(x)
        elif numeric:  # standardized, bounded to the training rows' range
            ranges = [self.table.edges.get(c) or [0.0] for c in numeric]
            x = ClipFeatures([r[0] for r in ranges], [r[-1] for r in ranges])(x)
        if embedding == "periodic" and numeric:
            encoded = PeriodicEmbedding(len(numeric))(x)  # of the scaled, bounded values
        return x if encoded is None else layers.Concatenate()([x, encoded])
