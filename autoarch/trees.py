"""Gradient-boosted trees as a Keras model: the tree member a table's ensemble may take.

On small tables gradient boosting and networks err on different rows, and their average
often beats either (AutoGluon and auto-sklearn ensemble both for that reason). So a search on a
table (an input that encodes ahead, :mod:`autoarch.inputs.tabular`; or a raw signal of a
few hundred series, standardized, :mod:`autoarch.inputs.signal`) also fits
scikit-learn's ``GradientBoostingClassifier`` or ``GradientBoostingRegressor`` on the same
encoded training rows, and greedy ensemble selection (:mod:`autoarch.ensemble`) may weigh it
beside the trials (``boosted_trees``, on by default). Three boostings are fitted (depth 3;
depth 5; depth 5 with 20 rows a leaf, a table's categories also as their mean targets for
values or two classes: :data:`SETTINGS`), and the setting and count of trees of lowest
validation loss kept, refitted on all training rows: the shallow trees win on most small
tables, the deeper ones where more rows support interactions of more columns. Its trees
are public arrays (``tree_.feature``, ``threshold``, ``children_left``/``right``,
``value``); ``TreeEnsemble`` walks them with gathers inside the model, so the member
predicts, exports (Keras, SavedModel, TFLite) and pickles like any network, from the raw
columns.

Paired by seed on six held-out tables (``benchmarks/end_to_end.py --suite heldout``, with
and without ``--no-boosted-trees``) the trees moved test scores by +0.002 on average (ames
R^2 +0.009), and the selection weighed them in two searches of three; ``docs/design.md``.
"""

import time
from typing import NamedTuple

import keras
import numpy as np
from keras import layers

#: the boostings a search fits, and keeps the one of lowest validation loss: trees of depth 3
#: (scikit-learn's default) with small steps; of depth 5 (interactions of more columns, as
#: HistGradientBoosting's 31 leaves allow) with larger ones; and the same with at least 20
#: rows a leaf, as HistGradientBoosting has (no leaf for a few outlying rows: it won on a
#: wage, a spam and a covid-test table, lost on small ones, so it is a third choice rather
#: than a replacement; ``docs/design.md``), and on a table with category columns of three
#: values or more each of those also as its values' mean targets, for values or two classes
#: (:class:`CategoryCodes`); row subsampling in all. Early stopping on a sixth of the
#: training rows ends each; the search then takes the setting and the count of trees of
#: lowest validation loss and refits them on all training rows.
SETTINGS = ({"max_depth": 3, "learning_rate": 0.05, "subsample": 0.8, "min_samples_leaf": 1},
            {"max_depth": 5, "learning_rate": 0.1, "subsample": 0.8, "min_samples_leaf": 1},
            {"max_depth": 5, "learning_rate": 0.1, "subsample": 0.8, "min_samples_leaf": 20,
             "category_codes": True})
#: a setting's keys that are the boosting's own parameters (the rest say how rows are prepared)
BOOSTING = ("max_depth", "learning_rate", "subsample", "min_samples_leaf")
MAX_TREES = 1000
#: stages a boosting must have time for, else it is not fitted (:class:`TooSlow`)
MIN_STAGES = 5
#: rows the boosting fits at most (a random subset of larger tables), and at least
MAX_ROWS, MIN_ROWS = 50_000, 30
#: encoded rows with fewer nonzero values than this share are fitted on as a sparse matrix
SPARSE_SHARE = 0.1
#: rows whose medians make a column's shift (:func:`zero_shift`; odd: a median that occurs)
SHIFT_ROWS = 1001


