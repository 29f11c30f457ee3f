"""``start_response`` with a memo of validated heads, for the blocking workers' hot path.

Most apps answer most requests with one of a few heads: the same status and the same
header names and values (``200 OK``, ``Content-Type: text/plain``, ``Content-Length:
13``). ``StartResponse`` (``bench.servers.wsgi.environ``) checks every name and value
against PEP 3333 and converts them to bytes on every call; ``CachedStartResponse``
remembers the result for a head it has already checked and reuses it when the app
passes an equal head again. A head seen for the first time, or any call with
``exc_info`` or after a first call, goes through the full checks, so every rule and
error of ``StartResponse`` still applies. The memo is a plain dict owned by the
caller (one per worker); it is emptied when it reaches ``MAX_HEADS`` entries, so heads
that vary per request (cookies, ETags) cost one check each, as without the memo.
"""

from __future__ import annotations

from typing import Any

from bench.servers.wsgi.environ import ExcInfo, StartResponse, WriteCallable

#: Distinct heads remembered before the memo is emptied.
MAX_HEADS = 256

#: A checked head: (status code, reason, header pairs, wants_close).
CheckedHead = tuple[int, bytes, tuple[tuple[bytes, bytes], ...], bool]


class CachedStartResponse(StartResponse):
    """``StartResponse`` that reuses the checked form of heads seen before.

    Args:
        write: the legacy ``write()`` callable (see ``StartResponse``).
        memo: heads already checked, shared by the requests of one worker.
    """

    __slots__ = ("_memo",)

    def __init__(self, write: WriteCallable | None, memo: dict[Any, CheckedHead]) -> None:
        super().__init__(write)
        self._memo = memo

    def __call__(
        self,
        status: str,
        response_headers: Any,
        exc_info: ExcInfo | None = None,
    ) -> WriteCallable:
        """PEP 3333 ``start_response`` (see ``StartResponse.__call__``)."""
        if exc_info is not None or self.status_code is not None:
            return super().__call__(status, response_headers, exc_info)
        key: Any = None
        if type(status) is str and type(response_headers) is list:
            try:
                key = (status, *response_headers)
                hit = self._memo.get(key)
            except TypeError:  # an unhashable header item: let the checks report it
                key = hit = None
            if hit is not None:
                self.status_code, self.reason, headers, self.wants_close = hit
                self.headers = list(headers)
                return self.write
        result = super().__call__(status, response_headers, exc_info)
        if key is not None:
            memo = self._memo
            if len(memo) >= MAX_HEADS:
                memo.clear()
            assert self.status_code is not None
            memo[key] = (self.status_code, self.reason, tuple(self.headers), self.wants_close)
        return result
