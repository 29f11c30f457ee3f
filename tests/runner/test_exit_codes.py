"""The exit codes: one definition, the same in docs/ci.md and in every command's --help."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.runner import cli
from bench.runner.exit_codes import MEANINGS, ExitCode, epilog, markdown_table, meanings
from bench.servers.errors import BOOT_ERROR

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ci.md"


def test_docs_ci_lists_exactly_the_codes_defined_in_code() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert markdown_table() in text, "regenerate the table: runner.exit_codes.markdown_table()"
    documented = {int(m) for m in re.findall(r"^\| (\d+) \| `", text, flags=re.MULTILINE)}
    assert documented == {int(code) for code in ExitCode}


def test_codes_are_distinct_and_keep_their_stable_values() -> None:
    assert [int(c) for c in ExitCode] == sorted({int(c) for c in ExitCode})
    assert (ExitCode.OK, ExitCode.FAILED, ExitCode.USAGE) == (0, 1, 2)
    assert ExitCode.BOOT_FAILED == BOOT_ERROR  # bench serve keeps gunicorn's convention
    assert ExitCode.INTERRUPTED == 130
    assert set(MEANINGS) == set(ExitCode)


@pytest.mark.parametrize("command", cli.COMMANDS)
def test_every_command_help_ends_with_its_exit_codes(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    codes = [int(code) for code, _ in meanings(command)]
    assert {0, 2, 130} <= set(codes)
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    out = capsys.readouterr().out
    assert out.rstrip().endswith(epilog(command).splitlines()[-1])
    listed = [int(n) for n in re.findall(r"^  (\d+) ", out.split("exit codes:")[1], re.MULTILINE)]
    assert listed == codes


def test_command_specific_meanings_win_over_the_general_one() -> None:
    assert dict(meanings("load"))[ExitCode.NOTHING_MEASURED].startswith("no successful")
    assert ExitCode.INCONCLUSIVE in dict(meanings("compare"))
    assert ExitCode.INCONCLUSIVE not in dict(meanings("load"))
    assert dict(meanings("report"))[ExitCode.OK] == "done"
