"""shipline's benchmarks, each a row measured against the tool a team would use instead.

Not timed tests: they print numbers and ratios; targets are shown for reading, not asserted.
"""
from __future__ import annotations

import functools
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
ECS_DEPLOY_VENV = ROOT / "bench" / ".venv-ecs-deploy"
SAMPLE_CONFIG = ROOT / "examples" / "webapp" / "shipline.yaml"
T = TypeVar("T")


@dataclass
class Row:
    name: str
    ours: str
    baseline: str
    ours_s: float
    baseline_s: float
    target: str

    @property
    def ratio(self) -> float:
        return self.ours_s / self.baseline_s


def median_seconds(argv: list[str], runs: int = 10) -> float:
    """Median wall time of `argv` over `runs` runs, after one warm-up run (page cache, .pyc)."""
    subprocess.run(argv, check=True, capture_output=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ecs_deploy_bin() -> Path:
    """The `ecs` entry point of the ecs-deploy package, in its own virtual environment."""
    ecs = ECS_DEPLOY_VENV / "bin" / "ecs"
    if not ecs.exists():
        print("bench: installing ecs-deploy into bench/.venv-ecs-deploy", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(ECS_DEPLOY_VENV)], check=True)
        subprocess.run([str(ECS_DEPLOY_VENV / "bin" / "pip"), "install", "-q", "-r",
                        str(ROOT / "bench" / "requirements-ecs-deploy.txt")], check=True)
    return ecs


def startup_help() -> Row:
    ours = median_seconds([str(VENV_BIN / "shipline"), "--help"])
    theirs = median_seconds([str(ecs_deploy_bin()), "--help"])
    return Row("startup: --help", "shipline --help", "ecs --help", ours, theirs, "ratio <= 0.5")


def startup_config_check() -> Row:
    ours = median_seconds([str(VENV_BIN / "shipline"), "config", "check", "--config", str(SAMPLE_CONFIG)])
    theirs = median_seconds([str(ecs_deploy_bin()), "--help"])
    return Row("startup: a real command", "shipline config check", "ecs --help", ours, theirs,
               "(no fast path for help only)")


def render_taskdef() -> Row:
    """render + validate of the sample service's task definition, in-process (no AWS call)."""
    from shipline.config import load_config
    from shipline.taskdef.render import render_document

    loaded = load_config(SAMPLE_CONFIG)
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/webapp@sha256:" + "a" * 64
    render_document(loaded, "staging", image)  # imports and first-use caches
    times = []
    for _ in range(20):
        start = time.perf_counter()
        render_document(load_config(SAMPLE_CONFIG), "staging", image)
        times.append(time.perf_counter() - start)
    ours = statistics.median(times)
    return Row("task definition: render + validate", "shipline (in-process)", "target 150 ms", ours, 0.150,
               "ratio <= 1 (under 150 ms)")


def once(measure: Callable[[], T]) -> Callable[[], T]:
    """`measure` run at most once: its result, or the error it raised, serves every row that shares it."""
    outcome: list[Any] = []

    @functools.wraps(measure)
    def shared() -> T:
        if not outcome:
            try:
                outcome.append((True, measure()))
            except Exception as error:
                outcome.append((False, error))
        ok, value = outcome[0]
        if not ok:
            raise value
        return value

    return shared


@once
def _publish() -> dict[str, float]:
    from publish_rows import measure

    return measure()


def publish_fresh_agent() -> Row:
    times = _publish()
    return Row("publish: fresh agent, image exists", "shipline publish (no-op)", "docker build && push",
               times["fresh_noop"], times["fresh_plain"], "ratio <= 0.2, shipline < 1.5 s")


def publish_warm_agent() -> Row:
    times = _publish()
    return Row("publish: warm agent, new commit", "shipline publish", "docker build && push",
               times["warm_publish"], times["warm_plain"], "ratio <= 3")


@once
def _deploy() -> dict[str, float]:
    from deploy_rows import measure

    return measure(ecs_deploy_bin())


def deploy_api_calls() -> Row:
    numbers = _deploy()
    return Row("deploy rolling: AWS API calls", "shipline deploy", "ecs deploy", numbers["shipline_calls"],
               numbers["ecs-deploy_calls"], "ratio <= 1 (counts, not seconds)")


def deploy_cpu() -> Row:
    numbers = _deploy()
    return Row("deploy rolling: the tool's CPU time", "shipline deploy", "ecs deploy", numbers["shipline_cpu"],
               numbers["ecs-deploy_cpu"], "(for reading)")


SEVERAL = (1, 5, 20)


