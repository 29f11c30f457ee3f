"""The error hierarchy of the runner package: every error a user can cause is a BenchError."""

from __future__ import annotations


class BenchError(Exception):
    """An error shown to the user as one line, with an exit code (2: bad input)."""

    exit_code: int = 2


class UsageError(BenchError):
    """Bad command-line input or a bad file named on the command line."""


class ScenarioError(BenchError):
    """A scenario file that does not validate: the message names the file and YAML path."""


class LaunchError(BenchError):
    """A server configuration that could not be started or did not become ready."""

    exit_code = 1


class EngineError(BenchError):
    """The load engine failed (not the server under test)."""

    exit_code = 1
