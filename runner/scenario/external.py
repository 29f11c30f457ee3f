"""Servers bench did not start: a scenario entry ``{url: https://host:port/path, label: x}``.

Pure helpers of the scenario schema: ``tag_external`` lets such an entry leave out
``server:`` (it is ``external``), ``url_problem`` says what is wrong with its URL. Only
the host the user writes is ever targeted; nothing is launched, and no server CPU or
RSS is measured for it (the row's notes say so).
"""

from __future__ import annotations

from urllib.parse import urlsplit

#: URL schemes an external target may use.
SCHEMES: tuple[str, ...] = ("http", "https", "ws", "wss")


def tag_external(entries: object) -> object:
    """``servers:`` with ``server: external`` added to entries that give a ``url``."""
    if not isinstance(entries, list):
        return entries
    return [
        {"server": "external", **e}
        if isinstance(e, dict) and "url" in e and "server" not in e
        else e
        for e in entries
    ]


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an external target, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        return f"invalid URL {url!r}: {exc}"
    if parts.scheme.lower() not in SCHEMES:
        return f"URL {url!r} must start with {', '.join(s + '://' for s in SCHEMES)}"
    if not parts.hostname:
        return f"URL {url!r} has no host"
    return None


def default_label(url: str) -> str:
    """The label of an external target that gives none: its host and port."""
    return urlsplit(url).netloc.rsplit("@", 1)[-1] or url
