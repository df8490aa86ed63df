"""A deploy lease contender in a process of its own (its own home and temp directory), for the race test.

Usage: python lease_worker.py CONFIG RUN_ID. Each line "acquire T" on stdin: wait until the epoch time T, try
to take the lease of the config's staging service once (no waiting), print "won" or "refused".
"""
from __future__ import annotations

import sys
import time

from shipline.config import load_config
from shipline.deployment.deploy_table import DeployTable
from shipline.deployment.identity import DeployIdentity
from shipline.deployment.lease import Lease
from shipline.errors import RefusedByGuard


def main(config: str, run_id: str) -> None:
    env = load_config(config).config.environment("staging")
    identity = DeployIdentity(f"{env.cluster}/{env.service}", env.name, "webapp:1", run_id)
    lease = Lease(DeployTable(env), identity, ttl=60, hold=3600)
    lease.holder()  # the client made and connected before the race
    print("ready", flush=True)
    for line in sys.stdin:
        start = float(line.split()[1])
        while time.time() < start:
            pass
        try:
            lease.acquire()
            print("won", flush=True)
        except RefusedByGuard:
            print("refused", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
