"""Data a spec can name, all loadable without internet except ``tfds:`` datasets not yet cached.

- ``sklearn:NAME``: scikit-learn's bundled ``digits`` (8x8 images), ``iris``, ``wine``,
  ``breast_cancer`` (tables) and ``diabetes`` (regression);
- ``mnist1d``: MNIST-1D generated locally by the ``mnist1d`` package (sequences of 40 steps,
  shape (N, 40, 1));
- ``{csv: path, target: column}``: a CSV table (mixed columns are fine; separated by commas,
  or by ``;``, tabs or ``|`` as :func:`read_csv` finds); ``weight: column`` names a column of
  the rows' sample weights (not an input then);
- ``{npz: path, x: key, y: key}``: arrays in a ``.npz`` file (keys default to ``x`` and
  ``y``; ``weight: key`` names an array of sample weights);
- ``tfds:NAME`` or ``{tfds: NAME, split: train}``: tensorflow-datasets, ``as_supervised``.

``load_data(spec, base)`` returns ``(x, y)``, ``load_weighted`` ``(x, y, sample weights or
None)``; relative paths are read from ``base``.
TensorFlow, tensorflow-datasets, mnist1d, pandas and scikit-learn's loaders are imported only
when their data is loaded: checking a spec's ``data:`` needs none of them.
"""

import os
import re

import numpy as np

from autoarch.spec.checks import check_keys, did_you_mean, expect

SKLEARN_SETS = ("digits", "iris", "wine", "breast_cancer", "diabetes")
_FILE_KEYS = {"csv": ("csv", "target", "weight"), "npz": ("npz", "x", "y", "weight"),
              "tfds": ("tfds", "split", "limit", "data_dir")}


#: separators a CSV file may use instead of the comma: spreadsheets whose decimal mark is a
#: comma write ";", and tab- and bar-separated exports are common
OTHER_SEPARATORS = (";", "\t", "|")
#: a number as ";"-separated files write them: ``-1,5``, or a whole one (unlike
#: :data:`autoarch.inputs.tabular.DECIMAL_COMMA`, which tells a decimal comma from a thousands
#: one in any column, this trusts the ";": ``1,234`` is then 1.234)
COMMA_NUMBER = re.compile(r"\s*[-+]?(?:\d+|\d*,\d+)\s*")
#: what a CSV file not in UTF-8 is read as: Windows' Western code page (what spreadsheets
#: there write), then Latin-1 (which reads any bytes)
OTHER_ENCODINGS = ("cp1252", "latin-1")


def read_csv(path, **kwargs):
    """``pandas.read_csv``, where the header reads as one column holding ``;``, a tab or
    ``|`` with that as the separator instead (pandas reads ``a;b;c`` as one column of that
    name); a ``;``-separated file whose text columns hold only numbers with a decimal comma
    (``1,5``: a column of them would otherwise be words) with ``decimal=","``; a file that
    is not UTF-8 (``Besan\xe7on`` from a spreadsheet) as :data:`OTHER_ENCODINGS`; a first
    column with no name as the rows' labels, not a column (``DataFrame.to_csv`` writes the
    index so, 0, 1, 2, ...: an input that numbers the rows in whatever order they were
    saved)."""
    for encoding in ("utf-8", *OTHER_ENCODINGS):
        try:
            return _read_csv(path, **{"encoding": encoding, **kwargs})
        except UnicodeDecodeError:
            if "encoding" in kwargs or encoding == OTHER_ENCODINGS[-1]:
                raise


def _read_csv(path, **kwargs):
    import pandas as pd

    header = pd.read_csv(path, nrows=0, encoding=kwargs["encoding"])
    named = str(header.columns[0]) if len(header.columns) == 1 else ""
    sep = next((s for s in OTHER_SEPARATORS if s in named), ",")
    if sep != ",":
        header = pd.read_csv(path, sep=sep, nrows=0, encoding=kwargs["encoding"])
    if len(header.columns) > 1 and header.columns[0] == "Unnamed: 0" and "usecols" not in kwargs:
        kwargs = {"index_col": 0, **kwargs}  # the row labels DataFrame.to_csv wrote
    frame = pd.read_csv(path, sep=sep, **kwargs)
    if sep == ";" and any(_decimal_commas(frame[c]) for c in frame.columns
                          if frame[c].dtype.kind in "OT" or str(frame[c].dtype) == "str"):
        commas = pd.read_csv(path, sep=sep, decimal=",", **kwargs)
        numeric = [c for c in frame.columns if frame[c].dtype.kind in "iufb"]
        if all(commas[c].dtype.kind in "iufb" for c in numeric):  # not where "1.5" is too
            return commas
    return frame


