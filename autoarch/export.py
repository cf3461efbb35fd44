"""Exporting a fitted model: a ``.keras`` archive, a TensorFlow SavedModel for serving, or a
TFLite flatbuffer for edge devices; and loading a ``.keras`` archive back."""

import importlib
import os
import tempfile

from autoarch.files import atomic_path

FORMATS = ("keras", "savedmodel", "tflite")


def _size(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path)
                   for f in files)
    return os.path.getsize(path)


def export_model(model, path, format="keras"):
    """Write ``model`` to ``path``; returns ``{"path", "format", "bytes"}``. The target is
    written whole or not at all: a failed or killed export leaves nothing behind (and an
    older export at ``path`` as it was)."""
    if format not in FORMATS:
        raise ValueError(f"format: unknown {format!r}; expected one of {', '.join(FORMATS)}")
    path = os.fspath(path)
    if format == "keras" and not path.endswith(".keras"):
        raise ValueError(f"a Keras archive's path must end in .keras, got {path!r}")
    with atomic_path(path) as temporary:
        if format == "keras":
            model.save(temporary)
        elif format == "savedmodel":
            model.export(temporary, format="tf_saved_model", verbose=False)
        else:
            import tensorflow as tf

            with tempfile.TemporaryDirectory() as tmp:
                saved = os.path.join(tmp, "saved")
                model.export(saved, format="tf_saved_model", verbose=False)
                converter = tf.lite.TFLiteConverter.from_saved_model(saved)
                # string lookups and text vectorization need TensorFlow's own kernels
                converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS,
                                                       tf.lite.OpsSet.SELECT_TF_OPS]
                try:
                    flat = converter.convert()
                except Exception as err:  # the converter's own error class is internal
                    if "StringNGrams" not in str(err):
                        raise
                    raise ValueError(
                        "tflite: TFLite has no kernel for tf.StringNGrams (the word pairs of a "
                        "text's tf-idf bag), TensorFlow's own ops included; export this model "
                        "as 'keras' or 'savedmodel'") from None
            with open(temporary, "wb") as handle:
                handle.write(flat)
    return {"path": path, "format": format, "bytes": _size(path)}


#: the modules that register Keras objects (layers, losses) for saving (a test keeps the
#: list whole); their packages import them only when first used
REGISTERING_MODULES = ("autoarch.blocks.layers", "autoarch.blocks.metrics",
                       "autoarch.blocks.periodic",
                       "autoarch.blocks.piecewise", "autoarch.blocks.table",
                       "autoarch.engine.parity", "autoarch.ensemble", "autoarch.inputs.tabular",
                       "autoarch.neighbours", "autoarch.trees")


def register_objects():
    """Register every Keras object autoarch puts into models, so a model loads in safe mode
    whichever of autoarch's modules the process has imported."""
    for module in REGISTERING_MODULES:
        importlib.import_module(module)


def load_model(path):
    """Load a ``.keras`` archive that autoarch wrote, in Keras's safe mode, from any process:
    autoarch's own layers (table preprocessing, text bag, ensembles) are registered first."""
    import keras

    register_objects()
    return keras.models.load_model(path, safe_mode=True)
