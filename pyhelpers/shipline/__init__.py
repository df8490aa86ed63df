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
    "build": "shipline.image.publish:build",
    "push": "shipline.image.publish:push",
    "publish": "shipline.image.publish:publish",
    "scan_gate": "shipline.image.scan:scan_gate",
    "promote": "shipline.image.promote:promote",
    "render": "shipline.deployment.release:render",
    "diff": "shipline.deployment.release:diff",
    "register": "shipline.deployment.release:register",
    "deploy": "shipline.deployment.engine:deploy",
    "follow": "shipline.deployment.engine:follow",
    "rollback": "shipline.deployment.engine:rollback",
    "status": "shipline.deployment.status:status",
    "run_task": "shipline.deployment.run_task:run_task",
    "freeze": "shipline.deployment.freeze:freeze",
    "unfreeze": "shipline.deployment.freeze:unfreeze",
    "infra_check": "shipline.deployment.infra:check",
    "infra_bootstrap": "shipline.deployment.infra:bootstrap",
    "ShiplineError": "shipline.errors:ShiplineError",
    "BadInput": "shipline.errors:BadInput",
    "OperationFailed": "shipline.errors:OperationFailed",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'shipline' has no attribute {name!r}")
    module, _, attr = _API[name].partition(":")
    value = getattr(importlib.import_module(module), attr)
    return value() if name == "__version__" else value
