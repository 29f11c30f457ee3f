"""A WSGI request on the event loop leaves no reference cycle behind.

A cycle per request (start_response -> write() -> the request's cycle) is freed only by
the garbage collector, whose full collections then pause the loop for milliseconds.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from bench.servers.apps import hello
from bench.servers.asgi.config import ServerConfig
from bench.servers.asgi.http import HttpProtocol, ProtocolContext
from bench.servers.asgi.state import ServerState
from bench.servers.asgi.wsgi import WSGIRuntime, wsgi_cycle_factory

REQUEST = b"GET / HTTP/1.1\r\nHost: example\r\n\r\n"


class Transport(asyncio.Transport):
    """Collects what the protocol writes."""

    def __init__(self) -> None:
        super().__init__()
        self.out: list[bytes] = []

    def write(self, data: Any) -> None:
        self.out.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        self.out.extend(bytes(c) for c in chunks)

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.mark.parametrize("mode", ["always", "never"])
def test_keep_alive_wsgi_requests_leave_nothing_for_the_collector(mode: str) -> None:
    loop = asyncio.new_event_loop()
    runtime = WSGIRuntime(2, mode)
    try:
        config = ServerConfig(interface="wsgi")
        ctx = ProtocolContext(
            hello.wsgi, "wsgi", config, ServerState(), loop, wsgi_cycle_factory, runtime
        )
        protocol = HttpProtocol(ctx)
        transport = Transport()
        protocol.connection_made(transport)

        async def requests(n: int) -> None:
            for _ in range(n):
                before = len(transport.out)
                protocol.data_received(REQUEST)
                while len(transport.out) == before:
                    await asyncio.sleep(0)

        loop.run_until_complete(requests(50))  # warm: caches, first-call paths
        gc.collect()
        gc.disable()
        try:
            loop.run_until_complete(requests(500))
            assert transport.out[-1].endswith(hello.BODY)
            assert gc.collect() == 0
        finally:
            gc.enable()
    finally:
        runtime.executor.shutdown(wait=True)
        loop.close()
