"""The Jenkins step spec, generated from the one parameter spec (`shipline.commands.COMMANDS`).

Every CLI command that has a pipeline step becomes one entry of resources/io/shipline/steps.json (read by
the Groovy class io.shipline.StepSpec through libraryResource) and one vars/<step>.txt (the step's page
in Jenkins). Regenerate both after changing a command's parameters, from the repository root:

    python -m shipline.jenkins.spec            # write the files that changed
    python -m shipline.jenkins.spec --check    # exit 1 when a file is out of date
"""
from __future__ import annotations

import argparse
import html
import json
import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..commands import COMMANDS
from ..params import TYPES, Command, Param

# The CLI commands that have a pipeline step (deploy, rollback and run-task come with the deploy engine).
STEP_COMMANDS = ("config check", "publish", "scan-gate", "promote", "render", "register", "deploy", "follow",
                 "rollback", "run-task", "status", "freeze", "unfreeze", "pipeline plan")
STEPS_JSON = Path("resources/io/shipline/steps.json")
VARS = Path("vars")
# The one shell script of a CLI step: a constant per step that names only environment variables; the
# values (the executable, the params and result files) come through withEnv, the parameters in the file.
CLI_SCRIPT = '"$SHIPLINE_BIN" {words} --params-file "$SHIPLINE_PARAMS" --result-file "$SHIPLINE_RESULT"'
_WORD = re.compile(r"[a-z][a-z0-9-]*\Z")


