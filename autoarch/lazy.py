"""Modules and package names imported on first use.

``layers = lazy_module("keras.layers")`` at the top of a block module lets its ``build``
methods write ``layers.Dense(...)`` while importing the module (to check or count a spec)
does not import Keras, and with it TensorFlow. The module is imported the first time one of
its attributes is read, and Python caches it from then on.
"""

import importlib
import sys


class LazyModule:
    """Stands for the module ``name`` until an attribute is read."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attribute):
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self):
        return f"<lazy module {self._name!r}>"


def lazy_module(name):
    return LazyModule(name)


def lazy_names(package, module_of):
    """A package's module ``__getattr__`` (PEP 562): each name of ``module_of`` ({name:
    module}) is imported from its module when first read, then kept in the package."""

    def __getattr__(name):
        if name in module_of:
            value = getattr(importlib.import_module(module_of[name]), name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
