"""`shipline local traffic`: check the input, run the load with a progress line on stderr, judge, render."""
from __future__ import annotations

import logging
import os
import re
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from ...errors import BadInput, OperationFailed, Problem
from ..route53.client import CachingResolver, NotResolved
from ..route53.emulation import ENV_VAR as DNS_ENV_VAR
from .load import Load, planned_count
from .summary import Tally
from .target import Resolve, checked, system_resolve

log = logging.getLogger(__name__)
MAX_REQUESTS = 1_000_000  # outcomes are kept in memory until the summary


def traffic(url: str, rps: float, for_: float, timeout: float = 5.0, connections: int = 50,
            revision_pattern: str | None = None, max_error_rate: float | None = None) -> dict[str, Any]:
    """Send GETs to `url` at `rps` a second for `for_` seconds; the summary per revision (exit 1 when the
    error rate is above `max_error_rate`)."""
    return run_traffic(url, rps, for_, timeout=timeout, connections=connections,
                       revision_pattern=revision_pattern, max_error_rate=max_error_rate, resolve=_resolver())


def _resolver() -> Resolve:
    """The local world's DNS as a caching client (SHIPLINE_LOCAL_DNS, which `shipline local env` exports), so
    weighted records and TTLs apply as they would to a real client; the system resolver for a name that DNS
    does not answer (localhost), and for every name when no world is in the environment."""
    if not os.environ.get(DNS_ENV_VAR):
        return system_resolve
    world = CachingResolver.from_env()

    def resolve(name: str) -> str:
        try:
            return world.resolve(name)
        except NotResolved as unknown:
            try:
                return system_resolve(name)
            except OSError:
                raise unknown from None

    return resolve


def run_traffic(url: str, rps: float, seconds: float, *, timeout: float, connections: int,
                revision_pattern: str | None, max_error_rate: float | None, resolve: Resolve) -> dict[str, Any]:
    """`traffic` with the resolver of host names given (`resolve`: a name -> an address; OSError when unknown)."""
    pattern = _pattern(revision_pattern)
    if planned_count(rps, seconds) > MAX_REQUESTS:
        problem = f"{rps:g}/s for {seconds:g} s is more than {MAX_REQUESTS:,} requests; lower one of them"
        raise BadInput(f"--rps and --for: {problem}", [Problem("rps", problem), Problem("for", problem)])
    target, address = checked(url, resolve)
    load = Load(target, rps, seconds, timeout=timeout, connections=connections, resolve=resolve,
                revision_pattern=pattern)
    tally = Tally()
    with _progress_line() as show:
        def tick(elapsed: float) -> None:
            tally.add(load.outcomes[tally.sent:])
            show(_progress(tally, load, elapsed))

        elapsed = load.run(tick)
    tally.add(load.outcomes[tally.sent:])
    result = {"url": url, "address": address, "rps": rps, "for_s": seconds, "timeout_s": timeout,
              "connections": connections, "elapsed_s": round(elapsed, 3), **tally.summary(load.planned)}
    if max_error_rate is not None and tally.error_rate > max_error_rate:
        raise OperationFailed(f"error rate {tally.error_rate:.2%} ({tally.errors} of {tally.sent} requests) is "
                              f"above --max-error-rate {max_error_rate:.2%}", details={"result": result})
    return result


def _pattern(text: str | None) -> re.Pattern[str] | None:
    if text is None:
        return None
    try:
        return re.compile(text)
    except re.error as error:
        raise BadInput(f"--revision-pattern {text!r}: not a regular expression: {error}",
                       [Problem("revision_pattern", f"not a regular expression: {error}")]) from None


def _progress(tally: Tally, load: Load, elapsed: float) -> str:
    shares = " ".join(f"{name or '(none)'} {share:.1%}" for name, share in tally.shares()[:4])
    return (f"{elapsed:5.0f}s/{load.seconds:g}s  sent {tally.sent}/{load.planned}  errors {tally.errors} "
            f"({tally.error_rate:.2%})  late {tally.late}  {shares}")


@contextmanager
def _progress_line() -> Iterator[Callable[[str], None]]:
    """One line on stderr rewritten in place on a terminal; otherwise a log line each time."""
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda line: log.info("traffic: %s", line)
        return
    with Live(Text(""), console=console, auto_refresh=False, transient=True) as live:
        yield lambda line: live.update(Text(line), refresh=True)


def render(result: dict[str, Any]) -> str:
    """The summary as text: the plan and what became of it, then a row per revision and one for all."""
    lines = [f"{result['sent']} of {result['planned']} requests sent to {result['url']} ({result['address']}) "
             f"at {result['rps']:g}/s for {result['for_s']:g} s, in {result['elapsed_s']:.1f} s; "
             f"late (over {result['late_after_ms']:g} ms) {result['late']}, max lag {result['max_lag_ms']:g} ms, "
             f"unsent {result['unsent']}",
             f"{'revision':20} {'requests':>8} {'share':>7} {'5xx':>6} {'conn':>6} {'timeout':>7} {'errors':>7}  "
             f"{'p50':>8} {'p90':>8} {'p95':>8} {'p99':>8} ms"]
    rows = [(row["revision"] or "(none)", row) for row in result["revisions"]] + [("all", {**result, "share": 1.0,
                                                                                          "requests": result["sent"]})]
    for name, row in rows:
        errors, latency = row["errors"], row["latency_ms"]
        lines.append(f"{name[:20]:20} {row['requests']:>8} {row['share']:>7.1%} {errors['http_5xx']:>6} "
                     f"{errors['connection']:>6} {errors['timeout']:>7} {row['error_rate']:>7.2%}  "
                     + " ".join(f"{'-' if v is None else f'{v:.1f}':>8}" for v in latency.values()))
    return "\n".join(lines)
