"""Benchmark row of the Production stage: a rolling deploy by shipline vs `ecs deploy` (ecs-deploy) of
the same service on the local emulation: AWS API calls and the tool's own CPU time, side by side."""
from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(ecs_bin: Path) -> dict[str, float]:
    """Deploy a new image once with each tool; return calls and CPU seconds for each."""
    import shipline
    from benchmarks import local_world

    world = local_world(time_scale=0.05)
    # shipline at time scale 1, as on AWS: its calls and CPU are compared with ecs-deploy's, which polls
    # in real seconds
    os.environ.update(world.env(), SHIPLINE_TIME_SCALE="1")
    work = Path(tempfile.mkdtemp(prefix="shipline-bench-deploy-"))
    try:
        app = work / "webapp"
        shutil.copytree(ROOT / "examples" / "webapp", app, ignore=shutil.ignore_patterns("busybox"))
        shutil.copy2("/bin/busybox", app / "busybox")
        config_file = app / "shipline.yaml"  # the default stability window (24 s), not the sample's bake_time
        config_file.write_text(config_file.read_text().replace("  bake_time: 5m\n", ""))
        env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.invalid",
               "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.invalid"}

        def commit(page: str) -> str:
            (app / "www" / "index.html").write_text(page)
            subprocess.run(["git", "-C", str(app), "add", "-A"], check=True, env=env)
            subprocess.run(["git", "-C", str(app), "commit", "-qm", page], check=True, env=env)
            return shipline.publish(str(app / "shipline.yaml"))["image"]

        subprocess.run(["git", "-C", str(app), "init", "-q", "-b", "main"], check=True, env=env)
        config = str(app / "shipline.yaml")
        shipline.infra_bootstrap(config, environment="staging", image=commit("one"))
        second, third = commit("two"), commit("three")
        shipline.deploy(config, environment="staging", image=second)  # both tools start from a steady service
        recorder = world.moto.recorder
        results: dict[str, float] = {}
        for name, argv in (
                ("shipline", [str(Path(sys.executable).parent / "shipline"), "deploy", "--config", config,
                              "--environment", "staging", "--image", third]),
                ("ecs-deploy", [str(ecs_bin), "deploy", "demo", "webapp", "--image", "web", second,
                                "--timeout", "300"])):  # both tools deregister the old revision
            recorder.clear()
            cpu = _child_cpu()
            subprocess.run(argv, check=True, capture_output=True, env={**os.environ})
            results[f"{name}_calls"] = len(recorder.calls())
            results[f"{name}_cpu"] = _child_cpu() - cpu
        return results
    finally:
        world.stop()
        shutil.rmtree(work, ignore_errors=True)
