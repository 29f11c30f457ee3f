"""The environ's cached parts (header keys, constant entries) never leak between requests."""

from __future__ import annotations

import io

from bench.servers.protocol import Request
from bench.servers.wsgi.environ import build_environ


def _environ(request: Request, **kwargs: object) -> dict[str, object]:
    options: dict[str, object] = {
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5555),
        "scheme": "http",
        "root_path": "",
        "body": io.BytesIO(),
        "multithread": True,
        "multiprocess": False,
    }
    options.update(kwargs)
    return build_environ(request, **options)  # type: ignore[arg-type]


def test_a_changed_environ_does_not_change_the_next_one() -> None:
    request = Request(b"GET", b"/", [(b"host", b"h"), (b"x-a", b"1")])
    first = _environ(request)
    first["wsgi.url_scheme"] = "changed"
    first["wsgi.run_once"] = True
    second = _environ(request)
    assert second["wsgi.url_scheme"] == "http"
    assert second["wsgi.run_once"] is False
    assert second["HTTP_X_A"] == "1"


def test_each_call_gets_its_own_options() -> None:
    request = Request(b"GET", b"/", [(b"host", b"h")])
    log_a, log_b = io.StringIO(), io.StringIO()
    a = _environ(request, errors=log_a, scheme="https", multithread=False)
    b = _environ(request, errors=log_b)
    assert a["wsgi.errors"] is log_a and b["wsgi.errors"] is log_b
    assert (a["wsgi.url_scheme"], a["wsgi.multithread"]) == ("https", False)
    assert (b["wsgi.url_scheme"], b["wsgi.multithread"]) == ("http", True)
    assert a["wsgi.input"] is not b["wsgi.input"]


def test_header_keys_are_the_same_from_the_cache() -> None:
    request = Request(
        b"GET", b"/", [(b"host", b"h"), (b"x_under", b"dropped"), (b"content-type", b"t")]
    )
    for _ in range(2):  # the second call reads every key from the cache
        environ = _environ(request)
        assert environ["CONTENT_TYPE"] == "t"
        assert environ["HTTP_HOST"] == "h"
        assert not any("UNDER" in key for key in environ)
