"""Runs the Groovy side (Debian's groovy 2.4.21, the Groovy of Jenkins' pipeline engine, with its
bundled JUnit 4) from the same test command, one pytest item per Groovy test class."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import ROOT

GROOVY_TESTS = sorted(p.stem for p in (ROOT / "tests" / "groovy").glob("*Test.groovy"))


def _java_home() -> str:
    java = shutil.which("java")
    assert java, "no java: install default-jre-headless (scripts/setup does)"
    return str(Path(os.path.realpath(java)).parent.parent)


@pytest.fixture(scope="session")
def groovy_results(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    groovy = shutil.which("groovy")
    assert groovy, "no groovy: install Debian's groovy package (scripts/setup does)"
    out = tmp_path_factory.mktemp("groovy") / "results.json"
    env = {**os.environ, "JAVA_HOME": os.environ.get("JAVA_HOME") or _java_home(),
           "JAVA_OPTS": f"-Dshipline.root={ROOT}"}
    run = subprocess.run([groovy, str(ROOT / "tests" / "groovy" / "run_tests.groovy"), str(ROOT), str(out)],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.exists(), f"groovy runner crashed:\n{run.stdout}\n{run.stderr}"
    return json.loads(out.read_text())


def test_groovy_version_is_the_one_jenkins_runs() -> None:
    version = subprocess.run(["groovy", "--version"], capture_output=True, text=True,
                             env={**os.environ, "JAVA_HOME": os.environ.get("JAVA_HOME") or _java_home()})
    assert "Groovy Version: 2.4.21" in version.stdout


def test_every_library_file_compiles(groovy_results: list[dict]) -> None:
    compiled = [r for r in groovy_results if r["suite"] == "compile"]
    expected = sorted(str(p.relative_to(ROOT)) for d in ("vars", "src") for p in (ROOT / d).rglob("*.groovy"))
    assert sorted(r["name"] for r in compiled) == expected
    assert [r for r in compiled if not r["ok"]] == []


@pytest.mark.parametrize("suite", GROOVY_TESTS)
def test_groovy_suite(groovy_results: list[dict], suite: str) -> None:
    ran = [r for r in groovy_results if r["suite"] == suite]
    assert ran, f"{suite} ran no test"
    failed = [f"{r['name']}:\n{r['message']}" for r in ran if not r["ok"]]
    assert not failed, "\n\n".join(failed)


def test_every_step_has_a_doc() -> None:
    steps = sorted(p.stem for p in (ROOT / "vars").glob("*.groovy"))
    assert steps and all((ROOT / "vars" / f"{step}.txt").is_file() for step in steps)
