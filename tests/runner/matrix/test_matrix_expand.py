"""Matrix expansion, filtering and scheduling: pure functions on plain values."""

from __future__ import annotations

import pytest

from bench.runner.errors import UsageError
from bench.runner.matrix.cells import expand, server_points
from bench.runner.matrix.schedule import filter_cells, parse_only, schedule
from bench.runner.scenario.model import parse_scenario


def scenario(servers: str, load: str = "{concurrency: [8, 32]}", app: str = "hello"):
    text = f"name: m\nworkload: {{app: {app!r}}}\nservers: {servers}\nload: {load}\n"
    return parse_scenario(text, "m.yaml")


def test_product_of_axes_load_outer_server_inner() -> None:
    s = scenario("[{server: prefork, workers: [1, 2]}, {server: eventloop}]")
    cells = expand(s)
    assert len(cells) == 6
    assert [c.index for c in cells] == list(range(6))
    got = [(c.load.concurrency, c.server.server, c.server.workers) for c in cells]
    assert got == [
        (8, "prefork", 1),
        (8, "prefork", 2),
        (8, "eventloop", 1),
        (32, "prefork", 1),
        (32, "prefork", 2),
        (32, "eventloop", 1),
    ]


def test_threads_collapse_where_they_do_not_apply() -> None:
    s = scenario(
        "[{server: prefork, worker_class: [sync, thread], threads: [4, 8]}]", "{concurrency: 1}"
    )
    points = server_points(s)
    assert [(p.worker_class, p.threads) for p in points] == [
        ("sync", None),
        ("thread", 4),
        ("thread", 8),
    ]


def test_interfaces_each_server_picks_for_bundled_apps() -> None:
    s = scenario(
        "[{server: prefork, worker_class: [sync, eventloop]}, {server: eventloop, interface: [asgi, wsgi]},"
        " {server: gunicorn}, {server: uvicorn}]"
    )
    got = [(p.server, p.worker_class, p.interface) for p in server_points(s)]
    assert got == [
        ("prefork", "sync", "wsgi"),
        ("prefork", "eventloop", "asgi"),
        ("eventloop", None, "asgi"),
        ("eventloop", None, "wsgi"),
        ("gunicorn", "sync", "wsgi"),
        ("uvicorn", None, "asgi"),
    ]


def test_import_string_app_interface_wins() -> None:
    s = scenario("[{server: eventloop}, {server: granian}]", app="mypkg.wsgi:application")
    assert [p.interface for p in server_points(s, app_interface="wsgi")] == ["wsgi", "wsgi"]


def test_open_loop_and_websocket_axes() -> None:
    s = scenario(
        "[{server: eventloop}]",
        "{mode: open, rate: [100, 200], websocket: {message_size: [32, 1024]}}",
        app="ws_echo",
    )
    cells = expand(s)
    assert [(c.load.rate, c.load.message_size) for c in cells] == [
        (100.0, 32),
        (100.0, 1024),
        (200.0, 32),
        (200.0, 1024),
    ]
    assert all(c.load.concurrency is None for c in cells)


def test_cell_ids_are_stable_and_distinct() -> None:
    s = scenario("[{server: prefork, workers: [1, 2]}, {server: eventloop}]")
    first = [c.cell_id for c in expand(s)]
    assert first == [c.cell_id for c in expand(s)]
    assert len(set(first)) == len(first)
    # Filtering keeps ids (a cell's id depends on its parameters, not its position).
    kept = filter_cells(expand(s), parse_only(["server=eventloop"]))
    assert {c.cell_id for c in kept} <= set(first)


def test_filter_and_or_semantics() -> None:
    s = scenario(
        "[{server: prefork, workers: [1, 2, 4]}, {server: eventloop}]", "{concurrency: [8, 32]}"
    )
    cells = expand(s)
    only = parse_only(["server=prefork", "workers=1,4", "concurrency=32"])
    got = [(c.server.workers, c.load.concurrency) for c in filter_cells(cells, only)]
    assert got == [(1, 32), (4, 32)]
    by_label = filter_cells(cells, parse_only(["label=eventloop w1 uvloop"]))
    assert len(by_label) == 2


@pytest.mark.parametrize("bad", ["server", "=x", "colour=red"])
def test_parse_only_rejects(bad: str) -> None:
    with pytest.raises(UsageError):
        parse_only([bad])


def test_schedule_interleaves_repetitions() -> None:
    s = scenario("[{server: prefork}, {server: eventloop}]", "{concurrency: 8}")
    cells = expand(s)
    order = [(c.server.server, rep) for c, rep in schedule(cells, 3)]
    assert order == [
        ("prefork", 0),
        ("eventloop", 0),
        ("prefork", 1),
        ("eventloop", 1),
        ("prefork", 2),
        ("eventloop", 2),
    ]


def test_describe_labels() -> None:
    s = scenario(
        "[{server: prefork, worker_class: thread, workers: 2, threads: 8}, {server: uvicorn, http: h11}]",
        "{concurrency: 8}",
    )
    assert [c.describe() for c in expand(s)] == [
        "prefork thread w2×t8 · c=8",
        "uvicorn w1 uvloop h11 · c=8",
    ]


def test_prefork_eventloop_workers_take_an_interface_and_a_wsgi_pool() -> None:
    s = scenario(
        "[{server: prefork, worker_class: [sync, eventloop], interface: [asgi, wsgi],"
        " threads: [16]}]"
    )
    points = server_points(s)
    got = [(p.worker_class, p.interface, p.threads, p.describe()) for p in points]
    assert got == [
        ("sync", "wsgi", None, "prefork sync w1"),  # one cell: sync serves WSGI either way
        ("eventloop", "asgi", None, "prefork eventloop w1"),
        ("eventloop", "wsgi", 16, "prefork eventloop w1×t16 wsgi"),
    ]


def test_prefork_eventloop_wsgi_command_names_the_interface() -> None:
    from bench.runner.launch.commands import server_command

    s = scenario("[{server: prefork, worker_class: eventloop, interface: wsgi, threads: 16}]")
    (point,) = server_points(s)
    argv = server_command(point, s.workload, "127.0.0.1", 8000).argv
    text = " ".join(argv)
    assert "-k eventloop --interface wsgi --threads 16" in text
