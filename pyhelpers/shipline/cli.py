"""The command line: parses (from the one parameter spec), calls the API, prints, maps errors to exit codes.

Contract of every command:
  --json               one JSON document on stdout; logs and progress go to stderr
  --params-file FILE   the same options as a JSON object (options given on the command line win)
  --result-file FILE   the JSON document, also written on failure
  --dry-run            on every command that changes something
  --time-scale F       shipline's own waits F times as long (timescale.py; default $SHIPLINE_TIME_SCALE or 1)
  --debug              tracebacks and debug logs
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from . import timescale
from .commands import COMMANDS
from .errors import EXIT_CODES, BadInput, Problem, ShiplineError
from .limits import load_json, read_text
from .logcontext import tag
from .params import Command, Param
from .translate import as_shipline_error

log = logging.getLogger("shipline")


def main(argv: Sequence[str] | None = None) -> int:
    """The `shipline` command; a reader that closes its pipe early (`| head`) ends it quietly with 141,
    whether stdout is buffered or not (what is buffered is flushed here, where a closed pipe is caught)."""
    try:
        try:
            code = _main(argv)
        except SystemExit as done:  # argparse's --help and usage errors
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # stdout's reader is gone: say nothing more (the interpreter's final flush must not fail either)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # as a shell reports a command ended by SIGPIPE


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from .version import version

        print(version())
        return 0
    command: Command | None = getattr(args, "command_spec", None)
    if command is None:
        parser.print_help(sys.stderr)
        return 2
    _setup_logging(args.debug)
    document = run(command, args)
    _emit(command, args, document)
    return document["exit_code"]


def run(command: Command, args: argparse.Namespace) -> dict[str, Any]:
    """Run one command; always return the JSON document (result or error)."""
    try:
        _check_result_file(args.result_file)
        _set_time_scale(getattr(args, "own_time_scale", None))
        params = command.validate(_gather(command, args), args.params_file or "command line")
        result = command.call(params)
        return _document(command, 0, result=result)
    except KeyboardInterrupt:
        error = ShiplineError("interrupted")
        return _document(command, 130, error=error.to_json(), lines=error.lines())
    except Exception as exc:  # every failure becomes a document with a one-line message
        error = as_shipline_error(exc)
        if args.debug or error is None:
            log.exception("%s failed", command.name)
        if error is None:
            error = ShiplineError(f"internal error: {type(exc).__name__}: {exc} "
                                  "(rerun with --debug and report it)")
        return _document(command, error.exit_code, error=error.to_json(), lines=error.lines())


def _document(command: Command, exit_code: int, *, result: Any = None, error: dict | None = None,
              lines: list[str] | None = None) -> dict[str, Any]:
    from .version import version

    doc = {"shipline": version(), "command": command.name, "ok": exit_code == 0, "exit_code": exit_code,
           "result": result, "error": error}
    if lines:
        doc["_lines"] = lines
    return doc


def _emit(command: Command, args: argparse.Namespace, document: dict[str, Any]) -> None:
    lines = document.pop("_lines", None)
    text = json.dumps(document, indent=2, sort_keys=True, default=str)
    if args.result_file and not _result_file_problem(args.result_file):
        try:
            Path(args.result_file).write_text(text + "\n", encoding="utf-8")
        except OSError as error:
            log.error("--result-file %s: cannot write: %s", args.result_file, error.strerror or error)
    if args.json:
        print(text)
    elif document["ok"]:
        render = command.renderer()
        print(render(document["result"]) if render else _plain(document["result"]))
    if lines and not args.json:
        print(f"shipline {command.name}: error: {lines[0]}", file=sys.stderr)
        for line in lines[1:]:
            print(line, file=sys.stderr)
    elif lines:
        log.error("%s", "\n".join(lines))


def _plain(result: Any) -> str:
    if isinstance(result, dict):
        return "\n".join(f"{key}: {json.dumps(value, default=str) if isinstance(value, (dict, list)) else value}"
                         for key, value in result.items())
    return json.dumps(result, indent=2, default=str)


def _gather(command: Command, args: argparse.Namespace) -> dict[str, Any]:
    """Params file first, then every option given on the command line."""
    values: dict[str, Any] = {}
    if args.params_file:
        values.update(_read_params_file(args.params_file))
    for param in command.all_params:
        if hasattr(args, param.name):
            values[param.name] = getattr(args, param.name)
    return values


def _set_time_scale(value: float | None) -> None:
    """--time-scale: the factor for this command and the processes it starts (timescale.py)."""
    if value is None:
        return
    if problem := timescale.problem(value):
        raise BadInput(f"--time-scale: {problem}", [Problem("time_scale", problem)])
    os.environ[timescale.ENV] = repr(value)


def _check_result_file(path: str | None) -> None:
    """Refuse a --result-file that cannot be written, before the command runs (so nothing changes)."""
    problem = _result_file_problem(path) if path else None
    if problem:
        raise BadInput(f"--result-file {path}: {problem}", [Problem("result_file", problem)])


def _result_file_problem(path: str) -> str | None:
    target = Path(path)
    if target.is_dir():
        return "is a directory; name the file to write"
    if not target.parent.is_dir():
        return f"directory {target.parent} does not exist; create it first"
    return None


def _read_params_file(path: str) -> dict[str, Any]:
    try:
        text = read_text(Path(path), f"params file {path}")
    except FileNotFoundError:
        raise BadInput(f"params file {path} not found") from None
    data = load_json(text, f"params file {path}")
    if not isinstance(data, dict):
        raise BadInput(f"params file {path}: expected a JSON object of parameters")
    return data


class _ElapsedFormatter(logging.Formatter):
    """Progress lines with the time since start, so long waits are visible."""

    def __init__(self) -> None:
        super().__init__()
        self.start = time.monotonic()

    def format(self, record: logging.LogRecord) -> str:
        prefix = {logging.WARNING: "warning: ", logging.ERROR: "error: "}.get(record.levelno, "")
        text = f"[{time.monotonic() - self.start:6.1f}s] {tag()}{prefix}{record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def _setup_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ElapsedFormatter())
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if debug else logging.INFO)
    log.propagate = False


# --- the parser, generated from the spec -------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shipline", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Source -> Build -> Test -> Production on Amazon ECS.",
        epilog="exit codes:\n" + "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())
        + "\n\nRun 'shipline COMMAND --help' for a command's options and an example.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.set_defaults(debug=False)
    groups: dict[tuple[str, ...], argparse._SubParsersAction] = {(): parser.add_subparsers(
        title="commands", metavar="COMMAND")}
    parents: dict[tuple[str, ...], argparse.ArgumentParser] = {(): parser}
    for command in COMMANDS:
        words = tuple(command.name.split())
        for depth in range(1, len(words)):
            prefix = words[:depth]
            if prefix not in groups:
                group_parser = groups[prefix[:-1]].add_parser(prefix[-1], help=f"{prefix[-1]} commands")
                parents[prefix] = group_parser
                groups[prefix] = group_parser.add_subparsers(title="commands", metavar="COMMAND")
        sub = groups[words[:-1]].add_parser(
            words[-1], help=command.summary, description=command.description or command.summary,
            epilog=f"example:\n  {command.example}", formatter_class=argparse.RawDescriptionHelpFormatter)
        _add_options(sub, command)
    return parser


def _add_options(sub: argparse.ArgumentParser, command: Command) -> None:
    sub.set_defaults(command_spec=command)
    for param in command.all_params:
        _add_param(sub, param)
    common = sub.add_argument_group("common options")
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    common.add_argument("--params-file", metavar="FILE", help="read parameters from a JSON object")
    common.add_argument("--result-file", metavar="FILE", help="write the JSON document to FILE")
    common.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    if not any(param.name == "time_scale" for param in command.all_params):  # `local up` sets the world's
        common.add_argument("--time-scale", dest="own_time_scale", type=float, metavar="F",
                            help="run shipline's own waits (stability windows, polling) F times as long, "
                                 f"0 < F <= 1 (default ${timescale.ENV} or 1)")


def _add_param(sub: argparse.ArgumentParser, param: Param) -> None:
    default = f" (default: {param.default})" if param.default not in (None, [], {}) else ""
    required = " (required)" if param.required else ""
    kwargs: dict[str, Any] = {"dest": param.name, "default": argparse.SUPPRESS,
                              "help": param.help + required + default}
    if param.choices:
        kwargs["choices"] = param.choices
    if param.type == "bool":
        kwargs["action"] = argparse.BooleanOptionalAction
    elif param.type == "list":
        kwargs["action"] = "append"
        kwargs["metavar"] = "VALUE"
    elif param.type == "map":
        kwargs["action"] = _KeyValue
        kwargs["metavar"] = "KEY=VALUE"
    else:
        kwargs["type"] = {"int": int, "float": float, "str": str}[param.type]
    if param.positional:
        kwargs.pop("dest")
        sub.add_argument(param.name, nargs="?", **kwargs)
    else:
        sub.add_argument(param.flag, **kwargs)


class _KeyValue(argparse.Action):
    """Repeatable KEY=VALUE option collected into a dict."""

    def __call__(self, parser, namespace, value, option_string=None):  # type: ignore[override]
        key, sep, val = str(value).partition("=")
        if not sep or not key:
            parser.error(f"{option_string}: expected KEY=VALUE, got {value!r}")
        current = dict(getattr(namespace, self.dest, None) or {})
        current[key] = val
        setattr(namespace, self.dest, current)
