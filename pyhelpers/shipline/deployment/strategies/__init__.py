"""Deployment strategies: one module each, implementing the Strategy interface in base.py, listed in
registry.py (the only list of their names). Importing this package loads no strategy."""
from __future__ import annotations

from .registry import NAMES, info, load, names, register

__all__ = ["NAMES", "info", "load", "names", "register"]
