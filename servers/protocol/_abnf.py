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

#: HTTP-version = HTTP-name "/" DIGIT "." DIGIT (HTTP-name is case-sensitive).
VERSION = re.compile(rb"HTTP/([0-9])\.([0-9])")

#: What may follow the "/" of an origin-form target (path and query, RFC 9112 §3.2.1):
#: visible bytes (and obs-text, passed through) but no "#" (a fragment is never sent,
#: RFC 9112 §3.2) and "%" only as pct-encoded = "%" HEXDIG HEXDIG (RFC 3986 §2.1).
#: Possessive quantifiers: no backtracking, so the cost stays linear in the target.
_TARGET_REST = rb"(?:[^\x00-\x20\x7f#%]++|%[0-9A-Fa-f]{2})*+"

#: The usual request-line (origin-form, HTTP/1.0 or 1.1), matched in one step; any
#: other line takes the general path (other target forms and versions).
COMMON_REQUEST_LINE = re.compile(
    rb"([-!#$%&'*+.^_`|~0-9A-Za-z]+) (/" + _TARGET_REST + rb") HTTP/1\.([01])"
)

#: origin-form = absolute-path [ "?" query ], with the byte rules of ``_TARGET_REST``.
ORIGIN_FORM = re.compile(rb"/" + _TARGET_REST)

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

#: uri-host (RFC 3986 §3.2.2): an IP-literal (its address is checked apart, see
#: ``_heads``) or a reg-name of unreserved, sub-delims and pct-encoded bytes.
_IP_LITERAL = rb"\[(?:[0-9A-Fa-f:.]+|[vV][0-9A-Fa-f]+\.[-A-Za-z0-9._~!$&'()*+,;=:]+)\]"
_REG_NAME = rb"(?:[-A-Za-z0-9._~!$&'()*+,;=]++|%[0-9A-Fa-f]{2})*+"

#: Host = uri-host [ ":" port ], port = *DIGIT (RFC 9110 §7.2; userinfo has no place).
#: Group 1: the IP-literal, if the host is one.
HOST = re.compile(rb"(?:(" + _IP_LITERAL + rb")|" + _REG_NAME + rb")(?::[0-9]*)?")

#: absolute-form target: scheme "://" authority, then nothing, or a path or query with
#: the byte rules of ``_TARGET_REST``. Group 1: the authority (checked as a Host, and
#: an empty host is refused: RFC 9110 §4.2.1).
ABSOLUTE_FORM = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)(?:[/?]" + _TARGET_REST + rb")?")

_TOKEN = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
_QUOTED_STRING = rb'"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*"'

#: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), a name
#: being a token and a value a token or quoted-string (RFC 9112 §7.1.1). Matched from
#: the first ";" (BWS between the size and that ";" is refused with the size).
CHUNK_EXT = re.compile(
    rb"(?:[ \t]*;[ \t]*"
    + _TOKEN
    + rb"(?:[ \t]*=[ \t]*(?:"
    + _TOKEN
    + rb"|"
    + _QUOTED_STRING
    + rb"))?)*"
)

#: authority-form (CONNECT only): host ":" port.
AUTHORITY_FORM = re.compile(rb"[^/?#@\s]+:[0-9]+")

#: The longest chunk-size we accept, in hex digits (2**64 - 1).
MAX_CHUNK_SIZE_DIGITS = 16