@dataclass(frozen=True)
class Step:
    """One pipeline step: its name, documentation and parameters; `command` is the CLI command it runs."""

    name: str
    summary: str
    description: str
    params: tuple[Param, ...]
    returns: str
    example: str
    command: Command | None = None

    @classmethod
    def for_command(cls, command: Command) -> Step:
        """The step that runs `command` with its parameters (dry_run included when it mutates)."""
        name = step_name(command.name)
        return cls(name=name, summary=command.summary, description=command.description,
                   params=command.all_params, command=command,
                   returns=f"Map: the result object of 'shipline {command.name} --json'.",
                   example=_cli_step_example(name, command))

    def to_json(self) -> dict[str, Any]:
        """The steps.json entry that io.shipline.StepSpec validates arguments with and CliCall runs."""
        names = [camel(p.name) for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: two parameters have the same Groovy name: {names}")
        entry: dict[str, Any] = {"command": None, "label": None, "script": None, "mutates": False,
                                 "summary": self.summary, "params": [_param_json(p) for p in self.params]}
        if self.command:
            words = self.command.name.split()
            if not all(_WORD.match(word) for word in words):
                raise ValueError(f"{self.name}: command words must be [a-z0-9-]: {self.command.name!r}")
            entry.update(command=self.command.name, label=f"shipline {self.command.name}",
                         script=CLI_SCRIPT.format(words=" ".join(words)), mutates=self.command.mutates)
        return entry


# Steps of the library that run no CLI command.
LIBRARY_STEPS = (
    Step(
        name="shiplinePipeline",
        summary="the whole pipeline from shipline.yaml: Source, Build, parallel tests, environments in order",
        description="Asks 'shipline pipeline plan' which stages this build runs (pull requests build and test; "
                    "the primary branch and release tags deploy), then runs them with stage, parallel, input "
                    "(the approval before an environment, with its timeout) and lock (one deploy per service "
                    "at a time). The same digest moves through every environment. The team's test and "
                    "acceptance commands run as their own scripts (written with writeFile), the only user text "
                    "that executes. Agent work is retried on a fresh agent when a Spot agent is lost.",
        params=(
            Param("config", "str", "path of shipline.yaml", default="shipline.yaml"),
            Param("label", "str", "the agent label for every stage's node", default="linux"),
        ),
        returns="Map: [plan: the plan, image: the image by digest, deploys: the deployment records by environment].",
        example="@Library('shipline@v0.1.0') _\n"
                "shiplinePipeline(label: 'spot')",
    ),
    Step(
        name="shiplineInstall",
        summary="install the shipline CLI of this library's version on the agent, once per version",
        description="Installs shipline==VERSION (the library's version, see shiplineVersion) into a virtual "
                    "environment cached per version under $XDG_CACHE_HOME/shipline (default "
                    "~/.cache/shipline), then checks that 'shipline --version' prints that version: any other "
                    "version fails the build instead of running. The other steps call it themselves; call it "
                    "first only to choose the package index or the Python interpreter.",
        params=(
            Param("index_url", "str", "the Python package index to install from, given to pip as "
                  "PIP_INDEX_URL (default: the agent's pip configuration)"),
            Param("python", "str", "the Python interpreter (3.10 or later) that creates the virtual "
                  "environment", default="python3"),
        ),
        returns="String: the path of the shipline executable on this agent.",
        example="node('linux') {\n"
                "    String cli = shiplineInstall(indexUrl: 'https://pypi.example.com/simple')\n"
                "    echo \"shipline CLI: ${cli}\"\n"
                "}",
    ),
    Step(
        name="shiplineRetryOnAgentLoss",
        summary="run a block again on a fresh agent when its agent is lost, e.g. a reclaimed Spot instance",
        description="Runs the block in retry(count: 2, conditions: [agent(), nonresumable()]): only a lost "
                    "agent, or a controller restart the block cannot resume from, runs it again; a failing "
                    "step does not. With label, the block runs in node(label) inside the retry, so the second "
                    "attempt gets a fresh agent; without it, allocate the node inside the block. The shipline "
                    "steps are safe to run again: publish skips an image that exists, register reuses an "
                    "unchanged revision.",
        params=(Param("label", "str", "the agent label to allocate with node(label) inside the retry "
                      "(default: the block allocates its own node)"),),
        returns="the value of the block.",
        example="shiplineRetryOnAgentLoss(label: 'spot') {\n"
                "    checkout scm\n"
                "    def published = shiplinePublish(config: 'shipline.yaml')\n"
                "}",
    ),
)


def step_name(command_name: str) -> str:
    """'scan-gate' -> 'shiplineScanGate', 'config check' -> 'shiplineConfigCheck'."""
    parts = re.split(r"[ -]", command_name)
    return "shipline" + "".join(part.capitalize() for part in parts)


def camel(name: str) -> str:
    """A parameter's name in a Groovy map: 'allow_dirty' -> 'allowDirty'."""
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def steps() -> tuple[Step, ...]:
    """Every step that has a spec entry: the CLI steps (in STEP_COMMANDS order), then the library's own."""
    by_name = {command.name: command for command in COMMANDS}
    missing = [name for name in STEP_COMMANDS if name not in by_name]
    if missing:
        raise ValueError(f"STEP_COMMANDS names commands that do not exist: {missing}")
    return tuple(Step.for_command(by_name[name]) for name in STEP_COMMANDS) + LIBRARY_STEPS


def steps_json() -> str:
    """The text of resources/io/shipline/steps.json: keys sorted, parameters in spec order."""
    document = {"generated_by": "python -m shipline.jenkins.spec",
                "steps": {step.name: step.to_json() for step in steps()}}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def step_doc(step: Step) -> str:
    """The text of vars/<step>.txt: HTML, jenkins-infra style (typed parameter list and an example)."""
    lines = [f"<p><b>{step.name}</b>: {_esc(step.summary)}.</p>"]
    if step.description:
        lines.append(f"<p>{_esc(step.description)}</p>")
    if step.command:
        lines.append(f"<p>Runs <code>shipline {_esc(step.command.name)}</code> (the CLI of this library's "
                     "version, installed by <code>shiplineInstall</code>) in the current <code>node</code> "
                     "and directory. The parameters reach it in a JSON file, never on a command line. Wrap "
                     "the <code>node</code> in <code>shiplineRetryOnAgentLoss</code> to survive the loss "
                     "of a Spot agent.</p>")
    lines.append("<p><b>Parameters</b> (any other name fails the build before anything runs):</p>")
    lines.append("<ul>")
    lines.extend(f"<li>{param_doc(param)}</li>" for param in step.params)
    lines.append("</ul>")
    lines.append(f"<p><b>Returns:</b> {_esc(step.returns)}</p>")
    if step.command:
        lines.append("<p><b>Fails</b> the build with <code>error</code>: on invalid parameters before anything "
                     "runs; otherwise with the CLI's one-line message and its exit code (see "
                     "<code>shipline --help</code>).</p>")
    lines.append("<p><b>Example:</b></p>")
    lines.append(f"<pre><code>{_esc(step.example)}\n</code></pre>")
    return "\n".join(lines) + "\n"


def param_doc(param: Param) -> str:
    """One parameter's line: type, Groovy name, (Mandatory) or (Optional, defaults to X), help, limits."""
    if param.required:
        when = "(Mandatory)"
    elif param.default is None:
        when = "(Optional)"
    else:
        when = f"(Optional, defaults to {groovy_literal(param.default)})"
    limits = []
    if param.choices:
        limits.append("One of: " + ", ".join(param.choices) + ".")
    if param.minimum is not None:
        limits.append(f"At least {param.minimum:g}.")
    if param.maximum is not None:
        limits.append(f"At most {param.maximum:g}.")
    text = " ".join([when, param.help + ".", *limits])
    return f"{TYPES[param.type]} <b>{camel(param.name)}</b>: {_esc(text)}"


def groovy_literal(value: Any) -> str:
    """A value as Groovy source: single-quoted strings (never interpolated), lists, maps, numbers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(groovy_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{groovy_literal(k)}: {groovy_literal(v)}" for k, v in value.items())
        return f"[{items}]" if value else "[:]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def generated_files() -> dict[Path, str]:
    """Every generated file, by path relative to the repository root."""
    files = {STEPS_JSON: steps_json()}
    files.update({VARS / f"{step.name}.txt": step_doc(step) for step in steps()})
    return files


def example_args(command: Command) -> dict[str, Any]:
    """The parameters the command's CLI example passes, by name, so the step's example is the same call."""
    tokens = shlex.split(command.example)
    prefix = ["shipline", *command.name.split()]
    if tokens[:len(prefix)] != prefix:
        raise ValueError(f"{command.name}: the example does not start with {' '.join(prefix)!r}")
    by_flag = {param.flag: param for param in command.all_params}
    positional = [param for param in command.all_params if param.positional]
    args: dict[str, Any] = {}
    rest = iter(tokens[len(prefix):])
    for token in rest:
        if token == "--json":
            continue
        param = by_flag.get(token)
        if param is None and positional and not token.startswith("-"):
            args[positional.pop(0).name] = token
            continue
        if param is None:
            raise ValueError(f"{command.name}: the example's {token} is not one of its parameters")
        if param.type == "bool":
            args[param.name] = True
        elif param.type == "list":
            args.setdefault(param.name, []).append(next(rest))
        elif param.type == "map":
            key, _, value = next(rest).partition("=")
            args.setdefault(param.name, {})[key] = value
        else:
            args[param.name] = {"int": int, "float": float, "str": str}[param.type](next(rest))
    return args


def _cli_step_example(name: str, command: Command) -> str:
    args = ", ".join(f"{camel(key)}: {groovy_literal(value)}" for key, value in example_args(command).items())
    return (f"shiplineRetryOnAgentLoss(label: 'linux') {{\n"
            f"    checkout scm\n"
            f"    def result = {name}({args})\n"
            f"}}")


def _param_json(param: Param) -> dict[str, Any]:
    return {"name": camel(param.name), "key": param.name, "type": param.type, "type_name": TYPES[param.type],
            "help": param.help, "default": param.default, "required": param.required,
            "choices": list(param.choices), "minimum": param.minimum, "maximum": param.maximum}


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the generated files that differ (or, with --check, list them and exit 1)."""
    parser = argparse.ArgumentParser(prog="python -m shipline.jenkins.spec",
                                     description="Generate steps.json and vars/<step>.txt from the CLI spec.")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository root (default: .)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a file is stale")
    args = parser.parse_args(argv)
    if not (args.root / "resources" / "io" / "shipline" / "VERSION").is_file():
        print(f"{args.root} is not the shipline repository root (no resources/io/shipline/VERSION)",
              file=sys.stderr)
        return 2
    stale = {path: text for path, text in generated_files().items()
             if not (args.root / path).is_file() or (args.root / path).read_text(encoding="utf-8") != text}
    for path, text in stale.items():
        if args.check:
            print(f"out of date: {path} (run python -m shipline.jenkins.spec)", file=sys.stderr)
        else:
            (args.root / path).write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