@keras.saving.register_keras_serializable(package="autoarch")
class TreeEnsemble(layers.Layer):
    """The raw score of boosted regression trees: ``bias + sum_t tree_t(x)`` (the learning
    rate is in the leaf values), each tree adding to its output column (``column[t]``; one
    per class in multiclass boosting).

    Trees are stored as ``(trees, nodes)`` arrays in non-trainable weights; a leaf points to
    itself, so ``depth`` steps of "go left where ``x[feature] <= threshold``" reach every
    row's leaf in every tree at once. The trees see the rows as :class:`Prepared` made them
    for the fit: less ``shift`` where ``shifted``, then ``codes`` columns more, the rows'
    :class:`CategoryCodes` (``x @ code_kernel + code_bias``, from the rows as given).
    """

    def __init__(self, trees, nodes, outputs, depth, arrays=None, shifted=False, codes=0,
                 **kwargs):
        super().__init__(**kwargs)
        self.trees, self.nodes, self.outputs, self.depth = int(trees), int(nodes), \
            int(outputs), int(depth)
        self.shifted = bool(shifted)  # the rows less ``shift`` first, as the trees were fitted
        self.codes = int(codes)
        self._arrays = arrays  # initial values; a loaded model reads them from its weights

    def build(self, input_shape):
        given = self._arrays or {}

        def weight(name, shape, dtype):
            value = given.get(name)
            initializer = "zeros" if value is None else \
                keras.initializers.Constant(np.asarray(value, dtype=dtype))
            return self.add_weight(name=name, shape=shape, dtype=dtype, trainable=False,
                                   initializer=initializer)

        shape = (self.trees * self.nodes,)
        self.feature = weight("feature", shape, "int32")
        self.threshold = weight("threshold", shape, "float32")
        self.left = weight("left", shape, "int32")
        self.right = weight("right", shape, "int32")
        self.value = weight("value", shape, "float32")
        self.column = weight("column", (self.trees, self.outputs), "float32")
        self.bias = weight("bias", (self.outputs,), "float32")
        if self.shifted:
            self.shift = weight("shift", (input_shape[-1],), "float32")
        if self.codes:
            self.code_kernel = weight("code_kernel", (input_shape[-1], self.codes), "float32")
            self.code_bias = weight("code_bias", (self.codes,), "float32")
        self._arrays = None

    def call(self, x):
        x = keras.ops.cast(x, "float32")
        codes = keras.ops.matmul(x, self.code_kernel) + self.code_bias if self.codes else None
        if self.shifted:  # float32 subtraction, as NumPy made the rows the trees saw
            x = x - self.shift
        if codes is not None:
            x = keras.ops.concatenate([x, codes], axis=-1)
        offsets = keras.ops.arange(self.trees, dtype="int32") * self.nodes
        node = keras.ops.broadcast_to(offsets, (keras.ops.shape(x)[0], self.trees))
        for _ in range(self.depth):
            feature = keras.ops.take(self.feature, node)
            go_left = keras.ops.take_along_axis(x, feature, axis=1) <= \
                keras.ops.take(self.threshold, node)
            node = keras.ops.where(go_left, keras.ops.take(self.left, node),
                                   keras.ops.take(self.right, node))
        return keras.ops.matmul(keras.ops.take(self.value, node), self.column) + self.bias

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.outputs)

    def get_config(self):
        return {**super().get_config(), "trees": self.trees, "nodes": self.nodes,
                "outputs": self.outputs, "depth": self.depth, "shifted": self.shifted,
                "codes": self.codes}


class Prepared:
    """A boosting fitted on prepared rows, which predicts from encoded rows as given: less
    ``shift`` (:func:`zero_shift`; None: as given), then with their ``codes``
    (:class:`CategoryCodes`; None: none) as more columns. Its attributes are the
    boosting's, those of ``PREDICTING`` it has taking the rows as given (so a regressor has
    no ``decision_function`` here either)."""

    PREDICTING = ("predict", "predict_proba", "decision_function", "staged_predict",
                  "staged_predict_proba", "score")

    def __init__(self, model, shift=None, codes=None):
        self.model, self.shift, self.codes = model, shift, codes

    def __getattr__(self, name):
        if name in ("model", "shift", "codes"):  # not set yet: unpickling
            raise AttributeError(name)
        found = getattr(self.model, name)
        if name not in self.PREDICTING:
            return found
        return lambda x, *args: found(self.rows(x), *args)

    def rows(self, x):
        rows = x if self.shift is None else shifted_rows(x, self.shift)
        return rows if self.codes is None else with_columns(rows, self.codes(x))


