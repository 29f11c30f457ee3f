"""Fixtures shared by the whole test suite: ``serve`` and ``serve_module`` (see serverkit.py).

Helpers are imported from ``serverkit`` by the tests, never from ``conftest``: several
conftest modules exist and only one of them can be importable under that name.
"""

from serverkit import serve, serve_module

__all__ = ["serve", "serve_module"]
