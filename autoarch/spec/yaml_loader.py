"""Safe YAML loading that remembers where every value came from.

PyYAML's safe loader gives plain data but forgets positions, silently keeps the last of two
duplicate keys, and reads ``1e-4`` as a string. This module composes the node tree with the
safe loader, rejects duplicates, reads exponent floats, and records ``line:column`` for every
path so validation errors can point at the exact place in the file.

A spec may come from someone else, so what it may cost is bounded: at most
``MAX_SPEC_BYTES`` of text, ``MAX_DEPTH`` levels of nesting and ``MAX_VALUES`` values once
aliases are expanded (a few hundred bytes of nested aliases, "billion laughs", would
otherwise expand to gigabytes). Each limit is refused within a second with a clear error.
"""

import os
import re
from dataclasses import dataclass, field

import yaml

from autoarch.errors import SpecError

MAX_SPEC_BYTES = 1 << 20  # a spec is a page of settings; the largest ready one is ~2 KB
MAX_DEPTH = 64
MAX_VALUES = 100_000


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-4`` / ``5E3`` as floats (YAML 1.1 needs a dot)."""


_FLOAT_EXP = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$")
_SpecLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_EXP, list("-+0123456789."))


def format_path(path):
    """``("space", "blocks", 2, "units")`` -> ``"space.blocks[2].units"``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass
class MarkedDocument:
    """Plain data plus the positions of its values (``marks``) and mapping keys (``key_marks``)."""

    data: object
    file: str = None
    marks: dict = field(default_factory=dict)
    key_marks: dict = field(default_factory=dict)
    values: int = 0  # read so far, aliases counted each time they are expanded

    def where(self, path, at_key=False):
        """The (line, column) of ``path`` or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            table = self.key_marks if at_key and path in self.key_marks else self.marks
            if path in table:
                return table[path]
            if not path:
                return (None, None)
            path = path[:-1]
            at_key = False

    def error(self, path, message, at_key=False):
        line, column = self.where(path, at_key=at_key)
        return SpecError(message, format_path(path), self.file, line, column)


def _mark(node):
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _to_data(loader, node, path, doc):
    doc.values += 1
    if doc.values > MAX_VALUES:
        raise SpecError(f"the spec expands to more than {MAX_VALUES:,} values (aliases of "
                        "aliases?); a spec is a page of settings", format_path(path), doc.file,
                        *_mark(node))
    if len(path) > MAX_DEPTH:  # through aliases
        raise SpecError(f"the spec nests deeper than {MAX_DEPTH} levels", format_path(path[:8]),
                        doc.file, *_mark(node))
    doc.marks[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves '<<' merge keys
        result = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise SpecError("mapping keys must be plain scalars", format_path(path),
                                doc.file, *_mark(key_node))
            key = _construct_scalar(loader, key_node, path, doc)
            if key in result:
                first = doc.key_marks[path + (key,)]
                raise SpecError(f"duplicate key '{key}' (first defined at line {first[0]})",
                                format_path(path + (key,)), doc.file, *_mark(key_node))
            doc.key_marks[path + (key,)] = _mark(key_node)
            result[key] = _to_data(loader, value_node, path + (key,), doc)
        return result
    if isinstance(node, yaml.SequenceNode):
        if node.tag not in ("tag:yaml.org,2002:seq",):
            raise _tag_error(node, path, doc)
        return [_to_data(loader, item, path + (i,), doc) for i, item in enumerate(node.value)]
    return _construct_scalar(loader, node, path, doc)


def _check_depth(text, file):
    """Refuse deep nesting from the parser's events, before the (recursive) composer meets it."""
    depth = 0
    for event in yaml.parse(text, Loader=_SpecLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise SpecError(f"the spec nests deeper than {MAX_DEPTH} levels", "", file,
                                event.start_mark.line + 1, event.start_mark.column + 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _tag_error(node, path, doc):
    return SpecError(f"unsupported tag '{node.tag}': specs hold plain data only "
                     "(no Python objects or custom tags)", format_path(path), doc.file, *_mark(node))


def _construct_scalar(loader, node, path, doc):
    try:
        return loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as err:
        raise _tag_error(node, path, doc) from err


def load_yaml(text, file=None):
    """Parse YAML ``text`` safely into a :class:`MarkedDocument`.

    Raises :class:`SpecError` with ``file:line:column`` for malformed YAML, duplicate keys
    and any tag that is not plain data, and for specs beyond the limits above.
    """
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError(f"the spec is {len(text):,} characters long; at most "
                        f"{MAX_SPEC_BYTES:,} are read (a spec is a page of settings)", "", file)
    loader = _SpecLoader(text)
    try:
        try:
            _check_depth(text, file)
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
            problem = err.problem or "malformed YAML"
            context = f" ({err.context})" if err.context else ""
            raise SpecError(f"malformed YAML: {problem}{context}", "", file, line, col) from None
        except yaml.YAMLError as err:
            raise SpecError(f"malformed YAML: {err}", "", file) from None
        doc = MarkedDocument(None, file=file)
        if node is None:
            doc.data = {}
            return doc
        doc.data = _to_data(loader, node, (), doc)
        return doc
    finally:
        loader.dispose()


def load_yaml_file(path):
    """Read and parse a YAML file; errors name the file."""
    try:
        if os.path.getsize(path) > MAX_SPEC_BYTES:
            raise SpecError(f"the spec is {os.path.getsize(path):,} bytes; at most "
                            f"{MAX_SPEC_BYTES:,} are read (a spec is a page of settings)",
                            "", str(path))
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as err:
        raise SpecError(f"cannot read spec: {err.strerror}", "", str(path)) from None
    return load_yaml(text, file=str(path))
