"""Check the ECS task-definition corpus in this folder.

Run:  .venv/bin/python tests/data/taskdefs/check_corpus.py [--no-moto]

For every *.json file here it checks that
  * the file has exactly the keys "source", "notes", "taskDefinition";
  * taskDefinition passes botocore's parameter validation for
    ecs.RegisterTaskDefinition;
  * taskDefinition registers on moto (skipped with --no-moto);
  * a few realism rules hold (every container has a logConfiguration and
    memory or memoryReservation, images are pinned by digest or a version tag,
    Fargate cpu/memory is a valid pair, container memory fits the task).
Then it prints which members of RegisterTaskDefinition's input shape, and of
every structure reachable from it (ContainerDefinition, Volume, ...), the
corpus as a whole uses, and exits non-zero if a file fails or a member of
RegisterTaskDefinition, ContainerDefinition or Volume (or of a structure
nested below them) is unused.

This file is not collected by pytest (its name doesn't match test_*.py).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import botocore.session
from botocore.validate import ParamValidator

HERE = Path(__file__).resolve().parent
TOP_KEYS = {"source", "notes", "taskDefinition"}

# Fargate task cpu -> allowed task memory (MiB), from the AWS Fargate table.
_GB = 1024
FARGATE_SIZES = {
    "256": {512, 1024, 2048},
    "512": {n * _GB for n in range(1, 5)},
    "1024": {n * _GB for n in range(2, 9)},
    "2048": {n * _GB for n in range(4, 17)},
    "4096": {n * _GB for n in range(8, 31)},
    "8192": {n * _GB for n in range(16, 61, 4)},
    "16384": {n * _GB for n in range(32, 121, 8)},
}
MUTABLE_TAGS = {"latest", "stable", "mainline", "edge", "main", "master", "alpine", "debian"}


def input_shape():
    model = botocore.session.get_session().get_service_model("ecs")
    return model.operation_model("RegisterTaskDefinition").input_shape


def image_is_pinned(image: str) -> bool:
    if re.search(r"@sha256:[0-9a-f]{64}$", image):
        return True
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return False
    tag = last.split(":", 1)[1]
    return tag not in MUTABLE_TAGS and bool(re.search(r"\d", tag))


def realism_problems(td: dict) -> list[str]:
    problems = []
    compat = td.get("requiresCompatibilities") or []
    task_mem = int(td["memory"]) if "memory" in td else None
    if "FARGATE" in compat:
        if td.get("networkMode") != "awsvpc":
            problems.append("Fargate task without networkMode awsvpc")
        cpu, mem = td.get("cpu"), task_mem
        if cpu not in FARGATE_SIZES or mem not in FARGATE_SIZES[cpu]:
            problems.append(f"Fargate cpu/memory {cpu}/{mem} is not in the AWS table")
    total = 0
    for cd in td["containerDefinitions"]:
        name = cd.get("name")
        if "logConfiguration" not in cd:
            problems.append(f"container {name}: no logConfiguration")
        if "memory" not in cd and "memoryReservation" not in cd:
            problems.append(f"container {name}: neither memory nor memoryReservation")
        if "memory" in cd and "memoryReservation" in cd and cd["memoryReservation"] > cd["memory"]:
            problems.append(f"container {name}: memoryReservation > memory")
        if not image_is_pinned(cd.get("image", "")):
            problems.append(f"container {name}: image not pinned by digest or version tag")
        total += cd.get("memory", cd.get("memoryReservation", 0))
    if task_mem is not None and total > task_mem:
        problems.append(f"containers need {total} MiB but the task has {task_mem} MiB")
    return problems


def walk_used(value, shape, path: str, used: set[str]) -> None:
    """Record every structure member (as Shape.member paths) present in value."""
    if shape.type_name == "structure" and isinstance(value, dict):
        for key, sub in value.items():
            if key in shape.members:
                p = f"{path}.{key}" if path else key
                used.add(p)
                walk_used(sub, shape.members[key], p, used)
    elif shape.type_name == "list" and isinstance(value, list):
        for item in value:
            walk_used(item, shape.member, path + "[]", used)


def all_members(shape, path: str = "", seen: tuple = ()) -> list[str]:
    out = []
    if shape.type_name == "structure":
        if shape.name in seen:  # recursive shapes (Secret under LogConfiguration)
            return out
        for key, sub in shape.members.items():
            p = f"{path}.{key}" if path else key
            out.append(p)
            out.extend(all_members(sub, p, seen + (shape.name,)))
    elif shape.type_name == "list":
        out.extend(all_members(shape.member, path + "[]", seen))
    return out


def register_on_moto(docs: dict[str, dict]) -> dict[str, str]:
    import boto3
    from moto import mock_aws

    results = {}
    with mock_aws():
        client = boto3.client("ecs", region_name="us-east-1")
        for name, td in docs.items():
            try:
                rev = client.register_task_definition(**td)["taskDefinition"]["revision"]
                results[name] = f"revision {rev}"
            except Exception as exc:  # report every failure, not just the first
                results[name] = f"FAILED: {exc}"
    return results


def main(argv: list[str]) -> int:
    shape = input_shape()
    validator = ParamValidator()
    failed = False
    docs = {}
    used: set[str] = set()

    files = sorted(HERE.glob("*.json"))
    for path in files:
        doc = json.loads(path.read_text())
        problems = []
        if set(doc) != TOP_KEYS:
            problems.append(f"top-level keys {sorted(doc)} != {sorted(TOP_KEYS)}")
        td = doc.get("taskDefinition", {})
        report = validator.validate(td, shape)
        if report.has_errors():
            problems.append("botocore: " + report.generate_report())
        problems += realism_problems(td)
        walk_used(td, shape, "", used)
        docs[path.name] = td
        status = "ok" if not problems else "; ".join(problems)
        failed |= bool(problems)
        print(f"{path.name}: {status}")

    if "--no-moto" not in argv:
        print("\nmoto register_task_definition:")
        for name, res in register_on_moto(docs).items():
            failed |= res.startswith("FAILED")
            print(f"  {name}: {res}")

    everything = all_members(shape)
    missing = [m for m in everything if m not in used]
    groups = {
        "RegisterTaskDefinition": [m for m in shape.members],
        "ContainerDefinition": [m for m in everything if m.startswith("containerDefinitions[].") and m.count(".") == 1],
        "Volume": [m for m in everything if m.startswith("volumes[].") and m.count(".") == 1],
    }
    print(f"\ncoverage over {len(files)} files:")
    for title, members in groups.items():
        hit = [m for m in members if m in used]
        print(f"  {title}: {len(hit)}/{len(members)}")
    print(f"  all nested members reachable from the input shape: {len(everything) - len(missing)}/{len(everything)}")
    if missing:
        failed = True
        print("  UNUSED: " + ", ".join(missing))
    else:
        print("  unused: none")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
