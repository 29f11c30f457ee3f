"""One probe of ``bench bisect``: build a commit in its own worktree, run the scenario there.

How this works: ``prepare`` checks the commit out in a fresh worktree and builds it the
way ``--build`` says:

* ``venv`` — a fresh virtual environment per commit, the project installed into it
  (``pip install WORKTREE``): nothing carries over from one commit to the next;
* ``reuse`` — one virtual environment for the whole bisect (made at the first probe with
  the project's dependencies), each commit reinstalled into it with ``--no-deps``: fast
  when dependencies do not change between the commits;
* ``none`` — this interpreter, the worktree first on ``PYTHONPATH``, the build being a
  byte-compilation of the tree (a syntax error fails it): for pure-Python changes.

A build that fails is reported (one line, the log kept) and the commit is skipped, never
marked bad. ``run_scenario`` then runs ``bench run SCENARIO`` with the commit's own code
(its scenario file when the worktree has one) into a run folder of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.runner.bisect.git import Commit, add_worktree

#: The ways ``--build`` can build a commit.
BUILD_MODES: tuple[str, ...] = ("venv", "reuse", "none")
#: Seconds a build may take.
BUILD_TIMEOUT_S = 900


@dataclass(frozen=True, slots=True)
class Built:
    """A commit ready to run (``error`` set when its build failed)."""

    commit: Commit
    worktree: Path
    python: str
    env: dict[str, str] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RunResult:
    """What ``bench run`` left: the run folder (None if none), its exit code and log."""

    run_dir: Path | None
    exit_code: int
    log: Path


def _call(argv: list[str], log: Path, *, cwd: Path | None = None, env: dict[str, str] | None = None,
          timeout: float = BUILD_TIMEOUT_S) -> int:  # fmt: skip
    """Run ``argv`` with its output appended to ``log``; its exit code (124 on timeout)."""
    with log.open("a") as out:
        out.write(f"$ {' '.join(argv)}\n")
        out.flush()
        try:
            return subprocess.run(
                argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
            ).returncode
        except subprocess.TimeoutExpired:
            out.write(f"timed out after {timeout:.0f} s\n")
            return 124
        except OSError as exc:
            out.write(f"{exc}\n")
            return 127


def _venv_python(venv: Path) -> str:
    return str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))


def _last_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip()[:200] if lines else "no output"


def prepare(repo: Path, commit: Commit, work: Path, mode: str) -> Built:
    """A worktree of ``commit`` under ``work``, built per ``mode`` (see the module docstring)."""
    tree = add_worktree(repo, commit, work / "trees" / commit.short)
    log = work / "logs" / f"{commit.short}-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    if mode == "none":
        env = {
            "PYTHONPATH": os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")]))
        }
        code = _call([sys.executable, "-m", "compileall", "-q", str(tree)], log)
        error = None if code == 0 else f"byte-compiling failed: {_last_line(log)}"
        return Built(commit, tree, sys.executable, env, error)
    venv = work / "venvs" / (commit.short if mode == "venv" else "shared")
    fresh = not venv.exists()
    if fresh and _call([sys.executable, "-m", "venv", str(venv)], log):
        return Built(commit, tree, "", {}, f"could not make a venv: {_last_line(log)}")
    python = _venv_python(venv)
    argv = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    if mode == "reuse" and not fresh:
        argv += ["--no-deps", "--force-reinstall"]
    code = _call([*argv, str(tree)], log)
    error = None if code == 0 else f"pip install failed: {_last_line(log)}"
    return Built(commit, tree, python, {}, error)


def scenario_for(built: Built, repo: Path, scenario: Path) -> Path:
    """The commit's own copy of the scenario when the repository holds it, else the file given."""
    try:
        inside = built.worktree / scenario.resolve().relative_to(repo.resolve())
    except ValueError:
        return scenario.resolve()
    return inside if inside.is_file() else scenario.resolve()


def run_scenario(
    built: Built, scenario: Path, out: Path, log: Path, *, timeout: float,
    extra: tuple[str, ...] = (),
) -> RunResult:  # fmt: skip
    """``bench run SCENARIO --out OUT [EXTRA]`` with the commit's code; the run folder it wrote."""
    out.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    before = {p for p in out.iterdir() if p.is_dir()}
    env = {**os.environ, **built.env}
    # Commits from before the one ``bench`` namespace have their command at runner.cli.
    entry = "bench.runner.cli" if (built.worktree / "bench").is_dir() else "runner.cli"
    argv = [built.python, "-m", entry, "run", str(scenario), "--out", str(out), *extra]
    code = _call(argv, log, cwd=built.worktree, env=env, timeout=timeout)
    created = sorted(p for p in out.iterdir() if p.is_dir() and p not in before)
    return RunResult(created[-1] if created else None, code, log)
