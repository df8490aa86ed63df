"""The shared test bed: real components, never skipped.

- a real Docker engine (dockerd is started if its socket is missing);
- the local world: moto in server mode (in this process) behind the API-call recorder, and Debian's
  docker-registry, both on 127.0.0.1 and stopped by PID at the end;
- the socket guard, inherited by every Python subprocess: a non-loopback connection fails the test.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest

from helpers import ROOT, git, guard_violations

pytest_plugins = ["pytester"]

if TYPE_CHECKING:
    from shipline.local.world import LocalWorld

GUARD_DIR = Path(__file__).resolve().parent / "socket_guard"
BUSYBOX = Path("/bin/busybox")
TIER_BUDGETS = {"unit": 120.0, "integration": 600.0, "e2e": 1200.0, "groovy": 120.0}

# --- the socket guard: this process and every Python process it starts -------------------------------
GUARD_LOG = Path(tempfile.mkstemp(prefix="shipline-socket-guard-", suffix=".log")[1])
os.environ["SHIPLINE_SOCKET_GUARD_LOG"] = str(GUARD_LOG)
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(GUARD_DIR), os.environ.get("PYTHONPATH")]))
sys.path.insert(0, str(GUARD_DIR))
import shipline_socket_guard as socket_guard  # noqa: E402

socket_guard.install()
for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
             "AWS_SESSION_TOKEN"):
    os.environ.pop(name, None)  # real credentials and endpoints never reach a test
os.environ.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                  AWS_EC2_METADATA_DISABLED="true")


@pytest.fixture(autouse=True)
def _no_outside_connections() -> Iterator[None]:
    start = GUARD_LOG.stat().st_size
    yield
    found = guard_violations(start)
    if found:
        pytest.fail("socket guard: non-loopback access attempted:\n" + "\n".join(found), pytrace=False)


# --- tiers and their time budgets --------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--full", action="store_true", help="run every case of sampled suites (releases)")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--full"):
        os.environ["SHIPLINE_TEST_FULL"] = "1"  # read by helpers.sampled() while collecting


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath))
        tier = path.relative_to(ROOT / "tests").parts[0] if path.is_relative_to(ROOT / "tests") else ""
        if tier in TIER_BUDGETS:
            item.add_marker(getattr(pytest.mark, tier))


_tier_seconds: dict[str, float] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    start = time.monotonic()
    yield
    tier = next((m.name for m in item.iter_markers() if m.name in TIER_BUDGETS), "other")
    _tier_seconds[tier] = _tier_seconds.get(tier, 0.0) + time.monotonic() - start


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.section("time per tier (budget on 2 cores)")
    for tier, seconds in sorted(_tier_seconds.items()):
        budget = TIER_BUDGETS.get(tier)
        verdict = "" if budget is None else ("within" if seconds <= budget else "OVER") + f" {budget:.0f}s"
        terminalreporter.write_line(f"{tier:12} {seconds:7.1f}s  {verdict}")


# --- real components --------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def world() -> Iterator["LocalWorld"]:
    """The local world for the whole session: Docker engine, moto, registry."""
    from shipline.local.world import LocalWorld

    started = LocalWorld().start()
    yield started
    started.stop()


@pytest.fixture
def aws(world: "LocalWorld", monkeypatch: pytest.MonkeyPatch) -> "LocalWorld":
    """An empty emulated AWS for this test, wired into the environment (subprocesses inherit it)."""
    from shipline import aws as aws_clients, timescale

    world.reset()
    for key, value in world.env().items():
        monkeypatch.setenv(key, value)
    # The tests state shipline's waits (bake_time: 25s) in real seconds: shipline runs at time scale 1
    # here, the emulation at its own. tests/e2e/test_time_model.py runs both at the world's scale, as
    # `eval "$(shipline local env)"` does (and so the demo).
    monkeypatch.setenv(timescale.ENV, "1")
    aws_clients.reset_clients()
    return world


@pytest.fixture
def recorder(aws: "LocalWorld"):
    """Every AWS call made during this test (setup calls included; see ApiCall.by_product)."""
    return aws.moto.recorder


@pytest.fixture
def boto(aws: "LocalWorld"):
    """A factory of plain boto3 clients for arranging and inspecting state (not the product's)."""
    import boto3

    env = aws.env()

    def make(service: str):
        return boto3.client(service, endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"],
                            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])

    return make


@pytest.fixture(scope="session")
def docker_engine(world: "LocalWorld"):
    from shipline.docker_engine import docker_client

    engine = docker_client()
    yield engine
    engine.close()


@pytest.fixture
def sample_app(tmp_path: Path) -> Path:
    """The sample service in a fresh git repository (one commit), with busybox in its build context."""
    app = tmp_path / "webapp"
    shutil.copytree(ROOT / "examples" / "webapp", app, ignore=shutil.ignore_patterns("busybox"))
    shutil.copy2(BUSYBOX, app / "busybox")
    git(app, "init", "-q", "-b", "main")
    git(app, "add", "-A")
    git(app, "commit", "-q", "-m", "initial")
    return app


@pytest.fixture(scope="session")
def busybox_image(docker_engine, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A local image holding only busybox (built FROM scratch: nothing is pulled)."""
    context = tmp_path_factory.mktemp("busybox")
    shutil.copy2(BUSYBOX, context / "busybox")
    (context / "Dockerfile").write_text('FROM scratch\nCOPY busybox /bin/busybox\n'
                                        'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n')
    image, _ = docker_engine.images.build(path=str(context), tag="shipline-test/busybox:1", rm=True)
    return "shipline-test/busybox:1"


@pytest.fixture
def busy_cores() -> Iterator[None]:
    """Both cores kept busy by two shell loops while the test runs (killed after): a loaded machine."""
    import subprocess

    loops = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(2)]
    yield
    for loop in loops:
        loop.kill()
        loop.wait()


@pytest.fixture
def fresh_login_cache():
    """No registry login cached from another test, before or after this one."""
    import shipline.image.ecr as ecr_module

    ecr_module._tokens.clear()
    yield
    ecr_module._tokens.clear()
