"""The README's demo command runs as documented and leaves nothing running."""
from __future__ import annotations

import subprocess

from helpers import ROOT


def _daemons() -> set[str]:
    return set(subprocess.run(["pgrep", "-f", "shipline.local.daemon"], capture_output=True, text=True).stdout.split())


def test_the_demo_runs_the_stages_and_stops_everything() -> None:
    before = _daemons()
    result = subprocess.run([str(ROOT / "scripts" / "demo")], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "(already in the registry: nothing built or pushed)" in out
    assert "scan gate passed at HIGH" in out
    assert out.count("task-definition/webapp:1") == 2 and "reused (unchanged)" in out
    table = {line.split("  ")[0]: line.split() for line in out.splitlines() if line.startswith(("publish", "deploy",
                                                                                                "infra"))}
    assert table["deploy release 2, rolling"][4:6] == ["succeeded", "succeeded"]
    assert table["deploy release 3, doubling"][4:6] == ["succeeded", "succeeded"]
    assert table["deploy release 4, rolling"][4:8] == ["rolled", "back", "rolled", "back"]
    assert "release 3 stayed in service" in out and "unexpected" not in out
    assert "local world stopped" in out
    assert _daemons() <= before
