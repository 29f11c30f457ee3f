"""Worker → master channels, across a real fork."""

from __future__ import annotations

import os
import time

from bench.servers.prefork.heartbeat import Heartbeat, StatusMessage, StatusPipe


def test_a_beat_in_a_child_is_seen_by_the_parent() -> None:
    heartbeat = Heartbeat()
    before = heartbeat.last()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        heartbeat.beat()
        os._exit(0)
    os.waitpid(pid, 0)
    assert heartbeat.last() > before
    assert heartbeat.last() <= time.monotonic()
    heartbeat.close()


def test_status_lines_from_several_children_arrive_whole() -> None:
    status = StatusPipe()
    pids = []
    for kind in ("ready", "retire", "error"):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            status.close_read_end()
            status.send(
                kind, "cannot import 'x':\n  ModuleNotFoundError" if kind == "error" else ""
            )
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    messages = sorted(status.read(), key=lambda m: m.kind)
    status.close()
    assert messages == [
        StatusMessage(pids[2], "error", "cannot import 'x': ModuleNotFoundError"),
        StatusMessage(pids[0], "ready"),
        StatusMessage(pids[1], "retire"),
    ]


def test_a_partial_line_waits_for_its_end() -> None:
    status = StatusPipe()
    os.write(status.write_fd, b"R 12")
    assert list(status.read()) == []
    os.write(status.write_fd, b"3\nX 4\n")
    assert list(status.read()) == [StatusMessage(123, "ready"), StatusMessage(4, "retire")]
    status.close()
