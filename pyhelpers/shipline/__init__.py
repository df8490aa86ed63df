"""shipline: Source -> Build -> Test -> Production on Amazon ECS.

The public Python API. Names are imported on first use so that `import shipline` stays cheap:

    import shipline
    loaded = shipline.load_config("shipline.yaml")
    shipline.check_config("shipline.yaml")
"""
from __future__ import annotations

import importlib
from typing import Any

_API = {
    "__version__": "shipline.version:version",
    "load_config": "shipline.config:load_config",
    "check_config": "shipline.config:check_config",
    "config_schema": "shipline.config:config_schema",
    "doctor": "shipline.doctor:doctor",
    "ShiplineError": "shipline.errors:ShiplineError",
    "BadInput": "shipline.errors:BadInput",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'shipline' has no attribute {name!r}")
    module, _, attr = _API[name].partition(":")
    value = getattr(importlib.import_module(module), attr)
    return value() if name == "__version__" else value
