"""Tables: raw columns in, one feature vector out, all inside the Keras model.

Numeric and boolean columns, and numbers written as text ("1,234.50", "1,5" with a decimal
comma, a blank for a missing one): missing values imputed with the training mean plus a
missing indicator, then standardized. Categorical columns: ``StringLookup`` one-hot with an
out-of-vocabulary slot (missing values become their own category). An indicator or an
out-of-vocabulary slot that was 0 in every training row (a complete column; a column whose
every value has its own slot) stays 0 later (:class:`KeepFeatures`): the weights a network
gave it never moved from their random start. Free-text columns (most
rows hold their own value, of several words: reviews, descriptions): the tf-idf bag of their
word 1-2 grams the text input uses (:func:`autoarch.blocks.text.bag_rows`); one-hot, each
text would be a category of its own, seen once, and carry nothing. The exported model
therefore takes the raw columns, as the training DataFrame had them (numbers written as
text as the numbers they read as: the estimator converts them).

The default space is an MLP over that vector, after ``TableFeatures``
(``autoarch.blocks.table``): which of the most important columns to keep, an embedding of the
numeric ones (piecewise-linear, its bin edges the training quantiles, or periodic) and their
quantile transform, all choices the search makes.
"""

import collections
import math
import re
import warnings

import keras
import numpy as np
import pandas as pd
from keras import layers
from pandas.tseries.api import guess_datetime_format
from sklearn.utils import check_array

from autoarch.blocks import DenseBlock
from autoarch.blocks.base import choice
from autoarch.blocks.piecewise import normal_knots, quantile_edges
from autoarch.blocks.table import TableFeatures
from autoarch.blocks.text import bag_rows, fit_bag, words
from autoarch.inputs.base import InputKind

MISSING = "<missing>"
BINS = 16  # of the piecewise-linear encoding of numeric columns
#: a string column is free text where more than this share of its rows hold a value of
#: their own, of at least ``TEXT_WORDS`` words on average
TEXT_DISTINCT, TEXT_WORDS = 0.5, 6
#: n-grams of a text column's bag, at most, and fewer on long tables: the encoding is
#: computed ahead as a dense matrix of at most ``TEXT_CELLS`` values per text column
TEXT_NGRAMS, TEXT_CELLS = 2000, 20_000_000
#: a category column of more values than this gets slots only for values seen twice, the
#: ``MAX_SLOTS`` most frequent (:func:`categories`)
MANY_VALUES, MAX_SLOTS = 255, 1000
#: a string column is numbers written as text where this share of its non-blank values read
#: as numbers (:func:`holds_numbers`), or ``CODED_SHARE`` where the rest are one code (a
#: weather table's "T" for a trace of rain); the rest become missing values
NUMBER_SHARE, CODED_SHARE = 0.95, 0.5
#: a comma that is a decimal mark: a digit, the comma, then other than three digits to the end
DECIMAL_COMMA = re.compile(r"\d,(?:\d{1,2}|\d{4,})$")


def listed(names):
    """The first five of ``names`` as an error message lists them."""
    return ", ".join(map(repr, names[:5])) + (" ..." if len(names) > 5 else "")


@keras.saving.register_keras_serializable(package="autoarch")
class Impute(layers.Layer):
    """``[x with NaN replaced by the column's fill value, 1.0 where x was NaN]``."""

    def __init__(self, fill=0.0, **kwargs):
        super().__init__(**kwargs)
        self.fill = [float(v) for v in fill] if isinstance(fill, (list, tuple)) else float(fill)

    def call(self, x):
        missing = keras.ops.isnan(x)
        fill = keras.ops.cast(keras.ops.convert_to_tensor(self.fill), x.dtype)
        filled = keras.ops.where(missing, keras.ops.zeros_like(x) + fill, x)
        return keras.ops.concatenate([filled, keras.ops.cast(missing, x.dtype)], axis=-1)

    def get_config(self):
        return {**super().get_config(), "fill": self.fill}


