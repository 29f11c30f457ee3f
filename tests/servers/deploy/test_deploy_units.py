"""Pure parts of the deployment flags: proxy-header rules, access-log atoms, env files."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bench.servers.access_log import WsgiAccessLog, check_format, format_line
from bench.servers.deploy import (
    DeployOptions,
    parse_env_pairs,
    parse_env_text,
    wrap_asgi,
    wrap_wsgi,
)
from bench.servers.errors import ConfigError
from bench.servers.proxy_headers import AsgiProxyHeaders, TrustedProxies, parse_forwarded, resolve


def _headers(**values: str):
    table = {k.replace("_", "-"): v for k, v in values.items()}
    return lambda name: table.get(name)


@pytest.mark.parametrize(
    ("allow", "peer", "headers", "expected"),
    [
        ("127.0.0.1", "127.0.0.1", {"x_forwarded_for": "1.2.3.4"}, ("1.2.3.4", None)),
        ("127.0.0.1", "10.0.0.1", {"x_forwarded_for": "1.2.3.4"}, (None, None)),
        ("10.0.0.0/8", "10.9.9.9", {"x_forwarded_proto": "HTTPS"}, (None, "https")),
        ("10.0.0.0/8", "10.9.9.9", {"x_forwarded_proto": "gopher"}, (None, None)),
        # rightmost untrusted hop: a client cannot forge its way past the proxy
        (
            "127.0.0.1,10.0.0.0/8",
            "127.0.0.1",
            {"x_forwarded_for": "6.6.6.6, 1.2.3.4, 10.0.0.2"},
            ("1.2.3.4", None),
        ),
        ("*", "8.8.8.8", {"x_forwarded_for": "10.0.0.1, 10.0.0.2"}, ("10.0.0.1", None)),
        (
            "127.0.0.1",
            "127.0.0.1",
            {"forwarded": 'for="[2001:db8::1]:443";proto=https'},
            ("2001:db8::1", "https"),
        ),
        (
            "127.0.0.1",
            "127.0.0.1",
            {
                "forwarded": "for=1.1.1.1;proto=http, for=2.2.2.2:80;proto=https",
                "x_forwarded_for": "9.9.9.9",
            },
            ("2.2.2.2", "https"),
        ),
        ("127.0.0.1", None, {"x_forwarded_for": "1.2.3.4"}, ("1.2.3.4", None)),  # unix socket
    ],
)
def test_resolve(allow: str, peer: str | None, headers: dict[str, str], expected: tuple) -> None:
    assert resolve(TrustedProxies(allow), peer, _headers(**headers)) == expected


def test_bad_trusted_entries_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="'not-an-ip'"):
        TrustedProxies("127.0.0.1, not-an-ip")


def test_parse_forwarded() -> None:
    assert parse_forwarded('For="_gazonk"; Proto=https;by=203.0.113.43, for=192.0.2.43') == [
        {"for": "_gazonk", "proto": "https", "by": "203.0.113.43"},
        {"for": "192.0.2.43"},
    ]


def test_websocket_scheme_becomes_wss() -> None:
    seen = {}

    async def app(scope, receive, send):
        seen.update(scope)

    wrapped = AsgiProxyHeaders(app, TrustedProxies("127.0.0.1"))
    scope = {
        "type": "websocket",
        "scheme": "ws",
        "client": ("127.0.0.1", 5),
        "headers": [(b"x-forwarded-proto", b"https")],
    }
    asyncio.run(wrapped(scope, None, None))
    assert seen["scheme"] == "wss" and scope["scheme"] == "ws"


def test_format_line_atoms() -> None:
    line = format_line(
        '%(h)s "%(r)s" %(s)s %(b)s %(B)s %(f)s %(a)s %({x-id}i)s %({etag}o)s %(zz)s',
        client="192.0.2.1",
        method="GET",
        path="/p",
        query="a=1",
        protocol="HTTP/1.1",
        status=404,
        length=0,
        started=0.0,
        duration=0.25,
        request_header=lambda name: {"user-agent": "ua", "x-id": "7"}.get(name),
        response_headers=[("ETag", "abc")],
    )
    assert line == '192.0.2.1 "GET /p?a=1 HTTP/1.1" 404 - 0 - ua 7 abc -'


def test_a_bad_format_is_refused() -> None:
    assert check_format("%(h)s %(s)d") is not None
    assert check_format("%(h)s %(s)s") is None


def test_nothing_is_wrapped_when_off() -> None:
    def app(environ, start_response):
        return []

    assert wrap_wsgi(app, DeployOptions()) is app
    assert wrap_asgi(app, DeployOptions()) is app


def test_wsgi_access_log_streamed_body(caplog: pytest.LogCaptureFixture) -> None:
    def app(environ, start_response):
        start_response("201 Created", [("Content-Type", "text/plain")])
        yield b"ab"
        yield b"cde"

    logged = WsgiAccessLog(app, "%(s)s %(B)s %(h)s")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "REMOTE_ADDR": "127.0.0.1"}
    with caplog.at_level(logging.INFO, logger="bench.access"):
        body = logged(environ, lambda status, headers, exc_info=None: None)
        assert b"".join(body) == b"abcde"
        assert caplog.messages == []  # logged when the server closes the body
        body.close()
    assert caplog.messages == ["201 5 127.0.0.1"]


def test_env_text() -> None:
    text = "# c\n\nexport A=1\nB='x y'\nC=\"a\\nb\"\nD=plain # note\nE=\n"
    assert parse_env_text(text) == {"A": "1", "B": "x y", "C": "a\nb", "D": "plain", "E": ""}
    with pytest.raises(ConfigError, match="<env>:1"):
        parse_env_text("not a pair")
    assert parse_env_pairs(["K=v=w"]) == {"K": "v=w"}
    with pytest.raises(ConfigError):
        parse_env_pairs(["K"])


def test_tls_context_password_ca_and_alpn(tmp_path) -> None:
    import ssl

    import trustme
    from cryptography.hazmat.primitives import serialization

    from bench.servers.tls import TLSSettings, server_context

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    certfile, keyfile, cafile = tmp_path / "c.pem", tmp_path / "k.pem", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    ca.cert_pem.write_to_path(str(cafile))
    key = serialization.load_pem_private_key(cert.private_key_pem.bytes(), password=None)
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    context = server_context(TLSSettings(str(certfile), str(keyfile), "secret", str(cafile)))
    assert context.verify_mode == ssl.CERT_OPTIONAL
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    with pytest.raises(ConfigError, match="cannot load"):
        server_context(TLSSettings(str(certfile), str(keyfile), "wrong"))
