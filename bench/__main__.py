"""``python -m bench``: the same as the ``bench`` command."""

from bench.runner.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
