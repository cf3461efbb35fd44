"""``space.blocks`` in a spec -> block objects, every argument checked with its position.

Each item names its block (``block: dense``) and gives arguments a value (fixed), a list
(a choice) or a parameter definition (``{type: int, min: 1, max: 4}``)::

    blocks:
      - block: conv
        filters: [16, 32]
        kernel_size: 3
      - block: choice            # macro: a searched choice between whole blocks
        options:
          - {block: dense, name: mlp}
          - {block: resnet}
      - block: classification_head
"""

import inspect

from autoarch.blocks import BLOCKS
from autoarch.spec.checks import check_keys, did_you_mean, expect
from autoarch.spec.params import add_parameter, is_definition
from autoarch.spec.space import ParameterSpace


def _constructor_options(cls):
    names = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass) and klass.__module__.startswith("autoarch"):
            names |= set(inspect.signature(klass.__init__).parameters)
    return names - {"self", "name", "arguments", "options", "kwargs"}


def build_block(doc, path, item):
    expect(doc, path, item, dict, "a block mapping ({block: kind, ...arguments})")
    if "block" not in item:
        raise doc.error(path, f"missing required key 'block' (one of {', '.join(BLOCKS)})")
    kind = item["block"]
    if kind not in BLOCKS:
        raise doc.error(path + ("block",), f"unknown block '{kind}'{did_you_mean(kind, BLOCKS)}; "
                        f"available: {', '.join(BLOCKS)}")
    cls = BLOCKS[kind]
    name = item.get("name")
    if name is not None:
        expect(doc, path + ("name",), name, str)
    if kind == "choice":
        check_keys(doc, path, item, {"block", "name", "options"}, required=("options",))
        options = expect(doc, path + ("options",), item["options"], list)
        if not options:
            raise doc.error(path + ("options",), "a block choice needs at least one option")
        blocks = [build_block(doc, path + ("options", i), o) for i, o in enumerate(options)]
        try:
            return cls(blocks, name=name)
        except ValueError as err:
            raise doc.error(path + ("options",), str(err)) from None
    structural = _constructor_options(cls)
    init_args = {k: v for k, v in item.items() if k in structural}
    try:
        block = cls(name=name, **init_args)
    except ValueError as err:  # a structural option's value (first_trials: 3)
        raise doc.error(path, str(err)) from None
    arguments = {k: v for k, v in item.items() if k not in structural | {"block", "name"}}
    allowed = set(block.search_space()) | structural | {"block", "name"}
    check_keys(doc, path, item, allowed)
    for argument, value in arguments.items():
        _check_argument(doc, path + (argument,), argument, value)
    return cls(name=name, **init_args, **arguments)


def _check_argument(doc, path, argument, value):
    if isinstance(value, list):
        if not value:
            raise doc.error(path, "a choice needs at least one value, got an empty list")
        value = {"type": "choice", "values": value}
    if is_definition(value):
        if "when" in value:
            raise doc.error(path + ("when",), "block arguments cannot have 'when'; use a "
                            "'choice' block for alternatives")
        add_parameter(ParameterSpace(), doc, path, argument, value)
    elif isinstance(value, dict):
        raise doc.error(path, "expected a value, a list of choices, or a parameter definition "
                        "with 'type'")


def validate_blocks(doc, path, items):
    expect(doc, path, items, list, "a list of blocks")
    if not items:
        raise doc.error(path, "a model space needs at least one block")
    blocks = [build_block(doc, path + (i,), item) for i, item in enumerate(items)]
    names = [b.name for b in blocks if not b.auto_named]
    for i, block in enumerate(blocks):
        if not block.auto_named and names.count(block.name) > 1:
            raise doc.error(path + (i, "name"), f"block name '{block.name}' is used twice")
    return blocks
