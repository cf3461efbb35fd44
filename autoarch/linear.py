"""Linear models as Keras models: the linear members a text's or a table's ensemble may
take.

On short texts a linear SVM over word 1-2 grams is the one-second baseline to beat, and the
networks of a text search err on other texts than it does. So a search on one text input
also fits, in a second or two each, two linear models on the tf-idf rows of the training
texts, and greedy ensemble selection (:mod:`autoarch.ensemble`) may weigh them beside the
trials (``text_linear``, on by default), as it may the boosted trees on a table
(:mod:`autoarch.trees`):

- ``"linear"``: scikit-learn's ``LinearSVC`` (``Ridge`` for a regression);
- ``"nb_linear"`` (classification): NBSVM (Wang and Manning, 2012), one linear SVM per
  class on the tf-idf rows scaled by each n-gram's naive-Bayes log-count ratio of that
  class against the rest. Its coefficients times the ratios are again one linear layer
  over the same rows.

The SVMs' scores become probabilities through a softmax (a sigmoid for two classes) at one
temperature fitted on the validation rows, so log loss can weigh them beside the trials'
probabilities. Each member is one Keras model from the raw strings: the bag of
:class:`TextBlock` (``TextVectorization`` of the same words, :class:`TfIdf` with the fitted
document frequencies) and a ``Dense`` layer holding the coefficients, so it predicts,
exports and pickles like any trial; its retraining on every row takes as long again.

On a table with classes the linear model is the other one-second baseline: logistic
regression on the rows the boosted trees see, the table's own encoding (numeric columns
imputed and standardized with missing indicators, one-hot string columns;
:meth:`TabularInput.encode`), and so again one ``Dense`` layer over that encoding
(``table_linear``, on by default). Its probabilities need no temperature: logistic
regression minimises the log loss the selection scores. A table's regression gets none:
ridge regression as a member gained nothing measurable on ten held-out regressions: four
where its R^2 is far below gradient boosting's (the scores moved as between runs), and six
small ones where it is among the best models, on none of which the selection weighed it
(``docs/design.md``). A flat signal gets one on its standardized samples: ridge regression
for values, its penalty chosen by leave-one-out error, and with classes, over 1,000
training series (where no boosted trees are fitted), logistic regression. A band of a
spectrum's wavelengths is the usual model of a quantity, and a signal's first trial, a
convolution over its columns, can take the whole budget on long, wide arrays.
"""

import time

import keras
import numpy as np
from keras import layers

from autoarch.blocks.text import bag_rows, bag_vectorizer, strings
from autoarch.trees import at_most_rows, member_inputs

#: LinearSVC's regularisation (its default: on both development text sets within half a
#: point of C = 0.5) and Ridge's; the naive-Bayes ratios' smoothing (Wang and Manning's)
C, ALPHA, SMOOTHING = 1.0, 1.0, 1.0
#: a table's logistic regression: iterations at most, and how many between checks of the time
MAX_ITER, CHUNK = 1000, 100
#: a signal's ridge regression: the penalties its leave-one-out error chooses among
RIDGE_ALPHAS = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)


class TextLinear:
    """A fitted tf-idf vectorizer, the coefficients and intercepts of a linear model over
    its rows (``(outputs, n-grams)`` and ``(outputs,)``), and the temperature of its
    scores. ``naive_bayes``: NBSVM's scaled rows (classification only); ``sample_weight``:
    each text's weight in the fit (the naive-Bayes counts too)."""

    def __init__(self, texts, y, classification, naive_bayes=False, max_features=50000,
                 seed=0, sample_weight=None):
        if naive_bayes and not classification:
            raise ValueError("naive-Bayes scaling needs classes: a regression has none")
        started = time.monotonic()
        self.classification, self.naive_bayes, self.seed = classification, naive_bayes, seed
        self.temperature = 1.0
        self.vectorizer = bag_vectorizer(max_features)
        rows = self.vectorizer.fit_transform(strings(texts))
        y = np.asarray(y).reshape(-1)
        fit = self._naive_bayes if naive_bayes else self._plain
        coef, intercept = fit(rows, y, sample_weight)
        self.coef = np.asarray(coef, dtype="float64").reshape(-1, rows.shape[1])
        self.intercept = np.asarray(intercept, dtype="float64").reshape(-1)
        self.seconds = time.monotonic() - started

    def _plain(self, rows, y, sample_weight):
        from sklearn.linear_model import Ridge
        from sklearn.svm import LinearSVC

        model = LinearSVC(C=C, random_state=self.seed) if self.classification else \
            Ridge(alpha=ALPHA)
        model.fit(rows, y, sample_weight=sample_weight)
        return model.coef_, model.intercept_

    def _naive_bayes(self, rows, y, sample_weight):
        """One SVM per class (one for two classes) on rows scaled by the class's log-count
        ratios ``r`` (each text counted at its weight); ``x r . w = x . (r w)``, so ``r w``
        is the coefficient over ``x``."""
        import scipy.sparse as sparse
        from sklearn.svm import LinearSVC

        present = (rows > 0).astype("float64")
        weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
        classes = np.unique(y)
        coefs, intercepts = [], []
        for c in classes[1:] if len(classes) == 2 else classes:
            mine = y == c
            counts = (np.asarray(present.T @ (weight * mine)).reshape(-1) + SMOOTHING,
                      np.asarray(present.T @ (weight * ~mine)).reshape(-1) + SMOOTHING)
            ratio = np.log(counts[0] / counts[0].sum()) - np.log(counts[1] / counts[1].sum())
            svm = LinearSVC(C=C, random_state=self.seed).fit(
                rows @ sparse.diags(ratio), mine.astype(int), sample_weight=sample_weight)
            coefs.append(ratio * svm.coef_.reshape(-1))
            intercepts.append(svm.intercept_[0])
        return np.stack(coefs), np.asarray(intercepts)

    def scores(self, texts):
        """Decision scores (values for a regression), ``(n, classes)``, or ``(n, 1)`` for
        two classes and a regression."""
        rows = self.vectorizer.transform(strings(texts))
        return np.asarray(rows @ self.coef.T, dtype="float64") + self.intercept

    def outputs(self, texts):
        """What a trial model outputs: class probabilities (one sigmoid unit for two
        classes) at the fitted temperature, or values in the targets' units."""
        scores = self.scores(texts)
        return _probabilities(self.temperature * scores) if self.classification else scores

    def fit_temperature(self, texts, y, sample_weight=None):
        """The temperature whose probabilities have the lowest log loss on ``texts`` (each
        text's at its weight)."""
        from scipy.optimize import minimize_scalar

        from autoarch.ensemble import loss

        scores, y = self.scores(texts), np.asarray(y).reshape(-1)
        found = minimize_scalar(
            lambda t: loss(_probabilities(np.exp(t) * scores), y, True, sample_weight),
            bounds=(-5.0, 5.0), method="bounded")
        self.temperature = float(np.exp(found.x))
        return self

    def refitted(self, texts, y, sample_weight=None):
        """The same kind of model fitted on ``texts`` (the vocabulary too), at this
        temperature."""
        model = TextLinear(texts, y, self.classification, naive_bayes=self.naive_bayes,
                           max_features=self.vectorizer.max_features, seed=self.seed,
                           sample_weight=sample_weight)
        model.temperature = self.temperature
        return model