class CategoryCodes:
    """Each category column of three values or more as its values' mean target: one-hot
    slots let a tree split one value off at a time, and a split on the mean target groups
    values as HistGradientBoosting's native categories do (its trees have no public arrays
    to walk); for squared error and two classes, ordering the values by their mean target
    finds the best split into two groups (Fisher, 1958; Breiman et al., 1984), where with
    more classes no one order does. scikit-learn's ``TargetEncoder`` (each mean shrunk
    towards the overall one by the value's count) on the column's slot; the rows it was
    fitted on get it cross-fitted (:meth:`fit`), so no row's code holds its own target.
    On 20 tables of values or two classes the boosting of depth 5 with 20 rows a leaf
    scored +0.011 on average with them (median +0.002; 15 better, 3 worse), on four of
    more classes -0.002 (1 better, 2 worse; ``docs/design.md``).

    ``groups``: the encoded positions of each such column's slots
    (:meth:`TabularInput.category_slots <autoarch.inputs.tabular.TabularInput.category_slots>`);
    the codes of encoded rows ``x`` are ``x @ kernel + bias``, which the model computes in
    :class:`TreeEnsemble`."""

    def __init__(self, kernel, bias):
        self.kernel, self.bias = kernel, bias

    def __call__(self, x):
        return np.asarray(x @ self.kernel, "float32") + self.bias

    @classmethod
    def fit(cls, x, y, groups, classification, seed=0):
        """``(codes, the rows' own codes, cross-fitted)`` from encoded rows ``x`` (dense or
        CSR) and targets ``y``: values, or two classes (the means are unweighted:
        ``TargetEncoder`` takes no sample weights)."""
        from sklearn.model_selection import KFold
        from sklearn.preprocessing import TargetEncoder

        values = np.column_stack([set_slot(x[:, g]) for g in groups])
        # plain folds: stratified ones warn of, or fail on, a class of fewer than five rows
        encoder = TargetEncoder(target_type="binary" if classification else "continuous",
                                cv=KFold(5, shuffle=True, random_state=seed))
        own = encoder.fit_transform(values, y).astype("float32")
        mean = float(encoder.target_mean_)
        kernel = np.zeros((x.shape[1], len(groups)), "float32")
        for j, group in enumerate(groups):
            for value, code in zip(encoder.categories_[j], encoder.encodings_[j]):
                if value >= 0:
                    kernel[group[value], j] = code - mean
        return cls(kernel, np.full(len(groups), mean, "float32")), own


def set_slot(slots):
    """Per row, which of its one-hot ``slots`` (dense, or CSR: never made dense, an
    identifier's thousand slots on 50,000 rows) is set; -1 where none is (a value never
    seen)."""
    if not hasattr(slots, "indptr"):
        return np.where(slots.max(axis=1) > 0, slots.argmax(axis=1), -1)
    found = np.full(slots.shape[0], -1)
    rows = np.repeat(np.arange(slots.shape[0]), np.diff(slots.indptr))
    kept = slots.data > 0  # scipy's argmax along rows loops in Python: 1 s on 39,000 rows
    found[rows[kept]] = slots.indices[kept]
    return found


