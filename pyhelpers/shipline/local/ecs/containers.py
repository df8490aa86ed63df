"""Tasks as real containers on the local Docker engine.

Images are pulled (through the local ECR, with a token the emulation issues itself), the task
definition's environment, command, port mappings and health checks apply, ports are published on
127.0.0.1 only, and each container's output goes to the CloudWatch Logs stream its awslogs options name.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..constants import CONTAINER_LABEL, WORLD_LABEL


@dataclass
class Started:
    """What a started task looks like from Docker: container ids and the host port of each port."""

    container_ids: dict[str, str] = field(default_factory=dict)
    host_ports: dict[int, int] = field(default_factory=dict)


KILLED = 137  # the exit code of a container ended by SIGKILL


class PullFailed(Exception):
    pass


class ContainerRunner:
    """Starts, watches and stops the containers of tasks; each labelled with the world it belongs to."""

    def __init__(self, registry_auth: Callable[[str], dict[str, str] | None], world_id: str) -> None:
        from ...docker_engine import docker_client

        self.engine = docker_client(timeout=120)
        self.registry_auth = registry_auth
        self.world_id = world_id

    def pull(self, image: str) -> None:
        """Pull `image` as the ECS agent does (always); raise PullFailed with Docker's reason."""
        import docker

        repository, tag, digest = _split(image)
        try:
            if digest:
                self.engine.api.pull(repository, tag=digest, auth_config=self.registry_auth(image))
                self.engine.images.get(f"{repository}@{digest}")
            else:
                self.engine.images.pull(repository, tag=tag or "latest", auth_config=self.registry_auth(image))
        except (docker.errors.APIError, docker.errors.ImageNotFound) as error:
            raise PullFailed(str(getattr(error, "explanation", None) or error)) from None

    def start(self, task_arn: str, task_id: str, definitions: list[dict[str, Any]],
              overrides: dict[str, Any], healthchecks: dict[str, dict[str, Any] | None]) -> Started:
        """Create and start one container per container definition, sharing the first one's network;
        `healthchecks` are Docker's health checks by container name."""
        started = Started()
        first: str | None = None
        for definition in definitions:
            override = next((o for o in overrides.get("containerOverrides", [])
                             if o.get("name") == definition["name"]), {})
            env = {e["name"]: e["value"] for e in definition.get("environment", [])}
            env.update({e["name"]: e["value"] for e in override.get("environment", [])})
            ports = {f"{m['containerPort']}/{m.get('protocol', 'tcp')}": ("127.0.0.1", None)
                     for m in definition.get("portMappings", [])} if first is None else None
            container = self.engine.containers.create(
                definition["image"], command=override.get("command") or definition.get("command"),
                entrypoint=definition.get("entryPoint"), environment=env, detach=True,
                labels={CONTAINER_LABEL: "ecs-task", WORLD_LABEL: self.world_id,
                        "io.shipline.local.task": task_arn, "io.shipline.local.container": definition["name"]},
                name=f"shipline-{task_id[:12]}-{definition['name']}",
                network_mode=f"container:{first}" if first else None, ports=ports,
                healthcheck=healthchecks.get(definition["name"]))
            container.start()
            first = first or container.id
            started.container_ids[definition["name"]] = container.id
        container = self.engine.containers.get(first)
        for key, bindings in (container.attrs["NetworkSettings"]["Ports"] or {}).items():
            if bindings:
                started.host_ports[int(key.split("/")[0])] = int(bindings[0]["HostPort"])
        return started

    def follow(self, container_id: str, on_lines: Callable[[list[tuple[int, str]]], None]) -> int:
        """Hand the container's output lines (ms timestamp, text) to `on_lines` until it exits;
        return its exit code."""
        import docker

        try:
            container = self.engine.containers.get(container_id)
            for chunk in container.logs(stream=True, follow=True):
                lines = chunk.decode(errors="replace").splitlines()
                if lines:
                    on_lines([(int(time.time() * 1000), line) for line in lines])
            return int(container.wait(timeout=30)["StatusCode"])
        except docker.errors.APIError:
            return KILLED  # removed under us (a reset of the local world)

    def health(self, container_id: str) -> str | None:
        """Docker's health status of the container ("starting", "healthy", "unhealthy"; None: no check,
        or gone)."""
        import docker

        try:
            state = self.engine.api.inspect_container(container_id)["State"]
        except docker.errors.APIError:
            return None
        return (state.get("Health") or {}).get("Status")

    def stop(self, container_ids: list[str], timeout: float) -> None:
        """docker stop: SIGTERM, then SIGKILL after `timeout` seconds (the task's stopTimeout)."""
        import docker

        for container_id in container_ids:
            try:
                self.engine.containers.get(container_id).stop(timeout=max(1, int(timeout)))
            except docker.errors.NotFound:
                continue

    def remove(self, container_ids: list[str]) -> None:
        import docker

        for container_id in container_ids:
            try:
                self.engine.containers.get(container_id).remove(force=True)
            except docker.errors.NotFound:
                continue

    def close(self) -> None:
        self.engine.close()


def _split(image: str) -> tuple[str, str | None, str | None]:
    """('host:port/repo', tag, digest) of an image reference."""
    if "@" in image:
        repository, digest = image.split("@", 1)
        return repository, None, digest
    head, _, last = image.rpartition("/")
    if ":" in last:
        name, tag = last.rsplit(":", 1)
        return (f"{head}/{name}" if head else name), tag, None
    return image, None, None
