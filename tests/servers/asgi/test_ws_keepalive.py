"""Keepalive timers with a real event loop and tiny intervals (waits have deadlines)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bench.servers.asgi.ws_keepalive import Keepalive


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Run the loop until ``condition()`` holds, with a deadline."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.001)


def test_matching_pongs_keep_it_going_and_a_missing_one_times_out():
    async def main() -> None:
        pings: list[bytes] = []
        expired: list[bool] = []
        keepalive = Keepalive(
            asyncio.get_running_loop(), 0.01, 0.5, pings.append, lambda: expired.append(True)
        )
        keepalive.start()
        for answered in range(3):
            await wait_for(lambda n=answered: len(pings) > n)
            keepalive.pong(b"not the payload")  # ignored
            keepalive.pong(pings[-1])
        assert not expired
        await wait_for(lambda: len(pings) == 4)
        await wait_for(lambda: bool(expired))
        assert len(pings) == 4 and all(len(p) == 4 for p in pings)

    asyncio.run(main())


def test_without_timeout_pings_repeat_and_nothing_expires():
    async def main() -> None:
        pings: list[bytes] = []
        keepalive = Keepalive(asyncio.get_running_loop(), 0.005, None, pings.append, lambda: None)
        keepalive.start()
        await wait_for(lambda: len(pings) >= 3)
        keepalive.stop()
        count = len(pings)
        await asyncio.sleep(0.03)
        assert len(pings) == count  # stopped means stopped

    asyncio.run(main())


def test_no_interval_means_no_ping():
    async def main() -> None:
        pings: list[bytes] = []
        keepalive = Keepalive(asyncio.get_running_loop(), None, 1.0, pings.append, lambda: None)
        keepalive.start()
        await asyncio.sleep(0.01)
        assert pings == []

    asyncio.run(main())