def tree_arrays(model, x):
    """``TreeEnsemble`` arguments from a fitted scikit-learn ``GradientBoosting*`` model
    (or a :class:`Prepared` one); ``x``: a few of its rows, to read the constant it starts
    from (its public ``decision_function``/``predict`` less the trees' sum)."""
    prepared = isinstance(model, Prepared)
    shift, codes = (model.shift, model.codes) if prepared else (None, None)
    rows = model.rows(x) if prepared else x
    estimators = model.estimators_  # (trees, outputs) of DecisionTreeRegressor
    n_trees, outputs = estimators.shape
    nodes = max(e.tree_.node_count for e in estimators.ravel())
    flat = n_trees * outputs
    arrays = {"feature": np.zeros((flat, nodes), "int32"),
              "threshold": np.zeros((flat, nodes), "float32"),
              "left": np.zeros((flat, nodes), "int32"), "right": np.zeros((flat, nodes), "int32"),
              "value": np.zeros((flat, nodes), "float32"),
              "column": np.zeros((flat, outputs), "float32")}
    depth, total = 0, np.zeros((len(x), outputs))
    for t, (i, k) in enumerate(np.ndindex(n_trees, outputs)):
        tree = estimators[i, k].tree_
        count, base = tree.node_count, t * nodes
        leaf = tree.children_left < 0
        own = np.arange(count) + base
        arrays["feature"][t, :count] = np.where(leaf, 0, tree.feature)
        # x <= t for float32 x exactly when x <= the largest float32 not above t
        threshold = tree.threshold.astype("float32")
        above = threshold.astype("float64") > tree.threshold
        threshold[above] = np.nextafter(threshold[above], np.float32(-np.inf))
        arrays["threshold"][t, :count] = np.where(leaf, 0.0, threshold)
        arrays["left"][t, :count] = np.where(leaf, own, tree.children_left + base)
        arrays["right"][t, :count] = np.where(leaf, own, tree.children_right + base)
        arrays["value"][t, :count] = model.learning_rate * tree.value[:, 0, 0]
        arrays["left"][t, count:] = arrays["right"][t, count:] = base + np.arange(count, nodes)
        arrays["column"][t, k] = 1.0
        depth = max(depth, tree.max_depth)
        total[:, k] += model.learning_rate * estimators[i, k].predict(rows)
    raw = model.decision_function(x) if hasattr(model, "decision_function") else \
        model.predict(x)
    bias = (np.asarray(raw, "float64").reshape(len(x), outputs) - total)[0]
    arrays = {k: v.reshape(-1) if k != "column" else v for k, v in arrays.items()}
    arrays["bias"] = bias.astype("float32")
    if shift is not None:
        arrays["shift"] = np.asarray(shift, "float32")
    if codes is not None:
        arrays["code_kernel"], arrays["code_bias"] = codes.kernel, codes.bias
    return {"trees": flat, "nodes": nodes, "outputs": outputs, "depth": depth,
            "arrays": arrays, "shifted": shift is not None,
            "codes": 0 if codes is None else len(codes.bias)}


def at_most_rows(x, y, seed, dtype, sample_weight=None):
    """``x`` as ``dtype``, ``y`` (flattened) and ``sample_weight`` (None, or the rows'), or a
    random ``MAX_ROWS`` of their rows where they have more: what a classical member fits on.
    Mostly zeros (under ``SPARSE_SHARE`` nonzero: one-hot categories, bags of words), ``x``
    is a CSR matrix, whose zeros scikit-learn's trees and solvers skip: on a table of 2,500
    encoded columns, 1 % nonzero, three trees took 9.7 s dense and 0.9 s sparse, 50
    iterations of logistic regression 5.8 s and 0.5 s."""
    y = np.asarray(y).reshape(-1)
    if len(y) > MAX_ROWS:
        rows = np.random.default_rng(seed).choice(len(y), MAX_ROWS, replace=False)
        x, y = x[rows], y[rows]
        sample_weight = None if sample_weight is None else np.asarray(sample_weight)[rows]
    x = np.asarray(x, dtype)
    if x.size and np.count_nonzero(x) < SPARSE_SHARE * x.size:
        from scipy import sparse

        x = sparse.csr_matrix(x)
    return x, y, sample_weight


