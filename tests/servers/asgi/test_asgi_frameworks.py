"""Starlette and FastAPI apps served end to end: routing, JSON, streaming, chunked uploads, lifespan."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from asgi_testing import APPS_ENV
from serverkit import ServedURL


@pytest.fixture(scope="module")
def starlette_url(serve_module) -> Iterator[ServedURL]:
    with serve_module("eventloop", "asgi_test_apps:starlette_app", env=APPS_ENV) as url:
        yield url


@pytest.fixture(scope="module")
def fastapi_url(serve_module) -> Iterator[ServedURL]:
    with serve_module("eventloop", "asgi_test_apps:fastapi_factory()", env=APPS_ENV) as url:
        yield url


def test_starlette_routing_and_lifespan_state(starlette_url: ServedURL) -> None:
    r = httpx.get(starlette_url + "/")
    assert r.status_code == 200
    assert r.text == "home hello from lifespan"


def test_starlette_json_and_path_params(starlette_url: ServedURL) -> None:
    r = httpx.get(starlette_url + "/items/42", params={"q": "find me"})
    assert r.json() == {"id": 42, "q": "find me"}
    assert httpx.get(starlette_url + "/items/not-a-number").status_code == 404
    assert httpx.post(starlette_url + "/").status_code == 405


def test_starlette_streaming_response(starlette_url: ServedURL) -> None:
    with httpx.stream("GET", starlette_url + "/numbers") as r:
        assert r.headers["transfer-encoding"] == "chunked"
        body = b"".join(r.iter_bytes())
    assert body == b"".join(b"%d\n" % i for i in range(10))


def test_starlette_chunked_upload(starlette_url: ServedURL) -> None:
    pieces = [b"x" * 10_000 for _ in range(30)]
    r = httpx.post(starlette_url + "/upload", content=iter(pieces))
    assert r.status_code == 200
    assert r.json()["size"] == 300_000
    assert r.json()["chunks"] >= 2  # the app saw the body in pieces


def test_fastapi_factory_routes_and_validation(fastapi_url: ServedURL) -> None:
    with httpx.Client(base_url=fastapi_url) as client:
        assert client.get("/items/5", params={"q": "a"}).json() == {"item_id": 5, "q": "a"}
        created = client.post("/items", json={"name": "pen", "price": 10})
        assert created.json() == {"name": "pen", "price_with_tax": 12.0}
        assert client.post("/items", json={"name": "pen"}).status_code == 422
        assert client.get("/nowhere").status_code == 404
        assert client.get("/openapi.json").json()["paths"]["/items"]["post"]
