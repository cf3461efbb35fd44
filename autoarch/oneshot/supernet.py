"""One supernet for a whole space: every searched operation a switch over shared weights.

A space's searched operations (the edges of ``CellBlock``, the layers of ``ChainBlock``)
become :class:`~autoarch.blocks.ops.Switch` layers, built by the blocks' own code, so a
supernet comes from the same YAML specs and Python blocks as any search. The other
parameters (widths, depths) are fixed for the supernet: their defaults unless given.

Single-path one-shot (Guo et al., 2020): ``train`` samples one path uniformly per batch;
``score`` sets a candidate's path, re-estimates batch-norm statistics on a few training
batches (the shared statistics belong to no path in particular) and evaluates it with the
inherited weights; ``extract`` returns the candidate alone as an ordinary Keras model with
those weights.
"""

import keras
import keras_tuner as kt
import numpy as np

from autoarch.blocks.ops import SUPERNET, SupernetBuild, Switch


class Supernet:
    """``space``: a fitted ``ModelSpace`` (inputs set); ``fixed``: values of the parameters
    that are not operation choices (their defaults otherwise)."""

    def __init__(self, space, fixed=None):
        self.space, self.fixed = space, dict(fixed or {})
        self.model, self.switches = self._build()
        if not self.switches:
            raise ValueError("the space searches no operation (a CellBlock or ChainBlock "
                             "choice): there is nothing for a supernet to share")
        self.choices = {name: layers[0].options for name, layers in self.switches.items()}

    def _build(self, only=None):
        """The supernet, or with ``only`` ({choice: [option]}) one path of it."""
        hp = kt.HyperParameters()
        for parameter in self.space.hyperparameters().space:
            hp.Fixed(parameter.name, self.fixed.get(parameter.name, parameter.default))
        build = SupernetBuild(only)
        token = SUPERNET.set(build)
        try:
            model = self.space.build(hp)
        finally:
            SUPERNET.reset(token)
        return model, build.switches

    # -- paths -------------------------------------------------------------------------
    def sample(self, rng):
        """A uniformly drawn path: ``{choice name: option}``."""
        return {name: options[int(rng.integers(len(options)))]
                for name, options in self.choices.items()}

    def set_path(self, path):
        for name, layers in self.switches.items():
            index = self.choices[name].index(path[name])
            for layer in layers:
                layer.active.assign(index)

    # -- training and scoring ------------------------------------------------------------
    def train(self, x, y, epochs=1, batch_size=32, seed=0, verbose=0):
        """Train the shared weights, one uniformly sampled path per batch."""
        supernet = self

        class SamplePath(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.rng = np.random.default_rng(seed)

            def on_train_batch_begin(self, batch, logs=None):
                supernet.set_path(supernet.sample(self.rng))

        return self.model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=verbose,
                              callbacks=[SamplePath()], shuffle=True).history

    def calibrate(self, x, batches=10, batch_size=64):
        """Batch-norm statistics of the current path: reset, then the plain average over a
        few training batches (momentum 1 - 1/k for the k-th), as single-path one-shot does."""
        norms = [layer for layer in _walk(self.model)
                 if isinstance(layer, keras.layers.BatchNormalization)]
        saved = [layer.momentum for layer in norms]
        for layer in norms:
            layer.moving_mean.assign(np.zeros(layer.moving_mean.shape))
            layer.moving_variance.assign(np.ones(layer.moving_variance.shape))
        rows = len(next(iter(x.values()))) if isinstance(x, dict) else len(x)
        for k in range(min(batches, max(1, rows // batch_size))):
            for layer in norms:
                layer.momentum = 1.0 - 1.0 / (k + 1)
            part = slice(k * batch_size, (k + 1) * batch_size)
            self.model({n: v[part] for n, v in x.items()} if isinstance(x, dict) else x[part],
                       training=True)
        for layer, momentum in zip(norms, saved):
            layer.momentum = momentum

    def score(self, path, x_val, y_val, calibration=None):
        """The path's validation metrics with the inherited weights (``calibration``: training
        inputs whose batches re-estimate batch norm first)."""
        self.set_path(path)
        if calibration is not None:
            self.calibrate(calibration)
        return self.model.evaluate(x_val, y_val, verbose=0, return_dict=True)

    def extract(self, path):
        """The path alone: an ordinary Keras model (its switches hold one option each) with
        the supernet's weights for that path."""
        single, _ = self._build({name: [option] for name, option in path.items()})
        for layer, original in zip(single.layers, self.model.layers):  # built in one order
            if isinstance(layer, Switch):
                branch = original.branches[original.options.index(layer.options[0])]
                if branch is not None:
                    layer.branches[0].set_weights(branch.get_weights())
            else:
                layer.set_weights(original.get_weights())
        return single


def _walk(layer):
    """``layer`` and every layer inside it (models' layers, switches' branches)."""
    yield layer
    inner = list(getattr(layer, "layers", [])) if isinstance(layer, keras.Model) else []
    if isinstance(layer, Switch):
        inner = [branch for branch in layer.branches if branch is not None]
    for child in inner:
        yield from _walk(child)
