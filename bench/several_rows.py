"""Benchmark rows of several services: one `shipline deploy --service ... --parallel N` of N services vs N
`shipline deploy --service X` one after another, on the local emulation. Measured per shipline process (not the
emulation, which runs in this process, nor the Docker engine): its wall time, CPU time and peak RSS
(own_usage)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from own_usage import Usage, measured

ROOT = Path(__file__).resolve().parent.parent
SERVICES = [f"s{index:02d}" for index in range(1, 21)]
DEPLOY_SETTINGS = "  timeout: 5m\n  desired_count: 1\n  bake_time: 2s\n  circuit_breaker: false\n"
GIT_AUTHOR = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.invalid",
              "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.invalid"}


class SeveralBench:
    """A local world and the sample app as one shipline.yaml of SERVICES, in a git repository."""

    def __init__(self) -> None:
        from benchmarks import local_world

        self.world = local_world(time_scale=0.05)
        os.environ.update(self.world.env(), SHIPLINE_TIME_SCALE="1")  # shipline's polling as on AWS
        self.work = Path(tempfile.mkdtemp(prefix="shipline-bench-several-"))
        self.app = self.work / "webapp"
        self.config = str(self.app / "shipline.yaml")
        self.runs = 0
        shutil.copytree(ROOT / "examples" / "webapp", self.app, ignore=shutil.ignore_patterns("busybox"))
        shutil.copy2("/bin/busybox", self.app / "busybox")
        config = Path(self.config)
        services = "services:\n" + "".join(f"  - name: {name}\n" for name in SERVICES)
        config.write_text(config.read_text().replace("service: webapp\n", services)
                          .replace("  timeout: 10m\n  bake_time: 5m\n", DEPLOY_SETTINGS))
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> None:
        subprocess.run(["git", "-C", str(self.app), *args], check=True, capture_output=True,
                       env={**os.environ, **GIT_AUTHOR})

    def release(self, page: str) -> str:
        """A new commit of the app, published: its image."""
        import shipline

        (self.app / "www" / "index.html").write_text(f"<p>{page}</p>\n")
        self.git("add", "-A")
        self.git("commit", "-qm", page)
        return shipline.publish(self.config)["image"]

    def bootstrap(self, image: str) -> None:
        """Every service created (none waited for), then each waited for until it runs its task."""
        import shipline

        for wait in (False, True):
            for name in SERVICES:
                shipline.infra_bootstrap(self.config, environment="staging", service=name, image=image, wait=wait)

    def deploy(self, image: str, names: list[str], parallel: int) -> Usage:
        """One `shipline deploy` process of `names` (this tree's code); raises CalledProcessError on failure."""
        argv = [sys.executable, "-m", "shipline", "deploy", "--config", self.config, "--environment", "staging",
                "--image", image, "--parallel", str(parallel), *(a for n in names for a in ("--service", n))]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "pyhelpers"),
                                                                          os.environ.get("PYTHONPATH")]))}
        self.runs += 1
        log = self.work / f"deploy-{self.runs}.stderr"
        return measured(argv, env, log)

    def close(self) -> None:
        self.world.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def measure(counts: tuple[int, ...] = (1, 5, 20)) -> dict[int, dict[str, Usage]]:
    """For each count N: the first N services deployed by one process in parallel (N at a time), and one
    process per service one after another; each series on a release of its own, so every service changes."""
    bench = SeveralBench()
    try:
        bench.bootstrap(bench.release("first"))
        results: dict[int, dict[str, Usage]] = {}
        for count in counts:
            names = SERVICES[:count]
            parallel = bench.deploy(bench.release(f"{count} parallel"), names, parallel=count)
            image = bench.release(f"{count} one after another")
            sequential = Usage.combined([bench.deploy(image, [name], parallel=1) for name in names])
            results[count] = {"parallel": parallel, "sequential": sequential}
        return results
    finally:
        bench.close()
