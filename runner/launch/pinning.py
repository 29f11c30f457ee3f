"""Which CPUs the server under test and the load engine run on.

``pin: auto`` splits the CPUs this process may use in two: the first half (rounded up)
for the server, the rest for the engine — on a 2-core machine, one each. With one CPU
there is nothing to split: both share it, and the plan says so. ``pin: none`` leaves the
scheduler alone; explicit sets are used as given (and checked against what exists).

``plan_pinning`` is pure (it takes the available CPUs); ``available_cpus`` and
``pin_command`` are the only OS-facing parts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from bench.runner.errors import ScenarioError
from bench.runner.units import format_cpus


@dataclass(frozen=True, slots=True)
class Pinning:
    """The CPU split of a run (recorded in the manifest).

    Attributes:
        mode: ``auto``, ``none`` or ``explicit``.
        server_cpus: CPUs of the server under test (``None``: not pinned).
        engine_cpus: CPUs of the load engine, the runner and helper services (``None``: not pinned).
        note: why the split is what it is (e.g. only one CPU).
    """

    mode: str
    server_cpus: tuple[int, ...] | None
    engine_cpus: tuple[int, ...] | None
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for the manifest."""
        return {
            "mode": self.mode,
            "server_cpus": format_cpus(self.server_cpus) or None,
            "engine_cpus": format_cpus(self.engine_cpus) or None,
            "note": self.note,
        }


def available_cpus() -> tuple[int, ...] | None:
    """The CPUs this process may run on, or None where affinity is not supported."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    return tuple(sorted(os.sched_getaffinity(0)))


def plan_pinning(setting: object, cpus: Sequence[int] | None) -> Pinning:
    """Decide the split for a scenario's ``pin`` setting given the available CPUs.

    Args:
        setting: ``"auto"``, ``"none"`` or an object with ``server`` and ``engine`` CPU tuples.
        cpus: the CPUs available (``None``: this platform cannot pin).

    Raises:
        ScenarioError: explicit CPUs that are not available.
    """
    if setting == "none":
        return Pinning("none", None, None, "not pinned (pin: none)")
    if cpus is None:
        return Pinning("none", None, None, "this platform cannot pin processes to CPUs")
    if setting == "auto":
        if len(cpus) < 2:
            return Pinning(
                "auto", None, None, "one CPU only: server and engine share it (numbers contended)"
            )
        half = (len(cpus) + 1) // 2
        server, engine = tuple(cpus[:half]), tuple(cpus[half:])
        return Pinning(
            "auto",
            server,
            engine,
            f"{len(cpus)} CPUs: server on {format_cpus(server)}, engine on {format_cpus(engine)}",
        )
    server = tuple(getattr(setting, "server"))  # noqa: B009
    engine = tuple(getattr(setting, "engine"))  # noqa: B009
    missing = sorted((set(server) | set(engine)) - set(cpus))
    if missing:
        raise ScenarioError(
            f"at pin: CPUs {format_cpus(tuple(missing))} are not available; "
            f"allowed: {format_cpus(tuple(cpus))}"
        )
    return Pinning("explicit", server, engine, "pinned as the scenario says")


#: Run a command pinned to CPUs without an external tool: set affinity, then exec.
_PIN_EXEC = (
    "import os, sys; "
    "os.sched_setaffinity(0, {int(c) for c in sys.argv[1].split(',')}); "
    "os.execvp(sys.argv[2], sys.argv[2:])"
)


def pin_command(argv: Sequence[str], cpus: tuple[int, ...] | None) -> list[str]:
    """``argv`` wrapped so that it (and every child it forks) runs on ``cpus``.

    A tiny Python trampoline sets the affinity and execs the command; this avoids a
    ``preexec_fn`` (unsafe when the runner has threads) and any dependency on taskset.
    """
    if not cpus:
        return list(argv)
    return [sys.executable, "-c", _PIN_EXEC, ",".join(map(str, cpus)), *argv]
