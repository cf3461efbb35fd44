"""Small validation helpers shared by every part of the spec schema."""

import difflib
import numbers


def did_you_mean(word, options):
    """`` (did you mean 'x'?)`` for the closest option, or an empty string."""
    match = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def check_keys(doc, path, mapping, allowed, required=()):
    """Reject unknown keys (with a suggestion) and missing required ones."""
    for key in mapping:
        if key not in allowed:
            allowed_list = ", ".join(sorted(map(str, allowed)))
            raise doc.error(path + (key,), f"unknown key '{key}'{did_you_mean(key, allowed)}; "
                            f"allowed here: {allowed_list}", at_key=True)
    for key in required:
        if key not in mapping:
            raise doc.error(path, f"missing required key '{key}'")


_TYPE_NAMES = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
               int: "an integer", float: "a number", numbers.Real: "a number"}


def type_name(value):
    if value is None:
        return "null"
    for kind, name in _TYPE_NAMES.items():
        if type(value) is kind:  # noqa: E721 - bool must not pass as int
            return name
    return type(value).__name__


def expect(doc, path, value, kind, what=None):
    """Check ``value`` is of ``kind`` (dict, list, str, bool, int, float); bools never count as numbers."""
    ok = {
        dict: isinstance(value, dict),
        list: isinstance(value, list),
        str: isinstance(value, str),
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, numbers.Real) and not isinstance(value, bool),
    }[kind]
    if not ok:
        raise doc.error(path, f"expected {what or _TYPE_NAMES[kind]}, got {type_name(value)} "
                        f"({value!r})")
    return value


def expect_positive(doc, path, value, kind=int, allow_zero=False):
    expect(doc, path, value, kind)
    if value < 0 or (value == 0 and not allow_zero):
        raise doc.error(path, f"must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return value


def expect_one_of(doc, path, value, options):
    if value not in options:
        raise doc.error(path, f"unknown value {value!r}{did_you_mean(value, options)}; "
                        f"expected one of: {', '.join(map(str, options))}")
    return value
