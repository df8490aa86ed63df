"""`shipline scan-gate`: wait for the image scan, then pass or fail on findings at a severity."""
from __future__ import annotations

import datetime as dt
import logging
import random
import time
from typing import Any

from .. import references
from ..config import SEVERITIES, load_config
from ..errors import BadInput, OperationFailed, TimedOut
from ..imageref import ImageRef, is_digest
from .ecr import Ecr, environment_access

log = logging.getLogger(__name__)


def scan_gate(config: str = "shipline.yaml", *, image: str, environment: str | None = None,
              severity: str | None = None, timeout: float | None = None) -> dict[str, Any]:
    """Fail (exit 1) when the image has findings at or above the threshold that no live allowlist entry
    covers. `image` is a digest (sha256:...), a tag, or repository@digest / repository:tag."""
    references.require(references.image, image, "image")
    loaded = load_config(config)
    settings = loaded.config.scan
    threshold = (severity or settings.severity_threshold).upper()
    if threshold not in SEVERITIES:
        raise BadInput(f"severity {threshold!r} is not one of {', '.join(SEVERITIES)}")
    image_id = _image_id(image)
    ecr = Ecr(*environment_access(loaded.config, environment))
    repository = loaded.config.image.repository
    findings, polls = _wait_for_scan(ecr, repository, image_id, timeout or settings.timeout)
    today = dt.date.today()
    allowed = {entry.id: entry for entry in settings.allowlist if entry.expires >= today}
    rank = {name: index for index, name in enumerate(SEVERITIES)}
    blocking, waived = [], []
    for finding in findings:
        if rank.get(finding.get("severity", "UNDEFINED"), len(SEVERITIES)) > rank[threshold]:
            continue
        (waived if finding["name"] in allowed else blocking).append(
            {"id": finding["name"], "severity": finding["severity"]})
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.get("severity", "UNDEFINED")] = counts.get(finding.get("severity", "UNDEFINED"), 0) + 1
    result = {"image": image, "threshold": threshold, "counts": counts, "waived": waived, "polls": polls,
              "passed": not blocking, "blocking": blocking}
    if blocking:
        names = ", ".join(f"{b['id']} ({b['severity']})" for b in blocking[:10])
        raise OperationFailed(f"scan gate: {len(blocking)} finding(s) at or above {threshold}: {names}; fix them "
                              "or add an allowlist entry with an expiry to shipline.yaml", details={"result": result})
    log.info("scan gate passed: %s", counts or "no findings")
    return result


def _image_id(image: str) -> dict[str, str]:
    """ECR's imageId of a checked `image`: sha256:..., repository@sha256:..., a tag or repository:tag."""
    if is_digest(image):
        return {"imageDigest": image}
    pinned = ImageRef.find(image)
    if pinned is not None:
        return {"imageDigest": pinned.digest}
    return {"imageTag": image.rsplit(":", 1)[-1]}


def _describe(image_id: dict[str, str]) -> str:
    return image_id.get("imageDigest") or image_id["imageTag"]


def _wait_for_scan(ecr: Ecr, repository: str, image_id: dict[str, str], timeout: float) -> tuple[list, int]:
    """Poll until the scan is COMPLETE (starting one if none exists); return (findings, polls)."""
    deadline, delay, polls = time.monotonic() + timeout, 0.5, 0
    client = ecr.client
    while True:
        polls += 1
        try:
            response = client.describe_image_scan_findings(repositoryName=repository, imageId=image_id)
        except client.exceptions.ScanNotFoundException:
            log.info("no scan of %s yet: starting one", _describe(image_id))
            client.start_image_scan(repositoryName=repository, imageId=image_id)
            continue
        except client.exceptions.ImageNotFoundException:
            raise BadInput(f"image {_describe(image_id)} is not in repository {repository}") from None
        status = response["imageScanStatus"]["status"]
        if status == "COMPLETE":
            return response.get("imageScanFindings", {}).get("findings", []), polls
        if status == "FAILED":
            raise OperationFailed(f"the scan of {_describe(image_id)} failed: "
                                  f"{response['imageScanStatus'].get('description')}")
        if time.monotonic() >= deadline:
            raise TimedOut(f"timed out after {timeout:g}s waiting for the scan of {_describe(image_id)} "
                           f"(still {status})")
        log.info("scan of %s is %s; waiting", _describe(image_id), status)
        time.sleep(min(delay * random.uniform(0.8, 1.2), max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, 10.0)


def render(result: dict[str, Any]) -> str:
    counts = ", ".join(f"{n} {s}" for s, n in result["counts"].items()) or "no findings"
    waived = f"; waived: {', '.join(w['id'] for w in result['waived'])}" if result["waived"] else ""
    return f"scan gate passed at {result['threshold']}: {counts}{waived}"
