"""One-shot NAS: weight-sharing supernets over a space's searched operations."""

from autoarch.oneshot.supernet import Supernet

__all__ = ["Supernet"]