@keras.saving.register_keras_serializable(package="autoarch")
class KeepFeatures(layers.Layer):
    """``x`` with the features not in ``keep`` (a 0/1 per feature) set to 0: an encoding's
    places that were 0 in every training row, whose weights nothing trained, so that a
    missing value or an unseen category there later adds nothing rather than those
    weights' random start (the width stays, and training is the same to the bit)."""

    def __init__(self, keep, **kwargs):
        super().__init__(**kwargs)
        self.keep = [float(bool(v)) for v in keep]

    def call(self, x):
        return x * keras.ops.cast(keras.ops.convert_to_tensor(self.keep), x.dtype)

    def get_config(self):
        return {**super().get_config(), "keep": self.keep}


def _is_numeric(series):
    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def _present(series):
    """A string column's values that are neither missing nor blank, stripped."""
    present = series[series.notna()].astype(str).str.strip()
    return present[present != ""]


def as_numbers(series, decimal_comma=False):
    """A column of numbers written as text as float64 numbers: spaces, thousands separators,
    currency and percent signs dropped; NaN where blank, missing or not a finite number.
    With ``decimal_comma`` (:func:`writes_decimal_commas`), a comma is the decimal mark."""
    text = series.astype(object).where(series.notna(), "").astype(str)
    if decimal_comma:
        text = text.str.replace(",", ".", regex=False)
    cleaned = text.str.replace(r"[\s,$€£%]", "", regex=True)
    numbers = pd.to_numeric(cleaned.where(cleaned != "", None), errors="coerce")
    numbers = numbers.to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(numbers), numbers, np.nan)


def writes_decimal_commas(series):
    """Whether a text column writes numbers with a decimal comma (``1,5``, ``-0,25``, as
    spreadsheets in many locales do): some value's comma is followed by other than three
    digits (``1,234`` may be a thousand), and no value has a point or two commas. Read with
    the comma dropped, ``1,5`` would be 15 beside a 2."""
    text = _present(series).astype(str).str.strip()
    return bool(text.str.contains(DECIMAL_COMMA).any()) and \
        not text.str.contains(r"\.|,.*,").any()


def holds_numbers(series):
    """Whether a string column holds numbers written as text (a CSV column with one blank,
    as IBM's telco churn ``TotalCharges``, or with currency signs reads as strings): nearly
    all its non-blank values are numbers (``NUMBER_SHARE``), or half or more where the rest
    are a single code (``CODED_SHARE``: "T" for a trace of rain, "-"), which becomes a missing
    value and so keeps its meaning in the column's missing indicator; with decimals or most
    rows a value of their own. Codes (zip codes, ``"01"``, ratings) stay categories, as do
    numbers beside several codes ("<1", "5+", "none"), which one indicator would merge."""
    if _is_numeric(series):
        return False
    present = _present(series)
    if present.empty:
        return False
    commas = writes_decimal_commas(present)
    read = np.isfinite(as_numbers(present, commas))
    share = np.mean(read)
    return bool((share >= NUMBER_SHARE or share >= CODED_SHARE and
                 present[~read].nunique() == 1) and (
        present.str.contains(".", regex=False).any() or
        present.nunique() > TEXT_DISTINCT * len(series)))


