"""The `bench` command: scenarios, the runner, load engines, results, compare and plan."""

__version__ = "0.1.0"
