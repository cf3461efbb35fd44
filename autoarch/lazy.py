"""Modules imported on first use, for names used only inside functions.

``layers = lazy_module("keras.layers")`` at the top of a block module lets its ``build``
methods write ``layers.Dense(...)`` while importing the module (to check or count a spec)
does not import Keras, and with it TensorFlow. The module is imported the first time one of
its attributes is read, and Python caches it from then on.
"""

import importlib


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
