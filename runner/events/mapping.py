"""Which server can take which lifecycle action, and how (a pure table).

How this works: ``plan_action(server, workers, action)`` looks the action up for one
server configuration and returns either a ``Plan`` (what to signal: the master, one
worker, or the whole process group) or a ``Skip`` with the reason, so a cell can say
why an action was not taken instead of doing nothing in silence.

The table says what each server documents (and what bench verified by running it):

- ``prefork`` (any ``-w``) and ``eventloop -w N>1`` run bench's prefork master: HUP
  re-forks every worker (graceful), TTIN/TTOU add/remove one, a dead worker is replaced.
- ``gunicorn``: HUP, TTIN, TTOU on the arbiter, for every worker class.
- ``uvicorn --workers N>1``: its supervisor restarts processes on HUP and scales on
  TTIN/TTOU (uvicorn 0.30+); ``--workers 1`` is one process with no master.
- ``granian``: HUP reloads the workers; it handles no TTIN/TTOU.
- ``hypercorn -w N``: HUP reloads the workers; no TTIN/TTOU.
- A single-process server (``eventloop -w 1``, ``uvicorn --workers 1``) has no master to
  reload or scale and no worker to kill apart from itself: those actions are skipped
  (a crash of the whole server is ``restart`` or a ``kill -9`` of the process, not a
  worker's death). ``pause`` and ``restart`` apply to every server.
- ``recycle`` takes no action: the workers of a server with a master are watched through
  the window and every worker that exits (``--max-requests``, ``--max-worker-rss``,
  ``--limit-max-requests``) is recorded as an event of its own.

Nothing here imports the rest of bench: the scenario loader reads the table to refuse
an action no configuration can take, and ``bench.runner.events.actions`` performs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: The actions a scenario's ``events:`` may name.
ACTIONS: tuple[str, ...] = (
    "reload",
    "kill-worker",
    "term-worker",
    "pause",
    "scale-up",
    "scale-down",
    "restart",
    "recycle",
)

Target = Literal["master", "worker", "group", "server", "watch"]


@dataclass(frozen=True, slots=True)
class Plan:
    """How to take an action on one server configuration.

    Attributes:
        target: ``master`` (the group leader), ``worker`` (one worker process),
            ``group`` (every process of the server: SIGSTOP now, SIGCONT after ``for``),
            ``server`` (TERM the whole server and start it again), ``watch`` (nothing
            is sent: workers are watched and each one that exits is recorded, e.g. a
            recycle after ``--max-requests``).
        signal: the signal's name (``SIGHUP``…); for ``group``, the one that stops it;
            empty for ``watch``.
    """

    target: Target
    signal: str


@dataclass(frozen=True, slots=True)
class Skip:
    """The action does not apply to this configuration, and why (one sentence)."""

    reason: str


#: Servers whose master handles the signal of each master action.
_MASTER_SIGNALS: dict[str, str] = {
    "reload": "SIGHUP",
    "scale-up": "SIGTTIN",
    "scale-down": "SIGTTOU",
}
#: Peers whose master does not scale on TTIN/TTOU.
_NO_SCALING: frozenset[str] = frozenset({"granian", "hypercorn"})
#: Servers that are one process (no master) when run with one worker.
_SINGLE_WHEN_ONE: frozenset[str] = frozenset({"eventloop", "uvicorn"})
#: The flag that names the worker count, for the skip reasons.
_WORKERS_FLAG: dict[str, str] = {"uvicorn": "--workers", "eventloop": "-w"}


def has_master(server: str, workers: int) -> bool:
    """True when the configuration runs a master process with worker children."""
    return not (server in _SINGLE_WHEN_ONE and workers <= 1)


def plan_action(server: str, workers: int, action: str) -> Plan | Skip:
    """How ``action`` is taken on ``server`` with ``workers`` workers, or why it is not.

    Raises:
        ValueError: ``action`` is not one of ``ACTIONS``.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; allowed: {', '.join(ACTIONS)}")
    if server == "external":
        return Skip("bench did not start this server (a url entry): it has no process to signal")
    if action == "pause":
        return Plan("group", "SIGSTOP")
    if action == "restart":
        return Plan("server", "SIGTERM")
    if action == "recycle":
        if not has_master(server, workers):
            return Skip(
                f"{server} with one worker is one process with no master: no worker to recycle"
            )
        return Plan("watch", "")
    if not has_master(server, workers):
        flag = _WORKERS_FLAG.get(server, "-w")
        what = "reload or scale" if action in _MASTER_SIGNALS else "kill apart from itself"
        return Skip(
            f"{server} {flag} 1 is one process with no master: nothing to {what} "
            f"(run {flag} 2 or more, or use restart)"
        )
    if action == "kill-worker":
        return Plan("worker", "SIGKILL")
    if action == "term-worker":
        return Plan("worker", "SIGTERM")
    if action in ("scale-up", "scale-down") and server in _NO_SCALING:
        return Skip(f"{server} does not scale its workers on SIGTTIN/SIGTTOU")
    return Plan("master", _MASTER_SIGNALS[action])


def supported_by_any(action: str, configurations: list[tuple[str, int]]) -> bool:
    """True when at least one (server, workers) configuration can take ``action``."""
    return any(isinstance(plan_action(s, w, action), Plan) for s, w in configurations)
