"""A small client for the distribution registry HTTP API (v2), used by the ECR emulation."""
from __future__ import annotations

import hashlib
import json
from typing import Any

import requests

MANIFEST_TYPES = ", ".join([
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
])


def digest_of(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


class RegistryApi:
    """Reads and writes manifests and blobs of one registry (no auth: the upstream behind the front)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = requests.Session()

    def tags(self, name: str) -> list[str]:
        response = self.http.get(f"{self.url}/v2/{name}/tags/list", timeout=10)
        if response.status_code == 404:
            return []
        response.raise_for_status()
        return response.json().get("tags") or []

    def manifest(self, name: str, reference: str) -> tuple[bytes, str, str] | None:
        """(body, media type, digest) of a manifest, or None when it does not exist."""
        response = self.http.get(f"{self.url}/v2/{name}/manifests/{reference}",
                                 headers={"Accept": MANIFEST_TYPES}, timeout=10)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.content, response.headers["Content-Type"], response.headers["Docker-Content-Digest"]

    def put_manifest(self, name: str, reference: str, body: bytes, media_type: str) -> str:
        response = self.http.put(f"{self.url}/v2/{name}/manifests/{reference}", data=body,
                                 headers={"Content-Type": media_type}, timeout=30)
        response.raise_for_status()
        return response.headers["Docker-Content-Digest"]

    def delete_manifest(self, name: str, digest: str) -> None:
        response = self.http.delete(f"{self.url}/v2/{name}/manifests/{digest}", timeout=10)
        if response.status_code not in (202, 404):
            response.raise_for_status()

    def blob_json(self, name: str, digest: str) -> Any:
        response = self.http.get(f"{self.url}/v2/{name}/blobs/{digest}", timeout=30)
        response.raise_for_status()
        return json.loads(response.content)
