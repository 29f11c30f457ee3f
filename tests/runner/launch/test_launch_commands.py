"""The command line of each server configuration (pure)."""

from __future__ import annotations

from bench.runner.launch.commands import app_target, peer_missing, server_command
from bench.runner.matrix.cells import ServerPoint
from bench.runner.scenario.model import Workload

HELLO = Workload(app="hello", params={"size": 64})


def argv(point: ServerPoint, workload: Workload = HELLO) -> list[str]:
    return list(server_command(point, workload, "127.0.0.1", 8123, python="py").argv)


def test_bundled_servers_go_through_bench_serve() -> None:
    cmd = argv(ServerPoint("prefork", 2, worker_class="thread", threads=8, interface="wsgi"))
    assert cmd[:5] == ["py", "-m", "bench.runner.cli", "serve", "prefork"]
    assert cmd[5] == "hello"
    assert cmd[cmd.index("-b") + 1] == "127.0.0.1:8123"
    assert cmd[cmd.index("-w") + 1] == "2"
    assert cmd[cmd.index("-k") + 1] == "thread"
    assert cmd[cmd.index("--threads") + 1] == "8"
    loop = argv(ServerPoint("eventloop", 1, loop="asyncio", interface="wsgi"))
    assert loop[4] == "eventloop"
    assert loop[loop.index("--loop") + 1] == "asyncio"
    assert loop[loop.index("--interface") + 1] == "wsgi"


def test_params_travel_as_environment() -> None:
    command = server_command(ServerPoint("eventloop", 1), HELLO, "127.0.0.1", 1)
    assert command.env == {"BENCH_APP_SIZE": "64"}


def test_peers_get_import_strings_of_the_right_form() -> None:
    gunicorn = argv(ServerPoint("gunicorn", 2, worker_class="gthread", threads=4, interface="wsgi"))
    assert gunicorn[1:3] == ["-m", "gunicorn"]
    assert gunicorn[-1] == "bench.servers.apps.hello:wsgi"
    assert gunicorn[gunicorn.index("-k") + 1] == "gthread"
    uvicorn = argv(ServerPoint("uvicorn", 1, loop="uvloop", http="h11", interface="asgi"))
    assert uvicorn[3] == "bench.servers.apps.hello:asgi"
    assert uvicorn[uvicorn.index("--http") + 1] == "h11"
    assert uvicorn[uvicorn.index("--port") + 1] == "8123"
    granian = argv(ServerPoint("granian", 1, threads=4, loop="uvloop", interface="wsgi"))
    assert granian[granian.index("--interface") + 1] == "wsgi"
    assert granian[granian.index("--blocking-threads") + 1] == "4"
    assert granian[-1] == "bench.servers.apps.hello:wsgi"
    hypercorn = argv(ServerPoint("hypercorn", 3, loop="asyncio", interface="asgi"))
    assert hypercorn[hypercorn.index("-w") + 1] == "3"
    assert hypercorn[hypercorn.index("-k") + 1] == "asyncio"


def test_bundled_module_names_follow_the_app_convention() -> None:
    assert app_target(Workload(app="json"), "wsgi") == ("bench.servers.apps.json_app:wsgi", False)
    assert app_target(Workload(app="io"), "asgi") == ("bench.servers.apps.io_app:asgi", False)
    assert app_target(Workload(app="pkg.mod:make()"), "asgi") == ("pkg.mod:make", True)
    uvicorn = argv(ServerPoint("uvicorn", 1, interface="asgi"), Workload(app="pkg.mod:make()"))
    assert "--factory" in uvicorn


def test_extra_args_come_last() -> None:
    cmd = argv(
        ServerPoint("prefork", 1, worker_class="sync", interface="wsgi", args=("--keep-alive", "2"))
    )
    assert cmd[-2:] == ["--keep-alive", "2"]


def test_peer_missing() -> None:
    assert peer_missing("prefork") is None
    assert peer_missing("gunicorn") in (None, "gunicorn is not installed (pip install gunicorn)")
