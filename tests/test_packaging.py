"""The distribution: one top-level name (``bench``), scenarios as package data, ``python -m bench``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bench.runner.results.manifest import git_sha

ROOT = Path(__file__).resolve().parents[1]


#: What a build does not need: the checkout's own state (run folders at the top only:
#: ``runner/results/`` is code).
_TOP_ONLY = {".venv", ".git", "results", "build", "dist"}


def _not_sources(folder: str, names: list[str]) -> set[str]:
    skip = {n for n in names if n == "__pycache__" or n.endswith((".egg-info", ".so"))}
    if Path(folder) == ROOT:
        skip |= _TOP_ONLY & set(names)
    return skip


@pytest.mark.slow
def test_the_wheel_installs_under_one_bench_namespace(tmp_path: Path) -> None:
    build = tmp_path / "build"
    shutil.copytree(ROOT, build, ignore=_not_sources)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(tmp_path / "dist"),
            str(build),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("bench-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"bench"}
    assert "bench/scenarios/quick.yaml" in names
    assert "bench/servers/protocol/http11.py" in names
    assert "bench/runner/cli.py" in names
    assert "bench/runner/results/schema.py" in names
    assert "bench/dashboards/report.js" in names
    assert not any(name.startswith("bench/tests/") for name in names)


def test_python_dash_m_bench_is_the_bench_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "scenarios"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "quick" in done.stdout


def test_the_git_sha_is_bench_s_own_checkout_only(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    other = tmp_path / "project"
    (other / "venv" / "bench" / "runner").mkdir(parents=True)
    for args in (
        ["init", "-q"],
        ["-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "x"],
    ):
        subprocess.run(["git", "-C", str(other), *args], check=True, capture_output=True)
    # A site-packages folder inside someone else's repository is not bench's checkout.
    assert git_sha(other / "venv" / "bench" / "runner") is None
    if (ROOT / ".git").exists():
        sha = git_sha(ROOT / "runner")
        assert sha is not None and len(sha.removesuffix("-dirty")) == 40


def test_every_module_imports_without_the_checkout_on_the_path(tmp_path: Path) -> None:
    """Installed names only: run isolated (no current folder, no PYTHONPATH) from elsewhere."""
    names = []
    for folder in ("servers", "runner", "dashboards"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__main__" or "apps" in parts:
                continue  # entry points run, and apps import their own optional libraries
            names.append(".".join(("bench", *parts)).removesuffix(".__init__"))
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    done = subprocess.run(
        [sys.executable, "-I", "-c", code, *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
