"""Benchmark rows of the Build stage: shipline publish vs the talk's buildspec (docker build && docker push)."""
from __future__ import annotations

import base64
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
DOCKER = "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"


class PublishBench:
    """A local world, the sample app in a git repository, and timing helpers."""

    def __init__(self) -> None:
        from benchmarks import local_world

        self.world = local_world()
        self.env = {**os.environ, **self.world.env(), "DOCKER_BUILDKIT": "0"}
        self.workdir = Path(tempfile.mkdtemp(prefix="shipline-bench-"))
        self.app = self.workdir / "webapp"
        shutil.copytree(ROOT / "examples" / "webapp", self.app, ignore=shutil.ignore_patterns("busybox"))
        shutil.copy2("/bin/busybox", self.app / "busybox")
        self.git("init", "-q", "-b", "main")
        self.commit("initial")
        import boto3

        self.ecr = boto3.client("ecr", endpoint_url=self.env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                                aws_access_key_id="x", aws_secret_access_key="y")
        self.plain_uri = self.ecr.create_repository(repositoryName="bench/plain")["repository"]["repositoryUri"]
        data = self.ecr.get_authorization_token()["authorizationData"][0]
        password = base64.b64decode(data["authorizationToken"]).decode().partition(":")[2]
        subprocess.run([DOCKER, "login", "-u", "AWS", "--password-stdin", data["proxyEndpoint"]],
                       input=password, text=True, check=True, capture_output=True, env=self.env)

    def git(self, *args: str) -> str:
        env = {**self.env, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
               "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}
        return subprocess.run(["git", "-C", str(self.app), *args], check=True, capture_output=True, text=True,
                              env=env).stdout.strip()

    def commit(self, message: str) -> None:
        (self.app / "www" / "index.html").write_text(f"<p>{message}</p>\n")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, "--allow-empty")

    def publish(self) -> None:
        subprocess.run([str(Path(sys.executable).parent / "shipline"), "publish", "--config",
                        str(self.app / "shipline.yaml")], check=True, capture_output=True, env=self.env)

    def plain(self) -> None:
        """The talk's buildspec: docker build -t REGISTRY/IMAGE:TAG . && docker push REGISTRY/IMAGE:TAG"""
        tag = f"{self.plain_uri}:{self.git('rev-parse', 'HEAD')}"
        subprocess.run([DOCKER, "build", "-q", "-t", tag, str(self.app)], check=True, capture_output=True,
                       env=self.env)
        subprocess.run([DOCKER, "push", tag], check=True, capture_output=True, env=self.env)

    def fresh_agent(self) -> None:
        """Empty the engine's image store of this bench's images (those named after its own registry, whose
        untagged parent layers go with them), never another world's: the engine is shared."""
        registry = self.world.registry.address
        ids = subprocess.run([DOCKER, "images", "-q", "--filter", f"reference={registry}/demo/webapp",
                              "--filter", f"reference={registry}/bench/plain"], capture_output=True, text=True,
                             env=self.env).stdout.split()
        if ids:
            subprocess.run([DOCKER, "rmi", "-f", *sorted(set(ids))], capture_output=True, env=self.env)

    def median(self, run: Callable[[], None], before: Callable[[], None], runs: int) -> float:
        times = []
        for _ in range(runs):
            before()
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    def close(self) -> None:
        self.fresh_agent()
        self.world.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def measure(runs: int = 5) -> dict[str, float]:
    """Fresh agent (registry already holds the commit's image) and warm agent (a new commit)."""
    bench = PublishBench()
    try:
        bench.publish()
        bench.plain()
        fresh_noop = bench.median(bench.publish, bench.fresh_agent, runs)
        fresh_plain = bench.median(bench.plain, bench.fresh_agent, runs)
        bench.publish()   # warm the engine for both tools
        bench.plain()
        counter = iter(range(10 ** 6))
        warm_publish = bench.median(bench.publish, lambda: bench.commit(f"warm {next(counter)}"), runs)
        warm_plain = bench.median(bench.plain, lambda: bench.commit(f"warm {next(counter)}"), runs)
    finally:
        bench.close()
    return {"fresh_noop": fresh_noop, "fresh_plain": fresh_plain, "warm_publish": warm_publish,
            "warm_plain": warm_plain}
