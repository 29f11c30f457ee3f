"""The canned error response every server sends: a refused request, a failed app.

One plain-text form for all of them: ``<status> <phrase>`` on the first line of the
body, an optional detail on the second, ``Content-Length`` and ``Connection: close``
(the caller closes the connection after writing it). It is framed by the connection
when a response can still start; if the core already accepted a response head that
never reached the peer (the app's body broke its own framing), the same bytes are
written by hand, with the ``Date`` and ``Server`` lines the core would add.
"""

from __future__ import annotations

from http import HTTPStatus

from bench.servers.protocol import _serialize
from bench.servers.protocol.errors import LocalProtocolError
from bench.servers.protocol.events import END_OF_MESSAGE, Data, Response
from bench.servers.protocol.http11 import Connection, State

_PHRASES: dict[int, str] = {s.value: s.phrase for s in HTTPStatus}
_CLOSE = b"connection: close\r\n"


def error_body(status: int, detail: str = "") -> bytes:
    """``<status> <phrase>\\n`` and, if given, ``<detail>\\n``."""
    text = f"{status} {_PHRASES.get(status, 'Error')}\n"
    if detail:
        text += f"{detail}\n"
    return text.encode("utf-8", "replace")


def error_response(conn: Connection, status: int, detail: str = "") -> bytes:
    """The complete error response to write on ``conn`` (server role), then close."""
    body = error_body(status, detail)
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"%d" % len(body)),
        (b"connection", b"close"),
    ]
    if conn.our_state is State.IDLE:
        try:
            head = conn.send(Response(status, headers))
        except LocalProtocolError:
            pass  # no request to answer in the core's eyes: write it by hand below
        else:
            return head + conn.send(Data(body)) + conn.send(END_OF_MESSAGE)
    lines = b"".join(b"%b: %b\r\n" % pair for pair in headers[:2])
    tail = _serialize._DATE.tail(conn.server_header, _CLOSE)
    return _serialize.status_line(status, b"") + lines + tail + body
