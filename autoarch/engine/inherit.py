"""Weight inheritance between candidates: a child starts from its parent's trained weights
(network morphism; Chen et al. 2016, "Net2Net"; Wei et al. 2016).

Layers are matched by name and class (autoarch builds layers in a fixed order, so a layer
keeps its name from parent to child until the architectures diverge). A matched layer with
the same weight shapes is copied. A matched ``Dense`` or convolution that is wider in the
child is *widened* as Net2WiderNet does: its first units are the parent's, each extra unit
repeats a randomly chosen parent unit, and the layers that read it split that unit's
outgoing weights among its copies (random shares that sum to one, so the copies do not stay
identical in training), and batch normalisation in between repeats its statistics. A
``Dense`` layer the parent lacks, square and between ReLUs, is *deepened* as Net2DeeperNet
does: it starts as the identity (and a batch normalisation after it as the identity too).
Where that all applies the child computes exactly what its parent did before training.
Whatever does not fit (narrower layers, other shapes) keeps its fresh initialisation.
"""

import numpy as np
from keras import layers

_KERNELS = (layers.Dense, layers.Conv1D, layers.Conv2D, layers.Conv3D)
# layers that keep each unit (last axis) where it is, so a widening passes through them
_PER_UNIT = (layers.Activation, layers.ReLU, layers.LeakyReLU, layers.Dropout,
             layers.SpatialDropout1D, layers.SpatialDropout2D, layers.GaussianNoise,
             layers.MaxPooling1D, layers.MaxPooling2D, layers.AveragePooling1D,
             layers.AveragePooling2D, layers.GlobalAveragePooling1D,
             layers.GlobalAveragePooling2D, layers.GlobalMaxPooling1D,
             layers.GlobalMaxPooling2D)


def _history_names(node, names):
    """The names of the layers whose outputs an inbound-node config refers to."""
    if isinstance(node, dict):
        history = node.get("config", {}).get("keras_history") \
            if isinstance(node.get("config"), dict) else None
        if history:
            names.append(history[0])
        for value in node.values():
            _history_names(value, names)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _history_names(value, names)
    return names


def _sources(model):
    """Layer name -> the names of the layers it reads, from the functional model's config
    (empty for models that are not functional)."""
    try:
        specs = model.get_config().get("layers", [])
    except (NotImplementedError, TypeError, AttributeError):
        return {}
    return {s["name"]: list(dict.fromkeys(_history_names(s.get("inbound_nodes", []), [])))
            for s in specs if isinstance(s, dict) and "name" in s}


def _is_relu(layer):
    activation = getattr(layer, "activation", None)
    return isinstance(layer, layers.ReLU) or getattr(activation, "__name__", "") == "relu"


