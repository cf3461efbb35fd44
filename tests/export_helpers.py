"""A fitted estimator's final model exported and reloaded, shared by the tests of the
classical members."""

import warnings

import keras
import numpy as np
import tensorflow as tf

from autoarch.engine import data as data_ops
from autoarch.export import export_model


def assert_exports_predict_the_same(estimator, rows, directory):
    """Keras, SavedModel and TFLite exports of ``estimator.best_model_`` predict on the raw
    columns of ``rows`` (five of them) what the model does."""
    arrays = estimator.space_.arrays({"input": rows.iloc[:5]})  # the model takes raw columns
    expected = estimator.best_model_.predict(data_ops.make_dataset(arrays, None, 5), verbose=0)
    for fmt, name in (("keras", "m.keras"), ("savedmodel", "saved"), ("tflite", "m.tflite")):
        target = str(directory / name)
        export_model(estimator.best_model_, target, fmt)
        if fmt == "keras":
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                loaded = keras.models.load_model(target, safe_mode=True)
            # the archive holds what its compiled model has (its optimizer's variables)
            assert not [w for w in caught if "Skipping variable loading" in str(w.message)]
            got = loaded.predict(data_ops.make_dataset(arrays, None, 5), verbose=0)
        elif fmt == "savedmodel":
            loaded = tf.saved_model.load(target)  # held: its functions use its variables
            got = loaded.serve({k: tf.constant(v) for k, v in arrays.items()}).numpy()
        else:
            runner = tf.lite.Interpreter(model_path=target).get_signature_runner()
            got = np.concatenate([next(iter(runner(**{k: np.asarray(v)[i:i + 1]
                                                      for k, v in arrays.items()}).values()))
                                  for i in range(5)])
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=fmt)


def assert_reloads_predict_the_same(model, sample, directory):
    """Keras and SavedModel exports of ``model`` predict on ``sample`` (one tensor) what the
    model does; its predictions."""
    expected = model.predict(sample, verbose=0)
    export_model(model, str(directory / "m.keras"), "keras")
    got = keras.models.load_model(str(directory / "m.keras"), safe_mode=True).predict(
        sample, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    export_model(model, str(directory / "saved"), "savedmodel")
    loaded = tf.saved_model.load(str(directory / "saved"))  # held: its functions use its variables
    np.testing.assert_allclose(loaded.serve(sample).numpy(), expected, rtol=1e-4, atol=1e-5)
    return expected
