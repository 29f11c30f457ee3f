"""Helpers of the deployment-flag tests: a test app module, throw-away TLS files, raw TLS GETs."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
from pathlib import Path

import trustme
from serverkit import REPO_ROOT

#: A module with a WSGI ``application``, an ASGI ``asgi``, factories and a streaming app.
APP_SOURCE = textwrap.dedent(
    """
    import os

    def _text(scheme, client):
        return f"{scheme} {client} {os.environ.get('DEPLOY_VAR', '-')}".encode()

    def application(environ, start_response):
        body = _text(environ["wsgi.url_scheme"], environ.get("REMOTE_ADDR"))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]

    def streaming(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        chunk = b"x" * 65536
        for _ in range(2000):  # about 128 MiB if the client read it all: it leaves first
            yield chunk

    async def asgi(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].replace("lifespan.", "")
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        client = scope["client"][0] if scope["client"] else None
        body = _text(scope["scheme"], client)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": body})

    def make_asgi():
        return asgi

    def make_wsgi():
        return application
    """
)


def write_app(folder: Path, name: str = "deployapp") -> Path:
    """Write the test app module ``name`` into ``folder``; return its path."""
    path = folder / f"{name}.py"
    path.write_text(APP_SOURCE)
    return path


class TLSFiles:
    """A throw-away CA and a server certificate for 127.0.0.1, as PEM files in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.ca = trustme.CA()
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.certfile = folder / "cert.pem"
        self.keyfile = folder / "key.pem"
        cert.cert_chain_pems[0].write_to_path(str(self.certfile))
        for blob in cert.cert_chain_pems[1:]:
            blob.write_to_path(str(self.certfile), append=True)
        cert.private_key_pem.write_to_path(str(self.keyfile))

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only this CA and offers h2 and http/1.1."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        context.set_alpn_protocols(["h2", "http/1.1"])
        return context


def tls_get(url: str, context: ssl.SSLContext, path: str = "/") -> tuple[str | None, bytes]:
    """GET ``path`` over TLS (certificate verified); return (ALPN protocol, response)."""
    hostport = url.split("://", 1)[1]
    host, port = hostport.rsplit(":", 1)
    raw = socket.create_connection((host, int(port)), timeout=10)
    with raw, context.wrap_socket(raw, server_hostname=host) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
        return sock.selected_alpn_protocol(), b"".join(chunks)


def run_serve(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``bench serve ARGS`` expected to exit by itself; its group is killed regardless."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.runner.cli", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
