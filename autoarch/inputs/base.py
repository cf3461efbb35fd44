"""The input-kind contract, the generic array input, and recognising the kind of ``X``.

An input kind is a small class that knows one kind of data: how to recognise it, check it,
turn it into the arrays the model is fed, make the model's ``keras.Input`` layers and the
first tensor of its branch (``encode``), its default blocks, and its ``n_features``. Kinds
register by name in :data:`INPUT_KINDS` (see ``autoarch.inputs``), as strategies and blocks
do; a new kind is a subclass plus one registry line.
"""

import keras
import numpy as np

from autoarch.blocks.layout import DEFAULT_INPUT
from autoarch.engine.data import dense


def is_text(array):
    return array.dtype == object or array.dtype.kind in "UST"


class InputKind:
    """One input of a model (one branch). Subclasses set ``kind`` and override what differs.

    The base class feeds one array as it is: numbers as float32, strings as one per row.
    ``fit`` records the shape and type the model's ``keras.Input`` takes.
    """

    #: the name specs and ``fit`` use for this kind (``kind: image``)
    kind = "array"
    #: what scikit-learn's input tags may say of estimators that take this kind
    tags = {}
    #: ``encode`` has no weights and no randomness, so a search computes it once and trains
    #: on its output (``ModelSpace.build_for_training``) instead of on every batch
    encodes_ahead = False
    #: with ``final_fit``, a retrained trial's final model is its retraining alone rather
    #: than the retraining averaged with the trial's model (``ModelSearch._member``)
    refit_alone = False

    def __init__(self, input_name=DEFAULT_INPUT):
        self.input_name = input_name
        self.specs = None  # {model input name: (shape without batch, dtype)}, set by fit

    @classmethod
    def recognises(cls, x):
        """Whether ``x`` (an array or a DataFrame) looks like this kind."""
        return False

    def check(self, x):
        """``x`` validated for this kind (a ``ValueError`` says what is wrong)."""
        return np.asarray(x)

    def n_features(self, x):
        return int(np.prod(np.shape(x)[1:]))

    def lacking(self, x):
        """Named parts of the input seen in ``fit`` that ``x`` lacks (a table's columns)."""
        return []

    def unseen(self, x):
        """Named parts of ``x`` that ``fit`` did not see (a table's columns)."""
        return []

    def default_blocks(self):
        """The searched blocks of this input's branch when the user gives none."""
        return []

    def supernet_blocks(self):
        """The searched blocks of this input's branch when a one-shot strategy (``oneshot``,
        ``darts``, ``gdas``) searches and the user gives none: a space whose operations a
        supernet shares; None where this kind has none (its default blocks are used)."""
        return None

    def default_head(self, task):
        """Arguments of the default head of a ``task`` (``"classification"`` or
        ``"regression"``) when this kind's default blocks are used."""
        return {}

    def default_training(self):
        """Training choices (``optimizer``, ``learning_rate``) this kind's default blocks
        need beyond the usual ones; settings the user gives win."""
        return {}

    def arrays(self, x):
        """``{model input name: array}`` as the model is fed (numbers float32, strings (n, 1))."""
        array = np.asarray(x)
        if is_text(array):
            return {self.input_name: np.asarray(array, dtype=str).reshape(-1, 1)}
        return {self.input_name: np.asarray(array, dtype="float32")}

    def fit(self, x):
        """Learn what building the model needs (shapes, types, statistics); returns self."""
        self.specs = {name: (tuple(a.shape[1:]), "string" if is_text(a) else "float32")
                      for name, a in self.arrays(x).items()}
        return self

    def keras_inputs(self):
        if self.specs is None:
            raise ValueError(f"input '{self.input_name}': fit it on data before building")
        return {name: keras.Input(shape=shape, dtype=dtype, name=name)
                for name, (shape, dtype) in self.specs.items()}

    def encode(self, inputs):
        """The first tensor of this input's branch, from its ``keras_inputs``."""
        return inputs[self.input_name]

    def __repr__(self):
        return f"{type(self).__name__}({self.input_name!r})"


def recognise(x, kinds):
    """The first of ``kinds`` (classes, in order) that recognises ``x``; clear errors else."""
    x = dense(x)  # a sparse matrix, as the estimators take it
    try:
        array = x if hasattr(x, "columns") or isinstance(x, np.ndarray) else np.asarray(x)
    except ValueError as err:  # NumPy's "inhomogeneous shape"
        raise ValueError("X's rows have different shapes (sequences of different lengths?): "
                         "pad them to one length, e.g. keras.utils.pad_sequences") from err
    for kind in kinds:
        if kind.recognises(array):
            return kind
    ndim = getattr(array, "ndim", 0)
    if ndim == 1:
        raise ValueError(f"X is 1-D with {array.dtype} values: expected a 2-D table, images, "
                         "sequences or a list of strings (reshape a single feature to (-1, 1))")
    raise ValueError(f"X has {ndim} dimensions: expected 2 (table), 3 (images or sequences) "
                     "or 4 (images with channels), a list of strings, or a dict of such inputs")
