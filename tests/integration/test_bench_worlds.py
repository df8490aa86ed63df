"""The bench runs several local worlds in one process (publish rows, then deploy rows). moto's state lives
in the process: a world must start empty, or the deploy row pushes to the ECR repository URI of the
publish rows' world, whose registry is stopped ("connection refused")."""
from __future__ import annotations

import json
import subprocess
import sys

from helpers import ROOT

SCRIPT = """
import json, sys
sys.path.insert(0, "bench")
import boto3
from benchmarks import local_world

def ecr(world):
    env = world.env()
    return boto3.client("ecr", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"],
                        aws_access_key_id="x", aws_secret_access_key="y")

first = local_world()
ecr(first).create_repository(repositoryName="demo/webapp")
first.stop()
second = local_world(time_scale=0.05)
try:
    print(json.dumps([r["repositoryUri"] for r in ecr(second).describe_repositories()["repositories"]]))
finally:
    second.stop()
"""


def test_a_bench_world_starts_empty_after_another_world_of_the_same_process() -> None:
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1]) == []
