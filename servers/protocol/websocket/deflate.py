"""permessage-deflate (RFC 7692): negotiation and per-message compression with zlib.

Negotiation. A client offers ``permessage-deflate`` with optional parameters; the
server accepts the first offer it can honour and answers with the parameters in force:

* ``server_no_context_takeover`` / ``client_no_context_takeover``: that side resets its
  compressor after every message (the other side may then reset its decompressor).
* ``server_max_window_bits`` / ``client_max_window_bits`` (8-15): the LZ77 window that
  side compresses with. A client sends ``client_max_window_bits`` without a value to
  say it accepts a limit. zlib cannot compress raw deflate with an 8-bit window, so we
  never agree to compress with 8 ourselves (an offer that requires it is declined).

Compression. Each data message is compressed as a whole: the deflate stream is
flushed with Z_SYNC_FLUSH and the trailing ``00 00 ff ff`` removed; the receiver puts
it back before inflating. A message sent in fragments flushes each fragment and strips
the tail only from the last one. The first frame of a compressed message has RSV1 set.
Decompression is bounded (``max_length``) so that a small frame cannot inflate past the
message size limit (close code 1009).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from bench.servers.protocol.websocket.errors import (
    HandshakeError,
    MessageTooBig,
    WebSocketProtocolError,
)
from bench.servers.protocol.websocket.headers import ExtensionItem, format_extension

#: Registered name of the extension.
EXTENSION_NAME = "permessage-deflate"
_TAIL = b"\x00\x00\xff\xff"
_DEFAULT_WINDOW = 15
_MIN_COMPRESS_WINDOW = 9  # zlib refuses raw deflate compression with an 8-bit window
_BITS_VALUES = {str(bits): bits for bits in range(8, 16)}
_PARAMS = frozenset(
    {
        "server_no_context_takeover",
        "client_no_context_takeover",
        "server_max_window_bits",
        "client_max_window_bits",
    }
)


@dataclass(frozen=True, slots=True)
class DeflateConfig:
    """What one side wants from permessage-deflate (offered by a client, enforced by a server).

    Attributes:
        server_no_context_takeover: ask (client) or decide (server) that the server
            resets its compressor after each message.
        client_no_context_takeover: the same for the client's compressor.
        server_max_window_bits: ask for (client) or impose (server) a smaller server
            window, 9-15; None leaves the default of 15.
        client_max_window_bits: the same for the client's window.
        level: zlib compression level used by our compressor (1 fastest, 9 smallest).
    """

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int | None = None
    client_max_window_bits: int | None = None
    level: int = 6

    def __post_init__(self) -> None:
        for bits in (self.server_max_window_bits, self.client_max_window_bits):
            if bits is not None and not _MIN_COMPRESS_WINDOW <= bits <= _DEFAULT_WINDOW:
                raise ValueError("max_window_bits must be between 9 and 15")
        if not 0 <= self.level <= 9:
            raise ValueError("level must be between 0 and 9")


@dataclass(frozen=True, slots=True)
class DeflateParams:
    """Parameters in force on a connection once permessage-deflate is negotiated."""

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = _DEFAULT_WINDOW
    client_max_window_bits: int = _DEFAULT_WINDOW

    def header_value(self) -> bytes:
        """Return the ``Sec-WebSocket-Extensions`` value a server answers with."""
        params: list[tuple[str, str | None]] = []
        if self.server_no_context_takeover:
            params.append(("server_no_context_takeover", None))
        if self.client_no_context_takeover:
            params.append(("client_no_context_takeover", None))
        if self.server_max_window_bits != _DEFAULT_WINDOW:
            params.append(("server_max_window_bits", str(self.server_max_window_bits)))
        if self.client_max_window_bits != _DEFAULT_WINDOW:
            params.append(("client_max_window_bits", str(self.client_max_window_bits)))
        return format_extension(EXTENSION_NAME, params)


def _params_dict(params: list[tuple[str, str | None]]) -> dict[str, str | None] | None:
    """Return the parameters as a dict, or None if one is unknown, repeated or malformed."""
    seen: dict[str, str | None] = {}
    for name, value in params:
        if name not in _PARAMS or name in seen:
            return None
        if name.endswith("no_context_takeover") and value is not None:
            return None
        if name == "server_max_window_bits" and value not in _BITS_VALUES:
            return None
        if name == "client_max_window_bits" and value is not None and value not in _BITS_VALUES:
            return None
        seen[name] = value
    return seen


def negotiate_server(offers: list[ExtensionItem], config: DeflateConfig) -> DeflateParams | None:
    """Return the parameters of the first acceptable offer, or None to decline them all."""
    for name, params in offers:
        if name != EXTENSION_NAME:
            continue
        offer = _params_dict(params)
        if offer is None:
            continue
        server_bits = config.server_max_window_bits or _DEFAULT_WINDOW
        if "server_max_window_bits" in offer:
            server_bits = min(server_bits, _BITS_VALUES[offer["server_max_window_bits"] or ""])
            if server_bits < _MIN_COMPRESS_WINDOW:
                continue  # we cannot compress within an 8-bit window
        client_bits = _DEFAULT_WINDOW
        if "client_max_window_bits" in offer:
            offered = offer["client_max_window_bits"]
            client_bits = _BITS_VALUES[offered] if offered else _DEFAULT_WINDOW
            if config.client_max_window_bits is not None:
                client_bits = min(client_bits, config.client_max_window_bits)
        return DeflateParams(
            server_no_context_takeover=(
                "server_no_context_takeover" in offer or config.server_no_context_takeover
            ),
            client_no_context_takeover=(
                "client_no_context_takeover" in offer or config.client_no_context_takeover
            ),
            server_max_window_bits=server_bits,
            client_max_window_bits=client_bits,
        )
    return None


def client_offer(config: DeflateConfig) -> bytes:
    """Return the ``Sec-WebSocket-Extensions`` value a client offers."""
    params: list[tuple[str, str | None]] = []
    if config.server_no_context_takeover:
        params.append(("server_no_context_takeover", None))
    if config.client_no_context_takeover:
        params.append(("client_no_context_takeover", None))
    if config.server_max_window_bits is not None:
        params.append(("server_max_window_bits", str(config.server_max_window_bits)))
    bits = config.client_max_window_bits
    params.append(("client_max_window_bits", None if bits is None else str(bits)))
    return format_extension(EXTENSION_NAME, params)


def negotiate_client(answer: list[ExtensionItem], config: DeflateConfig) -> DeflateParams | None:
    """Validate the server's answer to ``client_offer(config)``; None if it declined.

    Raises HandshakeError if the server accepted something we did not offer or
    cannot honour.
    """
    if not answer:
        return None
    if len(answer) != 1 or answer[0][0] != EXTENSION_NAME:
        raise HandshakeError("server accepted an extension we did not offer")
    params = _params_dict(answer[0][1])
    if params is None:
        raise HandshakeError("invalid permessage-deflate parameters from the server")
    if config.server_no_context_takeover and "server_no_context_takeover" not in params:
        raise HandshakeError("server ignored server_no_context_takeover")
    server_bits = _BITS_VALUES.get(params.get("server_max_window_bits") or "", _DEFAULT_WINDOW)
    if config.server_max_window_bits is not None and server_bits > config.server_max_window_bits:
        raise HandshakeError("server_max_window_bits above the offered limit")
    client_value = params.get("client_max_window_bits")
    client_bits = config.client_max_window_bits or _DEFAULT_WINDOW
    if "client_max_window_bits" in params:
        if client_value is None:
            raise HandshakeError("client_max_window_bits without a value in the answer")
        client_bits = min(client_bits, _BITS_VALUES[client_value])
        if client_bits < _MIN_COMPRESS_WINDOW:
            raise HandshakeError("client_max_window_bits=8 is not supported")
    return DeflateParams(
        server_no_context_takeover="server_no_context_takeover" in params,
        client_no_context_takeover=(
            "client_no_context_takeover" in params or config.client_no_context_takeover
        ),
        server_max_window_bits=server_bits,
        client_max_window_bits=client_bits,
    )


class PerMessageDeflate:
    """Compressor and decompressor of one connection, from the point of view of one side.

    Args:
        params: the negotiated parameters.
        is_server: which side we are (decides which half of ``params`` is ours).
        level: zlib level of our compressor.
    """

    __slots__ = (
        "_compressor",
        "_decompressor",
        "level",
        "local_no_context_takeover",
        "local_window",
        "remote_no_context_takeover",
        "remote_window",
    )

    def __init__(self, params: DeflateParams, *, is_server: bool, level: int = 6) -> None:
        if is_server:
            self.local_no_context_takeover = params.server_no_context_takeover
            self.local_window = params.server_max_window_bits
            self.remote_no_context_takeover = params.client_no_context_takeover
            self.remote_window = params.client_max_window_bits
        else:
            self.local_no_context_takeover = params.client_no_context_takeover
            self.local_window = params.client_max_window_bits
            self.remote_no_context_takeover = params.server_no_context_takeover
            self.remote_window = params.server_max_window_bits
        self.level = level
        self._compressor: zlib._Compress | None = None
        self._decompressor: zlib._Decompress | None = None

    def compress(self, data: bytes, fin: bool = True) -> bytes:
        """Compress one message (``fin``) or one fragment of a message being sent."""
        comp = self._compressor
        if comp is None:
            comp = zlib.compressobj(self.level, zlib.DEFLATED, -self.local_window)
            self._compressor = comp
        out = comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH)
        if fin:
            out = out[:-4] if out.endswith(_TAIL) else out
            if self.local_no_context_takeover:
                self._compressor = None
        return out

    def decompress(self, data: bytes, fin: bool, max_length: int | None) -> bytes:
        """Inflate one received fragment (``fin``: the message's last).

        ``max_length`` is how many bytes the message may still grow by (None: no
        limit). Raises MessageTooBig (1009) past it, WebSocketProtocolError (1002) on
        corrupt data.
        """
        decomp = self._decompressor
        if decomp is None:
            decomp = zlib.decompressobj(-self.remote_window)
            self._decompressor = decomp
        if fin:
            data += _TAIL
        try:
            if max_length is None:
                out = decomp.decompress(data)
            else:
                out = decomp.decompress(data, max_length + 1)
                if len(out) > max_length or decomp.unconsumed_tail:
                    raise MessageTooBig("decompressed message over the size limit")
        except zlib.error as exc:
            raise WebSocketProtocolError(f"invalid compressed data: {exc}") from exc
        if fin and self.remote_no_context_takeover:
            self._decompressor = None
        return out
