"""bench: how should a Python web app be served? Measured.

The repository keeps one folder per part (``servers/``, ``runner/``, ``dashboards/``,
``scenarios/``); an install places them under this one namespace (``bench.servers``,
``bench.runner``, ``bench.dashboards``, ``bench.scenarios``) so that none of them claims a
generic top-level name in the user's site-packages.

Run from a checkout that is not installed (``PYTHONPATH=. python -m bench``, or a commit
``bench bisect --build none`` probes), this package finds those folders beside itself:
its search path gains the checkout's root, so ``bench.runner`` is ``runner/`` there. An
installed bench has the folders inside the package and never looks further.
"""

from pathlib import Path as _Path

_HERE = _Path(__file__).resolve().parent
if not (_HERE / "runner").is_dir() and (_HERE.parent / "runner" / "cli.py").is_file():
    __path__.append(str(_HERE.parent))  # a checkout: servers/, runner/ … are beside bench/

from bench.runner import __version__  # noqa: E402

__all__ = ["__version__"]
