"""shipline.yaml: the schema (typed models), loading, and every check that needs no AWS call.

Every problem is reported at once, each with its field path and line.
"""
from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, GetJsonSchemaHandler,
                      ValidationError, WithJsonSchema, model_validator)
from pydantic_core import core_schema

from .deployment import strategies
from . import timescale
from .errors import BadInput, Problem
from .image.dockerfile_rules import RULES as DOCKERFILE_RULES
from .references import REPOSITORY_NAME_PATTERN, outside, passthrough, repository_root
from .taskdef.validate import SILENCEABLE as TASK_DEFINITION_RULES
from .yamlsource import YamlDocument, load_yaml

PAUSE_POINTS = ("before-traffic", "before-known-good")   # in the order a deploy reaches them
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL")
DEFAULT_STABILITY_WINDOW = 60.0   # seconds, for services without a load balancer

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def parse_duration(value: Any) -> Any:
    """'90s', '15m', '1h', '500ms' or a number of seconds -> seconds (float)."""
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}: write a number and a unit, e.g. 90s, 15m or 1h")
    if isinstance(value, (int, float)):
        try:
            seconds = float(value)  # an integer beyond a float's range overflows
        except OverflowError:
            seconds = math.inf
        if not math.isfinite(seconds):
            raise ValueError(f"invalid duration {value!r}: give a finite number of seconds or e.g. 90s, 15m")
        return seconds
    match = _DURATION.match(str(value).strip())
    if not match:
        raise ValueError(f"invalid duration {value!r}: write a number and a unit, e.g. 90s, 15m or 1h")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


