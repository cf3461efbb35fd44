"""Hyperband: keras-tuner's ``HyperbandOracle`` under autoarch's interface.

Each trial's values carry the budget it gets: ``tuner/epochs`` (train to this epoch),
``tuner/initial_epoch`` and, for a promoted configuration, ``tuner/trial_id`` (the trial it
was promoted from). A plain objective reads ``trial.params["tuner/epochs"]``. In autoarch's
model search a promoted trial continues its parent's saved model (weights and optimizer
state) from ``tuner/initial_epoch`` to ``tuner/epochs``, as keras-tuner's own ``Hyperband``
tuner does; the models of the bracket being run stay on disk for that. Where the parent's
model is gone (a trial that failed to save), or with ``continue_training=False``, the
promotion trains from scratch to ``tuner/epochs``.
"""

import keras_tuner as kt

from autoarch.strategies.options import check_values


class Hyperband(kt.oracles.HyperbandOracle):
    name = "hyperband"

    def __init__(self, max_epochs=27, factor=3, hyperband_iterations=1, seed=None,
                 continue_training=True, **kwargs):
        check_values(self.name, {"max_epochs": max_epochs})
        super().__init__(max_epochs=max_epochs, factor=factor,
                         hyperband_iterations=hyperband_iterations, seed=seed, **kwargs)
        self.continue_training = bool(continue_training)
        if seed is not None:  # keras-tuner treats seed=0 as "no seed"
            self.seed = seed
            self._seed_state = seed