def zero_shift(x, seed=0):
    """Per column, a value most rows hold (the median of at most :data:`SHIFT_ROWS` rows),
    where taking it from every value leaves these rows under ``SPARSE_SHARE`` nonzero:
    columns of counts standardized (a raw 0 becomes minus the column's mean over its spread,
    in every row without one), which then fit as a sparse matrix; None where that is not so,
    or ``x`` is sparse already. On a table of 1,503 columns of counts the three boostings and
    the refit took 24 s standardized and 7 s shifted."""
    from scipy import sparse

    if sparse.issparse(x) or not x.size:
        return None
    sample = x[np.random.default_rng(seed).choice(len(x), min(len(x), SHIFT_ROWS),
                                                  replace=False)]
    shift = np.median(sample, axis=0).astype(x.dtype)  # an odd count: values that occur
    if np.count_nonzero(sample - shift) >= SPARSE_SHARE * sample.size:
        return None
    return shift


def shifted_rows(x, shift):
    """``x`` less ``shift`` (float32), as a CSR matrix."""
    from scipy import sparse

    return sparse.csr_matrix(np.asarray(x, "float32") - shift)


def with_columns(x, columns):
    """``x`` (dense or CSR) with dense ``columns`` after its own, as ``x`` is."""
    from scipy import sparse

    if sparse.issparse(x):
        return sparse.hstack([x, sparse.csr_matrix(columns)], format="csr")
    return np.column_stack([x, columns]).astype("float32")


def member_inputs(kind):
    """``kind``'s Keras inputs, and what a classical member's model takes: the one input
    itself, as ModelSpace's models do, or all of them by name."""
    from autoarch.blocks.layout import DEFAULT_INPUT

    made = kind.keras_inputs()
    return made, made[DEFAULT_INPUT] if list(made) == [DEFAULT_INPUT] else made


class BoostingRows(NamedTuple):
    """What :func:`fit_boosted_trees` fits on (:func:`boosting_rows`): the rows as the trees
    see them, less ``shift`` where there is one; their targets and sample weights; and
    where category columns were given, their :class:`CategoryCodes` and the rows' own."""

    x: object
    y: np.ndarray
    sample_weight: object
    shift: object
    codes: object = None
    own_codes: object = None


def boosting_rows(x, y, seed=0, sample_weight=None, groups=None, classification=True):
    """What :func:`fit_boosted_trees` fits on (a :class:`BoostingRows`), made once where
    several fits share the same rows (a search's three settings and refit; 0.23 s each on
    6,500 rows of 4,000 standardized counts): :func:`at_most_rows`, less :func:`zero_shift`
    where it finds one; with ``groups`` (the encoded slots of category columns), their
    :class:`CategoryCodes` too, for values or two classes."""
    x, y, sample_weight = at_most_rows(x, y, seed, "float32", sample_weight)
    coded = groups and (not classification or len(np.unique(y)) == 2)
    codes, own = CategoryCodes.fit(x, y, groups, classification, seed) if coded else \
        (None, None)
    shift = zero_shift(x, seed)
    return BoostingRows(x if shift is None else shifted_rows(x, shift), y, sample_weight,
                        shift, codes, own)