def date_format(series):
    """The format a column's dates are written in: ``"datetime"`` for a datetime dtype,
    ``"ISO8601"`` where all its strings read as such ("2021-07-02", "2009-12-23T17:38:18Z"),
    else the one pandas guesses from its first value, month first, then day first
    ("9/30/1990 0:00:00", "30.09.1990", "Jan 5, 2020"), where it has a year, a month and a
    day and reads every value; None where the column is not dates."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    if _is_numeric(series):
        return None
    present = _present(series)
    if present.empty:  # blanks alone: no dates to read
        return None
    formats = ["ISO8601"]
    with warnings.catch_warnings():  # pandas warns of the day-first guess it was asked for
        warnings.simplefilter("ignore", UserWarning)
        formats += [guess_datetime_format(present.iloc[0], dayfirst=dayfirst)
                    for dayfirst in (False, True)]
    for form in dict.fromkeys(formats):
        if form is None or form != "ISO8601" and not (
                re.search("%[Yy]", form) and re.search("%[mbB]", form) and "%d" in form):
            continue
        try:
            pd.to_datetime(present, format=form, utc=True)
        except (ValueError, TypeError, OverflowError):
            continue
        return form
    return None


def parsed_dates(series, form):
    """``series`` as UTC datetimes, its strings read in ``form`` (:func:`date_format`'s);
    NaT where one does not read so."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.tz_convert("UTC") if series.dt.tz is not None else series
    text = series.astype(object).where(series.notna(), None)
    return pd.to_datetime(text.map(lambda v: v if v is None else str(v).strip()),
                          format="ISO8601" if form == "datetime" else form, utc=True,
                          errors="coerce")


def date_words(series, form):
    """Each date as the words of its parts, ``"y2009 m12 w2 h17"``: year, month, weekday
    and hour, which the column's bag weighs as categories (eras, seasons, days of the week,
    times of day); empty where missing or not a date in ``form`` (:func:`date_format`)."""
    dates = parsed_dates(series, form)
    parts = [f"y{d.year} m{d.month} w{d.weekday()} h{d.hour}" if not pd.isna(d) else ""
             for d in dates]
    return np.asarray(parts, dtype=object)


def is_free_text(values):
    """Whether a string column's ``values`` (missing ones empty) are texts, not categories."""
    present = [v for v in values if v]
    return len(present) > 0 and len(set(present)) > TEXT_DISTINCT * len(values) and \
        np.mean([len(words(v)) for v in present]) >= TEXT_WORDS


def categories(values):
    """A string column's one-hot vocabulary: its values; of a column of more than
    ``MANY_VALUES`` values (names, codes) or of an identifier (most rows hold a value of
    their own), only those seen twice or more, the ``MAX_SLOTS`` most frequent: a value
    seen once tells nothing of new rows, and a slot each made the encoding as wide as the
    table is long."""
    counts = collections.Counter(values)
    if len(counts) <= MANY_VALUES and len(counts) <= TEXT_DISTINCT * len(values):
        return sorted(counts)
    repeated = sorted((v for v, n in counts.items() if n > 1), key=lambda v: -counts[v])
    return sorted(repeated[:MAX_SLOTS]) or [MISSING]


def as_frame(x):
    if isinstance(x, pd.DataFrame):
        return x
    array = np.asarray(x)
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


def _check_shape(shape):
    """scikit-learn's messages for empty tables."""
    if shape[0] < 1:
        raise ValueError(f"Found array with 0 sample(s) (shape={shape}) while a minimum of 1 "
                         "is required.")
    if shape[1] < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={shape}) while a minimum of 1 "
                         "is required.")


@keras.saving.register_keras_serializable(package="autoarch")
class Standardize(layers.Layer):
    """``(x - mean) / std`` per feature. Unlike ``Normalization``, which keeps the variance, the
    spread itself is stored, so columns of values near 1e20 (variance 1e40, beyond float32)
    are scaled as well as any other."""

    def __init__(self, mean, std, **kwargs):
        super().__init__(**kwargs)
        self.mean, self.std = [float(v) for v in mean], [float(v) for v in std]

    def call(self, x):
        mean = keras.ops.cast(keras.ops.convert_to_tensor(self.mean), x.dtype)
        std = keras.ops.cast(keras.ops.convert_to_tensor(self.std), x.dtype)
        return (x - mean) / std

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "std": self.std}


_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")
FLOAT32_MAX = float(np.finfo("float32").max)


def input_names(columns):
    """A model input name per column: the column's own name where Keras and TensorFlow take
    it, else a cleaned one (``km/h`` -> ``km_h``); names that clash after cleaning (the
    columns ``0`` and ``"0"``, ``a b`` and ``a_b``) get their position appended."""
    cleaned = [_UNSAFE.sub("_", str(c)).strip("_") or "column" for c in columns]
    cleaned = [c if c[0].isalpha() else f"x{c}" for c in cleaned]
    counts = collections.Counter(cleaned)
    names = [f"{c}_{i}" if counts[c] > 1 else c for i, c in enumerate(cleaned)]
    while len(set(names)) < len(names):  # a suffixed name met another column's own name
        seen = collections.Counter(names)
        names = [f"{n}_{i}" if seen[n] > 1 else n for i, n in enumerate(names)]
    return names


