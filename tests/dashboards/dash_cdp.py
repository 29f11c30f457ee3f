"""A headless Chromium driven over the DevTools protocol, for the report's browser test.

``chromium(user_data_dir)`` starts ``/usr/bin/chromium --headless`` in its own process
group with ``--remote-debugging-port=0``, waits (with a deadline, no sleeping) for its
``DevTools listening on ws://…`` line, and yields a ``Browser``; on leaving, the process
group it started is terminated (SIGTERM, then SIGKILL), also when the test failed.

``Browser.open(url, width, height)`` loads a page in a new tab and collects what the
page reported while loading: console errors, uncaught exceptions, log errors and every
network request, so a test can assert the report made no request beyond its own file.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import select
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM = Path("/usr/bin/chromium")
FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


class CdpError(RuntimeError):
    """The browser answered a command with an error, or did not answer in time."""


@dataclass
class PageLog:
    """What a page reported while it loaded."""

    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """Every error, whatever the channel."""
        return [*self.console_errors, *self.exceptions, *self.log_errors]


class Browser:
    """One DevTools connection to the browser; commands are answered in order."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, *,
             session: str | None = None, timeout: float = 30.0) -> dict[str, Any]:  # fmt: skip
        """Send one command and return its result; events seen meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline, method)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise CdpError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, session: str, timeout: float = 30.0) -> dict[str, Any]:
        """Return the first event ``method`` of ``session`` (already seen, or still to come)."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("method") == method and event.get("sessionId") == session:
                    self.events.remove(event)
                    return event
            self.events.append(self._receive(deadline, method))

    def _receive(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise CdpError(f"no answer to {waiting_for} in time")
        try:
            return json.loads(self._ws.recv(timeout=left))
        except TimeoutError:
            raise CdpError(f"no answer to {waiting_for} in time") from None

    def open(self, url: str, *, width: int, height: int, dark: bool = False) -> tuple[str, PageLog]:
        """Open ``url`` in a new tab of ``width``×``height`` CSS px; return (session, log)."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
            session=session,
        )
        scheme = "dark" if dark else "light"
        self.send(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
            session=session,
        )
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_event("Page.loadEventFired", session)
        return session, self.page_log(session)

    def page_log(self, session: str) -> PageLog:
        """Errors and requests of ``session`` among the events seen so far."""
        log = PageLog()
        for event in self.events:
            if event.get("sessionId") != session:
                continue
            params = event.get("params", {})
            method = event.get("method")
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                log.console_errors.append(json.dumps(params.get("args"))[:500])
            elif method == "Runtime.exceptionThrown":
                log.exceptions.append(json.dumps(params.get("exceptionDetails"))[:500])
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                log.log_errors.append(str(params["entry"].get("text"))[:500])
            elif method == "Network.requestWillBeSent":
                log.requests.append(str(params.get("request", {}).get("url")))
        return log

    def evaluate(self, session: str, expression: str, timeout: float = 30.0) -> Any:
        """Evaluate JavaScript (awaiting a promise) and return its JSON value."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            session=session,
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            raise CdpError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, session: str, path: Path, selector: str | None = None) -> Path:
        """Save a PNG of the whole page, or of the element ``selector`` matches, to ``path``."""
        if selector is None:
            metrics = self.send("Page.getLayoutMetrics", session=session)
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        else:
            box = self.evaluate(
                session,
                f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                ".getBoundingClientRect(); return {x: r.left + window.scrollX, "
                "y: r.top + window.scrollY, width: r.width, height: r.height}; })()",
            )
            clip = {**box, "scale": 1}
        data = self.send(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
            session=session,
            timeout=60.0,
        )["data"]
        path.write_bytes(base64.b64decode(data))
        return path


def _read_devtools_url(proc: subprocess.Popen[bytes], deadline: float) -> tuple[str, list[str]]:
    """Read stderr lines until the DevTools line; return its URL and the lines read."""
    assert proc.stderr is not None
    fd = proc.stderr.fileno()
    buffer, lines = b"", []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buffer += chunk
        *done, buffer = buffer.split(b"\n")
        for raw in done:
            line = raw.decode(errors="replace")
            lines.append(line)
            if match := _LISTENING.search(line):
                return match.group(1), lines
    raise CdpError("chromium did not print its DevTools URL:\n" + "\n".join(lines[-20:]))


@contextlib.contextmanager
def chromium(user_data_dir: Path, ready_timeout: float = 60.0) -> Iterator[Browser]:
    """Start headless Chromium, yield a connected ``Browser``, always stop it."""
    args = [str(CHROMIUM), *FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"]
    proc = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    drain: threading.Thread | None = None
    try:
        url, _ = _read_devtools_url(proc, time.monotonic() + ready_timeout)
        assert proc.stderr is not None
        stderr = proc.stderr
        drain = threading.Thread(target=lambda: stderr.read(), daemon=True)
        drain.start()  # keep the pipe from filling up
        with connect(url, max_size=None, open_timeout=ready_timeout) as ws:
            yield Browser(ws)
    finally:
        _stop_group(proc)
        if drain is not None:
            drain.join(timeout=5)


def _stop_group(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the process group we started, SIGKILL it if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # leftovers of the group (renderers, zygote)