def fit_boosted_trees(x, y, classification, seed=0, seconds=None, n_trees=None,
                      settings=SETTINGS[0], rows=None, sample_weight=None, groups=None):
    """A fitted ``GradientBoostingClassifier``/``Regressor`` on encoded rows ``x``, with
    ``settings`` (one of :data:`SETTINGS`, or :func:`settings_of` a fitted one); fitted on
    the rows less each column's usual value where :func:`zero_shift` finds that sparse, and
    with the :class:`CategoryCodes` of ``groups`` where the setting takes them, and then
    :class:`Prepared`. ``rows``: ``boosting_rows(x, y, seed, sample_weight, groups,
    classification)`` made beforehand (``x``, ``y``, ``sample_weight`` and ``groups`` are
    then not read). Sample weights weigh each row's loss, the early stopping's held-out loss
    too.

    Without ``n_trees``, up to ``MAX_TREES`` trees, stopping when a held-out sixth of the
    rows has not improved for 20 trees; with it, that many on every row. Either way it
    stops early where ``seconds`` run out (scikit-learn's ``monitor``, called between
    stages). A stage grows a tree per class past two, so with many classes one stage may
    outlast the ``seconds``: where ``MIN_STAGES`` would, by one tree timed on the rows, the
    fit without ``n_trees`` raises :class:`TooSlow` (50 classes on 12,800 rows of 200
    columns: three settings of one stage each took 88 s of a 60 s search); a refit of a
    count found so had its stages timed by that fit.
    """
    from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor

    coded = settings.get("category_codes")
    rows = rows or boosting_rows(x, y, seed, sample_weight, groups if coded else None,
                                 classification)
    codes = rows.codes if coded else None
    x, y, weights = rows.x, rows.y, rows.sample_weight
    if codes is not None:
        x = with_columns(x, rows.own_codes)
    settings = {k: settings[k] for k in BOOSTING}
    classes = len(np.unique(y)) if classification else 1
    if n_trees is None and seconds is not None and classes > 2:
        stage = classes * _tree_seconds(x, y, settings, seed)
        if MIN_STAGES * stage > seconds:
            raise TooSlow(f"a stage of {classes} trees (one per class) takes about "
                          f"{stage:.1f} s, and {seconds:.1f} s are left for {MIN_STAGES}")
    kind = GradientBoostingClassifier if classification else GradientBoostingRegressor
    model = kind(n_estimators=n_trees, random_state=seed, **settings) if n_trees else \
        kind(n_estimators=MAX_TREES, n_iter_no_change=20, validation_fraction=1 / 6,
             random_state=seed, **settings)
    if seconds is None:
        model.fit(x, y, sample_weight=weights)
    else:
        deadline = time.monotonic() + seconds
        model.fit(x, y, sample_weight=weights,
                  monitor=lambda *_: time.monotonic() > deadline)
    return model if rows.shift is None and codes is None else \
        Prepared(model, rows.shift, codes)


class TooSlow(ValueError):
    """A boosting whose stages, a tree per class, would not fit in its time."""


def _tree_seconds(x, y, settings, seed):
    """Seconds one regression tree of ``settings`` takes on the rows a stage subsamples (a
    class's indicator as its target: what the trees of a stage fit are as costly)."""
    from sklearn.tree import DecisionTreeRegressor

    rows = np.random.default_rng(seed).random(x.shape[0]) < settings["subsample"]
    started = time.monotonic()
    DecisionTreeRegressor(max_depth=settings["max_depth"],
                          min_samples_leaf=settings["min_samples_leaf"],
                          random_state=seed).fit(x[rows], (y[rows] == y[0]).astype("float64"))
    return time.monotonic() - started


def setting_name(settings):
    """A setting's short name, as the journal and summary give it: ``"depth 5"``, or
    ``"depth 5, 20 rows a leaf"``, ``"depth 5, 20 rows a leaf, category codes"``."""
    leaf = settings.get("min_samples_leaf", 1)
    return f"depth {settings['max_depth']}" + (f", {leaf} rows a leaf" if leaf > 1 else "") + \
        (", category codes" if settings.get("category_codes") else "")


def settings_of(model):
    """The setting a fitted boosting was made with (its refit's), as :data:`SETTINGS` gives
    one; ``category_codes`` only where it has them (a table without category columns fits
    the third setting without)."""
    settings = {k: getattr(model, k) for k in BOOSTING}
    return {**settings, "category_codes": True} if getattr(model, "codes", None) is not None \
        else settings


def trees_model(kind, fitted, x, classification):
    """A Keras model from ``kind``'s raw inputs (a fitted input kind that encodes ahead) to
    the boosted trees' predictions: class probabilities (a sigmoid unit for two classes, as
    the classification head) or values in the targets' units; ``x``: a few encoded rows."""
    made, inputs = member_inputs(kind)
    score = TreeEnsemble(**tree_arrays(fitted, x), name="boosted_trees")(kind.encode(made))
    if classification:
        score = layers.Activation("sigmoid" if score.shape[-1] == 1 else "softmax")(score)
    return keras.Model(inputs, score, name="boosted_trees")
