"""Every autoarch strategy is a ``keras_tuner.Oracle``: each runs a real search through
keras-tuner's own ``Tuner`` over a ``ModelSpace``."""

import keras_tuner as kt
import numpy as np
import pytest

from autoarch import STRATEGIES
from autoarch.blocks import ClassificationHead, DenseBlock, ModelSpace
from autoarch.inputs import InputKind
from autoarch.strategies import make_strategy

OPTIONS = {"hyperband": {"max_epochs": 2, "factor": 2}, "bayesian": {"num_initial_points": 2},
           "evolution": {"population_size": 2, "sample_size": 1}}


@pytest.mark.parametrize("name", sorted(n for n, cls in STRATEGIES.items()
                                         if not getattr(cls, "runs_phase", False)))
def test_strategy_runs_inside_a_keras_tuner_tuner(name, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    space = ModelSpace([DenseBlock(num_layers=1, units=[4, 8], activation="relu", dropout=0.0,
                                   batch_norm=False),
                        ClassificationHead(num_classes=2, dropout=0.0)],
                       training={"learning_rate": [1e-2, 3e-2]},
                       inputs={"input": InputKind("input").fit(x)})
    oracle = make_strategy(name, space.hyperparameters(), kt.Objective("val_accuracy", "max"),
                           seed=0, options=OPTIONS.get(name))
    oracle.max_trials = 3
    tuner = kt.Tuner(oracle=oracle, hypermodel=space, directory=str(tmp_path), project_name=name)
    tuner.search(x[:60], y[:60], validation_data=(x[60:], y[60:]), epochs=1, verbose=0)
    trials = oracle.get_best_trials(num_trials=10)
    assert trials and all(t.status == "COMPLETED" for t in trials)
    assert all(set(t.hyperparameters.values) >= {"dense_1/units", "training/learning_rate"}
               for t in trials)
    best = tuner.get_best_models(1)[0]
    assert best.predict(x[:3], verbose=0).shape == (3, 1)
