#!/usr/bin/env python3
"""A custom script on shipline's Python API: check a service's config and this machine's access,
then print where each environment deploys.

    python examples/scripts/preflight.py examples/webapp/shipline.yaml
"""
from __future__ import annotations

import sys

import shipline


def main(config_path: str) -> int:
    try:
        loaded = shipline.load_config(config_path)
        checks = shipline.doctor(docker=True, aws=True)["checks"]
    except shipline.ShiplineError as error:
        print(f"preflight failed: {error.message}", file=sys.stderr)
        return error.exit_code
    for check in checks:
        print(f"{check['name']}: {check['detail']}")
    config = loaded.config
    for name in config.environments:
        env = config.environment(name)
        gate = " after approval" if env.approval and env.approval.required else ""
        print(f"{name}: {env.service} on cluster {env.cluster} ({env.region}), "
              f"strategy {env.deploy.strategy}{gate}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "shipline.yaml"))
