"""How a candidate is scored cheaply: low-fidelity training and learning-curve stopping."""

from autoarch.estimation.curve import CurveStopping, extrapolate
from autoarch.estimation.fidelity import subsample

__all__ = ["CurveStopping", "extrapolate", "subsample"]
