"""`shipline local up | down | status | env`: run the local world in the background, by PID."""
from __future__ import annotations

import json
import os
import shlex
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .. import references
from ..errors import BadInput, EnvironmentProblem, Problem
from . import procs
from .daemon import STATE_FILE, serve
from .route53.emulation import ENV_VAR as DNS_ENV_VAR


def _state_dir(state_dir: str | None) -> Path:
    default = os.environ.get("SHIPLINE_LOCAL_DIR") or Path.home() / ".cache" / "shipline" / "local"
    directory = Path(state_dir or default)
    existing = next((path for path in (directory, *directory.parents) if path.exists()), None)
    if existing is not None and not existing.is_dir():
        raise BadInput(f"--state-dir {directory}: {existing} is a file, not a directory; name a directory (it "
                       "is created if missing)", [Problem("state_dir", f"{existing} is a file, not a directory")])
    return directory


def _read_state(directory: Path) -> dict[str, Any] | None:
    try:
        return json.loads((directory / STATE_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _answers(url: str) -> bool:
    """True when `url` answers at all without a server error (an auth challenge counts)."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500
    except OSError:
        return False


def _dns_answers(address: str) -> bool:
    """True when the DNS server at `address` (host:port) answers a query at all (REFUSED counts)."""
    import dns.exception
    import dns.message
    import dns.query

    host, _, port = address.rpartition(":")
    try:
        dns.query.udp(dns.message.make_query(".", "SOA"), host, port=int(port), timeout=1)
        return True
    except (dns.exception.DNSException, OSError):
        return False


def up(state_dir: str | None = None, foreground: bool = False, time_scale: float = 0.1, alias_ttl: int = 60,
       metric_period: float = 1.0, timeout: float = 60.0, dry_run: bool = False) -> dict[str, Any]:
    """Start the local world (idempotent) and return its environment."""
    references.require(references.finite, time_scale, "time_scale")
    references.require(references.finite, metric_period, "metric_period")
    directory = _state_dir(state_dir)
    state = _read_state(directory)
    if state and procs.alive(state["pid"]) and _answers(state["moto"]["endpoint"] + "/moto-api/data.json"):
        return {"started": False, "state_dir": str(directory), **state}
    if dry_run:
        return {"started": False, "dry_run": True, "state_dir": str(directory),
                "would_start": ["moto (AWS APIs) on 127.0.0.1", "an ECR front and its docker-registry on 127.0.0.1",
                                "a DNS server for the hosted zones on 127.0.0.1", "dockerd, if no Docker engine answers"]}
    if foreground:
        print("shipline local: running in the foreground; Ctrl-C stops everything", file=sys.stderr)
        serve(directory, time_scale, alias_ttl, metric_period)
        return {"started": True, "stopped": True, "state_dir": str(directory)}
    log_path = directory / "daemon.log"
    log_path.unlink(missing_ok=True)
    proc = procs.start([sys.executable, "-m", "shipline.local.daemon", str(directory), str(time_scale),
                        str(alias_ttl), str(metric_period)], log_path)
    procs.wait_until(lambda: _read_state(directory) is not None, "the local world", timeout, proc, log_path)
    return {"started": True, "state_dir": str(directory), **_read_state(directory)}


def down(state_dir: str | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Stop everything `up` started, by PID; nothing is left running."""
    directory = _state_dir(state_dir)
    state = _read_state(directory)
    if state is None:
        return {"stopped": False, "reason": "not running"}
    pids = [state["pid"], state["registry"]["pid"]] + ([state["dockerd_pid"]] if state.get("dockerd_pid") else [])
    if dry_run:
        return {"stopped": False, "dry_run": True, "would_stop": pids}
    procs.stop(state["pid"], timeout=15)  # the daemon's group: the daemon and every registry it started
    procs.stop(state["registry"]["pid"], group=False)  # normally gone already; make sure
    if state.get("world_id"):
        _remove_leftover_containers(state["world_id"])
    if state.get("dockerd_pid"):
        procs.stop(state["dockerd_pid"], timeout=20)
    (directory / STATE_FILE).unlink(missing_ok=True)
    return {"stopped": True, "pids": pids}


def _remove_leftover_containers(world_id: str) -> None:
    """The world's containers a daemon killed before its own clean-up left behind (none normally)."""
    from .dockerd import engine_answers
    from .world import remove_containers

    if engine_answers():
        remove_containers(world_id)


def status(state_dir: str | None = None) -> dict[str, Any]:
    """Report each part of the local world; exit 3 when it is not (fully) running."""
    directory = _state_dir(state_dir)
    state = _read_state(directory)
    if state is None:
        raise EnvironmentProblem(f"the local world is not running (no state in {directory}); "
                                 "start it with 'shipline local up'")
    from .dockerd import engine_answers

    dns_address = state["env"].get(DNS_ENV_VAR)
    parts = [
        {"name": "daemon", "ok": procs.alive(state["pid"]), "detail": f"pid {state['pid']}"},
        {"name": "aws", "ok": _answers(state["moto"]["endpoint"] + "/moto-api/data.json"),
         "detail": state["moto"]["endpoint"]},
        {"name": "registry", "ok": _answers(state["registry"]["url"] + "/v2/"), "detail": state["registry"]["url"]},
        {"name": "dns", "ok": bool(dns_address) and _dns_answers(dns_address),
         "detail": dns_address or "none: a daemon of an older shipline, restart it"},
        {"name": "docker", "ok": engine_answers(), "detail": "local Docker engine"},
    ]
    down_parts = [p["name"] for p in parts if not p["ok"]]
    if down_parts:
        raise EnvironmentProblem(f"the local world is degraded: {', '.join(down_parts)} not answering; "
                                 "restart with 'shipline local down && shipline local up'",
                                 details={"parts": parts})
    return {"running": True, "uptime_s": round(time.time() - state["started_at"], 1), "parts": parts}


def env(state_dir: str | None = None) -> dict[str, Any]:
    """The environment variables that point AWS clients at the local world."""
    state = _read_state(_state_dir(state_dir))
    if state is None:
        raise EnvironmentProblem("the local world is not running; start it with 'shipline local up'")
    return state["env"]


def render_env(result: dict[str, Any]) -> str:
    return "\n".join(f"export {key}={shlex.quote(value)}" for key, value in result.items())


def render_status(result: dict[str, Any]) -> str:
    return "\n".join(f"{'ok' if p['ok'] else 'DOWN':4}  {p['name']:8} {p['detail']}" for p in result["parts"])


def render_up(result: dict[str, Any]) -> str:
    if result.get("dry_run"):
        return "would start: " + ", ".join(result["would_start"])
    if result.get("stopped"):
        return "local world stopped"
    verb = "started" if result["started"] else "already running"
    return (f"local world {verb}: AWS at {result['moto']['endpoint']}, registry at {result['registry']['url']}, "
            f"DNS at {result['env'].get(DNS_ENV_VAR, 'none (a daemon of an older shipline: restart it)')}\n"
            "use it with:  eval \"$(shipline local env)\"")


def render_down(result: dict[str, Any]) -> str:
    if result.get("dry_run"):
        return f"would stop pids {result['would_stop']}"
    return f"local world stopped (pids {result['pids']})" if result["stopped"] else "local world was not running"
