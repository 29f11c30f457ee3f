"""Generate the HTTP/1.1 request corpus: ``valid/NNN.http`` + ``NNN.json``, ``invalid/`` alike.

How this works: every case is written below as Python bytes, so CR, LF, NUL and
friends are visible to a reviewer (``b"\\r\\n"``), and the ``.http`` files on disk hold
the real bytes. ``python make_corpus.py`` rewrites the folders; ``--check`` only
compares them with what this script would write (the test suite runs the same
comparison, so the files and this script cannot drift apart). Numbers are assigned in
the order the cases appear here; add new cases at the end of a list to keep numbers
stable.

Expected results (``.json``), strings being the bytes decoded as latin-1:

* valid: ``{"why", "limits"?, "upgrade"?, and either the fields of one request or
  "requests": [...]}``; a request is ``{"method", "target", "http_version", "headers":
  [[name, value], ...], "body", "trailers": [[name, value], ...], "keep_alive",
  "expect_continue"}``. ``upgrade`` (``{"trailing_data": ...}``) says the last request
  asks for a protocol switch that the server accepts with a 101.
* invalid: ``{"status", "why", "limits"?, "at_eof"?}``; ``at_eof`` says the error may
  only be detected once the peer's EOF is seen.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CRLF = b"\r\n"

Pairs = list[tuple[bytes, bytes]]


def head(*lines: bytes) -> bytes:
    """A message head: each line followed by CRLF, then the empty line."""
    return b"".join(line + CRLF for line in lines) + CRLF


def chunked(*chunks: bytes, trailers: tuple[bytes, ...] = (), ext: bytes = b"") -> bytes:
    """A chunked body made of ``chunks`` (hex sizes), a last chunk and ``trailers``."""
    out = b"".join(b"%x%s\r\n%s\r\n" % (len(c), ext, c) for c in chunks)
    return out + b"0\r\n" + b"".join(t + CRLF for t in trailers) + CRLF


@dataclass(frozen=True)
class Req:
    """The events one request must produce."""

    method: bytes
    target: bytes
    headers: Pairs
    body: bytes = b""
    trailers: Pairs = field(default_factory=list)
    http_version: bytes = b"1.1"
    keep_alive: bool = True
    expect_continue: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "method": _s(self.method),
            "target": _s(self.target),
            "http_version": _s(self.http_version),
            "headers": [[_s(n), _s(v)] for n, v in self.headers],
            "body": _s(self.body),
            "trailers": [[_s(n), _s(v)] for n, v in self.trailers],
            "keep_alive": self.keep_alive,
            "expect_continue": self.expect_continue,
        }


@dataclass(frozen=True)
class Valid:
    why: str
    raw: bytes
    requests: list[Req]
    limits: dict[str, int] | None = None
    trailing_data: bytes | None = None  # set: the last request is upgraded (101)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"why": self.why}
        if self.limits:
            out["limits"] = self.limits
        if len(self.requests) == 1:
            out.update(self.requests[0].to_json())
        else:
            out["requests"] = [r.to_json() for r in self.requests]
        if self.trailing_data is not None:
            out["upgrade"] = {"trailing_data": _s(self.trailing_data)}
        return out


@dataclass(frozen=True)
class Invalid:
    status: int
    why: str
    raw: bytes
    limits: dict[str, int] | None = None
    at_eof: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "why": self.why}
        if self.limits:
            out["limits"] = self.limits
        if self.at_eof:
            out["at_eof"] = True
        return out


def _s(b: bytes) -> str:
    return b.decode("latin-1")


H = (b"host", b"example.com")  # the Host header most cases carry, as parsed
HOST = b"Host: example.com"


def get(target: bytes = b"/", *extra: bytes, version: bytes = b"1.1") -> bytes:
    return head(b"GET " + target + b" HTTP/" + version, HOST, *extra)


# ---------------------------------------------------------------------------- valid

VALID: list[Valid] = [
    Valid("plain origin-form GET", get(), [Req(b"GET", b"/", [H])]),
    Valid(
        "origin-form with path and query kept raw (percent-encoding untouched)",
        get(b"/a/b%20c/d.txt?x=1&y=%2F&z"),
        [Req(b"GET", b"/a/b%20c/d.txt?x=1&y=%2F&z", [H])],
    ),
    Valid(
        "absolute-form target (as sent to proxies), Host still required and kept",
        get(b"http://example.com:8080/p?q=1"),
        [Req(b"GET", b"http://example.com:8080/p?q=1", [H])],
    ),
    Valid(
        "asterisk-form for OPTIONS", head(b"OPTIONS * HTTP/1.1", HOST), [Req(b"OPTIONS", b"*", [H])]
    ),
    Valid(
        "authority-form for CONNECT",
        head(b"CONNECT example.com:443 HTTP/1.1", b"Host: example.com:443"),
        [Req(b"CONNECT", b"example.com:443", [(b"host", b"example.com:443")])],
    ),
    Valid(
        "header names lower-cased; order and duplicates kept, values untouched",
        head(
            b"GET / HTTP/1.1",
            b"Accept: text/html",
            HOST,
            b"X-Dup: one",
            b"Cookie: a=1",
            b"x-dup: two",
            b"COOKIE: b=2",
        ),
        [
            Req(
                b"GET",
                b"/",
                [
                    (b"accept", b"text/html"),
                    H,
                    (b"x-dup", b"one"),
                    (b"cookie", b"a=1"),
                    (b"x-dup", b"two"),
                    (b"cookie", b"b=2"),
                ],
            )
        ],
    ),
    Valid(
        "OWS (SP and HTAB) around field values is stripped, inner whitespace kept",
        get(b"/", b"X-A:   spaced  out   ", b"X-B:\tt\tab\t", b"X-C:nospace"),
        [
            Req(
                b"GET",
                b"/",
                [H, (b"x-a", b"spaced  out"), (b"x-b", b"t\tab"), (b"x-c", b"nospace")],
            )
        ],
    ),
    Valid(
        "empty field values are allowed",
        get(b"/", b"X-Empty:", b"X-Blank:    "),
        [Req(b"GET", b"/", [H, (b"x-empty", b""), (b"x-blank", b"")])],
    ),
    Valid(
        "obs-text (bytes 0x80-0xFF) in a field value is kept as is",
        get(b"/", b"X-Latin: caf\xe9 \xff"),
        [Req(b"GET", b"/", [H, (b"x-latin", b"caf\xe9 \xff")])],
    ),
    Valid(
        "every tchar is allowed in a field name",
        get(b"/", b"!#$%&'*+-.^_`|~09azAZ: v"),
        [Req(b"GET", b"/", [H, (b"!#$%&'*+-.^_`|~09azaz", b"v")])],
    ),
    Valid(
        "Content-Length body",
        head(b"POST /submit HTTP/1.1", HOST, b"Content-Length: 11") + b"hello world",
        [Req(b"POST", b"/submit", [H, (b"content-length", b"11")], b"hello world")],
    ),
    Valid(
        "OWS around the Content-Length value is stripped by field parsing, so it is valid",
        head(b"POST / HTTP/1.1", HOST, b"Content-Length:  5 ") + b"12345",
        [Req(b"POST", b"/", [H, (b"content-length", b"5")], b"12345")],
    ),
    Valid(
        "Content-Length: 0 means an empty body",
        head(b"POST / HTTP/1.1", HOST, b"Content-Length: 0"),
        [Req(b"POST", b"/", [H, (b"content-length", b"0")])],
    ),
    Valid(
        "leading zeros in Content-Length are plain 1*DIGIT",
        head(b"PUT /x HTTP/1.1", HOST, b"Content-Length: 0003") + b"abc",
        [Req(b"PUT", b"/x", [H, (b"content-length", b"0003")], b"abc")],
    ),
    Valid(
        "binary body with CR, LF and NUL bytes is data, not syntax",
        head(b"POST / HTTP/1.1", HOST, b"Content-Length: 8") + b"\r\n\x00\r\n\r\n\xff",
        [Req(b"POST", b"/", [H, (b"content-length", b"8")], b"\r\n\x00\r\n\r\n\xff")],
    ),
    Valid(
        "chunked body, one chunk",
        head(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked") + chunked(b"hello"),
        [Req(b"POST", b"/", [H, (b"transfer-encoding", b"chunked")], b"hello")],
    ),
    Valid(
        "chunked body, several chunks with upper/lower-case hex and leading zeros",
        head(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked")
        + b"A\r\n0123456789\r\nb\r\nabcdefghijk\r\n0001\r\nZ\r\n000\r\n\r\n",
        [
            Req(
                b"POST",
                b"/",
                [H, (b"transfer-encoding", b"chunked")],
                b"0123456789abcdefghijkZ",
            )
        ],
    ),
    Valid(
        "chunk extensions (token and quoted-string values) are ignored",
        head(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked")
        + b'3;name=value\r\nabc\r\n2;a;b="x y;z"\r\nde\r\n0;last\r\n\r\n',
        [Req(b"POST", b"/", [H, (b"transfer-encoding", b"chunked")], b"abcde")],
    ),
    Valid(
        "chunked body with trailer fields",
        head(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked", b"Trailer: X-Checksum")
        + chunked(b"data", trailers=(b"X-Checksum: abc123", b"X-Other:  two ")),
        [
            Req(
                b"POST",
                b"/",
                [H, (b"transfer-encoding", b"chunked"), (b"trailer", b"X-Checksum")],
                b"data",
                trailers=[(b"x-checksum", b"abc123"), (b"x-other", b"two")],
            )
        ],
    ),
    Valid(
        "transfer-coding names are case-insensitive and OWS is stripped",
        head(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding:  Chunked ") + chunked(b"xy"),
        [Req(b"POST", b"/", [H, (b"transfer-encoding", b"Chunked")], b"xy")],
    ),
    Valid(
        "chunked body of zero length",
        head(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked") + b"0\r\n\r\n",
        [Req(b"POST", b"/", [H, (b"transfer-encoding", b"chunked")])],
    ),
    Valid(
        "chunk data holding CRLF and bytes that look like a chunk header",
        head(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked")
        + chunked(b"0\r\n\r\n", b"5\r\nx"),
        [Req(b"POST", b"/", [H, (b"transfer-encoding", b"chunked")], b"0\r\n\r\n5\r\nx")],
    ),
    Valid(
        "HTTP/1.0 without Host: allowed, and not kept alive by default",
        head(b"GET /old HTTP/1.0"),
        [Req(b"GET", b"/old", [], http_version=b"1.0", keep_alive=False)],
    ),
    Valid(
        "HTTP/1.0 with Connection: keep-alive is kept alive",
        head(b"GET / HTTP/1.0", b"Connection: Keep-Alive"),
        [Req(b"GET", b"/", [(b"connection", b"Keep-Alive")], http_version=b"1.0")],
    ),
    Valid(
        "HTTP/1.0 POST with Content-Length",
        head(b"POST / HTTP/1.0", b"Content-Length: 3") + b"abc",
        [
            Req(
                b"POST",
                b"/",
                [(b"content-length", b"3")],
                b"abc",
                http_version=b"1.0",
                keep_alive=False,
            )
        ],
    ),
    Valid(
        "HTTP/1.1 with Connection: close is not kept alive",
        get(b"/", b"Connection: close"),
        [Req(b"GET", b"/", [H, (b"connection", b"close")], keep_alive=False)],
    ),
    Valid(
        "the close option is found in a list and case-insensitively",
        get(b"/", b"Connection: keep-alive, CLOSE"),
        [Req(b"GET", b"/", [H, (b"connection", b"keep-alive, CLOSE")], keep_alive=False)],
    ),
    Valid(
        "Expect: 100-continue (case-insensitive) sets the waiting flag",
        head(b"POST /up HTTP/1.1", HOST, b"Content-Length: 4", b"Expect: 100-Continue") + b"body",
        [
            Req(
                b"POST",
                b"/up",
                [H, (b"content-length", b"4"), (b"expect", b"100-Continue")],
                b"body",
                expect_continue=True,
            )
        ],
    ),
    Valid(
        "Expect: 100-continue is ignored on HTTP/1.0 (RFC 9110 10.1.1)",
        head(b"POST / HTTP/1.0", b"Content-Length: 1", b"Expect: 100-continue") + b"x",
        [
            Req(
                b"POST",
                b"/",
                [(b"content-length", b"1"), (b"expect", b"100-continue")],
                b"x",
                http_version=b"1.0",
                keep_alive=False,
            )
        ],
    ),
    Valid(
        "two pipelined GETs",
        get(b"/1") + get(b"/2"),
        [Req(b"GET", b"/1", [H]), Req(b"GET", b"/2", [H])],
    ),
    Valid(
        "pipelined GET, Content-Length POST and chunked POST, the last one closing",
        get(b"/a")
        + head(b"POST /b HTTP/1.1", HOST, b"Content-Length: 3")
        + b"xyz"
        + head(b"POST /c HTTP/1.1", HOST, b"Transfer-Encoding: chunked", b"Connection: close")
        + chunked(b"12", b"345"),
        [
            Req(b"GET", b"/a", [H]),
            Req(b"POST", b"/b", [H, (b"content-length", b"3")], b"xyz"),
            Req(
                b"POST",
                b"/c",
                [H, (b"transfer-encoding", b"chunked"), (b"connection", b"close")],
                b"12345",
                keep_alive=False,
            ),
        ],
    ),
    Valid(
        "WebSocket upgrade: the bytes after the request are handed over as trailing data",
        head(
            b"GET /chat HTTP/1.1",
            HOST,
            b"Connection: Upgrade",
            b"Upgrade: websocket",
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            b"Sec-WebSocket-Version: 13",
        )
        + b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
        [
            Req(
                b"GET",
                b"/chat",
                [
                    H,
                    (b"connection", b"Upgrade"),
                    (b"upgrade", b"websocket"),
                    (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
                    (b"sec-websocket-version", b"13"),
                ],
            )
        ],
        trailing_data=b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
    ),
    Valid(
        "upgrade found in a Connection list after a keep-alive request",
        get(b"/first") + get(b"/ws", b"Connection: keep-alive, Upgrade", b"Upgrade: websocket"),
        [
            Req(b"GET", b"/first", [H]),
            Req(
                b"GET",
                b"/ws",
                [H, (b"connection", b"keep-alive, Upgrade"), (b"upgrade", b"websocket")],
            ),
        ],
        trailing_data=b"",
    ),
    Valid(
        "empty lines before the request-line are ignored (RFC 9112 2.2)",
        b"\r\n\r\n" + get(),
        [Req(b"GET", b"/", [H])],
    ),
    Valid(
        "methods are case-sensitive tokens; unknown ones are passed on",
        head(b"PURGE /cache HTTP/1.1", HOST) + head(b"get / HTTP/1.1", HOST),
        [Req(b"PURGE", b"/cache", [H]), Req(b"get", b"/", [H])],
    ),
    Valid(
        "HEAD and DELETE requests",
        head(b"HEAD /h HTTP/1.1", HOST) + head(b"DELETE /d HTTP/1.1", HOST, b"Content-Length: 0"),
        [Req(b"HEAD", b"/h", [H]), Req(b"DELETE", b"/d", [H, (b"content-length", b"0")])],
    ),
    Valid(
        "an empty Host is allowed when the target has no authority (RFC 9112 3.2)",
        head(b"GET / HTTP/1.1", b"Host:"),
        [Req(b"GET", b"/", [(b"host", b"")])],
    ),
    Valid(
        "Host with a port and an IPv6 literal",
        head(b"GET / HTTP/1.1", b"Host: [::1]:8080"),
        [Req(b"GET", b"/", [(b"host", b"[::1]:8080")])],
    ),
    Valid(
        "request-line exactly at max_request_line (CRLF not counted)",
        get(b"/" + b"a" * 86),
        [Req(b"GET", b"/" + b"a" * 86, [H])],
        limits={"max_request_line": 100},
    ),
    Valid(
        "exactly max_header_count header fields",
        get(b"/", *(b"X-%d: v" % i for i in range(4))),
        [Req(b"GET", b"/", [H, *((b"x-%d" % i, b"v") for i in range(4))])],
        limits={"max_header_count": 5},
    ),
    Valid(
        "a header line exactly at max_header_field_size (its CRLF counted, as gunicorn)",
        get(b"/", b"X-Long: " + b"v" * 56),
        [Req(b"GET", b"/", [H, (b"x-long", b"v" * 56)])],
        limits={"max_header_field_size": 66},
    ),
    Valid(
        "bodies exactly at max_body_size, by Content-Length and chunked",
        head(b"POST / HTTP/1.1", HOST, b"Content-Length: 10")
        + b"0123456789"
        + head(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked")
        + chunked(b"01234", b"56789"),
        [
            Req(b"POST", b"/", [H, (b"content-length", b"10")], b"0123456789"),
            Req(b"POST", b"/", [H, (b"transfer-encoding", b"chunked")], b"0123456789"),
        ],
        limits={"max_body_size": 10},
    ),
    Valid(
        "a typical browser-like request with many headers",
        head(
            b"GET /index.html?lang=en HTTP/1.1",
            b"Host: www.example.org",
            b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
            b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            b"Accept-Language: en-US,en;q=0.5",
            b"Accept-Encoding: gzip, deflate, br",
            b"Connection: keep-alive",
            b'If-None-Match: "abc"',
        ),
        [
            Req(
                b"GET",
                b"/index.html?lang=en",
                [
                    (b"host", b"www.example.org"),
                    (
                        b"user-agent",
                        b"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
                    ),
                    (b"accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                    (b"accept-language", b"en-US,en;q=0.5"),
                    (b"accept-encoding", b"gzip, deflate, br"),
                    (b"connection", b"keep-alive"),
                    (b"if-none-match", b'"abc"'),
                ],
            )
        ],
    ),
    Valid(
        "a large Content-Length body split over many reads",
        head(b"POST /big HTTP/1.1", HOST, b"Content-Length: 3000")
        + bytes(range(256)) * 11
        + b"x" * 184,
        [
            Req(
                b"POST",
                b"/big",
                [H, (b"content-length", b"3000")],
                bytes(range(256)) * 11 + b"x" * 184,
            )
        ],
    ),
    Valid(
        "a higher HTTP/1.x minor version is processed as HTTP/1.1 (RFC 9110 2.5)",
        head(b"GET / HTTP/1.2", HOST),
        [Req(b"GET", b"/", [H])],
    ),
    Valid(
        "bytes above 0x7F in the target are passed through untouched",
        get(b"/caf\xc3\xa9?q=\xff"),
        [Req(b"GET", b"/caf\xc3\xa9?q=\xff", [H])],
    ),
    Valid(
        "trailer values may hold obs-text and inner whitespace",
        head(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked")
        + chunked(b"x", trailers=(b"X-T: a \xe9\tb",)),
        [
            Req(
                b"POST",
                b"/",
                [H, (b"transfer-encoding", b"chunked")],
                b"x",
                trailers=[(b"x-t", b"a \xe9\tb")],
            )
        ],
    ),
    Valid(
        "chunk extensions with BWS around ';' and '=' (RFC 9112 7.1.1 allows it)",
        head(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked")
        + b'3;  a = b\t;\tc="q"\r\nabc\r\n0\r\n\r\n',
        [Req(b"POST", b"/", [H, (b"transfer-encoding", b"chunked")], b"abc")],
    ),
    Valid(
        "Host with pct-encoded bytes, an empty port, and an IPvFuture literal (RFC 3986 3.2.2)",
        head(b"GET /1 HTTP/1.1", b"Host: ex%41mple.com")
        + head(b"GET /2 HTTP/1.1", b"Host: example.com:")
        + head(b"GET /3 HTTP/1.1", b"Host: [v1.fe80::a+en1]:80"),
        [
            Req(b"GET", b"/1", [(b"host", b"ex%41mple.com")]),
            Req(b"GET", b"/2", [(b"host", b"example.com:")]),
            Req(b"GET", b"/3", [(b"host", b"[v1.fe80::a+en1]:80")]),
        ],
    ),
    Valid(
        "absolute-form with a query and no path, and with an IPv6 literal (RFC 9112 3.2.2)",
        get(b"http://example.com?x=1") + get(b"http://[::1]:8080/p%2Fq"),
        [
            Req(b"GET", b"http://example.com?x=1", [H]),
            Req(b"GET", b"http://[::1]:8080/p%2Fq", [H]),
        ],
    ),
]

# -------------------------------------------------------------------------- invalid

POST_TE = b"POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"


def te(value: bytes, body: bytes = b"0\r\n\r\n") -> bytes:
    return head(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: " + value) + body


def cl(value: bytes, body: bytes = b"") -> bytes:
    return head(b"POST / HTTP/1.1", HOST, b"Content-Length: " + value) + body


INVALID: list[Invalid] = [
    # request line
    Invalid(400, "request-line starting with a space (empty method)", head(b" / HTTP/1.1", HOST)),
    Invalid(400, "method with a non-tchar", head(b"GE(T / HTTP/1.1", HOST)),
    Invalid(400, "two spaces between method and target", head(b"GET  / HTTP/1.1", HOST)),
    Invalid(400, "space inside the target", head(b"GET /a b HTTP/1.1", HOST)),
    Invalid(400, "control byte in the target", head(b"GET /a\x01b HTTP/1.1", HOST)),
    Invalid(400, "DEL in the target", head(b"GET /a\x7f HTTP/1.1", HOST)),
    Invalid(400, "no HTTP-version (HTTP/0.9 simple request is not supported)", b"GET /\r\n\r\n"),
    Invalid(400, "HTTP-name is case-sensitive", head(b"GET / http/1.1", HOST)),
    Invalid(400, "space after the version", head(b"GET / HTTP/1.1 ", HOST)),
    Invalid(400, "version without minor digit", head(b"GET / HTTP/1", HOST)),
    Invalid(400, "version with two-digit minor", head(b"GET / HTTP/1.10", HOST)),
    Invalid(505, "HTTP/2.0 in an HTTP/1 request-line", head(b"GET / HTTP/2.0", HOST)),
    Invalid(505, "HTTP/3.0 in an HTTP/1 request-line", head(b"GET / HTTP/3.0", HOST)),
    Invalid(505, "the HTTP/2 connection preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
    Invalid(400, "asterisk-form with a method other than OPTIONS", head(b"GET * HTTP/1.1", HOST)),
    Invalid(
        400, "CONNECT needs authority-form, not origin-form", head(b"CONNECT / HTTP/1.1", HOST)
    ),
    Invalid(
        400,
        "authority-form with a method other than CONNECT",
        head(b"GET example.com:80 HTTP/1.1", HOST),
    ),
    Invalid(
        400,
        "target that is neither origin-, absolute-, authority- nor asterisk-form",
        head(b"GET index.html HTTP/1.1", HOST),
    ),
    Invalid(
        400,
        "bare LF as the request-line terminator (we refuse bare LF, RFC 9112 2.2 MAY)",
        b"GET / HTTP/1.1\nHost: example.com\r\n\r\n",
    ),
    Invalid(400, "bare CR in the request-line", b"GET /\r HTTP/1.1\r\nHost: example.com\r\n\r\n"),
    Invalid(
        400,
        "a line that is not a request-line at all",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    ),
    Invalid(
        414,
        "request-line one byte over max_request_line",
        get(b"/" + b"a" * 87),
        limits={"max_request_line": 100},
    ),
    Invalid(414, "request-line over the default limit (4094)", get(b"/" + b"a" * 5000)),
    Invalid(
        414,
        "a request-line that never ends",
        b"GET /" + b"a" * 300,
        limits={"max_request_line": 100},
    ),
    # header fields
    Invalid(
        400,
        "whitespace between field name and colon (RFC 9112 5.1 MUST reject)",
        head(b"GET / HTTP/1.1", b"Host : example.com"),
    ),
    Invalid(400, "tab between field name and colon", get(b"/", b"X-A\t: 1")),
    Invalid(400, "obs-fold (RFC 9112 5.2: reject)", get(b"/", b"X-Folded: a", b" b")),
    Invalid(400, "obs-fold with a tab", get(b"/", b"X-Folded: a", b"\tb")),
    Invalid(
        400,
        "obs-fold on the first field line (whitespace after the request-line)",
        head(b"GET / HTTP/1.1", b" Host: example.com"),
    ),
    Invalid(400, "NUL in a field value", get(b"/", b"X-A: a\x00b")),
    Invalid(400, "bare CR in a field value", get(b"/", b"X-A: a\rb")),
    Invalid(
        400, "bare LF ending a field line", b"GET / HTTP/1.1\r\nHost: example.com\nX-A: 1\r\n\r\n"
    ),
    Invalid(400, "DEL in a field value", get(b"/", b"X-A: a\x7fb")),
    Invalid(400, "other control byte in a field value", get(b"/", b"X-A: a\x1bb")),
    Invalid(400, "space inside a field name", get(b"/", b"X A: 1")),
    Invalid(400, "non-tchar in a field name", get(b"/", b"X@A: 1")),
    Invalid(400, "non-ASCII in a field name", get(b"/", b"X-\xe9: 1")),
    Invalid(400, "empty field name", get(b"/", b": value")),
    Invalid(400, "field line without a colon", get(b"/", b"X-NoColon")),
    Invalid(400, "HTTP/1.1 request without Host", head(b"GET / HTTP/1.1", b"Accept: */*")),
    Invalid(400, "two Host fields", head(b"GET / HTTP/1.1", HOST, b"Host: other.example")),
    Invalid(400, "two identical Host fields", head(b"GET / HTTP/1.1", HOST, HOST)),
    Invalid(
        400, "Host with an invalid value (space)", head(b"GET / HTTP/1.1", b"Host: exa mple.com")
    ),
    Invalid(
        400, "Host with an invalid value (path)", head(b"GET / HTTP/1.1", b"Host: example.com/evil")
    ),
    Invalid(
        431,
        "one header field more than max_header_count",
        get(b"/", *(b"X-%d: v" % i for i in range(5))),
        limits={"max_header_count": 5},
    ),
    Invalid(
        431,
        "more header fields than the default limit (100)",
        get(b"/", *(b"X-%d: v" % i for i in range(120))),
    ),
    Invalid(
        431,
        "a header line one byte over max_header_field_size",
        get(b"/", b"X-Long: " + b"v" * 57),
        limits={"max_header_field_size": 66},
    ),
    Invalid(
        431, "a header line over the default limit (8190)", get(b"/", b"X-Long: " + b"v" * 9000)
    ),
    Invalid(
        431,
        "a header line that never ends",
        b"GET / HTTP/1.1\r\nX-Long: " + b"v" * 200,
        limits={"max_header_field_size": 64},
    ),
    Invalid(
        431,
        "header section over max_header_bytes",
        get(b"/", *(b"X-%d: %s" % (i, b"v" * 50) for i in range(10))),
        limits={"max_header_bytes": 256},
    ),
    # Content-Length
    Invalid(
        400,
        "both Content-Length and Transfer-Encoding (smuggling vector)",
        head(b"POST / HTTP/1.1", HOST, b"Content-Length: 5", b"Transfer-Encoding: chunked")
        + b"0\r\n\r\n",
    ),
    Invalid(
        400,
        "Transfer-Encoding before Content-Length",
        head(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked", b"Content-Length: 5")
        + b"0\r\n\r\n",
    ),
    Invalid(
        400,
        "two different Content-Length fields",
        head(b"POST / HTTP/1.1", HOST, b"Content-Length: 3", b"Content-Length: 4") + b"abcd",
    ),
    Invalid(
        400,
        "two identical Content-Length fields (RFC allows merging; we refuse)",
        head(b"POST / HTTP/1.1", HOST, b"Content-Length: 3", b"Content-Length: 3") + b"abc",
    ),
    Invalid(400, "list-form Content-Length", cl(b"3, 3", b"abc")),
    Invalid(400, "Content-Length with a plus sign", cl(b"+1", b"a")),
    Invalid(400, "hexadecimal Content-Length", cl(b"0x10", b"a" * 16)),
    Invalid(
        400, "Content-Length with an underscore (Python int() would take it)", cl(b"1_0", b"a" * 10)
    ),
    Invalid(400, "negative zero Content-Length", cl(b"-0")),
    Invalid(400, "negative Content-Length", cl(b"-1")),
    Invalid(400, "empty Content-Length", cl(b"")),
    Invalid(400, "Content-Length with inner space", cl(b"1 0", b"a" * 10)),
    Invalid(400, "Content-Length with a trailing non-digit", cl(b"5a", b"abcde")),
    Invalid(400, "Content-Length with non-ASCII digits", cl("\uff15".encode(), b"abcde")),
    Invalid(
        400, "Content-Length too large to be a number we accept (over 19 digits)", cl(b"1" * 25)
    ),
    Invalid(
        413,
        "Content-Length over max_body_size is refused before the body",
        cl(b"11", b"0123456789a"),
        limits={"max_body_size": 10},
    ),
    Invalid(400, "EOF inside a Content-Length body", cl(b"10", b"abc"), at_eof=True),
    # Transfer-Encoding
    Invalid(501, "unsupported coding before chunked (gzip, chunked)", te(b"gzip, chunked")),
    Invalid(
        501,
        "unsupported coding before chunked, in two field lines",
        head(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: gzip", b"Transfer-Encoding: chunked")
        + b"0\r\n\r\n",
    ),
    Invalid(400, "chunked not the final coding (chunked, gzip)", te(b"chunked, gzip")),
    Invalid(400, "a coding that only contains 'chunked' (xchunked)", te(b"xchunked")),
    Invalid(400, "chunked applied twice", te(b"chunked, chunked")),
    Invalid(
        400,
        "chunked applied twice, in two field lines",
        head(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked")
        + b"0\r\n\r\n",
    ),
    Invalid(400, "a lone unknown coding (gzip): chunked is not final", te(b"gzip", b"")),
    Invalid(400, "identity is not a transfer coding", te(b"identity", b"")),
    Invalid(400, "empty Transfer-Encoding", te(b"", b"")),
    Invalid(400, "chunked with parameters", te(b"chunked;q=1")),
    Invalid(
        400,
        "Transfer-Encoding on HTTP/1.0 (RFC 9112 6.1: faulty framing)",
        head(b"POST / HTTP/1.0", b"Transfer-Encoding: chunked") + b"0\r\n\r\n",
    ),
    # chunked body
    Invalid(400, "chunk size with 0x prefix", POST_TE + b"0x5\r\nhello\r\n0\r\n\r\n"),
    Invalid(400, "chunk size with a plus sign", POST_TE + b"+5\r\nhello\r\n0\r\n\r\n"),
    Invalid(400, "chunk size with leading space", POST_TE + b" 5\r\nhello\r\n0\r\n\r\n"),
    Invalid(400, "chunk size with trailing space", POST_TE + b"5 \r\nhello\r\n0\r\n\r\n"),
    Invalid(400, "negative chunk size", POST_TE + b"-5\r\nhello\r\n0\r\n\r\n"),
    Invalid(400, "non-hex chunk size", POST_TE + b"g\r\nhello\r\n0\r\n\r\n"),
    Invalid(400, "empty chunk-size line", POST_TE + b"\r\nhello\r\n0\r\n\r\n"),
    Invalid(
        400,
        "chunk size of 20 hex digits (overflow bait)",
        POST_TE + b"10000000000000000005\r\nhello\r\n0\r\n\r\n",
    ),
    Invalid(400, "chunk data not followed by CRLF", POST_TE + b"5\r\nhelloXX0\r\n\r\n"),
    Invalid(400, "chunk data followed by a bare LF", POST_TE + b"5\r\nhello\n0\r\n\r\n"),
    Invalid(400, "bare CR in a chunk extension", POST_TE + b"5;a\rb\r\nhello\r\n0\r\n\r\n"),
    Invalid(400, "bare LF in a chunk extension", POST_TE + b"5;a\nb\r\nhello\r\n0\r\n\r\n"),
    Invalid(400, "NUL in a chunk extension", POST_TE + b"5;a=\x00\r\nhello\r\n0\r\n\r\n"),
    Invalid(400, "chunk-size line terminated by a bare LF", POST_TE + b"5\nhello\r\n0\r\n\r\n"),
    Invalid(
        400,
        "chunk-size line over max_chunk_line",
        POST_TE + b"5;" + b"e" * 100 + b"\r\nhello\r\n0\r\n\r\n",
        limits={"max_chunk_line": 64},
    ),
    Invalid(400, "EOF inside chunk data", POST_TE + b"5\r\nhel", at_eof=True),
    Invalid(
        400, "EOF after a chunk, before the last chunk", POST_TE + b"5\r\nhello\r\n", at_eof=True
    ),
    Invalid(
        400, "EOF after the last chunk, before the final CRLF", POST_TE + b"0\r\n", at_eof=True
    ),
    Invalid(400, "trailer line without a colon", POST_TE + b"0\r\nX-Bad\r\n\r\n"),
    Invalid(400, "obs-fold in the trailer section", POST_TE + b"0\r\nX-T: a\r\n b\r\n\r\n"),
    Invalid(
        431,
        "more trailer fields than max_header_count",
        POST_TE + b"0\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(8)) + b"\r\n",
        limits={"max_header_count": 5},
    ),
    Invalid(
        413,
        "chunked body over max_body_size",
        POST_TE + b"6\r\n012345\r\n5\r\n6789a\r\n0\r\n\r\n",
        limits={"max_body_size": 10},
    ),
    # connection-level
    Invalid(
        400,
        "EOF in the middle of the header section",
        b"GET / HTTP/1.1\r\nHost: example.com\r\n",
        at_eof=True,
    ),
    Invalid(400, "EOF in the middle of the request-line", b"GET / HT", at_eof=True),
    Invalid(
        400,
        "a valid request followed by a broken pipelined one",
        get(b"/ok") + b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
    ),
    Invalid(505, "HTTP/0.9 as a version", head(b"GET / HTTP/0.9", HOST)),
    Invalid(400, "tab instead of space in the request-line", head(b"GET\t/ HTTP/1.1", HOST)),
    Invalid(400, "tab inside the target", head(b"GET /a\tb HTTP/1.1", HOST)),
    Invalid(400, "Host with userinfo", head(b"GET / HTTP/1.1", b"Host: user@example.com")),
    Invalid(400, "NUL in a trailer value", POST_TE + b"0\r\nX-T: a\x00b\r\n\r\n"),
    Invalid(400, "bare CR in a trailer value", POST_TE + b"0\r\nX-T: a\rb\r\n\r\n"),
    Invalid(400, "space before the colon in a trailer", POST_TE + b"0\r\nX-T : 1\r\n\r\n"),
    # request-target: fragments, pct-encoding, absolute-form authority
    Invalid(400, "a fragment in the target (RFC 9112 3.2: not sent)", get(b"/p#frag")),
    Invalid(400, "a fragment after the query", get(b"/p?q=1#frag")),
    Invalid(400, "an empty fragment", get(b"/#")),
    Invalid(400, "a fragment in an absolute-form target", get(b"http://example.com/p#f")),
    Invalid(400, "a fragment on the general path (HTTP/1.2)", head(b"GET /p#f HTTP/1.2", HOST)),
    Invalid(400, "'%' not followed by two hex digits (RFC 3986 2.1)", get(b"/a%zz")),
    Invalid(400, "'%' followed by one hex digit", get(b"/a%2")),
    Invalid(400, "'%' at the end of the target", get(b"/a%")),
    Invalid(400, "bad pct-encoding in the query", get(b"/?q=%g1")),
    Invalid(400, "bad pct-encoding on the general path", head(b"GET /a%zz HTTP/1.2", HOST)),
    Invalid(400, "bad pct-encoding in an absolute-form path", get(b"http://example.com/%zz")),
    Invalid(400, "absolute-form with an invalid authority (RFC 3986 3.2.2)", get(b"http://]bad/x")),
    Invalid(
        400,
        "absolute-form, unknown scheme, invalid authority",
        head(b"PUT s://]ufd/: HTTP/1.1", HOST),
    ),
    Invalid(400, "absolute-form with an empty host (RFC 9110 4.2.1)", get(b"http:///x")),
    Invalid(400, "absolute-form with only a port", get(b"http://:80/x")),
    Invalid(400, "absolute-form with userinfo (RFC 9110 4.2.4)", get(b"http://user@example.com/")),
    Invalid(400, "absolute-form with a non-digit port", get(b"http://example.com:8x/")),
    Invalid(400, "absolute-form with an invalid IPv6 literal", get(b"http://[::g]/")),
    Invalid(
        400,
        "authority-form (CONNECT) with an invalid host",
        head(b"CONNECT ]bad:443 HTTP/1.1", HOST),
    ),
    # Host
    Invalid(
        400,
        "Host with a non-digit port (RFC 9110 7.2)",
        head(b"GET / HTTP/1.1", b"Host: fu:zz.test"),
    ),
    Invalid(400, "Host with two ports", head(b"GET / HTTP/1.1", b"Host: example.com:80:81")),
    Invalid(
        400,
        "Host with bad pct-encoding (RFC 3986 2.1)",
        head(b"GET / HTTP/1.1", b"Host: ex%zz.com"),
    ),
    Invalid(400, "Host with a truncated pct-encoding", head(b"GET / HTTP/1.1", b"Host: ex%2")),
    Invalid(400, "Host with an invalid IPv6 literal", head(b"GET / HTTP/1.1", b"Host: [::1::2]")),
    Invalid(400, "Host with a name in brackets", head(b"GET / HTTP/1.1", b"Host: [example.com]")),
    Invalid(400, "Host with a stray bracket", head(b"GET / HTTP/1.1", b"Host: ex]ample.com")),
    # chunk extensions (RFC 9112 7.1.1: token names, token or quoted-string values)
    Invalid(
        400,
        "a chunk extension name that is not a token",
        POST_TE + b"5;na\x80e=value\r\nhello\r\n0\r\n\r\n",
    ),
    Invalid(400, "an empty chunk extension name", POST_TE + b"5;=value\r\nhello\r\n0\r\n\r\n"),
    Invalid(400, "a chunk extension name with a space", POST_TE + b"5;na me\r\nhello\r\n0\r\n\r\n"),
    Invalid(
        400,
        "a chunk extension value that is neither token nor quoted-string",
        POST_TE + b"5;a=b@c\r\nhello\r\n0\r\n\r\n",
    ),
    Invalid(
        400,
        "an unterminated quoted chunk extension value",
        POST_TE + b'5;a="x\r\nhello\r\n0\r\n\r\n',
    ),
    # limits
    Invalid(
        431,
        "a header line as long as max_header_field_size before its CRLF (gunicorn counts the CRLF)",
        get(b"/", b"X-Long: " + b"v" * 58),
        limits={"max_header_field_size": 66},
    ),
]


def expected_files() -> dict[Path, bytes]:
    """Every corpus file (relative to this folder) and its exact content."""
    out: dict[Path, bytes] = {}
    for kind, cases in (("valid", VALID), ("invalid", INVALID)):
        for number, case in enumerate(cases, start=1):
            stem = Path(kind) / f"{number:03d}"
            out[stem.with_suffix(".http")] = case.raw
            text = _dump(case.to_json())
            out[stem.with_suffix(".json")] = text.encode("ascii")
    return out


def differences(root: Path = HERE) -> list[str]:
    """Paths (relative) whose content on disk differs from the generator, or is extra."""
    want = expected_files()
    problems = [str(p) for p, data in want.items() if _read(root / p) != data]
    for kind in ("valid", "invalid"):
        for path in sorted((root / kind).glob("*")):
            if path.relative_to(root) not in want:
                problems.append(f"{path.relative_to(root)} (not generated)")
    return problems


_PAIR = re.compile(r'\[\s+("(?:[^"\\]|\\.)*"),\s+("(?:[^"\\]|\\.)*")\s+\]')


def _dump(obj: dict[str, Any]) -> str:
    """JSON with one ``[name, value]`` pair per line, for reviewable diffs."""
    return _PAIR.sub(r"[\1, \2]", json.dumps(obj, indent=2)) + "\n"


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def write(root: Path = HERE) -> int:
    """Rewrite both folders; returns the number of files written."""
    want = expected_files()
    for kind in ("valid", "invalid"):
        folder = root / kind
        folder.mkdir(exist_ok=True)
        for path in folder.glob("*"):
            if path.relative_to(root) not in want:
                path.unlink()
    for rel, data in want.items():
        (root / rel).write_bytes(data)
    return len(want)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, exit 1 on drift")
    args = parser.parse_args(argv)
    if args.check:
        problems = differences()
        for problem in problems:
            print(f"out of date: {problem}", file=sys.stderr)
        return 1 if problems else 0
    count = write()
    print(f"wrote {count} files ({len(VALID)} valid, {len(INVALID)} invalid cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
