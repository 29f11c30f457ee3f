"""load_app: bundled names, import strings, factories, interface detection, errors."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from bench.servers.apps import (
    AppInterfaceError,
    AppLoadError,
    bundled_names,
    hello,
    is_asgi,
    json_app,
    load_app,
)


def test_bundled_apps_are_listed() -> None:
    names = bundled_names()
    assert "hello" in names
    assert "json" in names


@pytest.mark.parametrize(
    ("spec", "interface", "expected", "kind"),
    [
        ("hello", "auto", hello.asgi, "asgi"),
        ("hello", "asgi", hello.asgi, "asgi"),
        ("hello", "wsgi", hello.wsgi, "wsgi"),
        ("json", "auto", json_app.asgi, "asgi"),
        ("json", "wsgi", json_app.wsgi, "wsgi"),
    ],
)
def test_bundled_app_forms(spec: str, interface: str, expected: object, kind: str) -> None:
    app, got = load_app(spec, interface=interface)  # type: ignore[arg-type]
    assert app is expected
    assert got == kind


@pytest.fixture
def app_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    source = textwrap.dedent(
        """
        class Holder:
            async def asgi(self, scope, receive, send):
                pass

        holder = Holder()

        async def asgi_app(scope, receive, send):
            pass

        def wsgi_app(environ, start_response):
            return []

        class AsgiClass:
            async def __call__(self, scope, receive, send):
                pass

        def factory():
            return AsgiClass()

        def broken_factory():
            raise ValueError("no config")

        not_callable = 42
        """
    )
    (tmp_path / "bench_sample_app.py").write_text(source)
    (tmp_path / "bench_broken_app.py").write_text("import does_not_exist_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "bench_sample_app"
    for name in ("bench_sample_app", "bench_broken_app"):
        sys.modules.pop(name, None)


def test_import_string_detects_interface(app_module: str) -> None:
    assert load_app(f"{app_module}:asgi_app")[1] == "asgi"
    assert load_app(f"{app_module}:wsgi_app")[1] == "wsgi"
    app, kind = load_app(f"{app_module}:factory()")
    assert kind == "asgi"
    assert type(app).__name__ == "AsgiClass"
    holder_app, kind = load_app(f"{app_module}:holder.asgi")
    assert kind == "asgi"
    assert holder_app.__name__ == "asgi"


def test_an_asgi_app_forced_to_wsgi_is_refused(app_module: str) -> None:
    with pytest.raises(AppInterfaceError, match="is an ASGI app, not WSGI") as info:
        load_app(f"{app_module}:asgi_app", interface="wsgi")
    assert info.value.found == "asgi"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope", "unknown app 'nope'"),
        ("bench_sample_app:missing", "'missing' not found"),
        ("bench_sample_app:not_callable", "is not callable"),
        ("bench_sample_app:broken_factory()", "factory failed: ValueError: no config"),
        ("no_such_module_xyz:app", "no module named 'no_such_module_xyz'"),
        ("bench_broken_app:app", "import failed"),
        (":app", "expected a bundled app name"),
    ],
)
def test_errors_are_one_line(app_module: str, spec: str, message: str) -> None:
    with pytest.raises(AppLoadError) as info:
        load_app(spec)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_interface_is_refused() -> None:
    with pytest.raises(AppLoadError):
        load_app("hello", interface="cgi")  # type: ignore[arg-type]


def test_is_asgi() -> None:
    async def coroutine_app(scope: object, receive: object, send: object) -> None:
        pass

    def plain(environ: object, start_response: object) -> list[bytes]:
        return []

    assert is_asgi(coroutine_app)
    assert not is_asgi(plain)
