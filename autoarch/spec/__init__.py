"""The bottom layer of specs: safe, position-aware YAML, small checks with did-you-mean, and
parameter definitions as ``keras_tuner.HyperParameters``. Whole specs are read by
:mod:`autoarch.specfile`, above the parts they name."""

from autoarch.spec.params import add_parameter, add_parameters, is_definition
from autoarch.spec.yaml_loader import MarkedDocument, load_yaml, load_yaml_file

__all__ = ["MarkedDocument", "add_parameter", "add_parameters", "is_definition", "load_yaml",
           "load_yaml_file"]
