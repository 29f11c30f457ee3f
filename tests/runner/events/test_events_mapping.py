"""Which server takes which action, and the reason when it does not (the pure table)."""

from __future__ import annotations

import pytest

from bench.runner.events.mapping import (
    ACTIONS,
    Plan,
    Skip,
    has_master,
    plan_action,
    supported_by_any,
)


@pytest.mark.parametrize("server", ["prefork", "gunicorn"])
def test_prefork_style_masters_take_every_action(server: str) -> None:
    assert plan_action(server, 2, "reload") == Plan("master", "SIGHUP")
    assert plan_action(server, 2, "kill-worker") == Plan("worker", "SIGKILL")
    assert plan_action(server, 2, "term-worker") == Plan("worker", "SIGTERM")
    assert plan_action(server, 2, "scale-up") == Plan("master", "SIGTTIN")
    assert plan_action(server, 2, "scale-down") == Plan("master", "SIGTTOU")
    assert plan_action(server, 1, "reload") == Plan("master", "SIGHUP")  # a master even at -w 1


@pytest.mark.parametrize(
    "server", ["prefork", "eventloop", "gunicorn", "uvicorn", "granian", "hypercorn"]
)
@pytest.mark.parametrize("workers", [1, 4])
def test_pause_and_restart_apply_to_every_server(server: str, workers: int) -> None:
    assert plan_action(server, workers, "pause") == Plan("group", "SIGSTOP")
    assert plan_action(server, workers, "restart") == Plan("server", "SIGTERM")


def test_uvicorn_and_eventloop_with_workers_run_a_master() -> None:
    assert plan_action("uvicorn", 2, "reload") == Plan("master", "SIGHUP")
    assert plan_action("uvicorn", 2, "scale-up") == Plan("master", "SIGTTIN")
    assert plan_action("eventloop", 2, "kill-worker") == Plan("worker", "SIGKILL")
    assert has_master("uvicorn", 2) and not has_master("uvicorn", 1)


@pytest.mark.parametrize(
    "action", ["reload", "kill-worker", "term-worker", "scale-up", "scale-down"]
)
def test_one_process_servers_skip_master_and_worker_actions_with_the_reason(action: str) -> None:
    skip = plan_action("uvicorn", 1, action)
    assert isinstance(skip, Skip)
    assert "uvicorn --workers 1 is one process with no master" in skip.reason
    assert "--workers 2" in skip.reason
    assert "eventloop -w 1" in plan_action("eventloop", 1, action).reason  # type: ignore[union-attr]


@pytest.mark.parametrize("server", ["granian", "hypercorn"])
def test_peers_without_ttin_say_so(server: str) -> None:
    assert plan_action(server, 2, "reload") == Plan("master", "SIGHUP")
    assert plan_action(server, 2, "kill-worker") == Plan("worker", "SIGKILL")
    skip = plan_action(server, 2, "scale-up")
    assert isinstance(skip, Skip) and "SIGTTIN" in skip.reason


def test_unknown_action_and_support_by_any() -> None:
    with pytest.raises(ValueError, match="allowed: reload"):
        plan_action("prefork", 2, "explode")
    assert supported_by_any("reload", [("uvicorn", 1), ("prefork", 2)])
    assert not supported_by_any("scale-up", [("uvicorn", 1), ("granian", 4)])
    assert set(ACTIONS) >= {"reload", "pause", "restart"}


def test_recycle_watches_servers_with_a_master() -> None:
    assert plan_action("prefork", 2, "recycle") == Plan("watch", "")
    assert plan_action("gunicorn", 1, "recycle") == Plan("watch", "")
    skip = plan_action("uvicorn", 1, "recycle")
    assert isinstance(skip, Skip) and "no worker to recycle" in skip.reason
