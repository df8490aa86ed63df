"""Debian's docker-registry (the CNCF distribution registry) on a free 127.0.0.1 port."""
from __future__ import annotations

import shutil
import subprocess
import urllib.request
from pathlib import Path

from ..errors import EnvironmentProblem
from . import procs

CONFIG = """\
version: 0.1
log: {{level: info, fields: {{service: registry}}}}
storage:
  filesystem: {{rootdirectory: {root}}}
  delete: {{enabled: true}}
http:
  addr: 127.0.0.1:{port}
  headers: {{X-Content-Type-Options: [nosniff]}}
"""


class Registry:
    """One registry process, its data under `state_dir`, started and stopped by PID."""

    def __init__(self, state_dir: Path, port: int = 0) -> None:
        self.state_dir = state_dir
        self.port = port or procs.free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "registry.log"

    def start(self, timeout: float = 10.0) -> "Registry":
        binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
        if not Path(binary).exists():
            raise EnvironmentProblem("docker-registry is not installed: apt-get install docker-registry")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        config = self.state_dir / "registry.yml"
        config.write_text(CONFIG.format(root=self.state_dir / "data", port=self.port))
        # In the caller's process group: stopping `shipline local`'s daemon group stops every registry.
        self.proc = procs.start([binary, "serve", str(config)], self.log_path, own_group=False)
        procs.wait_until(self.ready, f"docker-registry on {self.address}", timeout, self.proc, self.log_path)
        return self

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/v2/", timeout=0.5) as response:
                return response.status == 200
        except OSError:
            return False

    def wipe(self) -> None:
        """Delete every stored image (only while stopped)."""
        shutil.rmtree(self.state_dir / "data", ignore_errors=True)

    def stop(self) -> None:
        if self.proc is not None:
            procs.stop(self.proc.pid, group=False)
            self.proc.wait()
            self.proc = None
