"""How an Application Load Balancer listener routes a request: rules, weights, stickiness, targets.

Elastic Load Balancing, User Guide for Application Load Balancers ("Listener rules", "Target groups"):

- rules are evaluated by priority, lowest first, the default rule last; a rule applies when all its
  conditions match, a condition when any of its values matches. path-pattern is case-sensitive and
  sees the path without the query string; host-header, http-header and query-string compare
  case-insensitively; in all of them `*` matches any run of characters and `?` exactly one;
- a forward action sends to one target group, or to several by weight; with target-group stickiness
  (ForwardConfig.TargetGroupStickinessConfig) the AWSALBTG cookie keeps a client on its group for
  DurationSeconds; with target stickiness (the group's `stickiness.enabled`, type `lb_cookie`) the
  AWSALB cookie keeps it on its target;
- a group's requests go to its healthy targets in turn (round robin); when none is healthy the group
  fails open to every registered target that is not draining; a group with none answers 503.
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping
from urllib.parse import parse_qsl

from ..ecs.bridge import Rule

GROUP_COOKIE = "AWSALBTG"
TARGET_COOKIE = "AWSALB"
_FINAL = ("forward", "fixed-response", "redirect")


@dataclass(frozen=True)
class Request:
    method: str
    path: str                       # without the query string
    query: str
    host: str                       # the Host header as sent (a port included)
    headers: Mapping[str, str]      # case-insensitive lookup (an email.message.Message)
    client_ip: str
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sticky:
    """A stickiness cookie to set on the response: its name, value and lifetime."""

    name: str
    value: str
    seconds: int

    def header(self) -> str:
        return f"{self.name}={self.value}; Max-Age={self.seconds}; Path=/"


def action_for(rules: list[Rule], request: Request) -> dict[str, Any]:
    """The final action (forward, fixed-response or redirect) of the first rule the request matches."""
    for rule in rules:
        if all(_matches(condition, request) for condition in rule.conditions):
            final = [a for a in rule.actions if a.get("Type") in _FINAL]
            return min(final, key=lambda a: int(a.get("Order", 50000)))
    raise LookupError("a listener always has a default rule")


def choose_group(action: dict[str, Any], request: Request, rng: random.Random) -> tuple[str | None, Sticky | None]:
    """The target group a forward action sends this request to (None when every weight is 0), and the
    group-stickiness cookie to set."""
    config = action.get("ForwardConfig")
    if not config:
        return action.get("TargetGroupArn"), None
    weights = {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in config.get("TargetGroups", [])}
    stickiness = config.get("TargetGroupStickinessConfig") or {}
    sticky = str(stickiness.get("Enabled", False)).lower() == "true"
    remembered = _decode(request.cookies.get(GROUP_COOKIE)) if sticky else None
    if remembered is not None and weights.get(remembered, 0) > 0:
        group: str | None = remembered
    elif sum(weights.values()) <= 0:
        return None, None
    else:
        group = rng.choices(list(weights), weights=list(weights.values()))[0]
    cookie = Sticky(GROUP_COOKIE, _encode(group), int(stickiness.get("DurationSeconds", 3600))) if sticky else None
    return group, cookie


def forwarded_groups(actions: list[dict[str, Any]]) -> set[str]:
    """The target groups the forward actions among `actions` name (with any weight, 0 included): the
    groups a rule associates with its load balancer."""
    found: set[str] = set()
    for action in actions:
        if action.get("Type") == "forward":
            if action.get("TargetGroupArn"):
                found.add(action["TargetGroupArn"])
            found.update(g["TargetGroupArn"] for g in (action.get("ForwardConfig") or {}).get("TargetGroups", []))
    return found


def choose_target(targets: list[tuple[int, str]], turn: int, remembered: int | None = None) -> int | None:
    """The port of the target to send to, from (port, state) pairs: the remembered one (target
    stickiness) while it may receive requests, else the healthy ones in turn, else fail open to all
    that are not draining; None when there are none."""
    healthy = [port for port, state in targets if state == "healthy"]
    candidates = healthy or [port for port, state in targets if state != "draining"]
    if not candidates:
        return None
    if remembered in candidates:
        return remembered
    return sorted(candidates)[turn % len(candidates)]


def target_cookie(group_arn: str, port: int, seconds: int) -> Sticky:
    return Sticky(TARGET_COOKIE, _encode(f"{group_arn}|{port}"), seconds)


def remembered_target(request: Request, group_arn: str) -> int | None:
    """The target port the request's AWSALB cookie names in this group (None when it names none)."""
    group, _, port = (_decode(request.cookies.get(TARGET_COOKIE)) or "").rpartition("|")
    return int(port) if group == group_arn and port.isdigit() else None


def redirect_location(config: dict[str, Any], request: Request, protocol: str, port: int) -> str:
    """Where a redirect action sends the client, its #{protocol}, #{host}, #{port}, #{path} and #{query}
    replaced by the request's."""
    values = {"protocol": protocol.lower(), "host": _hostname(request.host), "port": str(port),
              "path": request.path.lstrip("/"), "query": request.query}

    def fill(text: str) -> str:
        return re.sub(r"#\{(protocol|host|port|path|query)\}", lambda m: values[m.group(1)], text)

    scheme = fill(config.get("Protocol", "#{protocol}")).lower()
    target_port = fill(config.get("Port", "#{port}"))
    default_port = {"http": "80", "https": "443"}.get(scheme)
    netloc = fill(config.get("Host", "#{host}")) + ("" if target_port == default_port else f":{target_port}")
    query = fill(config.get("Query", "#{query}"))
    return f"{scheme}://{netloc}{fill(config.get('Path', '/#{path}'))}" + (f"?{query}" if query else "")


def _matches(condition: dict[str, Any], request: Request) -> bool:
    field_name = condition.get("Field")
    if field_name == "path-pattern":
        return any(_pattern(v, False).fullmatch(request.path) for v in _values(condition, "PathPatternConfig"))
    if field_name == "host-header":
        host = _hostname(request.host)
        return any(_pattern(v, True).fullmatch(host) for v in _values(condition, "HostHeaderConfig"))
    if field_name == "http-header":
        config = condition.get("HttpHeaderConfig") or {}
        value = request.headers.get(config.get("HttpHeaderName", ""))
        return value is not None and any(_pattern(v, True).fullmatch(value) for v in config.get("Values", []))
    if field_name == "http-request-method":
        return request.method in _values(condition, "HttpRequestMethodConfig")
    if field_name == "query-string":
        pairs = parse_qsl(request.query, keep_blank_values=True)
        return any((pair.get("Key") is None or _pattern(pair["Key"], True).fullmatch(key))
                   and _pattern(pair.get("Value", ""), True).fullmatch(value)
                   for pair in (condition.get("QueryStringConfig") or {}).get("Values", []) for key, value in pairs)
    if field_name == "source-ip":
        client = ipaddress.ip_address(request.client_ip)
        return any(client in ipaddress.ip_network(v, strict=False) for v in _values(condition, "SourceIpConfig"))
    return False  # ELB refuses any other field when the rule is created


def _values(condition: dict[str, Any], config: str) -> list[str]:
    return list((condition.get(config) or {}).get("Values") or condition.get("Values") or [])


@lru_cache(maxsize=1024)
def _pattern(wildcard: str, ignore_case: bool) -> re.Pattern[str]:
    """ELB's wildcards: * any run of characters, ? exactly one; nothing else is special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in wildcard)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _hostname(host: str) -> str:
    name, colon, port = host.rpartition(":")
    return name if colon and port.isdigit() and not name.endswith(":") else host


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
