"""The whole pipeline, defined once in shipline.yaml: Source -> Build -> Test -> environments in order.

`plan` computes the stages (the Jenkins step executes them with stage/parallel/input/lock);
`run` executes the same plan on this machine. One pipeline engine, two executors.
"""
from __future__ import annotations

import logging
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .children import git_environment
from .config import LoadedConfig, load_config
from .errors import OperationFailed, Paused
from .revision import SEMVER_TAG

log = logging.getLogger(__name__)


def plan(config: str = "shipline.yaml", branch: str | None = None, tag: str | None = None,
         change_id: str | None = None) -> dict[str, Any]:
    """The stages this build runs. Pull requests build and test only; the primary branch and release
    tags (when pipeline.deploy_tags) also deploy, environment by environment, approvals first."""
    loaded = load_config(config)
    return _plan(loaded, branch or os.environ.get("BRANCH_NAME"), tag or os.environ.get("TAG_NAME"),
                 change_id or os.environ.get("CHANGE_ID"))


def _plan(loaded: LoadedConfig, branch: str | None, tag: str | None, change_id: str | None) -> dict[str, Any]:
    cfg = loaded.config
    if change_id:
        kind, deploys = "pull request", False
    elif tag and SEMVER_TAG.match(tag):
        kind, deploys = "release tag", cfg.pipeline.deploy_tags
    elif branch == cfg.pipeline.primary_branch:
        kind, deploys = "primary branch", True
    else:
        kind, deploys = "branch", False
    stages: list[dict[str, Any]] = [{"name": "Source", "kind": "source"},
                                    {"name": "Build", "kind": "publish"}]
    if cfg.pipeline.tests:
        stages.append({"name": "Test", "kind": "parallel",
                       "branches": [{"name": name, "script": script} for name, script in cfg.pipeline.tests.items()]})
    for name in cfg.environments if deploys else []:
        each = [cfg.select(service).environment(name) for service in cfg.names]
        env = each[0]   # approvals and acceptance tests are the environment's: the same for every service
        if env.approval and env.approval.required:
            stages.append({"name": f"Approve {name}", "kind": "approval", "environment": name,
                           "timeout_seconds": env.approval.timeout, "approvers": env.approval.approvers})
        stages.append({"name": f"Deploy {name}", "kind": "deploy", "environment": name,
                       "services": [] if cfg.service else cfg.names, "locks": [e.lock for e in each],
                       "strategy": ", ".join(dict.fromkeys(e.deploy.strategy for e in each))})
        if env.acceptance:
            stages.append({"name": f"Acceptance {name}", "kind": "parallel", "environment": name,
                           "branches": [{"name": f"acceptance-{index + 1}", "script": script}
                                        for index, script in enumerate(env.acceptance)]})
    reason = {"pull request": "pull requests build and test only",
              "branch": f"only {cfg.pipeline.primary_branch} and release tags deploy",
              "release tag": "release tags deploy" if deploys else "pipeline.deploy_tags is off",
              "primary branch": "the primary branch deploys"}[kind]
    return {"kind": kind, "branch": branch, "tag": tag, "deploys": deploys, "reason": reason, "stages": stages}


def run(config: str = "shipline.yaml", branch: str | None = None, tag: str | None = None,
        change_id: str | None = None, approve: list[str] | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Execute the plan here: publish, the tests in parallel, then each environment. An approval not
    given with --approve ENV pauses the pipeline (exit 6) before that environment."""
    import shipline

    loaded = load_config(config)
    base = loaded.path.parent
    current = subprocess.run(["git", "-C", str(base), "rev-parse", "--abbrev-ref", "HEAD"],
                             capture_output=True, text=True, env=git_environment()).stdout.strip()
    steps = _plan(loaded, branch or current, tag, change_id)
    if dry_run:
        return {"plan": steps, "stages": [], "image": None, "dry_run": True}
    done: list[dict[str, Any]] = []
    image: dict[str, Any] = {}
    for stage in steps["stages"]:
        log.info("== %s", stage["name"])
        if stage["kind"] == "publish":
            image = shipline.publish(config)
        elif stage["kind"] == "parallel":
            _parallel(base, stage, image)
        elif stage["kind"] == "approval" and stage["environment"] not in (approve or []):
            raise Paused(f"waiting for approval before {stage['environment']}: rerun with --approve "
                         f"{stage['environment']} (in Jenkins: the input step)",
                         details={"done": done, "image": image.get("image")})
        elif stage["kind"] == "deploy":
            result = shipline.deploy(config, environment=stage["environment"], image=image["image"],
                                     service=stage["services"])
            records = [r["record"] for r in result["services"].values()] if "services" in result else [result["record"]]
            stage = {**stage, "record": records[0] if len(records) == 1 else records}
        done.append({"name": stage["name"], "result": "ok", **({"record": stage["record"]} if "record" in stage
                                                               else {})})
    return {"plan": steps, "stages": done, "image": image.get("image")}


def _parallel(base: Path, stage: dict[str, Any], image: dict[str, Any]) -> None:
    """The stage's scripts at once, each in the application's directory; all must pass."""
    env = {**os.environ, "SHIPLINE_IMAGE": image.get("image", ""), "SHIPLINE_ENVIRONMENT": stage.get("environment", "")}

    def one(branch: dict[str, str]) -> tuple[str, int, str]:
        done = subprocess.run(["sh", "-c", branch["script"]], cwd=base, env=env, capture_output=True, text=True)
        return branch["name"], done.returncode, (done.stdout + done.stderr).strip()

    with ThreadPoolExecutor(max_workers=max(1, len(stage["branches"]))) as pool:
        results = list(pool.map(one, stage["branches"]))
    for name, code, output in results:
        for line in output.splitlines()[-20:]:
            log.info("[%s] %s", name, line)
    failed = [f"{name} (exit {code})" for name, code, _ in results if code != 0]
    if failed:
        raise OperationFailed(f"{stage['name']} failed: {', '.join(failed)}")


def render_plan(result: dict[str, Any]) -> str:
    lines = [f"{result['kind']}: {result['reason']}"]
    for stage in result["stages"]:
        detail = ", ".join(b["name"] for b in stage.get("branches", []))
        lines.append(f"  {stage['name']}" + (f" ({detail})" if detail else ""))
    return "\n".join(lines)


def render_run(result: dict[str, Any]) -> str:
    if result.get("dry_run"):
        return render_plan(result["plan"])
    return "\n".join([f"pipeline done: {result['image']}"] + [f"  {s['name']}: {s['result']}"
                                                                for s in result["stages"]])
