"""bench: how should a Python web app be served? Measured.

The repository keeps one folder per part (``servers/``, ``runner/``, ``dashboards/``,
``scenarios/``); an install places them under this one namespace (``bench.servers``,
``bench.runner``, ``bench.dashboards``, ``bench.scenarios``) so that none of them claims a
generic top-level name in the user's site-packages.
"""

from bench.runner import __version__

__all__ = ["__version__"]
