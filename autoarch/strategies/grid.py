"""Grid search: keras-tuner's ``GridSearchOracle`` (every combination, defaults first).

Floats without a ``step`` contribute keras-tuner's ten evenly spread values.
"""

import keras_tuner as kt


class GridSearch(kt.oracles.GridSearchOracle):
    name = "grid"

    def __init__(self, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if seed is not None:  # keras-tuner treats seed=0 as "no seed"
            self.seed = seed
