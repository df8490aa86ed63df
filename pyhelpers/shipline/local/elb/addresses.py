"""Loopback addresses for emulated load balancers: one 127.0.0.x each, never shared by two worlds.

Linux routes all of 127.0.0.0/8 to the loopback interface, so any 127.0.0.x can be bound without
configuration or privileges. An address is held by an exclusive `flock` on a file named after it in
a directory every world on the machine shares (under /tmp itself, not $TMPDIR, which two users or
shells may set differently); the kernel drops the lock when its holder closes the file or dies, so a
crashed world never keeps an address.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ...errors import EnvironmentProblem

FIRST, LAST = 2, 254  # 127.0.0.1 is everyone's localhost; .255 is the broadcast of 127.0.0.0/24
SHARED_DIR = Path("/tmp/shipline-elb-addresses")


class AddressPool:
    """The addresses one world holds."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or SHARED_DIR
        self._held: dict[str, int] = {}  # address -> the locked file's descriptor

    def allocate(self) -> str:
        """Lock the first free 127.0.0.x and return it."""
        if not self.directory.is_dir():
            self.directory.mkdir(parents=True, exist_ok=True)
            self.directory.chmod(0o1777)  # like /tmp: every user's worlds share it
        for last in range(FIRST, LAST + 1):
            address = f"127.0.0.{last}"
            if address in self._held:
                continue
            # read-only: flock needs no write access, so a lock file another user created serves too
            fd = os.open(self.directory / f"{address}.lock", os.O_RDONLY | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self._held[address] = fd
            return address
        raise EnvironmentProblem(f"every loopback address 127.0.0.{FIRST}-{LAST} is held by a local world "
                                 f"(locks in {self.directory}); stop a world to free some")

    def release(self, address: str) -> None:
        fd = self._held.pop(address, None)
        if fd is not None:
            os.close(fd)

    def release_all(self) -> None:
        for address in list(self._held):
            self.release(address)

    @property
    def held(self) -> list[str]:
        return list(self._held)
