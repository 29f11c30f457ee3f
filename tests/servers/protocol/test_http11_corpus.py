"""Replay the request corpus (``corpus/valid``, ``corpus/invalid``) through a server Connection.

Every file is fed whole, one byte at a time, and in seeded random splits, then the
peer's EOF. Valid files must give exactly the expected requests (head, de-chunked
body, trailers, keep-alive and 100-continue flags); the server answers each request
as it completes, so pipelined requests are only parsed once the previous response is
out. Invalid files must raise RemoteProtocolError with the expected status, after
which the server must still be able to send that error response, marked to close.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bench.servers.protocol import (
    END_OF_MESSAGE,
    NEED_DATA,
    PAUSED,
    Connection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    InformationalResponse,
    Limits,
    RemoteProtocolError,
    Request,
    Response,
    Role,
    State,
)

CORPUS = Path(__file__).resolve().parent / "corpus"
MODES = ["whole", "bytewise", *(f"split{seed}" for seed in range(5))]


def _b(text: str) -> bytes:
    return text.encode("latin-1")


def _pairs(items: list[list[str]]) -> list[tuple[bytes, bytes]]:
    return [(_b(name), _b(value)) for name, value in items]


@dataclass
class Parsed:
    """What the server saw of one request, in the shape of the expected JSON."""

    method: bytes
    target: bytes
    http_version: bytes
    headers: list[tuple[bytes, bytes]]
    expect_continue: bool
    body: bytes = b""
    trailers: list[tuple[bytes, bytes]] = field(default_factory=list)
    keep_alive: bool | None = None

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> Parsed:
        return cls(
            method=_b(item["method"]),
            target=_b(item["target"]),
            http_version=_b(item["http_version"]),
            headers=_pairs(item["headers"]),
            expect_continue=item["expect_continue"],
            body=_b(item["body"]),
            trailers=_pairs(item["trailers"]),
            keep_alive=item["keep_alive"],
        )


def load(kind: str) -> list[Any]:
    """pytest params ``(raw bytes, expected dict)`` for every case of one folder."""
    params = []
    for http in sorted((CORPUS / kind).glob("*.http")):
        expected = json.loads(http.with_suffix(".json").read_text("ascii"))
        for mode in MODES:
            params.append(
                pytest.param(http.read_bytes(), expected, mode, id=f"{kind}/{http.stem}-{mode}")
            )
    return params


def pieces(raw: bytes, mode: str, name: str) -> list[bytes]:
    """The reads a peer's bytes arrive in: one, one per byte, or seeded random cuts."""
    if mode == "whole":
        return [raw]
    if mode == "bytewise":
        return [raw[i : i + 1] for i in range(len(raw))]
    rng = random.Random(f"{name}/{mode}")
    cuts = sorted(rng.sample(range(1, len(raw)), min(len(raw) - 1, rng.randint(1, 8))))
    return [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]


def limits_of(expected: dict[str, Any]) -> Limits:
    return Limits(**expected.get("limits", {}))


