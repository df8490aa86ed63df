"""Every CLI command, its parameter spec and the API function it calls.

This registry is the one parameter spec: the CLI options, the params-file validation and the Jenkins
step docs all come from it. It is imported on every start, so it names targets as strings.
"""
from __future__ import annotations

from .params import Command, Param

CONFIG = Param("config", "str", "path of shipline.yaml", default="shipline.yaml")
STATE_DIR = Param("state_dir", "str", "where the local world keeps its state "
                  "(default: $SHIPLINE_LOCAL_DIR or ~/.cache/shipline/local)")

COMMANDS: tuple[Command, ...] = (
    Command(
        name="config check",
        summary="validate shipline.yaml without touching AWS",
        description="Checks the schema, cross-field rules and the files the config names; "
                    "reports every problem with its field path and line (exit 2).",
        example="shipline config check --config shipline.yaml",
        target="shipline.config:check_config",
        render="shipline.config:render_check",
        params=(CONFIG,),
    ),
    Command(
        name="config schema",
        summary="print the JSON Schema of shipline.yaml (for editors and linters)",
        example="shipline config schema --json > shipline.schema.json",
        target="shipline.config:config_schema",
    ),
    Command(
        name="doctor",
        summary="check the Docker engine and AWS access this machine would use",
        description="Exit 3 names each unreachable part (Docker engine, AWS endpoint, credentials, region).",
        example="shipline doctor --json",
        target="shipline.doctor:doctor",
        render="shipline.doctor:render",
        params=(
            Param("docker", "bool", "check the Docker engine", default=True),
            Param("aws", "bool", "check AWS credentials, region and endpoint", default=True),
        ),
    ),
    Command(
        name="local up",
        summary="start the local emulation of AWS (moto, an image registry) on 127.0.0.1",
        description="Idempotent. Rehearse a whole pipeline with no AWS account; use it with "
                    "eval \"$(shipline local env)\".",
        example="shipline local up && eval \"$(shipline local env)\"",
        target="shipline.local.control:up",
        render="shipline.local.control:render_up",
        mutates=True,
        params=(STATE_DIR,
                Param("foreground", "bool", "stay in the foreground until Ctrl-C", default=False),
                Param("time_scale", "float", "how fast emulated time runs: ECS and ELB delays (health-check "
                      "intervals, deregistration delays) are multiplied by it", default=0.1,
                      minimum=0.01, maximum=1.0),
                Param("timeout", "float", "seconds to wait until it is ready", default=10.0, minimum=1)),
    ),
    Command(
        name="local down",
        summary="stop everything 'shipline local up' started",
        example="shipline local down",
        target="shipline.local.control:down",
        render="shipline.local.control:render_down",
        mutates=True,
        params=(STATE_DIR,),
    ),
    Command(
        name="local status",
        summary="report each part of the local emulation (exit 3 when down)",
        example="shipline local status --json",
        target="shipline.local.control:status",
        render="shipline.local.control:render_status",
        params=(STATE_DIR,),
    ),
    Command(
        name="local env",
        summary="print the environment that points AWS clients at the local emulation",
        example="eval \"$(shipline local env)\"",
        target="shipline.local.control:env",
        render="shipline.local.control:render_env",
        params=(STATE_DIR,),
    ),
)
