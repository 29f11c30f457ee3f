"""``wsgi.file_wrapper``: iteration, close, and when sendfile applies."""

from __future__ import annotations

import io
import os
from pathlib import Path

from bench.servers.wsgi.filewrapper import FileWrapper, sendfile_span


def test_iterates_in_blocks_and_closes_the_file() -> None:
    stream = io.BytesIO(b"a" * 10)
    wrapper = FileWrapper(stream, 4)
    assert list(wrapper) == [b"aaaa", b"aaaa", b"aa"]
    wrapper.close()
    assert stream.closed


def test_a_regular_file_spans_from_its_position_to_its_end(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    with open(path, "rb") as f:
        f.seek(4)
        span = sendfile_span(FileWrapper(f))
        assert span == (f.fileno(), 4, 6)


def test_objects_without_a_real_file_are_iterated() -> None:
    assert sendfile_span(FileWrapper(io.BytesIO(b"x"))) is None
    r, w = os.pipe()
    with os.fdopen(r, "rb") as reader, os.fdopen(w, "wb"):
        assert sendfile_span(FileWrapper(reader)) is None