class Server:
    """Drives a server Connection the way a worker does: feed, drain, answer when paused."""

    def __init__(self, limits: Limits, upgrade_at: int | None = None) -> None:
        self.conn = Connection(Role.SERVER, limits=limits)
        self.requests: list[Parsed] = []
        self.closed = False
        self.switched = False
        self._current: Parsed | None = None
        self._upgrade_at = upgrade_at  # index of the request to accept an upgrade for

    def feed(self, data: bytes) -> None:
        conn = self.conn
        conn.receive_data(data)
        while not self.closed:
            event = conn.next_event()
            if event is NEED_DATA:
                return
            if event is PAUSED:
                if self.switched:
                    return
                self._answer()
                continue
            if isinstance(event, Request):
                assert self._current is None, "a request head inside a request"
                self._current = Parsed(
                    event.method,
                    event.target,
                    event.http_version,
                    list(event.headers),
                    conn.they_are_waiting_for_100_continue,
                )
            elif isinstance(event, Data):
                assert self._current is not None
                assert event.data, "empty Data events are noise"
                self._current.body += event.data
            elif isinstance(event, EndOfMessage):
                assert self._current is not None
                self._current.trailers = list(event.headers)
                self._current.keep_alive = conn.keep_alive
                self.requests.append(self._current)
                self._current = None
            elif isinstance(event, ConnectionClosed):
                self.closed = True
            else:
                raise AssertionError(f"unexpected event {event!r}")

    def _answer(self) -> None:
        conn = self.conn
        assert conn.their_state is State.DONE
        index = len(self.requests) - 1
        if index == self._upgrade_at:
            out = conn.send(
                InformationalResponse(
                    101, [(b"upgrade", b"websocket"), (b"connection", b"upgrade")]
                )
            )
            assert out.startswith(b"HTTP/1.1 101 ")
            assert conn.our_state is State.SWITCHED_PROTOCOL
            self.switched = True
            return
        method = self.requests[index].method
        status = 405 if method == b"CONNECT" else 200
        out = conn.send(Response(status, [(b"content-length", b"0")]))
        assert out.startswith(b"HTTP/1.1 %d " % status)
        assert conn.send(END_OF_MESSAGE) == b""


@pytest.mark.parametrize(("raw", "expected", "mode"), load("valid"))
def test_valid_request(raw: bytes, expected: dict[str, Any], mode: str) -> None:
    items = expected.get("requests", [expected])
    want = [Parsed.from_json(item) for item in items]
    upgrade = expected.get("upgrade")
    server = Server(limits_of(expected), upgrade_at=len(want) - 1 if upgrade else None)
    for piece in pieces(raw, mode, expected["why"]):
        server.feed(piece)
    server.feed(b"")
    assert server.requests == want
    conn = server.conn
    if upgrade:
        assert conn.their_state is State.SWITCHED_PROTOCOL
        assert conn.trailing_data == (_b(upgrade["trailing_data"]), True)
    else:
        assert server.closed
        assert conn.their_state is State.CLOSED


@pytest.mark.parametrize(("raw", "expected", "mode"), load("invalid"))
def test_invalid_request(raw: bytes, expected: dict[str, Any], mode: str) -> None:
    server = Server(limits_of(expected))
    feeds = [*pieces(raw, mode, expected["why"]), b""]
    for index, piece in enumerate(feeds):
        try:
            server.feed(piece)
        except RemoteProtocolError as exc:
            error, failed_at = exc, index
            break
    else:
        pytest.fail("no RemoteProtocolError for an invalid request")
    assert error.status_code == expected["status"], str(error)
    if expected.get("at_eof"):
        assert failed_at == len(feeds) - 1, "the error came before the peer's EOF"
    conn = server.conn
    assert conn.keep_alive is False
    assert conn.their_state is State.ERROR
    status = expected["status"]
    head = conn.send(
        Response(status, [(b"content-type", b"text/plain"), (b"content-length", b"3")])
    )
    assert head.startswith(b"HTTP/1.1 %d " % status)
    assert b"\r\nconnection: close\r\n" in head.lower()
    assert conn.send(Data(b"bad")) == b"bad"
    assert conn.send(END_OF_MESSAGE) == b""
    assert conn.our_state is State.MUST_CLOSE
    with pytest.raises(RemoteProtocolError):
        conn.next_event()


def test_corpus_files_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_corpus"] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        assert module.differences(CORPUS) == []
    finally:
        del sys.modules["make_corpus"]


def test_corpus_is_complete() -> None:
    for kind in ("valid", "invalid"):
        stems = {p.stem for p in (CORPUS / kind).iterdir() if p.suffix in (".http", ".json")}
        for stem in stems:
            assert (CORPUS / kind / f"{stem}.http").is_file(), f"{kind}/{stem}.http missing"
            assert (CORPUS / kind / f"{stem}.json").is_file(), f"{kind}/{stem}.json missing"
    assert len(list((CORPUS / "valid").glob("*.http"))) >= 40
    assert len(list((CORPUS / "invalid").glob("*.http"))) >= 70
