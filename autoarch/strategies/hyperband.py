"""Hyperband: keras-tuner's ``HyperbandOracle`` under autoarch's interface.

Each trial's values carry the budget it gets: ``tuner/epochs`` (train to this epoch),
``tuner/initial_epoch`` and, for a promoted configuration, ``tuner/trial_id`` (the trial it
was promoted from). A plain objective reads ``trial.params["tuner/epochs"]``. autoarch's
model search trains every trial, promoted ones too, from scratch for ``tuner/epochs`` epochs;
it does not yet continue from the parent's weights (keras-tuner's own ``Hyperband`` tuner
does, and the strategy works with it as with any ``keras_tuner.Tuner``).
"""

import keras_tuner as kt


class Hyperband(kt.oracles.HyperbandOracle):
    name = "hyperband"

    def __init__(self, max_epochs=27, factor=3, hyperband_iterations=1, seed=None, **kwargs):
        if max_epochs < 1:
            raise ValueError(f"hyperband: max_epochs must be >= 1, got {max_epochs}")
        super().__init__(max_epochs=max_epochs, factor=factor,
                         hyperband_iterations=hyperband_iterations, seed=seed, **kwargs)
        if seed is not None:  # keras-tuner treats seed=0 as "no seed"
            self.seed = seed
            self._seed_state = seed
