"""Every CLI command, its parameter spec and the API function it calls.

This registry is the one parameter spec: the CLI options, the params-file validation and the Jenkins
step docs all come from it. It is imported on every start, so it names targets as strings.
"""
from __future__ import annotations

from . import references
from .deployment import strategies
from .params import Command, Param

CONFIG = Param("config", "str", "path of shipline.yaml", default="shipline.yaml")
ENVIRONMENT = Param("environment", "str", "the environment (from shipline.yaml) whose account, region and "
                    "role to use; default: the top-level region with the ambient credentials")
ALLOW_DIRTY = Param("allow_dirty", "bool", "build from a work tree with uncommitted changes (tagged "
                    "<sha>-dirty-<hash>)", default=False)
EXTRA_TAGS = Param("tags", "list", "more tags, each tied to the revision (a SHA prefix or the version)",
                   default=[])
TD_ENVIRONMENT = Param("environment", "str", "the environment (from shipline.yaml) to work on",
                       required=True)
TD_IMAGE = Param("image", "str", "the image by digest (repository@sha256:..., from publish)", required=True)
TD_FILE = Param("file", "str", "a rendered task definition (from render) instead of rendering again")
PUSH_PARAMS = (CONFIG, ENVIRONMENT, ALLOW_DIRTY, EXTRA_TAGS,
               Param("fix_repo", "bool", "bring an existing repository's settings in line", default=False))
PIPELINE_PARAMS = (CONFIG, Param("branch", "str", "the branch being built (default: $BRANCH_NAME)"),
                   Param("tag", "str", "the tag being built (default: $TAG_NAME)"),
                   Param("change_id", "str", "the pull request number (default: $CHANGE_ID)"))
JENKINS_URL = Param("jenkins_url", "str", "the Jenkins controller (default: $JENKINS_URL); credentials come "
                    "only from JENKINS_USER and JENKINS_API_TOKEN")
RECORD_DIR = Param("record_dir", "str", "where to write the deployment record (default: .shipline/records "
                   "beside shipline.yaml)")
RUN_ID = Param("run_id", "str", "who this deploy is (default: $BUILD_TAG or the CI's run id): the same run id re-run "
               "takes its deploy lease over; another deploy of the service is refused (exit 7)")
