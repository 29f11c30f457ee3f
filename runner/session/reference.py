"""The reference workload every run records: how fast is this machine, right now.

How this works: two fixed tasks, measured the same way in every run (about 0.3 s in
all), so that two runs can tell whether their machines — or one machine at two times —
differ, independently of the code under test:

* ``cpu``: a fixed pure-Python integer loop (``CPU_ITERATIONS`` steps, the bundled
  ``cpu`` app's kind of work), timed ``ROUNDS`` times; the figures are nanoseconds per
  step (``value``: the median round, ``best``: the fastest — the steadier on a busy box).
* ``loopback``: ``ROUND_TRIPS`` one-byte request/response round trips over a TCP
  connection on 127.0.0.1 (an echo thread on the other end), timed ``ROUNDS`` times;
  the figures are microseconds per round trip (median and best).

Each figure keeps its ``spread`` ((max − min) / median of the rounds): a reference that
was itself noisy says so. ``bench compare`` reads both (``bench.runner.compare.drift``).
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

#: Version of the reference (bump when the tasks change: figures are then not comparable).
REFERENCE_VERSION = 1
#: Steps of the CPU loop per round.
CPU_ITERATIONS = 150_000
#: Round trips per loopback round.
ROUND_TRIPS = 300
#: Rounds of each task; the median is the figure.
ROUNDS = 5
_MASK = 0xFFFFFFFF


def _cpu_round() -> float:
    """Seconds for one round of the CPU loop (the same arithmetic as the ``cpu`` app)."""
    start = time.perf_counter()
    acc = 0
    for i in range(CPU_ITERATIONS):
        acc = (acc * 31 + i) & _MASK
    return time.perf_counter() - start


def _echo(listener: socket.socket, stop: threading.Event) -> None:
    conn, _ = listener.accept()
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while not stop.is_set():
            data = conn.recv(1)
            if not data:
                return
            conn.sendall(data)


def _loopback_rounds() -> list[float]:
    """Seconds per round of ``ROUND_TRIPS`` round trips, ``ROUNDS`` rounds."""
    stop = threading.Event()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        thread = threading.Thread(target=_echo, args=(listener, stop), daemon=True)
        thread.start()
        with socket.create_connection(listener.getsockname()[:2], timeout=5) as client:
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client.sendall(b"x")  # connect + first round trip outside the timing
            client.recv(1)
            rounds = []
            for _ in range(ROUNDS):
                start = time.perf_counter()
                for _ in range(ROUND_TRIPS):
                    client.sendall(b"x")
                    if not client.recv(1):
                        raise OSError("the echo side closed the connection")
                rounds.append(time.perf_counter() - start)
            stop.set()
        thread.join(timeout=5)
    return rounds


def _figure(rounds: list[float], per: int, scale: float) -> dict[str, float]:
    median = statistics.median(rounds)
    return {
        "value": median / per * scale,
        "best": min(rounds) / per * scale,
        "spread": (max(rounds) - min(rounds)) / median if median > 0 else 0.0,
    }


def measure_reference(
    cpu: Callable[[], float] = _cpu_round, loopback: Callable[[], list[float]] = _loopback_rounds
) -> dict[str, Any]:
    """Run the reference workload; the manifest's ``reference`` section.

    ``{"version": 1, "cpu": {"value": ns/step, "spread": …, "unit": "ns/step"},
    "loopback": {"value": µs/round trip, …} | {"error": "…"}}``. A loopback that cannot
    be measured (no network namespace) is reported as an error, not raised.
    """
    cpu_rounds = [cpu() for _ in range(ROUNDS)]
    out: dict[str, Any] = {
        "version": REFERENCE_VERSION,
        "cpu": {**_figure(cpu_rounds, CPU_ITERATIONS, 1e9), "unit": "ns/step"},
    }
    try:
        trips = loopback()
        out["loopback"] = {**_figure(trips, ROUND_TRIPS, 1e6), "unit": "µs/round trip"}
    except OSError as exc:
        out["loopback"] = {"error": f"loopback not measured: {exc.strerror or exc}"}
    return out
