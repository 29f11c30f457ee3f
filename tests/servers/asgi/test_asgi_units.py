"""Pure parts of the eventloop server: scope building, addresses, upgrade detection, eager runs."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import pytest

from bench.servers.asgi import eager
from bench.servers.asgi.config import ServerConfig
from bench.servers.asgi.cycle import describe_exception
from bench.servers.asgi.scope import (
    decode_path,
    http_scope,
    socket_addresses,
    split_request_target,
)
from bench.servers.errors import ConfigError
from bench.servers.protocol import Connection, Request, Role
from bench.servers.protocol.websocket import is_websocket_upgrade


def _request(target: bytes, method: bytes = b"GET", version: bytes = b"1.1") -> Request:
    return Request(method, target, [(b"host", b"example.org")], version)


def test_scope_of_a_simple_request() -> None:
    state = {"db": "pool"}
    scope = http_scope(
        _request(b"/a/b?x=1&y=%20"), ("127.0.0.1", 8000), ("127.0.0.1", 5000), "http", "", state
    )
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/a/b"
    assert scope["raw_path"] == b"/a/b"
    assert scope["query_string"] == b"x=1&y=%20"
    assert scope["root_path"] == ""
    assert scope["headers"] == [(b"host", b"example.org")]
    assert scope["server"] == ("127.0.0.1", 8000)
    assert scope["client"] == ("127.0.0.1", 5000)
    assert scope["state"] == state
    assert scope["state"] is not state  # a shallow copy per request


def test_scope_decodes_percent_and_utf8() -> None:
    scope = http_scope(_request(b"/caf%C3%A9/a%2Fb"), None, None, "http", "", {})
    assert scope["path"] == "/café/a/b"
    assert scope["raw_path"] == b"/caf%C3%A9/a%2Fb"
    assert decode_path(b"/bad%FF") == "/bad\ufffd"


def test_scope_with_root_path_and_http10() -> None:
    scope = http_scope(_request(b"/x", version=b"1.0"), None, None, "http", "/api", {})
    assert scope["path"] == "/api/x"
    assert scope["raw_path"] == b"/api/x"
    assert scope["root_path"] == "/api"
    assert scope["http_version"] == "1.0"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (b"/p?q", (b"/p", b"q")),
        (b"http://example.org/p/q?z=1", (b"/p/q", b"z=1")),
        (b"http://example.org", (b"/", b"")),
        (b"http://example.org?a", (b"/", b"a")),
        (b"*", (b"*", b"")),
    ],
)
def test_split_request_target(target: bytes, expected: tuple[bytes, bytes]) -> None:
    assert split_request_target(target) == expected


def test_socket_addresses() -> None:
    assert socket_addresses(("127.0.0.1", 80), ("10.0.0.1", 1234)) == (
        ("127.0.0.1", 80),
        ("10.0.0.1", 1234),
    )
    assert socket_addresses(("::1", 80, 0, 0), ("::1", 99, 0, 0)) == (("::1", 80), ("::1", 99))
    assert socket_addresses("/tmp/s.sock", "") == (("/tmp/s.sock", None), None)


def test_websocket_upgrade_detection() -> None:
    headers = [(b"host", b"h"), (b"upgrade", b"WebSocket"), (b"connection", b"keep-alive, Upgrade")]
    assert is_websocket_upgrade(Request(b"GET", b"/", headers))
    assert not is_websocket_upgrade(Request(b"GET", b"/", [(b"upgrade", b"websocket")]))
    h2c = [(b"upgrade", b"h2c"), (b"connection", b"upgrade")]
    assert not is_websocket_upgrade(Request(b"GET", b"/", h2c))
    # RFC 9110 §7.8: a server ignores Upgrade in an HTTP/1.0 request.
    assert not is_websocket_upgrade(Request(b"GET", b"/", headers, b"1.0"))
    # The rule is the core's: the HTTP connection saw the upgrade request too.
    conn = Connection(Role.SERVER)
    conn.receive_data(
        b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n"
    )
    assert is_websocket_upgrade(conn.next_event()) and conn.upgrade_requested  # type: ignore[arg-type]


def test_config_validation() -> None:
    assert ServerConfig().timeout_keep_alive == 5.0
    for bad in (
        {"loop": "tokio"},
        {"lifespan": "maybe"},
        {"limit_concurrency": 0},
        {"timeout_keep_alive": 0},
        {"root_path": "api"},
        {"wsgi_threads": 0},
    ):
        with pytest.raises(ConfigError):
            ServerConfig(**bad)  # type: ignore[arg-type]


def test_describe_exception_is_one_line() -> None:
    try:
        raise ValueError("first line\nsecond line")
    except ValueError as exc:
        text = describe_exception(exc)
    assert text.startswith("ValueError: first line (at ")
    assert "\n" not in text
    assert "test_describe_exception_is_one_line" in text


# -- eager ---------------------------------------------------------------------------


def _run_eager(coro_fn: Any) -> tuple[list[BaseException | None], set[asyncio.Task[Any]], Any]:
    """Start ``coro_fn()`` eagerly on a fresh loop; return the outcomes and the task set."""
    done: list[BaseException | None] = []
    tasks: set[asyncio.Task[Any]] = set()

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        eager.start(coro_fn(), loop, done.append, tasks)
        started_as_task = bool(tasks)
        while tasks:
            await asyncio.wait(list(tasks))
        return started_as_task

    became_task = asyncio.run(main())
    return done, tasks, became_task


def test_eager_finishes_without_a_task() -> None:
    steps: list[str] = []

    async def app() -> None:
        steps.append("ran")

    done, _, became_task = _run_eager(app)
    assert steps == ["ran"]
    assert done == [None]
    assert not became_task


def test_eager_resumes_in_a_task_after_waiting() -> None:
    steps: list[str] = []

    async def app() -> None:
        steps.append("before")
        await asyncio.sleep(0.01)
        steps.append("after future")
        await asyncio.sleep(0)
        steps.append("after bare yield")

    done, tasks, became_task = _run_eager(app)
    assert became_task
    assert steps == ["before", "after future", "after bare yield"]
    assert done == [None]
    assert not tasks


def test_eager_reports_errors_before_and_after_waiting() -> None:
    async def fails_at_once() -> None:
        raise KeyError("now")

    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise KeyError("later")

    for app in (fails_at_once, fails_later):
        done, _, _ = _run_eager(app)
        assert len(done) == 1
        assert isinstance(done[0], KeyError)


def test_eager_task_can_be_cancelled_and_sees_the_cancellation() -> None:
    seen: list[str] = []
    done: list[BaseException | None] = []

    async def app() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    async def main() -> None:
        tasks: set[asyncio.Task[Any]] = set()
        eager.start(app(), asyncio.get_running_loop(), done.append, tasks)
        (task,) = tasks
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.wait([task])

    asyncio.run(main())
    assert seen == ["cancelled"]
    assert len(done) == 1
    assert isinstance(done[0], asyncio.CancelledError)


def test_eager_isolates_context_variables() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="outer")
    seen: list[str] = []

    async def app() -> None:
        var.set("inner")
        await asyncio.sleep(0)
        seen.append(var.get())

    async def main() -> None:
        tasks: set[asyncio.Task[Any]] = set()
        eager.start(app(), asyncio.get_running_loop(), lambda exc: None, tasks)
        assert var.get() == "outer"  # the app's set() did not leak into the caller
        await asyncio.wait(list(tasks))

    asyncio.run(main())
    assert seen == ["inner"]
