"""The local world: every server the emulation runs, started, reset and stopped together.

`shipline local` and the test bed's fixtures both use this class: one implementation, two hosts.
"""
from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import timescale
from . import procs
from .cloudwatch import patches as cloudwatch_patches
from .cloudwatch.emulation import CloudWatchEmulation
from .constants import ACCOUNT_ID, REGION, WORLD_LABEL
from .dockerd import ensure_engine
from .ecr import EcrEmulation
from .ecs import patches
from .ecs.scheduler import EcsEmulation
from .elb.dataplane import DataPlane
from .moto_server import MotoServer
from .route53 import patches as route53_patches
from .route53.emulation import ENV_VAR as DNS_ENV_VAR
from .route53.emulation import Route53Emulation

if TYPE_CHECKING:
    from .ecr_front import EcrFront


class LocalWorld:
    """moto (in this process), the ECR fronts with their registries, the Docker engine: all on 127.0.0.1;
    each load balancer's listeners on a 127.0.0.x of its own (`listeners`), their metrics published to
    CloudWatch every `metric_period` real seconds and the alarms evaluated (`cloudwatch`); a DNS server
    answering from the hosted zones (`dns`), alias records to a load balancer with `alias_ttl` (AWS
    seconds, scaled).

    Several worlds may share one Docker engine: each has an `id`, every container it starts carries it
    (WORLD_LABEL), and its reset and stop remove only those.
    """

    def __init__(self, state_dir: Path | None = None, time_scale: float = 0.1, alias_ttl: int = 60,
                 metric_period: float = 1.0) -> None:
        self.id = new_world_id()
        self._own_dir = state_dir is None
        self.state_dir = state_dir or Path(tempfile.mkdtemp(prefix="shipline-local-"))
        self._dockerd: subprocess.Popen | None = None
        self.moto = MotoServer()
        self.ecr = EcrEmulation(self.state_dir / "ecr")
        self.time_scale = time_scale
        self.alias_ttl = alias_ttl
        self.metric_period = metric_period
        self.ecs: EcsEmulation | None = None
        self.listeners: DataPlane | None = None
        self.cloudwatch: CloudWatchEmulation | None = None
        self.dns: Route53Emulation | None = None

    def start(self) -> "LocalWorld":
        self._dockerd = ensure_engine()
        self.moto.start()
        self.ecr.start(ACCOUNT_ID, REGION)
        ecs = self.ecs = EcsEmulation(self.ecr, self.time_scale, world_id=self.id).start()
        self.cloudwatch = CloudWatchEmulation(ecs.tasks.health, lambda: ecs.time_scale, self.metric_period)
        self.listeners = DataPlane(ecs.tasks.health, self.state_dir / "elb", observer=self.cloudwatch.observe)
        patches.install(ecs, self.listeners)
        cloudwatch_patches.install(lambda: ecs.time_scale)
        self.cloudwatch.start(self.listeners.target_groups)
        self.dns = Route53Emulation(self.time_scale, self.alias_ttl, self.listeners.addresses).start()
        route53_patches.install(self.dns.changes)
        return self

    @property
    def dockerd_pid(self) -> int | None:
        """The PID of dockerd when this world started it (and so stops it)."""
        return self._dockerd.pid if self._dockerd else None

    @property
    def registry(self) -> "EcrFront":
        """The ECR front of the default account and region."""
        return self.ecr.front(ACCOUNT_ID, REGION)

    @property
    def labels(self) -> dict[str, str]:
        """The labels that mark a container or an image as this world's."""
        return {WORLD_LABEL: self.id}

    def env(self) -> dict[str, str]:
        """The environment a shell or a process needs to use this world instead of AWS, and to run
        shipline's own waits at the world's time scale."""
        return {
            "AWS_ENDPOINT_URL": self.moto.endpoint,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "shipline-local",
            "AWS_SECRET_ACCESS_KEY": "shipline-local-secret",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            timescale.ENV: repr(self.time_scale),  # shipline's own waits run at the emulation's pace
            **({DNS_ENV_VAR: self.dns.address} if self.dns is not None else {}),
        }

    def reset(self) -> None:
        """Back to empty: AWS state, custom transitions, recorded calls, this world's containers."""
        with self.cloudwatch.paused() if self.cloudwatch is not None else nullcontext():
            if self.ecs is not None:
                self.ecs.reset()
            self.moto.reset()
            if self.listeners is not None:
                self.listeners.reset()
            if self.dns is not None:
                self.dns.reset()
        self.ecr.reset()
        remove_containers(self.id)

    def snapshot(self) -> dict[str, Any]:
        return self.moto.snapshot()

    def stop(self) -> None:
        if self.dns is not None:
            self.dns.stop()
        if self.cloudwatch is not None:
            self.cloudwatch.stop()
        if self.listeners is not None:
            self.listeners.stop()
        if self.ecs is not None:
            self.ecs.stop()
        remove_containers(self.id)
        untag_images([front.address for front in self.ecr.fronts.values()])
        self.ecr.stop()
        self.moto.stop()
        if self._dockerd is not None:
            procs.stop(self._dockerd.pid, timeout=20)
            self._dockerd.wait()
            self._dockerd = None
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)


def new_world_id() -> str:
    """A world id: unique among the worlds that share a Docker engine."""
    return secrets.token_hex(6)


def remove_containers(world_id: str) -> int:
    """Remove every container the world `world_id` started (and only those); return how many."""
    from ..docker_engine import docker_client

    import docker

    engine = docker_client(timeout=30)
    try:
        containers = engine.containers.list(all=True, filters={"label": f"{WORLD_LABEL}={world_id}"})
        for container in containers:
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass  # removed meanwhile by the task that owned it
            except docker.errors.APIError as error:
                if error.status_code != 409:  # 409: its removal is already in progress
                    raise
        return len(containers)
    finally:
        engine.close()


def untag_images(registries: list[str]) -> int:
    """Remove every image tag that names one of `registries` (host:port, this world's own while it runs):
    a tag at a time, never forced, so an image also tagged elsewhere only loses these tags; return how
    many went."""
    from ..docker_engine import docker_client

    import docker

    prefixes = tuple(f"{registry}/" for registry in registries)
    engine = docker_client(timeout=30)
    removed = 0
    try:
        for image in engine.images.list():
            for tag in image.tags:
                if tag.startswith(prefixes):
                    try:
                        engine.images.remove(tag)
                        removed += 1
                    except docker.errors.ImageNotFound:
                        continue
                    except docker.errors.APIError as error:
                        if error.status_code != 409:  # 409: a container still uses it; it stays
                            raise
        return removed
    finally:
        engine.close()
