#!/usr/bin/env python3
"""The demo's main job, on shipline's Python API against `shipline local`: publish the sample service,
bootstrap its infrastructure, deploy a release rolling, a second release doubling, and a broken release
that is stopped and rolled back; then a summary table. Exit 0 when every outcome is the expected one.

    python examples/scripts/demo_pipeline.py WORKDIR/webapp   (a git checkout of examples/webapp)
"""
from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

import shipline


def commit(app: Path, page: str | None, message: str, health: bool = True) -> None:
    if page is not None:
        (app / "www" / "index.html").write_text(f"<p>{page}</p>\n")
    health_file = app / "www" / "health"
    if health:
        health_file.write_text("ok\n")
    else:
        health_file.unlink(missing_ok=True)
    env = {"GIT_AUTHOR_NAME": "demo", "GIT_AUTHOR_EMAIL": "demo@example.invalid",
           "GIT_COMMITTER_NAME": "demo", "GIT_COMMITTER_EMAIL": "demo@example.invalid", "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "-C", str(app), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(app), "commit", "-q", "-m", message], check=True, env=env)


def main(app: Path) -> int:
    logging.basicConfig(level=logging.INFO, format="    %(message)s", stream=sys.stderr)
    config = str(app / "shipline.yaml")
    rows: list[tuple[str, str, str, float]] = []

    def stage(name: str, expected: str, action) -> object:
        print(f"\n==> {name}", file=sys.stderr)
        start = time.monotonic()
        try:
            value, outcome = action(), "succeeded"
        except shipline.OperationFailed as error:
            value, outcome = error, "rolled back"
        rows.append((name, outcome, expected, time.monotonic() - start))
        return value

    first = stage("publish release 1", "succeeded", lambda: shipline.publish(config))
    stage("infra bootstrap (staging)", "succeeded",
          lambda: shipline.infra_bootstrap(config, environment="staging", image=first["image"], wait=True))
    commit(app, "release 2", "release 2")
    second = stage("publish release 2", "succeeded", lambda: shipline.publish(config))
    stage("deploy release 2, rolling", "succeeded",
          lambda: shipline.deploy(config, environment="staging", image=second["image"]))
    commit(app, "release 3", "release 3")
    third = stage("publish release 3", "succeeded", lambda: shipline.publish(config))
    stage("deploy release 3, doubling", "succeeded",
          lambda: shipline.deploy(config, environment="staging", image=third["image"], strategy="doubling"))
    commit(app, None, "release 4 (broken /health)", health=False)
    broken = stage("publish release 4 (broken)", "succeeded", lambda: shipline.publish(config))
    stage("deploy release 4, rolling", "rolled back",
          lambda: shipline.deploy(config, environment="staging", image=broken["image"]))
    final = shipline.status(config, environment="staging")

    print(f"\n{'stage':32} {'outcome':12} {'expected':12} {'seconds':>8}")
    for name, outcome, expected, seconds in rows:
        mark = "" if outcome == expected else "  <-- unexpected"
        print(f"{name:32} {outcome:12} {expected:12} {seconds:8.1f}{mark}")
    print(f"\nstaging runs {final['taskDefinition'].rsplit('/', 1)[-1]} "
          f"({final['running']}/{final['desired']} tasks): release 3 stayed in service")
    return 0 if all(outcome == expected for _, outcome, expected, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
