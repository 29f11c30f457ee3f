"""An app whose module raises while it imports is named with the file and line that raised."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.servers.apps import AppLoadError, load_app


@pytest.fixture
def app_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ("raises_app_mod", "syntax_app_mod", "helper_app_mod"):
        sys.modules.pop(name, None)


def test_the_line_that_raised_is_named(app_folder: Path) -> None:
    path = app_folder / "raises_app_mod.py"
    path.write_text("import os\n\nraise RuntimeError('no database')\n")
    with pytest.raises(AppLoadError) as err:
        load_app("raises_app_mod:app")
    assert f"at {path}:3: RuntimeError: no database" in str(err.value)


def test_the_innermost_user_frame_is_named(app_folder: Path) -> None:
    (app_folder / "helper_app_mod.py").write_text("def connect():\n    raise OSError('refused')\n")
    path = app_folder / "raises_app_mod.py"
    path.write_text("import helper_app_mod\nhelper_app_mod.connect()\n")
    with pytest.raises(AppLoadError) as err:
        load_app("raises_app_mod:app")
    assert f"at {app_folder / 'helper_app_mod.py'}:2: OSError: refused" in str(err.value)


def test_a_syntax_error_names_its_file_and_line(app_folder: Path) -> None:
    path = app_folder / "syntax_app_mod.py"
    path.write_text("x = 1\ndef broken(:\n")
    with pytest.raises(AppLoadError) as err:
        load_app("syntax_app_mod:app")
    assert f"at {path}:2: SyntaxError" in str(err.value)
