"""Search spaces: keras-tuner HyperParameters plus the operations strategies need on them."""

from autoarch.space.decisions import (
    active_values,
    decisions,
    discrete_options,
    encode,
    is_active,
    mutate,
    sample,
)

__all__ = ["active_values", "decisions", "discrete_options", "encode", "is_active", "mutate", "sample"]
