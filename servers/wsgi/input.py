"""``wsgi.input``: the request body as a file, streamed from the connection.

``RequestBody`` reads body bytes on demand through ``pull``, a callable that returns
the next piece of the de-framed body (Content-Length or de-chunked) and ``b""`` once
the body is complete, so a read never blocks past the end of the body and the app sees
EOF there, as PEP 3333 (and ``wsgi.input_terminated``) promise. The server supplies
``pull``; it sends ``100 Continue`` first when the client waits for it.

A body that had fully arrived with the request head is handed to the app as an
``io.BytesIO`` instead (see ``buffered_body``): no pulling, no per-read overhead.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

from bench.servers.errors import ServerError

Pull = Callable[[], bytes]

#: Read size used by ``read()`` with no size, and by ``readline`` while it searches.
_CHUNK = 65536


class RequestBodyError(ServerError, OSError):
    """The body could not be read: the client disconnected or sent a malformed body.

    ``status_code`` is the HTTP status a server answers if the app lets this propagate.
    """

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


class RequestBody(io.RawIOBase):
    """A read-only binary file over a request body (PEP 3333 ``wsgi.input``).

    Args:
        pull: returns the next body bytes, ``b""`` at the end of the body; may raise
            RequestBodyError.
        prefix: body bytes already received, returned first.
    """

    def __init__(self, pull: Pull, prefix: bytes = b"") -> None:
        super().__init__()
        self._pull = pull
        self._buf = bytearray(prefix)
        self._eof = False
        #: Body bytes handed to the application so far.
        self.consumed = 0

    def readable(self) -> bool:
        return True

    @property
    def complete(self) -> bool:
        """True once the whole body has been received (consumed or not)."""
        return self._eof

    def _fill(self) -> bool:
        """Pull more bytes into the buffer; False at the end of the body."""
        if self._eof:
            return False
        data = self._pull()
        if not data:
            self._eof = True
            return False
        self._buf += data
        return True

    def _take(self, n: int) -> bytes:
        data = bytes(self._buf[:n])
        del self._buf[:n]
        self.consumed += len(data)
        return data

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all the rest if negative or None); ``b""`` at the end."""
        if size is None or size < 0:
            while self._fill():
                pass
            return self._take(len(self._buf))
        if size == 0:
            return b""
        if not self._buf:
            self._fill()
        return self._take(size)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        """One line including its ``\\n`` (at most ``size`` bytes if given)."""
        limit = -1 if size is None else size
        searched = 0
        while True:
            end = self._buf.find(b"\n", searched)
            if end >= 0:
                n = end + 1
                break
            searched = len(self._buf)
            if 0 <= limit <= len(self._buf) or not self._fill():
                n = len(self._buf)
                break
        if limit >= 0:
            n = min(n, limit)
        return self._take(n)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """Lines until the end (or until ``hint`` bytes have been read)."""
        lines: list[bytes] = []
        total = 0
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                return lines

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def drain(self, limit: int) -> bool:
        """Read and discard the rest of the body, at most ``limit`` bytes.

        Returns True if the end of the body was reached (the connection can be reused).
        """
        discarded = len(self._buf)
        self._buf.clear()
        while discarded <= limit:
            if not self._fill():
                return True
            discarded += len(self._buf)
            self._buf.clear()
        return False


def buffered_body(data: bytes) -> io.BytesIO:
    """``wsgi.input`` for a body that is already complete in memory."""
    return io.BytesIO(data)
