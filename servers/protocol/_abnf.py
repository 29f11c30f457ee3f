"""Compiled grammar of RFC 9110/9112 as far as the HTTP/1.1 core needs it.

Every pattern is anchored and used with ``fullmatch``: what does not match exactly is
refused, which is what keeps request smuggling out (no lenient whitespace, no bare CR
or LF, no obs-fold).
"""

from __future__ import annotations

import re

#: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
TOKEN = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+"

#: request-line = method SP request-target SP HTTP-version (targets: no CTL, no SP)
REQUEST_LINE = re.compile(rb"(" + TOKEN + rb") ([^\x00-\x20\x7f]+) HTTP/([0-9])\.([0-9])")

#: status-line = HTTP-version SP status-code SP [ reason-phrase ] (reason may be absent)
STATUS_LINE = re.compile(rb"HTTP/([0-9])\.([0-9]) ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?")

#: field-line = field-name ":" OWS field-value OWS ; no whitespace before the colon.
FIELD_LINE = re.compile(
    rb"(" + TOKEN + rb"):[ \t]*((?:[\x21-\x7e\x80-\xff](?:[ \t\x21-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?)[ \t]*"
)

#: A valid header name to send.
FIELD_NAME = re.compile(TOKEN)

#: What a header value we send may not contain.
FIELD_VALUE_FORBIDDEN = re.compile(rb"[\x00\r\n]")

#: chunk-size [ chunk-ext ]: hex digits directly followed by ";ext" or nothing.
CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})((?:;[\t\x20-\x7e\x80-\xff]*)?)")

#: Content-Length = 1*DIGIT (one value, no sign, no list).
DIGITS = re.compile(rb"[0-9]{1,19}")

#: absolute-form target (scheme "://" ...), origin-form starts with "/".
ABSOLUTE_FORM = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*([^#]*)")

#: authority-form (CONNECT only): host ":" port.
AUTHORITY_FORM = re.compile(rb"[^/?#@\s]+:[0-9]+")

#: What a Host value may not contain (whitespace, path, query, fragment, userinfo).
HOST_FORBIDDEN = re.compile(rb"[ \t/?#@\\]")