def _decimal_commas(column):
    """Whether every value of a text column is a number, some with a decimal comma."""
    values = column.dropna().astype(str)
    return bool(values.str.contains(",").any()) and \
        bool(values.map(COMMA_NUMBER.fullmatch).notna().all())


def validate_data_spec(doc, path, value):
    if isinstance(value, str):
        if value.startswith("sklearn:"):
            name = value.split(":", 1)[1]
            if name not in SKLEARN_SETS:
                raise doc.error(path, f"unknown scikit-learn dataset '{name}'"
                                f"{did_you_mean(name, SKLEARN_SETS)}; available: "
                                f"{', '.join(SKLEARN_SETS)}")
            return
        if value == "mnist1d" or (value.startswith("tfds:") and len(value) > 5):
            return
        raise doc.error(path, f"unknown data {value!r}: expected sklearn:NAME, mnist1d, tfds:NAME "
                        "or a mapping {csv: path, target: column} / {npz: path}")
    expect(doc, path, value, dict, "a data name or a mapping")
    kinds = [k for k in _FILE_KEYS if k in value]
    if len(kinds) != 1:
        raise doc.error(path, "a data mapping needs exactly one of: csv, npz, tfds")
    check_keys(doc, path, value, _FILE_KEYS[kinds[0]],
               required=("target",) if kinds[0] == "csv" else ())
    for key in value:
        if key != "limit":
            expect(doc, path + (key,), value[key], str)


def _sklearn(name):
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    if name == "digits":
        return (bunch.images / 16.0).astype("float32"), bunch.target
    return bunch.data.astype("float32"), bunch.target


def _mnist1d():
    from mnist1d.data import get_dataset_args, make_dataset

    data = make_dataset(get_dataset_args())
    x = np.concatenate([data["x"], data["x_test"]]).astype("float32")[..., None]  # (N, 40, 1)
    y = np.concatenate([data["y"], data["y_test"]])
    return x, y


def _tfds(name, split="train", limit=None, data_dir=None):
    import tensorflow_datasets as tfds

    try:
        dataset = tfds.load(name, split=split, as_supervised=True, data_dir=data_dir)
    except Exception as err:  # noqa: BLE001 - tensorflow-datasets raises many kinds
        where = data_dir or "tensorflow-datasets' default folder (~/tensorflow_datasets)"
        raise ValueError(
            f"data: tfds:{name} is not prepared in {where} and could not be downloaded "
            f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); on a "
            "machine without network, prepare it elsewhere and give its folder as "
            "{tfds: NAME, data_dir: FOLDER}") from None
    if limit:
        dataset = dataset.take(int(limit))
    return dataset_to_arrays(dataset)[:2]


def dataset_to_arrays(dataset, targets=True):
    """``(x, y, sample_weight)`` from a finite ``tf.data.Dataset`` of ``(x, y)`` pairs or
    ``(x, y, sample_weight)`` triples, as Keras takes them (batched or not; ``x`` an array
    or a dict of them); the weights None for pairs. ``targets=False`` (to predict) also
    takes a dataset of inputs alone, whose ``y`` is then None."""
    import tensorflow as tf

    spec = dataset.element_spec
    parts = len(spec) if isinstance(spec, tuple) else 1
    if parts not in ((2, 3) if targets else (1, 2, 3)):
        raise ValueError("a tf.data.Dataset must yield (x, y) pairs or (x, y, sample_weight) "
                         "triples" + ("" if targets else ", or inputs alone"))
    if dataset.cardinality() == tf.data.INFINITE_CARDINALITY:
        raise ValueError("the tf.data.Dataset is infinite; give a finite one (e.g. .take(n))")
    first_x = spec[0] if parts > 1 else spec
    probe = next(iter(first_x.values())) if isinstance(first_x, dict) else first_x
    batched = probe.shape.rank is not None and probe.shape.rank > 0 and probe.shape[0] is None
    columns = [[] for _ in range(parts)]  # x, y, w: one item per element
    for item in dataset.as_numpy_iterator():
        for column, value in zip(columns, item if parts > 1 else (item,)):
            column.append(value)
    if not columns[0]:
        raise ValueError("the tf.data.Dataset is empty")
    join = np.concatenate if batched else np.stack
    xs = columns[0]
    x = {k: _decoded(join([item[k] for item in xs])) for k in xs[0]} \
        if isinstance(xs[0], dict) else _decoded(join(xs))
    y, w = (join(columns[i]) if i < parts else None for i in (1, 2))
    return x, y, w