class _Inheritance:
    """One child's inheritance, walked in the child's layer order."""

    def __init__(self, model, parent, seed):
        self.model, self.rng = model, np.random.default_rng(seed)
        self.theirs = {layer.name: layer for layer in parent.layers}
        self.sources = _sources(model)
        self.readers = {}
        for name, sources in self.sources.items():
            for source in sources:
                self.readers.setdefault(source, []).append(name)
        self.by_name = {layer.name: layer for layer in model.layers}
        self.maps = {}  # layer name -> parent unit of each output unit, where widened
        self.shares = {}  # layer name -> each output unit's share of its parent unit
        self.counts = {"layers": 0, "widened": 0, "deepened": 0}
        self.identity_norms = set()

    def _input(self, layer):
        """The unit map and shares of ``layer``'s input, or (None, None) where it is the
        parent's own units (or not known)."""
        sources = self.sources.get(layer.name, [])
        if len(sources) != 1:
            return None, None
        return self.maps.get(sources[0]), self.shares.get(sources[0])

    def run(self):
        for layer in self.model.layers:
            source = self.theirs.get(layer.name)
            if source is not None and type(source) is not type(layer):
                source = None
            if type(layer) in _KERNELS:
                self._kernel(layer, source)
            elif isinstance(layer, layers.BatchNormalization):
                self._norm(layer, source)
            elif isinstance(layer, _PER_UNIT):
                self._pass(layer)
            elif layer.weights and source is not None:
                self._copy(layer, source)
        return self.counts

    def _copy(self, layer, source):
        """Copy ``source``'s weights where their shapes are ``layer``'s; whether it did."""
        weights = source.get_weights()
        if [w.shape for w in weights] != [tuple(w.shape) for w in layer.weights]:
            return False
        layer.set_weights(weights)
        self.counts["layers"] += 1
        return True

    def _pass(self, layer):
        in_map, shares = self._input(layer)
        if in_map is not None:
            self.maps[layer.name], self.shares[layer.name] = in_map, shares

    def _kernel(self, layer, source):
        in_map, shares = self._input(layer)
        if source is None:
            return self._deepen(layer, in_map, shares)
        if in_map is None and self._copy(layer, source):
            return
        theirs = source.get_weights()
        kernel = theirs[0]
        ours = [tuple(w.shape) for w in layer.weights]
        shape = ours[0]
        if len(shape) != kernel.ndim or shape[:-2] != kernel.shape[:-2] \
                or shape[-1] < kernel.shape[-1] or len(ours) != len(theirs):
            return
        rows = np.arange(kernel.shape[-2]) if in_map is None else in_map
        if len(rows) != shape[-2]:
            return
        width = kernel.shape[-1]
        out_map = np.concatenate([np.arange(width),
                                  self.rng.integers(width, size=shape[-1] - width)])
        new = np.take(np.take(kernel, rows, axis=-2), out_map, axis=-1)
        if shares is not None:  # each copy of an input unit passes on its share
            new = new * shares.reshape((1,) * (new.ndim - 2) + (-1, 1))
        layer.set_weights([new] + [bias[out_map] for bias in theirs[1:]])
        self.counts["widened"] += 1
        if shape[-1] > width:
            self.maps[layer.name] = out_map
            self.shares[layer.name] = _shares(out_map, self.rng)

    def _deepen(self, layer, in_map, shares):
        """Identity for a new square ``Dense`` read from a ReLU and feeding one (through at
        most a batch normalisation): ReLU(I·ReLU(x)) = ReLU(x)."""
        kernel = layer.weights[0]
        if not isinstance(layer, layers.Dense) or len(kernel.shape) != 2 \
                or kernel.shape[0] != kernel.shape[1] or not self._after_relu(layer):
            return
        chain = self._relu_after(layer)
        if chain is None:
            return
        layer.set_weights([np.eye(kernel.shape[0], dtype="float32")]
                          + [np.zeros(w.shape, "float32") for w in layer.weights[1:]])
        self.identity_norms.update(chain)
        self.counts["deepened"] += 1
        if in_map is not None:
            self.maps[layer.name], self.shares[layer.name] = in_map, shares

    def _after_relu(self, layer):
        sources = self.sources.get(layer.name, [])
        while len(sources) == 1:
            previous = self.by_name.get(sources[0])
            if previous is None:
                return False
            if _is_relu(previous):
                return True
            if not isinstance(previous, (layers.Dropout, layers.GaussianNoise)):
                return False
            sources = self.sources.get(previous.name, [])
        return False

    def _relu_after(self, layer):
        """The batch normalisations between ``layer`` and the ReLU it feeds, or None when
        it does not feed one alone."""
        if getattr(layer, "activation", None) is not None and _is_relu(layer):
            return []
        norms, name = [], layer.name
        while True:
            readers = self.readers.get(name, [])
            if len(readers) != 1 or readers[0] not in self.by_name:
                return None
            reader = self.by_name[readers[0]]
            if _is_relu(reader):
                return norms
            if not isinstance(reader, layers.BatchNormalization) or norms:
                return None
            norms.append(reader.name)
            name = reader.name

    def _norm(self, layer, source):
        in_map, shares = self._input(layer)
        if layer.name in self.identity_norms and source is None:
            gamma_var = [w for w in layer.weights if "variance" in w.path]
            if gamma_var:  # gamma / sqrt(var + eps) = 1, beta = mean = 0
                gamma_var[0].assign(np.full(gamma_var[0].shape, 1.0 - layer.epsilon,
                                            "float32"))
        elif source is not None:
            if in_map is None:
                self._copy(layer, source)
                return
            if all(len(w.shape) == 1 and w.shape[0] == len(in_map) for w in layer.weights):
                layer.set_weights([w[in_map] for w in source.get_weights()])
                self.counts["widened"] += 1
        if in_map is not None:
            self.maps[layer.name], self.shares[layer.name] = in_map, shares


def _shares(out_map, rng):
    """Each unit's share of its parent unit: random, positive, summing to one per parent
    unit, so the copies compute the parent's sum but train apart."""
    raw = rng.uniform(0.5, 1.5, size=len(out_map))
    total = np.zeros(out_map.max() + 1)
    np.add.at(total, out_map, raw)
    return (raw / total[out_map]).astype("float32")


def inherit_weights(model, parent, seed=0):
    """Give ``model`` its ``parent``'s weights where they fit (see the module docstring);
    returns the counts of layers copied, widened and deepened."""
    return _Inheritance(model, parent, seed).run()
