"""An open-loop load generator: `rps` requests a second for `seconds`, each sent at its planned time by the
first free one of a bounded pool of workers, each with a keep-alive connection of its own.

Open loop: a slow answer does not slow the plan; when every worker is busy, requests go out late (and
the summary says how late), and what could not start before the run's end is not sent at all. The run
stops by itself: no request starts later than `timeout` after the last planned one, and each waits at
most `timeout` for each step of its answer (connect, each read).
"""
from __future__ import annotations

import http.client
import math
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

from .target import Resolve, Target, system_resolve

REVISION_HEADER = "X-Revision"
USER_AGENT = "shipline-local-traffic"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One request: when it went out (seconds after the start), how late, and what came back."""

    sent_at: float
    lag: float                  # seconds after its planned time
    latency: float              # seconds from sending to the whole answer, or to the error
    status: int | None          # the HTTP status; None when no answer came
    error: str | None           # "timeout" or "connection" when no answer came
    revision: str | None        # the revision that answered, when it said


def planned_count(rps: float, seconds: float) -> int:
    """How many requests `rps` a second for `seconds` plans: one at each 1/rps from 0 to before `seconds`."""
    return max(1, math.ceil(rps * seconds - 1e-9))


def revision_of(headers: Mapping[str, str], body: bytes, pattern: re.Pattern[str] | None) -> str | None:
    """The X-Revision header or else the pattern's first group (or whole match) in the body; None when neither."""
    value = (headers.get(REVISION_HEADER) or "").strip()
    if value:
        return value
    if pattern is not None and (match := pattern.search(body.decode("utf-8", "replace"))):
        return match.group(1) if pattern.groups else match.group(0)
    return None


@dataclass
class Load:
    """One run of the generator; `outcomes` grows as answers come (read it from another thread for progress)."""

    target: Target
    rps: float
    seconds: float
    timeout: float = 5.0
    connections: int = 50
    resolve: Resolve = system_resolve
    revision_pattern: re.Pattern[str] | None = None
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.planned = planned_count(self.rps, self.seconds)
        self._next = 0
        self._claims = threading.Lock()
        self._stop = threading.Event()
        self._start = 0.0
        self._headers = {"Host": self.target.host_header, "User-Agent": USER_AGENT}

    def run(self, tick: Callable[[float], None] | None = None, every: float = 1.0) -> float:
        """Send the planned requests; call `tick(seconds since start)` every `every` seconds meanwhile.
        Returns the seconds the run took. Ctrl-C stops the workers (each after its request in flight)."""
        workers = [threading.Thread(target=self._work, name=f"traffic-{i}", daemon=True)
                   for i in range(min(self.connections, self.planned))]
        self._start = time.monotonic()
        for worker in workers:
            worker.start()
        try:
            for worker in workers:
                while worker.is_alive():
                    worker.join(every - (time.monotonic() - self._start) % every)
                    if tick is not None and worker.is_alive():
                        tick(time.monotonic() - self._start)
        except BaseException:
            self._stop.set()
            raise
        return time.monotonic() - self._start

    def _claim(self) -> float | None:
        """The planned time of the next request, or None when all are claimed or it is too late to start one."""
        with self._claims:
            if self._next >= self.planned or self._stop.is_set():
                return None
            planned = self._start + self._next / self.rps
            if time.monotonic() > self._start + self.seconds + self.timeout:
                return None  # the run is over: what is left stays unsent
            self._next += 1
            return planned

    def _work(self) -> None:
        connection: http.client.HTTPConnection | None = None
        try:
            while (planned := self._claim()) is not None:
                if self._stop.wait(max(0.0, planned - time.monotonic())):
                    return
                sent = time.monotonic()
                connection, outcome = self._send(connection, sent - self._start, sent - planned)
                self.outcomes.append(outcome)
        finally:
            if connection is not None:
                connection.close()

    def _send(self, connection: http.client.HTTPConnection | None, sent_at: float,
              lag: float) -> tuple[http.client.HTTPConnection | None, Outcome]:
        """One GET, on the worker's connection (a new one, re-resolving the host, when it has none)."""
        started = time.monotonic()
        for attempt in (1, 2):
            reused = connection is not None
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(self.target.address(self.resolve), self.target.port,
                                                            timeout=self.timeout)
                connection.request("GET", self.target.path, headers=self._headers)
                response = connection.getresponse()
                body = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
                connection = _closed(connection)
                if reused and attempt == 1:
                    continue  # the server closed a kept-alive connection: once more on a new one
                return None, self._failed(sent_at, lag, started, error)
            except (OSError, http.client.HTTPException) as error:
                return _closed(connection), self._failed(sent_at, lag, started, error)
            if response.will_close:
                connection = _closed(connection)
            return connection, Outcome(sent_at, lag, time.monotonic() - started, response.status, None,
                                       revision_of(response.headers, body, self.revision_pattern))
        raise AssertionError("the second attempt returns")

    @staticmethod
    def _failed(sent_at: float, lag: float, started: float, error: Exception) -> Outcome:
        kind = "timeout" if isinstance(error, TimeoutError) else "connection"
        return Outcome(sent_at, lag, time.monotonic() - started, None, kind, None)


def _closed(connection: http.client.HTTPConnection | None) -> None:
    if connection is not None:
        connection.close()
    return None
