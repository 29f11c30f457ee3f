"""Flask and Django apps served end to end by the real prefork server, read with httpx."""

from __future__ import annotations

import httpx
import pytest

FLASK = "tests.servers.wsgi.apps.wsgi_flask_app:app"
DJANGO = "tests.servers.wsgi.apps.wsgi_django_app:application"
WORKER_ARGS = {"sync": ["-k", "sync", "-w", "2"], "thread": ["-k", "thread", "--threads", "4"]}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=sorted(WORKER_ARGS))
def flask_url(request, serve_module):
    with serve_module("prefork", FLASK, *WORKER_ARGS[request.param]) as url:
        yield url


@pytest.fixture(scope="module", params=sorted(WORKER_ARGS))
def django_url(request, serve_module):
    with serve_module("prefork", DJANGO, *WORKER_ARGS[request.param]) as url:
        yield url


def test_flask_get_form_upload_json_and_stream(flask_url: str) -> None:
    with httpx.Client(base_url=flask_url, timeout=10) as client:
        response = client.get("/")
        assert response.status_code == 200
        assert response.text == "flask says hi"

        response = client.post(
            "/echo?x=1", data={"name": "bench"}, files={"upload": ("a.txt", b"file body")}
        )
        assert response.json() == {
            "form": {"name": "bench"},
            "files": {"upload": "file body"},
            "args": {"x": "1"},
            "length": int(response.request.headers["content-length"]),
        }

        response = client.post("/json", json={"k": [1, 2, 3]})
        assert response.json() == {"received": {"k": [1, 2, 3]}, "method": "POST"}

        response = client.get("/stream")
        assert response.text == "".join(f"part {i}\n" for i in range(5))
        assert response.headers["transfer-encoding"] == "chunked"

        assert client.get("/missing").status_code == 404
        assert client.get("/environ").json() == {
            "SCRIPT_NAME": "",
            "PATH_INFO": "/environ",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "REMOTE_ADDR": "127.0.0.1",
        }


def test_flask_chunked_upload(flask_url: str) -> None:
    def body():
        yield b"name=chun"
        yield b"ked"

    response = httpx.post(
        flask_url + "/echo",
        content=body(),
        headers={"content-type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["form"] == {"name": "chunked"}


def test_django_get_post_upload_and_stream(django_url: str) -> None:
    with httpx.Client(base_url=django_url, timeout=10) as client:
        response = client.get("/")
        assert response.status_code == 200
        assert response.text == "django says hi"

        response = client.post("/upload/", data={"a": "1"}, files={"f": ("f.txt", b"content")})
        assert response.json() == {"post": {"a": "1"}, "files": {"f": "content"}, "body_json": None}

        response = client.post("/upload/", json={"x": 1})
        assert response.json()["body_json"] == {"x": 1}

        response = client.get("/stream/")
        assert response.text == "row 0\nrow 1\nrow 2\nrow 3\n"

        assert client.get("/nope/").status_code == 404
