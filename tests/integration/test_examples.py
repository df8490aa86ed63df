"""The examples work as documented."""
from __future__ import annotations

import subprocess
import sys

from helpers import ROOT

SCRIPT = ROOT / "examples" / "scripts" / "preflight.py"
CONFIG = ROOT / "examples" / "webapp" / "shipline.yaml"


def test_custom_script_uses_the_python_api(aws) -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), str(CONFIG)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "aws: account 123456789012" in result.stdout
    assert "staging: webapp on cluster demo (us-east-1), strategy rolling" in result.stdout
    assert "production: webapp on cluster demo (us-east-1), strategy doubling after approval" in result.stdout


def test_custom_script_exits_with_the_error_exit_code(aws, tmp_path) -> None:
    broken = tmp_path / "shipline.yaml"
    broken.write_text("version: 1\nservice: web\n")
    result = subprocess.run([sys.executable, str(SCRIPT), str(broken)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "preflight failed" in result.stderr