Duration = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$")]
EnvName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")]
Region = Annotated[str, Field(pattern=r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")]
AccountId = Annotated[str, Field(pattern=r"^\d{12}$")]
RoleArn = Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")]
# ECR's own repositoryName pattern (CreateRepository API reference).
RepositoryName = Annotated[str, Field(min_length=2, max_length=256, pattern=REPOSITORY_NAME_PATTERN)]
# task_definition.env_passthrough: a variable name, or a prefix ending in '*'
PassthroughName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*\*?$")]
Port = Annotated[int, Field(ge=1, le=65535)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AllowlistEntry(Section):
    id: Annotated[str, Field(pattern=r"^(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3})$")]
    expires: dt.date
    reason: Annotated[str, Field(min_length=1)]


class ScanSettings(Section):
    severity_threshold: Literal[SEVERITIES] = "HIGH"  # type: ignore[valid-type]
    timeout: Duration = 600.0
    allowlist: list[AllowlistEntry] = []


class ImageSettings(Section):
    repository: RepositoryName
    dockerfile: str = "Dockerfile"
    context: str = "."
    build_args: dict[str, str] = {}
    target: str | None = None
    platform: str | None = None
    keep_images: Annotated[int, Field(ge=1, le=1000)] = 30
    require_digest: bool = False
    silence_rules: list[str] = []
    cache_ref: str | None = None


class TaskDefinitionSettings(Section):
    template: str | None = None            # a JSON or YAML Jinja2 template in this repository
    from_service: bool = False             # or: clone the service's live revision, swapping the image
    container: Name | None = None          # the container that gets the image (default: load balancer's)
    variables: dict[str, Any] = {}
    environment: dict[str, str] = {}       # with from_service: environment variables to set
    secrets: dict[str, str] = {}           # with from_service: secrets to set (name -> valueFrom)
    allow_plain_env: list[str] = []        # environment names that look secret but are not
    silence_rules: list[str] = []          # task-definition rules to turn off (taskdef/validate.py RULES)
    env_passthrough: list[PassthroughName] = []  # process environment variables templates see as env.NAME


class _Registered:
    """A strategy name from the strategy registry, read when validating and when the schema is made (so a
    plug-in registered after this module loaded is accepted and documented)."""

    @staticmethod
    def _check(value: str) -> str:
        if value not in strategies.NAMES:
            raise ValueError(f"strategy {value!r} is not available; use one of {', '.join(strategies.NAMES)}")
        return value

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(cls._check, core_schema.str_schema())

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return {"type": "string", "enum": list(strategies.NAMES)}


StrategyName = Annotated[str, _Registered]


class HealthCheck(Section):
    path: Annotated[str, Field(pattern=r"^/")] = "/health"
    interval: Annotated[float, BeforeValidator(parse_duration), Field(ge=5, le=300)] = 30.0
    timeout: Annotated[float, BeforeValidator(parse_duration), Field(ge=2, le=120)] = 5.0
    healthy_threshold: Annotated[int, Field(ge=2, le=10)] = 3
    unhealthy_threshold: Annotated[int, Field(ge=2, le=10)] = 3
    matcher: Annotated[str, Field(pattern=r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$")] = "200"


class LoadBalancer(Section):
    container: Name
    port: Port
    health_check: HealthCheck = HealthCheck()


class LeaseSettings(Section):
    """The deploy lease: one deploy of a service at a time, across agents (deployment/lease.py)."""
    table: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")] = "shipline-deploys"
    ttl: Annotated[float, BeforeValidator(parse_duration), Field(ge=3, le=3600)] = 60.0   # renewed every ttl/3
    hold: Annotated[float, BeforeValidator(parse_duration), Field(ge=60, le=30 * 86400)] = 86400.0  # paused/detached


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")   # in datetime.weekday() order
_HOURS = re.compile(r"([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})")


def _day(value: str) -> str:
    if value not in DAYS:
        raise ValueError(f"{value!r} is not a day: use {', '.join(DAYS)}")
    return value


def _hours(value: str) -> str:
    """'HH:MM-HH:MM': a start from 00:00 to 23:59, an end from 00:00 to 24:00, not equal to the start."""
    match = _HOURS.fullmatch(value)
    form = "write HH:MM-HH:MM, e.g. 09:00-17:00 (an end before the start crosses midnight)"
    if not match:
        raise ValueError(f"{value!r} is not a span of hours: {form}")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m):
        raise ValueError(f"{value!r} is not a span of hours: {form}; hours 00-23 (24:00 only as an end), "
                         "minutes 00-59")
    if (start_h, start_m) == (end_h, end_m):
        raise ValueError(f"{value!r} is empty: the end must differ from the start (00:00-24:00 is a whole day)")
    return value


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Europe/Berlin or UTC") from None
    return value


Day = Annotated[str, AfterValidator(_day), WithJsonSchema({"type": "string", "enum": list(DAYS)})]


class DeployWindow(Section):
    """A time deploys are allowed: on each of `days`, from the start of `hours` to its end, by the wall clock
    of `timezone`. An end before the start crosses midnight: fri 22:00-02:00 is Friday 22:00 to
    Saturday 02:00 (deployment/windows.py does the arithmetic)."""

    days: Annotated[list[Day], Field(min_length=1)]
    hours: Annotated[str, AfterValidator(_hours),
                     WithJsonSchema({"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}$"})]
    timezone: Annotated[str, AfterValidator(_timezone)]

    @property
    def start(self) -> int:
        """The opening, in minutes after local midnight."""
        return _minutes(self.hours.split("-")[0])

    @property
    def end(self) -> int:
        """The closing, in minutes after local midnight (1440 = 24:00); before `start`: on the next day."""
        return _minutes(self.hours.split("-")[1])

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class PreDeploy(Section):
    """A one-off task from the new revision (e.g. a migration) that must succeed before traffic moves."""

    command: list[str]
    container: Name | None = None
    timeout: Duration = 600.0


class DeploySettings(Section):
    strategy: StrategyName = "rolling"
    timeout: Duration = 900.0
    min_healthy_percent: Annotated[int, Field(ge=0, le=100)] = 50
    max_percent: Annotated[int, Field(ge=100, le=400)] = 100
    circuit_breaker: bool = True
    alarms: list[str] = []
    # The stability window after the deployment completes; None = derived from the health check
    # (see Config.environment); 0 opts out explicitly.
    bake_time: Duration | None = None
    rollback_timeout: Duration = 600.0     # the way back's own budget, independent of `timeout`
    fail_fast_after: Annotated[int, Field(ge=1, le=100)] = 3
    keep_revisions: Annotated[int, Field(ge=1, le=100)] = 5
    suspend_autoscaling: bool = False
    # Where a deploy stops awaiting approval (exit 6; 'shipline deploy --resume' continues, 'shipline rollback'
    # aborts): before traffic moves, and after the stability window before the release counts as good.
    pause_at: list[Literal[PAUSE_POINTS]] = []  # type: ignore[valid-type]
    desired_count: Annotated[int, Field(ge=0, le=1000)] = 2   # used when infra bootstrap creates the service
    pre_deploy: PreDeploy | None = None
    lease: LeaseSettings = LeaseSettings()
    windows: list[DeployWindow] = []      # when deploys are allowed; none = always (deployment/windows.py)


class SchemaLevels(Section):
    """This release's database/message schema level and the oldest level it can run beside (during a rolling
    deploy the old and the new revision run side by side; deployment/guards.py's schema_refusal)."""

    schema_level: Annotated[int, Field(ge=0, strict=True)]
    runs_beside: Annotated[int, Field(ge=0, strict=True)]

    @model_validator(mode="after")
    def _beside_at_most_own(self) -> "SchemaLevels":
        if self.runs_beside > self.schema_level:
            raise ValueError(f"runs_beside ({self.runs_beside}) must be at most schema_level "
                             f"({self.schema_level}): a release runs beside its own level")
        return self


class Network(Section):
    """awsvpc networking for the service and one-off tasks (default: the default VPC's subnets)."""

    subnets: list[str] = []
    security_groups: list[str] = []
    assign_public_ip: bool = False


class Approval(Section):
    required: bool = True
    timeout: Duration = 3600.0
    approvers: list[str] = []


class Environment(Section):
    account_id: AccountId | None = None
    region: Region | None = None
    role_arn: RoleArn | None = None
    cluster: Name | None = None
    service: Name | None = None
    deploy: dict[str, Any] = {}   # overrides of the top-level `deploy`, checked merged with it
    approval: Approval | None = None
    acceptance: list[str] = []


class Pipeline(Section):
    primary_branch: str = "main"
    deploy_tags: bool = True
    tests: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")], str] = {}


class ServiceEntry(Section):
    """One service of a shipline.yaml that describes several (`services`): its name, and the sections in
    which it differs from the top level. Every service runs the one image the config builds; its `deploy`
    overrides the top-level deploy settings, and an environment's `deploy` overrides both."""

    name: Name
    task_definition: TaskDefinitionSettings = TaskDefinitionSettings()
    deploy: dict[str, Any] = {}
    load_balancer: LoadBalancer | None = None     # `load_balancer: null`: this service has none
    network: Network = Network()
    release: SchemaLevels | None = None


OVERRIDDEN = ("task_definition", "load_balancer", "network", "release")   # an entry that sets one replaces it whole


class Config(Section):
    """The validated contents of shipline.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={
        "oneOf": [{"required": ["service"]}, {"required": ["services"]}]})

    version: Literal[1]
    service: Name | None = None           # the simple form: one service; or
    services: list[ServiceEntry] = []     # several services, each selected by name (Config.select)
    cluster: Name = "default"
    region: Region | None = None
    image: ImageSettings
    scan: ScanSettings = ScanSettings()
    task_definition: TaskDefinitionSettings = TaskDefinitionSettings()
    deploy: DeploySettings = DeploySettings()
    load_balancer: LoadBalancer | None = None
    network: Network = Network()
    release: SchemaLevels | None = None      # none: no schema guard (compatible with every release)
    environments: Annotated[dict[EnvName, Environment], Field(min_length=1)]
    pipeline: Pipeline = Pipeline()

    @property
    def names(self) -> list[str]:
        """The services this config describes, in its order (load_config has checked there is one or more)."""
        return [self.service] if self.service else list(dict.fromkeys(entry.name for entry in self.services))

    def select(self, name: str) -> "Config":
        """The config of one service, in the simple form: a `services` entry's sections over the top level."""
        if name not in self.names:
            raise BadInput(f"unknown service {name!r}; shipline.yaml describes {', '.join(self.names)}")
        if self.service:
            return self
        entry = next(entry for entry in self.services if entry.name == name)
        overrides = {key: getattr(entry, key) for key in OVERRIDDEN if key in entry.model_fields_set}
        deploy = DeploySettings.model_validate({**self.deploy.model_dump(), **entry.deploy})
        return self.model_copy(update={"service": name, "services": [], "deploy": deploy, **overrides})

    def access(self, name: str) -> tuple[str | None, str | None]:
        """(region, role ARN) of environment `name`: what its registry and deploy table are reached with."""
        env = self._environment(name)
        return env.region or self.region, env.role_arn

    def _environment(self, name: str) -> "Environment":
        if name not in self.environments:
            raise BadInput(f"unknown environment {name!r}; defined: {', '.join(self.environments)}")
        return self.environments[name]

    def environment(self, name: str) -> "ResolvedEnvironment":
        """The settings one deploy uses: the environment's values over the top-level defaults."""
        env = self._environment(name)
        if self.service is None:
            raise BadInput(f"shipline.yaml describes several services ({', '.join(self.names)}): name one with "
                           "--service")
        deploy = DeploySettings.model_validate({**self.deploy.model_dump(), **env.deploy})
        return ResolvedEnvironment(name=name, account_id=env.account_id, region=env.region or self.region,
                                   role_arn=env.role_arn, cluster=env.cluster or self.cluster,
                                   service=env.service or self.service, deploy=deploy,
                                   approval=env.approval, acceptance=env.acceptance,
                                   stability_window=timescale.scaled(self.stability_window(deploy)),
                                   time_scale=timescale.factor())

    def stability_window(self, deploy: DeploySettings) -> float:
        """Seconds a completed deployment must stay healthy before it counts as a success, on AWS
        (`environment()` runs it at the time scale in force).

        `deploy.bake_time` when set (0 opts out); otherwise twice the time the load balancer needs to find
        a target unhealthy, 2 x (unhealthy_threshold x interval + timeout); without a load balancer,
        DEFAULT_STABILITY_WINDOW.
        """
        if deploy.bake_time is not None:
            return deploy.bake_time
        if self.load_balancer is None:
            return DEFAULT_STABILITY_WINDOW
        check = self.load_balancer.health_check
        return 2 * (check.unhealthy_threshold * check.interval + check.timeout)


class ResolvedEnvironment(Section):
    name: str
    account_id: str | None
    region: str | None
    role_arn: str | None
    cluster: str
    service: str
    deploy: DeploySettings
    approval: Approval | None
    acceptance: list[str]
    stability_window: float  # seconds, at the time scale
    time_scale: float = 1.0  # the factor shipline runs its own waits by (timescale.py)

    @property
    def lock(self) -> str:
        """The name under which deploys of this service are serialized (the Jenkins lock resource)."""
        return f"shipline/{self.region}/{self.cluster}/{self.service}"


class LoadedConfig(BaseModel):
    """A Config with where it came from and the warnings found while checking it."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    path: Path
    config: Config
    warnings: list[str]


def load_config(path: str | Path = "shipline.yaml", *, service: str | None = None,
                today: dt.date | None = None) -> LoadedConfig:
    """Load and check shipline.yaml; raise BadInput listing every problem with its path and line. `service`:
    the config of that one service (Config.select), for a config that describes several."""
    path = Path(path)
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise BadInput(f"{path}: the top level must be a mapping of settings",
                       [Problem("", "expected a mapping such as 'service: web'", doc.line_of(()), str(path))])
    try:
        config = Config.model_validate(doc.data)
    except ValidationError as exc:
        problems = [_problem(doc, err, Config) for err in exc.errors()]
        problems += _environment_problems(doc, None)
        raise BadInput(f"{path}: {len(problems)} problem(s)", _sorted(problems)) from None
    problems = _service_problems(doc, config)
    if problems:  # a service whose settings are invalid has no config to check further
        raise BadInput(f"{path}: {len(problems)} problem(s)", _sorted(problems))
    problems = _environment_problems(doc, config)
    for index, name in enumerate([] if config.service else config.names):
        problems += _semantic_problems(doc, config.select(name), path.parent, _Where(doc, index))
    if config.service:
        problems += _semantic_problems(doc, config, path.parent, _Where(doc, None))
    if problems:
        raise BadInput(f"{path}: {len(problems)} problem(s)", _sorted(problems))
    chosen = config.select(service) if service else config
    return LoadedConfig(path=path, config=chosen, warnings=_warnings(config, today or dt.date.today()))


def _sorted(problems: list[Problem]) -> list[Problem]:
    unique = {(p.line or 0, p.path, p.message): p for p in problems}
    return [unique[key] for key in sorted(unique)]


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _problem(doc: YamlDocument, err: dict[str, Any], model: type[BaseModel], prefix: tuple = ()) -> Problem:
    loc = prefix + tuple(part for part in err["loc"] if part != "[key]")  # key errors name the key
    kind = err["type"]
    if kind == "extra_forbidden":
        known = _fields_at(model, tuple(err["loc"])[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
        fix = f"did you mean '{hint[0]}'?" if hint else "valid: " + ", ".join(known)
        message = f"unknown field ({fix})"
    elif kind == "missing":
        message = "required field is missing"
    elif kind == "value_error":
        message = str(err["ctx"]["error"])
    elif kind == "string_pattern_mismatch":
        message = f"{err['input']!r} is not a valid {_pattern_name(loc)}"
    else:
        message = err["msg"]
        if "input" in err and not isinstance(err["input"], (dict, list)):
            message += f" (got {err['input']!r})"
    return Problem(_dotted(loc), message, doc.line_of(loc), doc.source)


_PATTERN_NAMES = {"account_id": "12-digit AWS account id", "region": "AWS region such as eu-west-1",
                  "role_arn": "IAM role ARN (arn:aws:iam::123456789012:role/name)",
                  "repository": "ECR repository name (lowercase, e.g. team/web)",
                  "id": "CVE or GHSA id", "path": "path starting with /",
                  "matcher": "HTTP code list such as 200 or 200-299"}


def _pattern_name(loc: tuple[Any, ...]) -> str:
    if len(loc) >= 2 and loc[-2] == "environments":
        return "environment name (lowercase letters, digits, '-')"
    if len(loc) >= 2 and loc[-2] == "tests":
        return "test stage name (lowercase letters, digits, '-')"
    return _PATTERN_NAMES.get(str(loc[-1]), "name (letters, digits, '-', '_')")


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names valid at `loc` inside `model`, for 'did you mean' hints."""
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None:
            continue  # a dict key or list index: stay on the model its values use
        model = next((t for t in _model_types(field.annotation)), model)
    return sorted(model.model_fields)


def _model_types(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) + tuple(getattr(annotation, "__metadata__", ())):
        found += _model_types(arg)
    return found


def _environment_problems(doc: YamlDocument, config: Config | None) -> list[Problem]:
    """Each environment's deploy overrides, checked merged with the top-level deploy settings."""
    data = doc.data
    envs = data.get("environments") if isinstance(data, dict) else None
    if not isinstance(envs, dict):
        return []
    bases = [config.select(name).deploy.model_dump() for name in config.names] if config else [{}]
    problems: list[Problem] = []
    for name, env in envs.items():
        overrides = env.get("deploy") if isinstance(env, dict) else None
        if not isinstance(overrides, dict):
            continue
        for base in bases:  # each service's deploy settings, under this environment's overrides
            try:
                merged = DeploySettings.model_validate({**base, **overrides})
            except ValidationError as exc:
                problems += [_problem(doc, err, DeploySettings, ("environments", name, "deploy"))
                             for err in exc.errors() if err["loc"] and err["loc"][0] in overrides]
                continue
            problems += _deploy_problems(doc, merged, ("environments", name, "deploy"), overrides)
    return problems


def _service_problems(doc: YamlDocument, config: Config) -> list[Problem]:
    """Each `services` entry's deploy overrides, checked merged with the top-level deploy settings; an
    environment cannot rename the service when the config lists several."""
    problems: list[Problem] = []

    def add(loc: tuple, message: str) -> None:
        problems.append(Problem(_dotted(loc), message, doc.line_of(loc), doc.source))

    if config.service is None and not config.services:
        add(("service",), "required field is missing (or list several services under 'services')")
    if config.service is not None and config.services:
        add(("services",), "name one service with 'service' or several under 'services', not both")
    seen: set[str] = set()
    for index, entry in enumerate(config.services):
        if entry.name in seen:
            add(("services", index, "name"), f"service {entry.name!r} is listed twice")
        seen.add(entry.name)
    top = doc.data.get("deploy") if isinstance(doc.data.get("deploy"), dict) else {}
    for index, entry in enumerate(config.services):
        at = ("services", index, "deploy")
        try:
            merged = DeploySettings.model_validate({**config.deploy.model_dump(), **entry.deploy})
        except ValidationError as exc:
            problems += [_problem(doc, err, DeploySettings, at) for err in exc.errors()]
            continue
        own = {"max_percent", "min_healthy_percent"} & set(entry.deploy)
        problems += _deploy_problems(doc, merged, at if own else ("deploy",), entry.deploy if own else top)
    for name, env in config.environments.items() if config.services else ():
        if env.service is not None:
            add(("environments", name, "service"), "with a 'services' list, each service is named in its entry; "
                                                   "an environment cannot rename it")
    return problems


def _deploy_problems(doc: YamlDocument, deploy: DeploySettings, at: tuple, present: dict) -> list[Problem]:
    if deploy.strategy == "rolling" and deploy.max_percent <= deploy.min_healthy_percent:
        key = "max_percent" if "max_percent" in present or "min_healthy_percent" not in present \
            else "min_healthy_percent"
        loc = at + (key,)
        return [Problem(_dotted(loc), f"max_percent ({deploy.max_percent}) must be above "
                                      f"min_healthy_percent ({deploy.min_healthy_percent}), or no task "
                                      "can be replaced", doc.line_of(loc), doc.source)]
    return []


class _Where:
    """Where a setting of one service's config is written: in its `services` entry when the entry sets it,
    else at the top level (index None: the simple form)."""

    def __init__(self, doc: YamlDocument, index: int | None) -> None:
        entries = doc.data.get("services") if index is not None else None
        self.index = index
        self.entry = entries[index] if isinstance(entries, list) and isinstance(entries[index], dict) else {}

    def __call__(self, loc: tuple) -> tuple:
        section = loc[0] if loc else None
        if section in OVERRIDDEN and section in self.entry:
            return ("services", self.index) + loc
        deploy = self.entry.get("deploy")
        if section == "deploy" and isinstance(deploy, dict) and len(loc) > 1 and loc[1] in deploy:
            return ("services", self.index) + loc
        return loc


def _semantic_problems(doc: YamlDocument, config: Config, base: Path, where: _Where) -> list[Problem]:
    """Rules that span fields, and files the config names (of one service's config)."""
    problems: list[Problem] = []

    def add(loc: tuple, message: str) -> None:
        loc = where(loc)
        problems.append(Problem(_dotted(loc), message, doc.line_of(loc), doc.source))

    if where.index is None:  # a services entry's deploy settings: _service_problems
        top_deploy = doc.data.get("deploy") if isinstance(doc.data.get("deploy"), dict) else {}
        problems += _deploy_problems(doc, config.deploy, ("deploy",), top_deploy)
    td = config.task_definition
    if bool(td.template) == td.from_service:
        add(("task_definition",), "set exactly one of 'template' (a file in this repository) or "
                                  "'from_service: true' (clone the live revision)")
    root = repository_root(base)
    context = base / config.image.context
    escapes = {loc: outside(root, path, name) for loc, path, name in (
        (("task_definition", "template"), base / (td.template or "."), td.template),
        (("image", "context"), context, config.image.context),
        (("image", "dockerfile"), context / config.image.dockerfile, config.image.dockerfile))}
    for loc, problem in escapes.items():
        if problem:
            add(loc, problem)
    if td.template and not escapes[("task_definition", "template")] and not (base / td.template).is_file():
        add(("task_definition", "template"), f"file {td.template!r} not found next to the config")
    if not escapes[("image", "context")] and not context.is_dir():
        add(("image", "context"), f"directory {config.image.context!r} not found")
    elif not escapes[("image", "context")] and not escapes[("image", "dockerfile")] and \
            not (context / config.image.dockerfile).is_file():
        add(("image", "dockerfile"), f"file {config.image.dockerfile!r} not found in the build context")
    for section, known in (("image", tuple(DOCKERFILE_RULES)), ("task_definition", TASK_DEFINITION_RULES)):
        for index, rule in enumerate(getattr(config, section).silence_rules):
            if rule not in known:
                add((section, "silence_rules", index), f"{rule!r} is not a rule that can be silenced; "
                                                       f"rules: {', '.join(known)}")
    for index, entry in enumerate(td.env_passthrough):
        problem = passthrough(entry)
        if problem:
            add(("task_definition", "env_passthrough", index), problem)
    for name, env in config.environments.items():
        strategy = env.deploy.get("strategy", config.deploy.strategy)
        if strategy in strategies.NAMES and strategies.info(strategy).moves_traffic \
                and config.load_balancer is None:
            add(("environments", name, "deploy", "strategy") if "strategy" in env.deploy
                else ("deploy", "strategy"),
                f"strategy {strategy} moves traffic: add a 'load_balancer' section (container, port)")
        if env.role_arn and env.account_id and f"::{env.account_id}:" not in env.role_arn:
            add(("environments", name, "role_arn"),
                f"role is in another account than account_id {env.account_id}; use a role of that account")
    return problems


def _warnings(config: Config, today: dt.date) -> list[str]:
    return [f"scan.allowlist: {entry.id} expired on {entry.expires}; it no longer silences findings"
            for entry in config.scan.allowlist if entry.expires < today]


def check_config(config: str = "shipline.yaml") -> dict[str, Any]:
    """`shipline config check`: validate shipline.yaml without touching AWS."""
    loaded = load_config(config)
    cfg = loaded.config
    return {"config": str(loaded.path), "valid": True, "services": cfg.names,
            "environments": list(cfg.environments), "strategy": cfg.deploy.strategy,
            "locks": {name: [cfg.select(service).environment(name).lock for service in cfg.names]
                      for name in cfg.environments},
            "warnings": loaded.warnings}


def config_schema() -> dict[str, Any]:
    """`shipline config schema`: the JSON Schema of shipline.yaml, for editors and CI linters."""
    return Config.model_json_schema()


def render_check(result: dict[str, Any]) -> str:
    lines = [f"{result['config']}: valid — service(s) {', '.join(result['services'])}, "
             f"environments {' → '.join(result['environments'])}, strategy {result['strategy']}"]
    return "\n".join(lines + [f"warning: {w}" for w in result["warnings"]])
