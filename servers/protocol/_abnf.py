"""Grammar of RFC 9110/9112 as far as the HTTP/1.1 core needs it: byte sets and patterns.

How this works: most checks are byte-set checks done in C. ``data.translate(None, SET)``
deletes every byte of ``SET``, so the result is empty exactly when ``data`` holds only
bytes of ``SET``. That is as strict as the grammar (no control bytes, no bare CR or LF,
no whitespace where the grammar has none) and cheaper than a regular expression per
line. The few patterns below are anchored and used with ``fullmatch``: what does not
match exactly is refused, which is what keeps request smuggling out.
"""

from __future__ import annotations

import re

_ALPHA = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
DIGITS = b"0123456789"

#: tchar: what a token (method, field name, transfer coding) is made of.
TCHAR = b"!#$%&'*+-.^_`|~" + DIGITS + _ALPHA

#: HTAB, SP, VCHAR and obs-text: every byte a head may hold besides its CRLFs.
TEXT = b"\t" + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))

#: HEXDIG, both cases (chunk sizes).
HEXDIG = DIGITS + b"ABCDEFabcdef"

#: Host = uri-host [ ":" port ]: reg-name, IPv4 and IP-literal characters (RFC 3986).
HOST_CHARS = _ALPHA + DIGITS + b"-._~%!$&'()*+,;=:[]"

#: HTTP-version = HTTP-name "/" DIGIT "." DIGIT (HTTP-name is case-sensitive).
VERSION = re.compile(rb"HTTP/([0-9])\.([0-9])")

#: The usual request-line (origin-form, HTTP/1.0 or 1.1), matched in one step; any
#: other line takes the general path (other target forms and versions).
COMMON_REQUEST_LINE = re.compile(
    rb"([-!#$%&'*+.^_`|~0-9A-Za-z]+) (/[^\x00-\x20\x7f]*) HTTP/1\.([01])"
)

#: status-line = HTTP-version SP status-code SP [ reason-phrase ] (reason may be absent).
STATUS_LINE = re.compile(rb"HTTP/([0-9])\.([0-9]) ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?")

#: reason-phrase = *( HTAB / SP / VCHAR / obs-text )
REASON = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")

#: A valid header name to send (a token).
FIELD_NAME = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")

#: What a header value we send may not contain.
FIELD_VALUE_FORBIDDEN = re.compile(rb"[\x00\r\n]")

#: A request-target to send: visible characters only (no CTL, no SP).
TARGET = re.compile(rb"[^\x00-\x20\x7f]+")

#: Content-Length = 1*DIGIT, at most 19 digits (one value, no sign, no list).
CONTENT_LENGTH = re.compile(rb"[0-9]{1,19}")

#: absolute-form target (scheme "://" ...); origin-form starts with "/".
ABSOLUTE_FORM = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*([^#]*)")

#: authority-form (CONNECT only): host ":" port.
AUTHORITY_FORM = re.compile(rb"[^/?#@\s]+:[0-9]+")

#: The longest chunk-size we accept, in hex digits (2**64 - 1).
MAX_CHUNK_SIZE_DIGITS = 16
