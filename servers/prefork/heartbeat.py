"""Worker → master channels: a shared-memory heartbeat, and a pipe for status messages.

Heartbeat: before forking a worker the master maps one small anonymous shared page;
the worker writes ``time.monotonic()`` (system-wide on Linux and macOS) into it, which
costs no system call, so a worker can beat after every request. The master reads it
when it checks liveness. (gunicorn touches a temporary file instead: one syscall per
beat.)

Status: one pipe shared by all workers carries short lines ``R <pid>`` (ready),
``X <pid>`` (asks to be retired: ``--max-requests`` reached) and ``E <pid> <message>``
(boot failed, with the one-line reason) to the master. Each line is written with one
``write`` below ``PIPE_BUF`` bytes, so lines from different workers never interleave;
the read end wakes the master's ``select``.
"""

from __future__ import annotations

import mmap
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

#: Longest message a worker sends (one atomic pipe write).
_MAX_MESSAGE = 3000


class Heartbeat:
    """One worker's heartbeat slot, shared between the master and that worker."""

    __slots__ = ("_map", "_view")

    def __init__(self) -> None:
        self._map = mmap.mmap(-1, mmap.PAGESIZE)
        self._view = memoryview(self._map).cast("d")
        self._view[0] = time.monotonic()

    def beat(self) -> None:
        """Worker side: record that the worker is alive now."""
        self._view[0] = time.monotonic()

    def beat_at(self, now: float) -> None:
        """Worker side: record a beat at ``now`` (a ``time.monotonic()`` value)."""
        self._view[0] = now

    def last(self) -> float:
        """Master side: the monotonic time of the last beat (the fork time before any)."""
        return self._view[0]

    def close(self) -> None:
        """Release the mapping (master side, after the worker was reaped)."""
        self._view.release()
        self._map.close()


@dataclass(frozen=True, slots=True)
class StatusMessage:
    """One line a worker sent: ``kind`` is ``"ready"``, ``"retire"`` or ``"error"``."""

    pid: int
    kind: str
    text: str = ""


_KINDS = {b"R": "ready", b"X": "retire", b"E": "error"}
_CODES = {kind: code for code, kind in _KINDS.items()}


class StatusPipe:
    """The pipe workers report through; the master keeps the read end."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self.write_fd, False)  # a worker must never block on reporting
        self._partial = b""

    # -- worker side --------------------------------------------------------------

    def close_read_end(self) -> None:
        """In a worker: the read end belongs to the master."""
        os.close(self.read_fd)

    def send(self, kind: str, text: str = "") -> None:
        """In a worker: send one status line (best effort; the master may be gone)."""
        line = f"{_CODES[kind].decode()} {os.getpid()}"
        if text:
            line += " " + " ".join(text.split())[:_MAX_MESSAGE]
        try:
            os.write(self.write_fd, line.encode("utf-8", "replace") + b"\n")
        except OSError:
            pass

    # -- master side --------------------------------------------------------------

    def read(self) -> Iterator[StatusMessage]:
        """In the master: every complete line available now, without blocking."""
        chunks = [self._partial]
        while True:
            try:
                data = os.read(self.read_fd, 65536)
            except BlockingIOError:
                break
            if not data:
                break
            chunks.append(data)
        lines = b"".join(chunks).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            code, _, rest = line.partition(b" ")
            pid_text, _, text = rest.partition(b" ")
            kind = _KINDS.get(code)
            if kind is None or not pid_text.isdigit():
                continue
            yield StatusMessage(int(pid_text), kind, text.decode("utf-8", "replace"))

    def close(self) -> None:
        """In the master, at exit."""
        for fd in (self.read_fd, self.write_fd):
            try:
                os.close(fd)
            except OSError:
                pass
