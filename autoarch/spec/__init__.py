"""Specs: safe, position-aware YAML loading and validation into keras-tuner spaces."""

from autoarch.spec.schema import Spec, load_space, load_spec
from autoarch.spec.yaml_loader import load_yaml, load_yaml_file

__all__ = ["Spec", "load_space", "load_spec", "load_yaml", "load_yaml_file"]