def _probabilities(scores):
    if scores.shape[1] == 1:
        return 1.0 / (1.0 + np.exp(-scores))
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def text_linear_model(kind, fitted, name="text_linear"):
    """A Keras model from ``kind``'s raw strings to ``fitted``'s :meth:`TextLinear.outputs`."""
    made, inputs = member_inputs(kind)
    vectorizer = fitted.vectorizer
    x = bag_rows(kind.encode(made), [str(t) for t in vectorizer.get_feature_names_out()],
                 [float(w) for w in vectorizer.idf_], 1.0)
    scale = fitted.temperature if fitted.classification else 1.0
    activation = None if not fitted.classification else \
        "sigmoid" if len(fitted.coef) == 1 else "softmax"
    dense = layers.Dense(len(fitted.coef), activation=activation, name="linear")
    score = dense(x)
    dense.set_weights([(scale * fitted.coef.T).astype("float32"),
                       (scale * fitted.intercept).astype("float32")])
    return keras.Model(inputs, score, name=name)


def fit_table_linear(x, y, seed=0, seconds=None, max_iter=MAX_ITER, sample_weight=None,
                     classification=True, alpha=None):
    """Logistic regression on a table's or a signal's encoded rows ``x`` (scikit-learn's,
    its default penalty; at most the trees' ``MAX_ROWS`` rows): a fitted model with
    ``coef_`` and ``intercept_``, and the iterations it ran. It stops where it converges,
    after ``max_iter`` iterations, or once ``seconds`` have passed, checked every ``CHUNK``
    iterations (warm-started: each chunk goes on from where the last stopped); on a wide
    table, 1,000 iterations took 82 s of a 60 s search. Without ``classification``, ridge
    regression at ``alpha``, or at the one of ``RIDGE_ALPHAS`` of least leave-one-out
    error (``alpha_``; one solve), and no iterations."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression, Ridge, RidgeCV

    x, y, sample_weight = at_most_rows(x, y, seed, "float64", sample_weight)
    if not classification:
        model = RidgeCV(alphas=RIDGE_ALPHAS) if alpha is None else Ridge(alpha=alpha)
        return model.fit(x, y, sample_weight=sample_weight), 0
    deadline = None if seconds is None else time.monotonic() + seconds
    model, done = LogisticRegression(warm_start=True), 0
    with warnings.catch_warnings():  # the last iterations' gains are below what selection sees
        warnings.simplefilter("ignore", ConvergenceWarning)
        while True:  # one chunk at least
            chunk = min(CHUNK, max_iter - done)
            ran = int(np.max(model.set_params(max_iter=chunk).fit(
                x, y, sample_weight=sample_weight).n_iter_))
            done += ran
            if ran < chunk or done >= max_iter or (  # converged, or out of iterations or time
                    deadline is not None and time.monotonic() > deadline):
                return model, done


def table_linear_model(kind, fitted, name="table_linear"):
    """A Keras model from ``kind``'s raw inputs (a fitted input kind that encodes ahead) to
    ``fitted``'s class probabilities (one sigmoid unit for two classes, as the
    classification head), or a ridge regression's values in the targets' units."""
    made, inputs = member_inputs(kind)
    coef = np.asarray(fitted.coef_, "float32").reshape(-1, fitted.n_features_in_)
    classes = hasattr(fitted, "classes_")
    dense = layers.Dense(len(coef), name="linear", activation=None if not classes else
                         "sigmoid" if len(coef) == 1 else "softmax")
    score = dense(kind.encode(made))
    dense.set_weights([coef.T, np.asarray(fitted.intercept_, "float32").reshape(-1)])
    return keras.Model(inputs, score, name=name)