class TabularInput(InputKind):
    """A DataFrame (numeric, string, boolean columns, missing values) or a 2-D array.

    Each column is one model input; any column names work (``input_names`` turns them into
    names Keras takes), duplicated ones are refused. ``fit`` learns which columns are
    numeric, their means and spreads, and the vocabulary of the others.
    """

    kind = "tabular"
    #: a sparse matrix is made dense before it gets here (:func:`autoarch.engine.data.dense`)
    tags = {"allow_nan": True, "categorical": True, "two_d_array": True, "sparse": True}
    encodes_ahead = True

    def __init__(self, input_name=None):
        super().__init__(input_name)
        self.columns, self.numeric, self.stats, self.vocabularies = [], set(), {}, {}
        self.edges = {}  # numeric column: quantile bin edges, in standardized units (min to max)
        self.knots = {}  # numeric column: its quantile transform's (edges, normal scores)
        self.texts = {}  # free-text column: its bag's (vocabulary, idf, scale)
        self.written = set()  # numeric columns given as text ("1,234.50", " " for missing)
        self.commas = set()  # those of them written with a decimal comma ("1,5")
        self.dates = {}  # date column: its format (fed as the words of its parts, as a bag)
        self.incomplete = set()  # numeric columns with missing values in the training rows
        self.unknown = set()  # category columns with values out of their vocabulary there

    @classmethod
    def recognises(cls, x):
        return isinstance(x, pd.DataFrame) or getattr(x, "ndim", 0) == 2

    def check(self, x):
        """A DataFrame (missing values allowed, infinity not); arrays go through
        scikit-learn's ``check_array`` (its messages for complex, empty and 1-D inputs)."""
        if isinstance(x, pd.DataFrame):
            _check_shape(x.shape)
            frame = x
            duplicated = frame.columns[frame.columns.duplicated()]
            if len(duplicated):
                raise ValueError(f"X has duplicated column names: "
                                 f"{', '.join(repr(c) for c in dict.fromkeys(duplicated))}; "
                                 "each column needs its own name")
        else:
            frame = as_frame(check_array(x, dtype=None, ensure_all_finite="allow-nan"))
        numeric = frame.select_dtypes(include="number").to_numpy(dtype="float64", na_value=0.0)
        if np.isinf(numeric).any():
            raise ValueError("X contains infinity: replace it (missing values, NaN, are fine)")
        if numeric.size and np.abs(numeric).max() > FLOAT32_MAX:
            column = frame.select_dtypes(include="number").columns[
                int(np.argmax(np.abs(numeric).max(axis=0)))]
            raise ValueError(f"X column {column!r} holds values up to "
                             f"{np.abs(numeric).max():.3g}, beyond float32 (about 3.4e38), in "
                             "which models compute: rescale it (a log, or smaller units)")
        return self._aligned(frame, named=isinstance(x, pd.DataFrame)) if self.columns \
            else frame

    def _aligned(self, frame, named):
        """``frame`` with the columns seen in ``fit``: by name, or by position where ``fit``
        or this call had no column names (a NumPy array), as scikit-learn takes them. A
        count that differs is left to the estimator's message."""
        names = input_names(frame.columns)
        if set(self.columns) <= set(names) or len(names) != len(self.columns):
            return frame
        if not named or self.columns == input_names(range(len(names))):
            return frame.set_axis(self.columns, axis=1)
        raise ValueError(f"X lacks columns seen in fit: {listed(self.lacking(frame))} (it has "
                         f"{listed([n for n in names if n not in self.columns])} instead)")

    def lacking(self, x):
        """The columns seen in ``fit`` that the DataFrame ``x`` lacks (none for an array,
        whose columns go by position)."""
        if not isinstance(x, pd.DataFrame):
            return []
        names = input_names(x.columns)
        return [c for c in self.columns if c not in names]

    def unseen(self, x):
        """The columns of the DataFrame ``x`` that ``fit`` did not see."""
        if not isinstance(x, pd.DataFrame):
            return []
        return [c for c in input_names(x.columns) if c not in self.columns]

    def n_features(self, x):
        return x.shape[1]

    def default_blocks(self):
        """An MLP, or no hidden layer at all (a linear model of the encoded columns), over
        the columns ``TableFeatures`` keeps and encodes. The first four trials are a proven
        MLP (2 x 256, dropout 0.1, learning rate 1e-3, piecewise-linear encoding) on the
        informative columns, then on all of them (each won on some of the development
        tables, in one trial: churn 0.956 against gradient boosting's 0.954), then the linear
        model of every column's encoding (a generalized additive model, quick to train:
        over three seeds ames' R² rose by 0.011, other tables moved within their noise;
        ``docs/design.md``), then the MLP on all columns with the periodic embedding in place
        of the piecewise-linear one (its own strengths, and a different member for the
        ensemble: four of five held-out tables gained, over three seeds)."""
        mlp = {"num_layers": 2, "units": 256, "activation": "relu", "dropout": 0.1,
               "batch_norm": False, "training/learning_rate": 1e-3}
        linear = {"num_layers": 0, "training/learning_rate": 3e-3}
        return [TableFeatures(name="features", table=self, first_trials=[
                    {"keep": "informative", "encode": True}, {"keep": "all", "encode": True},
                    {"keep": "all", "encode": True},
                    {"keep": "all", "encode": True, "embedding": "periodic"}]),
                DenseBlock(num_layers=choice(0, 1, 2, 3), first_trials=[mlp, mlp, linear, mlp])]

    def layout(self):
        """``{column: its positions in encode's vector}``: a numeric column's value and its
        missing indicator, a string column's one-hot slots (the unknown slot, then its
        vocabulary), a text column's n-grams."""
        numeric = [c for c in self.columns if c in self.numeric]
        layout = {c: [i, len(numeric) + i] for i, c in enumerate(numeric)}
        start = 2 * len(numeric)
        for column in self.columns:
            if column not in self.numeric:
                width = len(self.texts[column][0]) if column in self.texts else \
                    len(self.vocabularies[column]) + 1
                layout[column] = list(range(start, start + width))
                start += width
        return layout

    def category_slots(self, least=3):
        """Each category column's positions in encode's vector (its one-hot slots, the
        unknown slot first), for the columns of ``least`` values or more: where the boosted
        trees take its values' mean targets (:class:`autoarch.trees.CategoryCodes`)."""
        layout = self.layout()
        return [layout[c] for c in self.columns
                if c in self.vocabularies and len(self.vocabularies[c]) >= least]

    def _columns(self, frame):
        """``(input name, series)`` per column, in order."""
        return [(name, frame.iloc[:, i]) for i, name in enumerate(input_names(frame.columns))]

    def arrays(self, frame, numbers="float32"):
        """``{input name: (n, 1) array}``: float32 numbers (of numbers written as text
        too), strings for the rest."""
        arrays = {}
        numeric, written = (self.numeric, self.written) if self.columns else \
            self._numeric_columns(frame)
        commas = getattr(self, "commas", set()) if self.columns else self._commas(frame, written)
        dates = self.dates if self.columns else self._dates(frame, numeric)
        for name, series in self._columns(frame):
            if name in dates:
                values = date_words(series, dates[name])
            elif name in written:
                values = as_numbers(series, name in commas).astype(numbers)
            elif name in numeric:
                values = series.astype("float64").to_numpy(dtype=numbers, na_value=np.nan)
            else:
                gap = "" if name in self.texts else MISSING
                values = series.astype(object).where(series.notna(), gap).astype(str)
                values = values.to_numpy()
            arrays[name] = values.reshape(-1, 1)
        return arrays

    def _numeric_columns(self, frame):
        """The names of ``frame``'s numeric columns, and of those among them that are
        numbers written as text."""
        written = {name for name, series in self._columns(frame) if holds_numbers(series)}
        return written | {name for name, series in self._columns(frame)
                          if _is_numeric(series)}, written

    def _commas(self, frame, written):
        """The names of the ``written`` columns of ``frame`` whose numbers have a decimal
        comma (:func:`writes_decimal_commas`)."""
        return {name for name, series in self._columns(frame)
                if name in written and writes_decimal_commas(series)}

    def _dates(self, frame, numeric):
        """``{name: format}`` of ``frame``'s date columns (:func:`date_format`)."""
        forms = {name: date_format(series) for name, series in self._columns(frame)
                 if name not in numeric}
        return {name: form for name, form in forms.items() if form}

    def fit(self, frame):
        self.stats, self.vocabularies, self.edges, self.knots, self.texts = {}, {}, {}, {}, {}
        self.incomplete, self.unknown = set(), set()
        self.numeric, self.written = self._numeric_columns(frame)
        self.commas = self._commas(frame, self.written)
        self.dates = self._dates(frame, self.numeric)
        self.columns = input_names(frame.columns)  # arrays() now reads the kinds just found
        for column, values in self.arrays(frame, numbers="float64").items():
            if column in self.numeric:  # statistics in float64: no overflow near 1e19
                finite = values[np.isfinite(values)]
                if finite.size < values.size:
                    self.incomplete.add(column)
                mean = float(finite.mean()) if finite.size else 0.0
                std = float(finite.std()) if finite.size > 1 else 1.0
                self.stats[column] = (mean, std if 0 < std < math.inf else 1.0)
                scaled = (finite - mean) / self.stats[column][1]
                self.edges[column] = quantile_edges(scaled, BINS)
                self.knots[column] = normal_knots(scaled)
            else:
                values = values.reshape(-1)
                texts = np.where(values == MISSING, "", values).tolist()
                bag = fit_bag(texts, min(TEXT_NGRAMS, max(100, TEXT_CELLS // len(texts)))) \
                    if column in self.dates or is_free_text(texts) else None
                if bag:
                    self.texts[column] = bag
                else:
                    seen = values.tolist()
                    self.vocabularies[column] = categories(seen)
                    if not set(seen) <= set(self.vocabularies[column]):
                        self.unknown.add(column)
        self.specs = {c: ((1,), "float32" if c in self.numeric else "string")
                      for c in self.columns}
        return self

    def encode(self, inputs):
        """All numeric columns imputed and standardized together; one-hot per category
        column; a tf-idf bag per free-text column."""
        numeric = [c for c in self.columns if c in self.numeric]
        parts, keep = [], []  # keep: 0 where the training rows set nothing (KeepFeatures)
        incomplete, unknown = getattr(self, "incomplete", None), getattr(self, "unknown", None)
        if numeric:
            x = inputs[numeric[0]] if len(numeric) == 1 else \
                layers.Concatenate()([inputs[c] for c in numeric])
            means = [self.stats[c][0] for c in numeric]
            x = Impute(means)(x)
            parts.append(Standardize(means + [0.0] * len(numeric),
                                     [self.stats[c][1] for c in numeric] + [1.0] * len(numeric))(x))
            keep += [True] * len(numeric) + [incomplete is None or c in incomplete for c in numeric]
        for column in self.columns:
            if column in self.texts:
                parts.append(bag_rows(inputs[column], *self.texts[column]))
                keep += [True] * len(self.texts[column][0])
            elif column not in self.numeric:
                parts.append(layers.StringLookup(vocabulary=self.vocabularies[column],
                                                 output_mode="one_hot",
                                                 num_oov_indices=1)(inputs[column]))
                keep += [unknown is None or column in unknown]  # the unknown slot first
                keep += [True] * len(self.vocabularies[column])
        encoded = parts[0] if len(parts) == 1 else layers.Concatenate()(parts)
        return encoded if all(keep) else KeepFeatures(keep)(encoded)
