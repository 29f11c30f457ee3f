"""The exit codes of ``bench``: one definition read by the commands, their ``--help`` and docs.

How this works: ``ExitCode`` names every code a ``bench`` command returns; ``MEANINGS``
says, once, what each code means for each command that can return it (``"*"``: every
command). ``epilog(command)`` renders those lines for the command's ``--help``,
``markdown_table()`` renders the table of ``docs/ci.md`` (a test checks the two agree).

The codes follow pytest and wrk: 0 ok, 1 the check failed, 2 bad input; then one code
per thing a CI job must not mistake for a pass: nothing was measured (5, like pytest's
"no tests collected"), no gate could decide (6). 3 is ``bench serve``'s "could not boot"
(``bench.servers.errors.BOOT_ERROR``, gunicorn's convention); 130 is an interrupt (128 + SIGINT).
"""

from __future__ import annotations

import argparse
import textwrap
from enum import IntEnum

from bench.servers.errors import BOOT_ERROR


class ExitCode(IntEnum):
    """Every exit code of ``bench``."""

    OK = 0  #: done: what was asked was measured and every check passed
    FAILED = 1  #: a check failed (regression, error rate) or a server/engine failed
    USAGE = 2  #: bad input: an option, a scenario, a file; one line on stderr
    BOOT_FAILED = BOOT_ERROR  #: bench serve: the server could not boot
    NOTHING_MEASURED = 5  #: the command ran but measured nothing
    INCONCLUSIVE = 6  #: bench compare: no gate could decide
    INTERRUPTED = 130  #: Ctrl-C or SIGTERM


#: Width of the ``--help`` epilog lines.
_HELP_WIDTH = 79
#: code -> command (or ``"*"``) -> what the code means for that command.
MEANINGS: dict[ExitCode, dict[str, str]] = {
    ExitCode.OK: {
        "run": "at least one cell was measured (the summary counts failed and skipped cells)",
        "load": "responses were measured and the error rate is within --max-error-rate",
        "compare": "no gate regressed and at least one gate decided",
        "bisect": "the first bad commit was found",
        "*": "done",
    },
    ExitCode.FAILED: {
        "run": "the run stopped: the downstream helper service or the engine could not start",
        "load": "the error rate is above --max-error-rate, or the engine failed",
        "compare": "a gate regressed, an event gate's limit was exceeded, or every "
        "candidate repetition of a cell failed (with --strict: an inconclusive gate too)",
        "serve": "the server failed while running (e.g. the address is in use)",
        "bisect": "BAD does not regress against GOOD: nothing to find",
    },
    ExitCode.USAGE: {
        "*": "bad input: an option, a scenario, an app, a missing file or run; one line on stderr",
    },
    ExitCode.BOOT_FAILED: {
        "serve": "the server could not boot (lifespan startup failed, workers died booting)",
    },
    ExitCode.NOTHING_MEASURED: {
        "run": "no cell was measured: every cell failed or was skipped",
        "load": "no successful response: connect errors only, or every response "
        "an error (e.g. 404)",
        "calibrate": "no cell had two measured repetitions: no noise to measure",
    },
    ExitCode.INCONCLUSIVE: {
        "compare": "no gate decided: every gate inconclusive (too few repetitions or too "
        "much noise); --allow-inconclusive exits 0 instead",
        "bisect": "skipped commits (failed builds, inconclusive steps) hide the first bad one",
    },
    ExitCode.INTERRUPTED: {
        "run": "interrupted; the finished cells are kept: bench run --resume RUN_DIR",
        "*": "interrupted (Ctrl-C or SIGTERM)",
    },
}


def meanings(command: str) -> list[tuple[ExitCode, str]]:
    """``(code, meaning)`` for every code ``command`` can return, in code order."""
    out: list[tuple[ExitCode, str]] = []
    for code in ExitCode:
        by_command = MEANINGS[code]
        text = by_command.get(command) or by_command.get("*")
        if text:
            out.append((code, text))
    return out


def epilog(command: str) -> str:
    """The ``exit codes:`` section of ``bench COMMAND --help``."""
    lines = ["exit codes:"]
    for code, text in meanings(command):
        lines += textwrap.wrap(
            text, _HELP_WIDTH, initial_indent=f"  {int(code):<5}", subsequent_indent=" " * 7
        )
    lines.append("(docs/ci.md lists every code of every command)")
    return "\n".join(lines)


def markdown_table() -> str:
    """The table of ``docs/ci.md``: one row per code, what it means for each command."""
    rows = ["| exit code | name | meaning |", "|---|---|---|"]
    for code in ExitCode:
        parts = []
        for command, text in MEANINGS[code].items():
            if command != "*":
                who = f"`bench {command}`"
            else:
                who = "other commands" if len(MEANINGS[code]) > 1 else "every command"
            parts.append(f"{who}: {text}")
        rows.append(f"| {int(code)} | `{code.name.lower()}` | {'<br>'.join(parts)} |")
    return "\n".join(rows)


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, except that text with line breaks (the epilog) is kept as is."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line + "\n" for line in text.splitlines()).rstrip("\n")
        return super()._fill_text(text, width, indent)


def document(parser: argparse.ArgumentParser, command: str) -> None:
    """Give ``parser`` (of ``bench COMMAND``) the exit codes as its ``--help`` epilog."""
    parser.epilog = epilog(command)
    parser.formatter_class = HelpFormatter
