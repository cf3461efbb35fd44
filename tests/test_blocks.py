"""Every block builds a real Keras model, trains one epoch on tiny data and predicts, from
Python and from a YAML spec."""

import keras_tuner as kt
import numpy as np
import pytest

from autoarch import load_spec
from autoarch.blocks import (BlockChoice, CellBlock, ChainBlock, ClassificationHead, Conv1DBlock,
                             ConvBlock, DenseBlock, Merge, ModelSpace, RegressionHead, ResNetBlock,
                             RNNBlock, TextBlock)
from autoarch.engine import data as data_ops
from autoarch.inputs import InputKind

RNG = np.random.default_rng(0)
DATA = {
    "tabular": RNG.normal(size=(24, 6)).astype("float32"),
    "image": RNG.normal(size=(24, 8, 8)).astype("float32"),
    "sequence": RNG.normal(size=(24, 20, 1)).astype("float32"),
    "text": np.array(["a good film", "bad plot", "great acting", "dull and slow"] * 6,
                     dtype=object),
}
LABELS = np.arange(24) % 3

CASES = {
    "dense": ("tabular", lambda: [DenseBlock()]),
    "conv": ("image", lambda: [ConvBlock()]),
    "conv1d": ("sequence", lambda: [Conv1DBlock()]),
    "resnet": ("image", lambda: [ResNetBlock(stages=2, units_per_stage=1)]),
    "rnn": ("sequence", lambda: [RNNBlock(bidirectional=True)]),
    "text_conv": ("text", lambda: [TextBlock(encoder="conv", sequence_length=8)]),
    "text_rnn": ("text", lambda: [TextBlock(encoder="rnn", sequence_length=8)]),
    "text_transformer": ("text", lambda: [TextBlock(encoder="transformer", sequence_length=8)]),
    "cell": ("image", lambda: [CellBlock(stacks=2)]),
    "chain": ("image", lambda: [ChainBlock(max_layers=3, num_layers=3)]),
    "choice": ("image", lambda: [BlockChoice([ConvBlock(), DenseBlock()])]),
}


def with_inputs(space, data):
    """The space fed ``{input name: array}`` as it is (what a search does for arrays)."""
    space.inputs = {name: InputKind(name).fit(array) for name, array in data.items()}
    arrays = space.arrays(data)
    space.adapt(arrays)
    return arrays


def train_once(space, kind, hp=None):
    arrays = with_inputs(space, {"input": DATA[kind]})
    model = space.build(hp or space.hyperparameters())
    dataset = data_ops.make_dataset(arrays, LABELS, 8, shuffle_seed=0)
    history = model.fit(dataset, epochs=1, verbose=0)
    predictions = model.predict(data_ops.make_dataset(arrays, None, 8), verbose=0)
    return history, predictions


@pytest.mark.parametrize("case", sorted(CASES))
def test_block_trains_and_predicts(case):
    kind, blocks = CASES[case]
    space = ModelSpace(blocks() + [ClassificationHead(num_classes=3)])
    history, predictions = train_once(space, kind)
    assert np.isfinite(history.history["loss"][0])
    assert predictions.shape == (24, 3)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-4)


def test_regression_head_and_merge_of_two_inputs():
    space = ModelSpace(branches={"image": [ConvBlock(num_blocks=1)], "meta": [DenseBlock()]},
                       blocks=[Merge(method="concatenate"), RegressionHead()])
    inputs = with_inputs(space, {"image": DATA["image"], "meta": DATA["tabular"]})
    model = space.build(space.hyperparameters())
    y = RNG.normal(size=24).astype("float32")
    model.fit(data_ops.make_dataset(inputs, y, 8), epochs=1, verbose=0)
    assert model.predict(data_ops.make_dataset(inputs, None, 8), verbose=0).shape == (24, 1)


def test_fixed_and_ranged_arguments():
    hp = ModelSpace([DenseBlock(name="mlp", units=64, num_layers=[1, 2],
                                dropout={"type": "float", "min": 0.0, "max": 0.5}),
                     ClassificationHead(num_classes=3)]).hyperparameters()
    names = {p.name: p for p in hp.space}
    assert "mlp/units" not in names  # fixed values are not searched
    assert list(names["mlp/num_layers"].values) == [1, 2]
    assert isinstance(names["mlp/dropout"], kt.engine.hyperparameters.Float)
    assert "mlp/activation" in names  # None means searched over the default


