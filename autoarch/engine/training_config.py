"""The ``training:`` section of a spec: how each candidate is trained."""

from autoarch.engine.runtime import DISTRIBUTIONS
from autoarch.spec.checks import check_keys, expect, expect_one_of, expect_positive
from autoarch.spec.params import add_parameter, is_definition

TRAINING_KEYS = ("optimizer", "learning_rate", "batch_size", "distribution", "validation_split",
                 "isolate_trials", "trials_per_worker")


def validate_training(doc, path, value):
    expect(doc, path, value, dict)
    check_keys(doc, path, value, TRAINING_KEYS)
    for key in ("optimizer", "learning_rate"):  # a value, a list (choice) or a definition
        if key in value and (is_definition(value[key]) or isinstance(value[key], list)):
            import keras_tuner as kt

            definition = value[key] if is_definition(value[key]) else \
                {"type": "choice", "values": value[key]}
            add_parameter(kt.HyperParameters(), doc, path + (key,), key, definition)
    if "optimizer" in value and isinstance(value["optimizer"], str):
        expect_one_of(doc, path + ("optimizer",), value["optimizer"],
                      ("adam", "adamw", "sgd", "rmsprop"))
    if "learning_rate" in value and not isinstance(value["learning_rate"], (dict, list)):
        expect_positive(doc, path + ("learning_rate",), value["learning_rate"], float)
    for key in ("batch_size", "trials_per_worker"):
        if key in value:
            expect_positive(doc, path + (key,), value[key], int)
    if "isolate_trials" in value:
        expect(doc, path + ("isolate_trials",), value["isolate_trials"], bool)
    if "distribution" in value:
        expect_one_of(doc, path + ("distribution",), value["distribution"], DISTRIBUTIONS)
    if "validation_split" in value:
        split = expect(doc, path + ("validation_split",), value["validation_split"], float)
        if not 0 < split < 1:
            raise doc.error(path + ("validation_split",), f"must be in (0, 1), got {split}")
    return dict(value)