SERVICE = Param("service", "str", "the service to work on, when shipline.yaml lists several ('services')")
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
        name="build",
        summary="build the image of the checked-out commit, tagged by git SHA (no push)",
        description="Checks the Dockerfile against the image best practices first (errors stop the build, "
                    "exit 2); tags: full SHA, short SHA, and the version when HEAD has a semver tag.",
        example="shipline build --config shipline.yaml",
        target="shipline.image.publish:build",
        render="shipline.image.publish:render",
        params=(CONFIG, ENVIRONMENT, ALLOW_DIRTY, EXTRA_TAGS),
    ),
    Command(
        name="publish",
        summary="build once per commit and push to ECR; print the image by digest",
        description="Skips build and push when the registry already holds the commit's image. Creates the "
                    "repository (immutable tags, scan on push, lifecycle) if missing.",
        example="shipline publish --config shipline.yaml --json",
        target="shipline.image.publish:publish",
        render="shipline.image.publish:render",
        mutates=True,
        params=PUSH_PARAMS,
    ),
    Command(
        name="push",
        summary="push the image 'shipline build' made for this commit to ECR; print it by digest",
        example="shipline push --config shipline.yaml",
        target="shipline.image.publish:push",
        render="shipline.image.publish:render",
        mutates=True,
        params=PUSH_PARAMS,
    ),
    Command(
        name="scan-gate",
        summary="wait for the image scan; fail (exit 1) on findings at or above the severity threshold",
        description="Allowlisted finding ids (scan.allowlist in shipline.yaml, each with an expiry) do not "
                    "fail the gate until they expire.",
        example="shipline scan-gate --image sha256:<digest> --severity HIGH",
        target="shipline.image.scan:scan_gate",
        render="shipline.image.scan:render",
        params=(CONFIG, Param("image", "str", "the image: sha256:<digest>, a tag, or repository@digest",
                              required=True, check=references.image), ENVIRONMENT,
                Param("severity", "str", "the threshold (default: scan.severity_threshold)",
                      choices=("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL")),
                Param("timeout", "float", "seconds to wait for the scan (default: scan.timeout)", minimum=1)),
    ),
    Command(
        name="promote",
        summary="copy an image by digest to another environment's registry or another repository",
        description="Copies the layers first, then the manifest: the digest is the same; nothing is rebuilt.",
        example="shipline promote --digest sha256:<digest> --environment staging --to-environment production",
        target="shipline.image.promote:promote",
        render="shipline.image.promote:render",
        mutates=True,
        params=(CONFIG, Param("digest", "str", "the image digest (sha256:...)", required=True),
                Param("to_environment", "str", "the environment whose registry receives the image"),
                Param("to_repository", "str", "the target repository (default: image.repository)",
                      check=references.repository_name),
                Param("tags", "list", "tags for the copy (default: the source's revision tags)", default=[]),
                ENVIRONMENT),
    ),
    Command(
        name="render",
        summary="render and validate the release's task definition for an environment",
        description="From the Jinja2 template (task_definition.template) or the service's live revision "
                    "(task_definition.from_service); every problem is reported with its JSON path (exit 2).",
        example="shipline render --environment staging --image 123.dkr.ecr.../web@sha256:<digest>",
        target="shipline.deployment.release:render",
        render="shipline.taskdef.render:render_summary",
        params=(CONFIG, TD_ENVIRONMENT, SERVICE, TD_IMAGE,
                Param("output", "str", "where to write the document (default: .shipline/taskdef-ENV.json)")),
    ),
    Command(
        name="diff",
        summary="show field-level changes between the release's task definition and the live revision",
        example="shipline diff --environment production --image 123.dkr.ecr.../web@sha256:<digest>",
        target="shipline.deployment.release:diff",
        render="shipline.taskdef.register:render_diff",
        params=(CONFIG, TD_ENVIRONMENT, SERVICE, Param("image", "str", "the image by digest (from publish)"), TD_FILE),
    ),
    Command(
        name="register",
        summary="register the release's task definition (reusing the latest revision when unchanged)",
        example="shipline register --environment staging --image 123.dkr.ecr.../web@sha256:<digest>",
        target="shipline.deployment.release:register",
        render="shipline.taskdef.register:render_register",
        mutates=True,
        params=(CONFIG, TD_ENVIRONMENT, SERVICE, Param("image", "str", "the image by digest (from publish)"), TD_FILE),
    ),
    Command(
        name="deploy",
        summary="deploy a release to an environment and judge success on the deployment this run created",
        description="Plans with read calls only (--dry-run prints the plan: actions, expected duration, warnings), "
                    "then executes it: preflight (infra check), register the task definition, the strategy's "
                    "shift, then watch it through completion and the stability window; on failure return to "
                    "the last revision known good (exit 1), exit 4 on timeout, exit 5 if the way back fails "
                    "too, exit 7 while another deploy holds the service's lease (named, with since when), beside "
                    "another in-flight deployment, or when another deploy takes the service over. --detach returns once the shift is under way, printing the token 'shipline follow' "
                    "takes. Writes a deployment record (JSON) from the start.",
        example="shipline deploy --environment staging --image 123.dkr.ecr.../web@sha256:<digest>",
        target="shipline.deployment.engine:deploy",
        render="shipline.deployment.engine:render",
        mutates=True,
        params=(CONFIG, TD_ENVIRONMENT, Param("image", "str", "the image by digest (from publish)"),
                Param("task_definition", "str", "a registered task definition ARN instead of --image",
                      check=references.task_definition),
                Param("service", "list", "the services to deploy, when shipline.yaml lists several ('services'); "
                      "more than one (or --all) deploy in parallel, each judged and rolled back on its own",
                      default=[]),
                Param("all", "bool", "deploy every service shipline.yaml lists, in parallel", default=False),
                Param("parallel", "int", "how many services deploy at once", default=4, minimum=1, maximum=50),
                Param("all_or_nothing", "bool", "when any service's deploy fails (or is refused), return every other "
                      "service deployed by this run to its revision known good before it, and start no more",
                      default=False),
                Param("strategy", "str", "override the environment's strategy", choices=strategies.NAMES),
                RECORD_DIR, RUN_ID,
                Param("wait_for_lease", "float", "seconds to wait for another deploy of the service to release its "
                      "lease (default 0: refuse at once, exit 7)", default=0.0, minimum=0, maximum=86400),
                Param("force", "str", "deploy outside the deploy windows, giving the reason (recorded); never past "
                      "a freeze ('shipline unfreeze' lifts that) nor across schema levels that cannot run side by side"),
                Param("allow_older", "bool", "deploy a commit older than the one in service (an ancestor of it), "
                      "which is refused otherwise (exit 7)", default=False),
                Param("detach", "bool", "return once the deploy is under way (exit 0, 'following': the token for "
                      "'shipline follow'), without waiting for its verdict", default=False),
                Param("follow", "bool", "start nothing: judge and finish the deploy of this release already under "
                      "way, from AWS state alone (exit 3 when none is)", default=False),
                Param("resume", "bool", "continue this release's deploy paused at a point of deploy.pause_at "
                      "(exit 3 when none is paused); 'shipline rollback' aborts it instead", default=False)),
    ),
    Command(
        name="follow",
        summary="judge and finish a detached deploy, from AWS state alone (any agent, any directory)",
        description="Watches what 'deploy --detach' set under way through completion and the stability window, "
                    "then marks it known good and finishes, or returns the service to its last revision known "
                    "good: the same verdict, exit codes and record as an attached deploy.",
        example="shipline follow --environment staging rolling/ecs-svc/1234567890/webapp:42",
        target="shipline.deployment.engine:follow",
        render="shipline.deployment.engine:render",
        mutates=True,
        params=(CONFIG, TD_ENVIRONMENT, SERVICE,
                Param("token", "str", "what 'deploy --detach' printed as 'following'", required=True,
                      positional=True), RECORD_DIR, RUN_ID),
    ),
    Command(
        name="rollback",
        summary="return a service to its last revision known good (or a named one) and wait until it is healthy",
        description="The environment's strategy's way back, planned (--dry-run prints the plan) and recorded "
                    "like a deploy: deployment alarms disarmed, auto scaling suspended while it runs. Exit 5 "
                    "when the service does not become healthy on the target.",
        example="shipline rollback --environment production --to 41",
        target="shipline.deployment.engine:rollback",
        render="shipline.deployment.engine:render",
        mutates=True,
        params=(CONFIG, TD_ENVIRONMENT, SERVICE, Param("to", "str", "a revision number, family:revision or ARN",
                                                   check=references.rollback_target), RECORD_DIR, RUN_ID,
                Param("force", "str", "roll back across schema levels that cannot run side by side (a migration in "
                      "between), giving the reason; refused otherwise (exit 7)")),
    ),
    Command(
        name="status",
        summary="show a service's revision, deployments, target health, recent events, freeze and deploy window",
        example="shipline status --environment production",
        target="shipline.deployment.status:status",
        render="shipline.deployment.status:render",
        params=(CONFIG, TD_ENVIRONMENT, SERVICE),
    ),
    Command(
        name="freeze",
        summary="stop the line: refuse deploys of an environment's service until 'shipline unfreeze'",
        description="Writes the freeze (reason, who, the build, since when) to the deploy table; every deploy "
                    "of the service is then refused (exit 7), --force included. Freezing a frozen service "
                    "replaces the reason and keeps since when it is frozen. Exit 3 when the deploy table is "
                    "missing (shipline infra bootstrap creates it).",
        example="shipline freeze --environment production --reason 'incident 4711: payments failing'",
        target="shipline.deployment.freeze:freeze",
        render="shipline.deployment.freeze:render_freeze",
        mutates=True,
        params=(CONFIG, TD_ENVIRONMENT, SERVICE,
                Param("reason", "str", "why deploys stop, in words (shown to every deploy refused)", required=True)),
    ),
    Command(
        name="unfreeze",
        summary="lift an environment's service's freeze: deploys go ahead again",
        description="Removes the freeze from the deploy table; nothing to do when the service is not frozen.",
        example="shipline unfreeze --environment production --reason 'incident 4711 resolved'",
        target="shipline.deployment.freeze:unfreeze",
        render="shipline.deployment.freeze:render_unfreeze",
        mutates=True,
        params=(CONFIG, TD_ENVIRONMENT, SERVICE, Param("reason", "str", "why deploys may go ahead again")),
    ),
    Command(
        name="run-task",
        summary="run a one-off task (e.g. a migration), stream its logs, fail on a non-zero exit",
        example="shipline run-task --environment staging --command ./manage.py --command migrate",
        target="shipline.deployment.run_task:run_task",
        render="shipline.deployment.run_task:render",
        params=(CONFIG, TD_ENVIRONMENT, SERVICE,
                Param("command", "list", "the command, one --command per word (--command=-c for a word "
                      "starting with -)", default=[]),
                Param("task_definition", "str", "the revision to run (default: the service's current one)",
                      check=references.task_definition),
                Param("container", "str", "the container to run it in (default: the first essential one)"),
                Param("timeout", "float", "seconds to wait for the task to stop", default=600.0, minimum=1)),
    ),
    Command(
        name="infra check",
        summary="verify that everything a deploy needs exists; exit 3 naming each missing piece",
        example="shipline infra check --environment staging",
        target="shipline.deployment.infra:check",
        render="shipline.deployment.infra:render_checks",
        params=(CONFIG, TD_ENVIRONMENT, SERVICE),
    ),
    Command(
        name="infra bootstrap",
        summary="create what a deploy needs (cluster, log groups, roles, target group, service), idempotently",
        description="The first deploy of an environment: run it once after publish (and scan-gate), with the "
                    "image the service starts with. --wait returns only when the service's deployment is "
                    "COMPLETED with every task running (exit 4 after deploy.timeout).",
        example="shipline infra bootstrap --environment staging --image 123.dkr.ecr.../web@sha256:<digest> --wait",
        target="shipline.deployment.infra:bootstrap",
        render="shipline.deployment.infra:render_bootstrap",
        mutates=True,
        params=(CONFIG, TD_ENVIRONMENT, SERVICE, TD_IMAGE,
                Param("wait", "bool", "wait until the service's deployment is COMPLETED with every task running "
                      "(up to deploy.timeout; progress on stderr)", default=False)),
    ),
    Command(
        name="pipeline plan",
        summary="the stages this build runs: Source, Build, parallel tests, environments in order",
        description="Pull requests build and test only; the primary branch and release tags deploy, with "
                    "an approval before each environment that asks for one. The Jenkins pipeline step "
                    "executes this plan.",
        example="shipline pipeline plan --branch main --json",
        target="shipline.pipeline:plan",
        render="shipline.pipeline:render_plan",
        params=PIPELINE_PARAMS,
    ),
    Command(
        name="pipeline run",
        summary="run the whole pipeline on this machine (the same plan the Jenkins step executes)",
        description="An approval not given with --approve ENV pauses the pipeline before that environment "
                    "(exit 6).",
        example="shipline pipeline run --approve staging",
        target="shipline.pipeline:run",
        render="shipline.pipeline:render_run",
        mutates=True,
        params=PIPELINE_PARAMS + (Param("approve", "list", "environments approved in advance", default=[]),),
    ),
    Command(
        name="jenkins lint",
        summary="validate a declarative Jenkinsfile with the Jenkins controller's linter",
        description="Sends the file to the controller's declarative linter (pipeline-model-converter); every "
                    "error is reported with its line (exit 2). Only declarative Jenkinsfiles, with a top-level "
                    "pipeline { } block, can be linted.",
        example="shipline jenkins lint --file Jenkinsfile",
        target="shipline.jenkins.client:lint",
        render="shipline.jenkins.client:render_lint",
        params=(Param("file", "str", "the Jenkinsfile to validate", required=True), JENKINS_URL),
    ),
    Command(
        name="jenkins trigger",
        summary="start a Jenkins job and follow it to its result, streaming its console",
        description="Exit 1 when the build ends FAILURE, UNSTABLE, ABORTED or NOT_BUILT, or its queue item is "
                    "cancelled; exit 4 after --timeout, once the queue item is cancelled or the build stopped.",
        example="shipline jenkins trigger --job team/web/main --params IMAGE_DIGEST=sha256:<digest>",
        target="shipline.jenkins.client:trigger",
        render="shipline.jenkins.client:render_trigger",
        mutates=True,
        params=(Param("job", "str", "the job; a job in a folder is folder/name", required=True),
                Param("params", "map", "the build's parameters (KEY=VALUE, repeatable)", default={}),
                Param("wait", "bool", "follow the build to its result", default=True),
                Param("timeout", "float", "seconds to wait for the queue and the build", default=3600.0,
                      minimum=1),
                JENKINS_URL),
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
                Param("time_scale", "float", "how fast emulated time runs: ECS and ELB waits (health-check "
                      "intervals, deregistration delays, grace periods) are multiplied by it; health-check "
                      "timeouts stay real; 'shipline local env' exports it as SHIPLINE_TIME_SCALE, so "
                      "shipline's waits follow", default=0.1,
                      minimum=0.01, maximum=1.0),
                Param("alias_ttl", "int", "the TTL, in AWS seconds, of the local DNS's answers for alias records "
                      "to a load balancer (AWS answers the target's: 60 for ELB); scaled by --time-scale like "
                      "every TTL it serves", default=60, minimum=0, maximum=86400),
                Param("metric_period", "float", "real seconds between two publications of the load balancers' "
                      "CloudWatch metrics from the requests they carried (ELB publishes each minute)",
                      default=1.0, minimum=0.1, maximum=60.0),
                Param("timeout", "float", "seconds to wait until it is ready (it returns as soon as it is; a busy "
                      "machine may need tens of seconds)", default=60.0, minimum=1)),
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
        name="local traffic",
        summary="send real requests at a steady rate and report, per revision that answered, share, errors and "
                "latency",
        description="An open-loop load generator: --rps GETs a second for --for seconds, each sent at its planned "
                    "time from a pool of keep-alive connections, to a loopback address only (127.0.0.0/8 or ::1: an "
                    "emulated load balancer's DNSName and listener port, or a name resolving to one; anything else "
                    "is exit 2, nothing sent). Each answer counts for the revision in its X-Revision header (or "
                    "--revision-pattern's match in its body): requests, share, errors (HTTP 5xx, connection "
                    "errors, timeouts, counted apart) and latency p50/p90/p95/p99; requests sent late (the "
                    "generator behind its plan) or never sent are counted too. A progress line on stderr each "
                    "second. Exit 0; 1 when --max-error-rate is given and the error rate is above it; 2 on bad "
                    "input.",
        example="shipline local traffic --url http://127.0.0.2:10080/ --rps 200 --for 30 --json",
        target="shipline.local.traffic.command:traffic",
        render="shipline.local.traffic.command:render",
        params=(Param("url", "str", "where to send GETs: http://HOST[:PORT]/PATH, HOST a loopback address or a "
                      "name resolving to one (resolved again for each new connection)", required=True),
                Param("rps", "float", "requests a second", required=True, minimum=0.1, maximum=5000),
                Param("for", "float", "seconds to send for", required=True, minimum=0.1, maximum=86400),
                Param("timeout", "float", "seconds each request may wait to connect and for each read of its "
                      "answer (real seconds, never scaled); then it counts as a timeout", default=5.0,
                      minimum=0.01, maximum=300),
                Param("connections", "int", "keep-alive connections (one per worker): at most this many requests "
                      "in flight", default=50, minimum=1, maximum=1000),
                Param("revision_pattern", "str", "a regular expression finding the revision in an answer's body "
                      "when it has no X-Revision header (its first group, or the whole match)"),
                Param("max_error_rate", "float", "fail (exit 1) when more than this fraction of the requests sent "
                      "failed (5xx, connection error or timeout), e.g. 0.001", minimum=0, maximum=1)),
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
