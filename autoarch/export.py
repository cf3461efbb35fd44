"""Exporting a fitted model: a ``.keras`` archive, a TensorFlow SavedModel for serving, or a
TFLite flatbuffer for edge devices."""

import os
import shutil
import tempfile

import tensorflow as tf

FORMATS = ("keras", "savedmodel", "tflite")


def _size(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path)
                   for f in files)
    return os.path.getsize(path)


def export_model(model, path, format="keras"):
    """Write ``model`` to ``path``; returns ``{"path", "format", "bytes"}``."""
    if format not in FORMATS:
        raise ValueError(f"format: unknown {format!r}; expected one of {', '.join(FORMATS)}")
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    if format == "keras":
        if not path.endswith(".keras"):
            raise ValueError(f"a Keras archive's path must end in .keras, got {path!r}")
        model.save(path)
    elif format == "savedmodel":
        model.export(path, format="tf_saved_model", verbose=False)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            saved = os.path.join(tmp, "saved")
            model.export(saved, format="tf_saved_model", verbose=False)
            converter = tf.lite.TFLiteConverter.from_saved_model(saved)
            # string lookups and text vectorization need TensorFlow's own kernels
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS,
                                                   tf.lite.OpsSet.SELECT_TF_OPS]
            flat = converter.convert()
        with open(path + ".tmp", "wb") as handle:
            handle.write(flat)
        shutil.move(path + ".tmp", path)
    return {"path": path, "format": format, "bytes": _size(path)}