@once
def _several() -> dict[int, dict[str, Any]]:
    from several_rows import measure

    return measure(SEVERAL)


def several_services(count: int, measure: str) -> Callable[[], Row]:
    """The row of `count` services' `measure` (wall, cpu or peak): one shipline deploy process deploying them
    in parallel vs one process per service, one after another (its name: several_services_COUNT_MEASURE)."""
    def row() -> Row:
        parallel, sequential = _several()[count]["parallel"], _several()[count]["sequential"]
        ours, theirs = f"1 deploy, {count} at a time", f"{count} deploy{'s' * (count > 1)} in turn"
        if measure == "wall":
            return Row(f"deploy {count} services: wall s", ours, theirs, parallel.wall, sequential.wall,
                       "(for reading: on 2 cores, the Docker engine's)")
        if measure == "cpu":
            return Row(f"deploy {count} services: CPU s per service", ours, theirs, parallel.cpu / count,
                       sequential.cpu / count, "ratio <= 1 (<= CPU of one alone)")
        return Row(f"deploy {count} services: peak MB", ours, theirs, parallel.peak_mb, sequential.peak_mb,
                   "shipline < 300 MB" if count == 20 else "(for reading)")

    row.__name__ = f"several_services_{count}_{measure}"
    return row


DATAPLANE = dict(rps=100, seconds=20, count=4)


@once
def _dataplane() -> dict[str, Any]:
    from dataplane_rows import measure

    return measure(**DATAPLANE)


def dataplane_latency(percentile: int) -> Callable[[], Row]:
    """The row of the data plane's added latency at `percentile`: the same steady load through an emulated ALB
    listener vs straight to its target, in milliseconds (its name: dataplane_latency_pPERCENTILE)."""
    def row() -> Row:
        from dataplane_rows import added

        sides = _dataplane()
        through, straight, more = added(sides["direct"], sides["listener"], percentile)
        notes = "; ".join(f"{side}: {note}" for side, note in ((s, sides[s].note()) for s in sides) if note)
        return Row(f"data plane: p{percentile} latency ms", "through a listener", "straight to the target",
                   through, straight, f"(for reading) added {more:+.2f} ms" + (f"; {notes}" if notes else ""))

    row.__name__ = f"dataplane_latency_p{percentile}"
    return row


def local_world(**settings: Any) -> Any:
    """A started local world that starts empty. moto's state lives in the process, not in the world: a
    second world of one process would otherwise inherit the first's resources, among them ECR
    repositories whose URIs name the first world's registry, stopped since (push: connection refused)."""
    from shipline.local.world import LocalWorld

    world = LocalWorld(**settings).start()
    world.reset()
    return world


ROWS: list[Callable[[], Row]] = [startup_help, startup_config_check, render_taskdef, publish_fresh_agent,
                                 publish_warm_agent, deploy_api_calls, deploy_cpu,
                                 *(several_services(count, measure) for count in SEVERAL
                                   for measure in ("wall", "cpu", "peak")),
                                 *(dataplane_latency(percentile) for percentile in (50, 99))]


def failure(error: Exception) -> str:
    """One line saying why a row failed (a command's last line of stderr, when a command failed)."""
    if isinstance(error, subprocess.CalledProcessError):
        output = error.stderr or error.stdout or ""
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
        last = next((line.strip() for line in reversed(output.splitlines()) if line.strip()), "no output")
        argv = [error.cmd] if isinstance(error.cmd, str) else \
            [Path(str(error.cmd[0])).name, *map(str, error.cmd[1:2])]
        return f"command '{' '.join(argv)}' exited {error.returncode}: {last}"
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def main(selected: list[str]) -> int:
    """Measure the selected rows and print one table: a row that raises is printed as failed (its error
    below the table) and the others still print; exit 1 when a row failed."""
    header = ("benchmark", "shipline", "s", "baseline", "s", "ratio", "target")
    table, failures = [header], []
    for measure in ROWS:
        if selected and not any(s in measure.__name__ for s in selected):
            continue
        try:
            r = measure()
        except Exception as error:  # a failing row is reported, never the end of the table
            name = measure.__name__.replace("_", " ")
            table.append((name, "FAILED", "-", "-", "-", "-", "(error below)"))
            failures.append(f"{name}: failed: {failure(error)}")
            continue
        table.append((r.name, r.ours, f"{r.ours_s:.3f}", r.baseline, f"{r.baseline_s:.3f}", f"{r.ratio:.2f}",
                      r.target))
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for index, line in enumerate(table):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    for line in failures:
        print(line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