def _decoded(values):
    """Byte strings (a text input's, as TensorFlow gives them) as Python strings."""
    if values.dtype == object or values.dtype.kind == "S":
        return np.array([v.decode() if isinstance(v, bytes) else v
                         for v in values.reshape(-1)], dtype=object).reshape(values.shape)
    return values


def check_data(spec, base="."):
    """That the files a spec's data names are there (and a CSV has its target column), without
    loading them: ``autoarch validate`` says so before a search would fail on it."""
    if not isinstance(spec, dict) or not ("csv" in spec or "npz" in spec):
        return
    key = "csv" if "csv" in spec else "npz"
    path = os.path.join(base, spec[key])
    if not os.path.isfile(path):
        raise ValueError(f"data.{key}: no file {spec[key]!r} (looked in {os.path.abspath(path)})")
    if key == "csv":
        columns = [str(c) for c in read_csv(path, nrows=0).columns]
        for key in ("target", "weight"):
            if key in spec and spec[key] not in columns:
                raise ValueError(f"data.{key}: column {spec[key]!r} is not in {spec['csv']}"
                                 f"{did_you_mean(spec[key], columns)} (columns: "
                                 f"{', '.join(columns)})")
    else:
        with np.load(path, allow_pickle=False) as arrays:
            missing = [spec.get(k, k) for k in ("x", "y", "weight")
                       if (k in spec or k != "weight") and spec.get(k, k) not in arrays]
            if missing:
                raise ValueError(f"data.npz: {spec['npz']} holds no array "
                                 f"{', '.join(map(repr, missing))} (it holds "
                                 f"{', '.join(arrays.files)})")


def load_data(spec, base="."):
    """Load the data a spec names; returns ``(x, y)``."""
    return load_weighted(spec, base)[:2]


def load_weighted(spec, base="."):
    """Load the data a spec names; returns ``(x, y, sample weights)``, the weights None
    unless the spec names them (``weight:``)."""
    if isinstance(spec, str):
        if spec.startswith("sklearn:"):
            return (*_sklearn(spec.split(":", 1)[1]), None)
        if spec == "mnist1d":
            return (*_mnist1d(), None)
        if spec.startswith("tfds:"):
            return (*_tfds(spec.split(":", 1)[1]), None)
    if isinstance(spec, dict):
        if "csv" in spec:
            frame = read_csv(os.path.join(base, spec["csv"]))
            named = [spec[key] for key in ("target", "weight") if key in spec]
            for column in named:
                if column not in frame.columns:
                    raise ValueError(f"data: column '{column}' is not in {spec['csv']} "
                                     f"(columns: {', '.join(frame.columns)})")
            return (frame.drop(columns=named), frame[spec["target"]].to_numpy(),
                    frame[spec["weight"]].to_numpy() if "weight" in spec else None)
        if "npz" in spec:
            with np.load(os.path.join(base, spec["npz"]), allow_pickle=False) as arrays:
                return (arrays[spec.get("x", "x")], arrays[spec.get("y", "y")],
                        arrays[spec["weight"]] if "weight" in spec else None)
        if "tfds" in spec:
            data_dir = spec.get("data_dir")
            return (*_tfds(spec["tfds"], spec.get("split", "train"), spec.get("limit"),
                           os.path.join(base, data_dir) if data_dir else None), None)
    raise ValueError(f"data: cannot load {spec!r}")
