"""Size limits applied while parsing, with gunicorn-like defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits on what a peer may send; each breach is a RemoteProtocolError with its status.

    Attributes:
        max_request_line: bytes in the request line (or status line), else 414.
        max_header_count: header fields in one message (or trailer section), else 431.
        max_header_field_size: bytes in one header line including its CRLF (as
            gunicorn's ``--limit-request-field_size`` counts), else 431.
        max_header_bytes: bytes in the whole header section, else 431.
        max_body_size: bytes of request body (``None``: unlimited), else 413.
        max_chunk_line: bytes in one chunk-size line including extensions, else 400.
    """

    max_request_line: int = 4094
    max_header_count: int = 100
    max_header_field_size: int = 8190
    max_header_bytes: int = 65536
    max_body_size: int | None = None
    max_chunk_line: int = 4096
