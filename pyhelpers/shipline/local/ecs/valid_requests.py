"""ECS requests AWS takes but moto cannot take as they are (it would answer HTTP 500): made into what
moto takes, or refused with the reason ECS gives, before moto sees them."""
from __future__ import annotations

from typing import Any


class Refused(ValueError):
    """An invalid request: ECS answers it with a client error (InvalidParameterException) and this message."""


def service_network(params: dict[str, Any]) -> None:
    """networkConfiguration as ECS takes it: an awsvpcConfiguration may leave out securityGroups (ECS then
    uses the VPC's default security group), and an empty networkConfiguration is the same as none."""
    network = params.get("networkConfiguration")
    if network is None:
        return
    if "awsvpcConfiguration" not in network:
        del params["networkConfiguration"]
    else:
        network["awsvpcConfiguration"].setdefault("securityGroups", [])


def tags(params: dict[str, Any]) -> None:
    """Every tag has a key, as ECS requires."""
    for tag in params.get("tags") or []:
        if not tag.get("key"):
            raise Refused("Tag keys must be between 1 and 128 characters in length.")
