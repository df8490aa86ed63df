"""The process behind `shipline local up`: hosts the local world until SIGTERM or Ctrl-C."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from .world import LocalWorld

STATE_FILE = "state.json"


def serve(state_dir: Path, time_scale: float, alias_ttl: int, metric_period: float) -> None:
    """Start the world, publish its state file, wait for a stop signal, stop everything."""
    state_dir.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    world = LocalWorld(state_dir / "world", time_scale=time_scale, alias_ttl=alias_ttl,
                       metric_period=metric_period).start()
    try:
        state = {"pid": os.getpid(), "world_id": world.id, "started_at": time.time(), "env": world.env(),
                 "time_scale": time_scale, "alias_ttl": alias_ttl, "metric_period": metric_period,
                 "moto": {"endpoint": world.moto.endpoint},
                 "registry": {"url": world.registry.endpoint, "pid": world.registry.upstream.proc.pid},
                 "dockerd_pid": world.dockerd_pid}
        temp = state_dir / (STATE_FILE + ".tmp")
        temp.write_text(json.dumps(state, indent=2))
        temp.replace(state_dir / STATE_FILE)
        while not stop.wait(0.2):
            pass
    finally:
        (state_dir / STATE_FILE).unlink(missing_ok=True)
        world.stop()
        shutil.rmtree(state_dir / "world", ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    serve(Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
