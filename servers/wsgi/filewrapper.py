"""``wsgi.file_wrapper``: serve a file, with ``sendfile(2)`` where the server can.

An app returns ``environ["wsgi.file_wrapper"](filelike, blksize)``. Iterating the
wrapper reads ``blksize`` blocks (the portable path, always correct). A server that
recognises the wrapper calls ``sendfile_span`` to learn whether the kernel can copy the
file to the socket directly: that needs a regular file with a real descriptor.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from typing import Any


class FileWrapper:
    """PEP 3333's optional file wrapper: an iterable of blocks of ``filelike``."""

    __slots__ = ("blksize", "filelike")

    def __init__(self, filelike: Any, blksize: int = 8192) -> None:
        self.filelike = filelike
        self.blksize = blksize

    def __iter__(self) -> Iterator[bytes]:
        read = self.filelike.read
        while True:
            block = read(self.blksize)
            if not block:
                return
            yield block

    def close(self) -> None:
        """Close the file (PEP 3333: the server calls this when the response is done)."""
        close = getattr(self.filelike, "close", None)
        if close is not None:
            close()


def sendfile_span(wrapper: FileWrapper) -> tuple[int, int, int] | None:
    """Return ``(fd, offset, count)`` if the wrapped file can go out with sendfile.

    The span is from the file's current position to its end. Returns None for objects
    without a real descriptor, for non-regular files (pipes, sockets), and when the
    position cannot be known.
    """
    filelike = wrapper.filelike
    fileno = getattr(filelike, "fileno", None)
    tell = getattr(filelike, "tell", None)
    if fileno is None or tell is None:
        return None
    try:
        fd = fileno()
        info = os.fstat(fd)
        offset = tell()
    except (OSError, ValueError, AttributeError):
        return None
    if not stat.S_ISREG(info.st_mode) or not isinstance(offset, int):
        return None
    return fd, offset, max(0, info.st_size - offset)