def test_conditional_arguments_of_choice_and_chain():
    hp = ModelSpace([BlockChoice([ConvBlock(name="c"), ChainBlock(name="ch", max_layers=3)],
                                 name="pick"), ClassificationHead(num_classes=2)]).hyperparameters()
    params = {p.name: p for p in hp.space}
    assert params["c/filters"].conditions[0].name == "pick/block"
    layer2 = params["ch/op_2"]
    assert [c.name for c in layer2.conditions] == ["pick/block", "ch/num_layers"]
    assert layer2.conditions[1].values == [3]
    assert repr(BlockChoice([DenseBlock(units=8)])) == "BlockChoice([DenseBlock(units=8)])"


@pytest.mark.parametrize("depths", [[0, 2], {"type": "int", "min": 0, "max": 2}, [1, 2], 0])
def test_a_dense_block_of_no_layers_has_no_layer_settings(depths):
    """0 among the depths: units, activation, dropout and batch norm exist only for the
    others; without 0 they are unconditional; fixed at 0 they are not searched at all."""
    hp = ModelSpace([DenseBlock(name="mlp", num_layers=depths),
                     ClassificationHead(num_classes=3)]).hyperparameters()
    params = {p.name: p for p in hp.space}
    settings = ("mlp/units", "mlp/activation", "mlp/dropout", "mlp/batch_norm")
    if depths == 0:
        assert not set(settings) & set(params)
        return
    for name in settings:
        conditions = params[name].conditions
        if depths == [1, 2]:
            assert conditions == []
        else:
            deeper = [2] if depths == [0, 2] else [1, 2]
            assert [(c.name, list(c.values)) for c in conditions] == [("mlp/num_layers", deeper)]
    space = ModelSpace([DenseBlock(name="mlp", num_layers=depths),
                        ClassificationHead(num_classes=3)])
    hp = kt.HyperParameters()
    hp.Fixed("mlp/num_layers", 0)  # pinned by the caller: the layer settings drop out
    history, predictions = train_once(space, "tabular", hp)
    assert bool(set(settings) & set(hp.values)) == (depths == [1, 2])
    assert np.isfinite(history.history["loss"][0]) and predictions.shape == (24, 3)


def test_every_block_from_yaml(tmp_path):
    spec = tmp_path / "blocks.yaml"
    spec.write_text("""
space:
  blocks:
    - block: choice
      options:
        - {block: conv, filters: [8, 16], num_blocks: 1}
        - {block: resnet, stages: 1}
        - {block: cell, num_nodes: 3, stacks: 1}
        - {block: chain, max_layers: 2}
    - block: dense
      units: {type: int, min: 8, max: 32, step: 8}
    - block: classification_head
      num_classes: 3
""")
    blocks = load_spec(spec).blocks
    space = ModelSpace(blocks)
    hp = space.hyperparameters()
    choice = next(p for p in hp.space if p.name.endswith("/block"))
    for option in choice.values:
        values = dict(hp.values)
        values[choice.name] = option
        trial_hp = kt.HyperParameters()
        trial_hp.values = values
        history, predictions = train_once(space, "image", trial_hp)
        assert predictions.shape == (24, 3), option


def test_yaml_sequence_and_text_blocks(tmp_path):
    for kind, text in (("sequence", "[{block: conv1d}, {block: rnn, layer_type: gru}]"),
                       ("text", "[{block: text, encoder: transformer, sequence_length: 8}]")):
        spec = tmp_path / f"{kind}.yaml"
        spec.write_text(f"space:\n  blocks: {text[:-1]}, {{block: classification_head, "
                        "num_classes: 3}]\n")
        _, predictions = train_once(ModelSpace(load_spec(spec).blocks), kind)
        assert predictions.shape == (24, 3)


def test_unknown_block_argument_is_a_spec_error():
    from autoarch import SpecError

    with pytest.raises(SpecError, match=r"space\.blocks\[0\]\.fliters: unknown key.*'filters'"):
        load_spec({"space": {"blocks": [{"block": "conv", "fliters": 3}]}})
    with pytest.raises(SpecError, match=r"unknown block 'convv'.*did you mean 'conv'"):
        load_spec({"space": {"blocks": [{"block": "convv"}]}})


def test_parameter_names_come_from_the_space_not_from_the_process():
    def make():
        return ModelSpace([BlockChoice([ConvBlock(), DenseBlock(name="dense_1")]),
                           DenseBlock(units=8), ClassificationHead(num_classes=2)])

    first = [p.name for p in make().hyperparameters().space]
    DenseBlock(), ConvBlock()  # blocks made in between do not shift the names
    assert [p.name for p in make().hyperparameters().space] == first
    assert first[0] == "choice_1/block" and "conv_1/filters" in first
    assert "dense_2/num_layers" in first  # dense_1 is taken by the named block
