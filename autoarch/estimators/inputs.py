"""What kind of input ``X`` is, the checks it must pass, and the default space for each kind.

- a DataFrame, or a 2-D numeric array: ``tabular`` (missing values allowed);
- 3-D arrays whose two last axes are both at least 5 and of similar size, and 4-D arrays:
  ``image`` (N, H, W[, C]);
- other 3-D arrays (N, T, C): ``sequence``;
- 1-D arrays or lists of strings: ``text``.
"""

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.utils import check_array

from autoarch.blocks import (BlockChoice, ClassificationHead, Conv1DBlock, ConvBlock, DenseBlock,
                             ModelSpace, RegressionHead, ResNetBlock, RNNBlock, TextBlock)
from autoarch.blocks.tabular import TabularPreprocessor, column_arrays

KINDS = ("tabular", "image", "sequence", "text")


def infer_kind(x):
    if isinstance(x, pd.DataFrame):
        return "tabular"
    if sparse.issparse(x):
        check_array(x, accept_sparse=False)  # scikit-learn's message: dense data is required
    array = np.asarray(x) if not isinstance(x, np.ndarray) else x
    if array.ndim == 1:
        if array.dtype == object or array.dtype.kind in "US":
            return "text"
        raise ValueError(f"X is 1-D with {array.dtype} values: expected a 2-D table, images, "
                         "sequences or a list of strings (reshape a single feature to (-1, 1))")
    if array.ndim == 2:
        return "tabular"
    if array.ndim == 4:
        return "image"
    if array.ndim == 3:
        h, w = array.shape[1:]
        return "image" if min(h, w) >= 5 and max(h, w) <= 4 * min(h, w) else "sequence"
    raise ValueError(f"X has {array.ndim} dimensions: expected 2 (table), 3 (images or "
                     "sequences) or 4 (images with channels)")


def as_frame(x):
    if isinstance(x, pd.DataFrame):
        return x
    return pd.DataFrame(np.asarray(x), columns=[f"x{i}" for i in range(np.asarray(x).shape[1])])


def check_x(x, kind):
    """Validate X for its kind; returns the model inputs ({name: array} or an array).

    Arrays go through scikit-learn's ``check_array`` (its messages for sparse, complex,
    empty and 1-D inputs); tables may keep missing values, other kinds may not.
    """
    if kind == "tabular":
        if isinstance(x, pd.DataFrame):
            _check_shape(x.shape)
            frame = x
        else:
            frame = as_frame(check_array(x, dtype=None, ensure_all_finite="allow-nan"))
        numeric = frame.select_dtypes(include="number")
        if np.isinf(numeric.to_numpy(dtype="float64", na_value=0.0)).any():
            raise ValueError("X contains infinity: replace it (missing values, NaN, are fine)")
        return frame
    if kind == "text":
        texts = np.asarray(x, dtype=object).reshape(-1)
        if any(not isinstance(t, str) for t in texts):
            raise ValueError("text X must hold strings only")
        return texts
    array = np.asarray(x)
    if array.dtype.kind not in "fiubc":
        raise ValueError(f"{kind} X must be numeric, got dtype {array.dtype}")
    if array.ndim < 3:
        raise ValueError(f"{kind} X must have 3 or 4 dimensions (N, H, W[, C]) or (N, T, C), "
                         f"got shape {array.shape}")
    try:
        return check_array(array, dtype="float32", allow_nd=True)
    except ValueError as err:
        if "NaN" in str(err) or "infinity" in str(err):
            raise ValueError(f"{kind} X contains NaN or infinity (only tables may have missing "
                             "values)") from err
        raise


def _check_shape(shape):
    """scikit-learn's messages for empty tables."""
    if shape[0] < 1:
        raise ValueError(f"Found array with 0 sample(s) (shape={shape}) while a minimum of 1 "
                         "is required.")
    if shape[1] < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={shape}) while a minimum of 1 "
                         "is required.")


def n_features(x, kind):
    """Columns of a table, values per image or sequence, 1 for text."""
    if kind == "tabular":
        return x.shape[1]
    if kind == "text":
        return 1
    return int(np.prod(np.shape(x)[1:]))


def default_blocks(kind):
    if kind == "tabular":
        return [DenseBlock()]
    if kind == "image":
        return [BlockChoice([ConvBlock(), ResNetBlock()], name="image_block")]
    if kind == "sequence":
        return [BlockChoice([Conv1DBlock(), RNNBlock()], name="sequence_block")]
    return [TextBlock()]


def make_space(kind, blocks, classification, n_outputs, training=None, frame=None):
    """A ModelSpace for this input kind, with the right head and (tables) preprocessing."""
    if blocks and isinstance(blocks[-1], (ClassificationHead, RegressionHead)):
        head, blocks = blocks[-1], list(blocks[:-1])
    else:
        head = ClassificationHead() if classification else RegressionHead()
    if classification:
        head.num_classes = n_outputs
    else:
        head.output_dim = n_outputs
    preprocessor = TabularPreprocessor().adapt(frame) if kind == "tabular" else None
    return ModelSpace(list(blocks or default_blocks(kind)) + [head], training=training,
                      preprocessor=preprocessor)


def model_inputs(x, kind, space):
    """X as the model takes it: column dict for tables, arrays otherwise."""
    if kind == "tabular":
        return column_arrays(x, space.preprocessor.numeric)
    return x
