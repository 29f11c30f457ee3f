"""The git side of ``bench bisect``: the repository, the commits, one worktree per probe.

Every failure is a ``UsageError`` with one line (not a git repository, an unknown commit,
GOOD not an ancestor of BAD), never git's own multi-line output.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.runner.errors import UsageError

#: Seconds any one git command may take.
GIT_TIMEOUT_S = 60


@dataclass(frozen=True, slots=True)
class Commit:
    """A commit: its full sha, short sha and subject line."""

    sha: str
    short: str
    subject: str


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``git -C repo ARGS``; raise UsageError (first line of stderr) when it fails."""
    if shutil.which("git") is None:
        raise UsageError("git is not installed")
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"git {args[0]}: {exc}") from None
    if check and done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["failed"])[0]
        raise UsageError(f"git {args[0]}: {first}")
    return done


def repo_root(path: Path) -> Path:
    """The top of the git repository holding ``path``."""
    done = git(path, "rev-parse", "--show-toplevel", check=False)
    if done.returncode != 0:
        raise UsageError(f"{path}: not a git repository (bench bisect needs one)")
    return Path(done.stdout.strip())


def resolve(repo: Path, rev: str) -> Commit:
    """The commit ``rev`` names (a sha, a branch, ``HEAD~3``)."""
    done = git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    if done.returncode != 0 or not done.stdout.strip():
        raise UsageError(f"{rev}: unknown commit in {repo}")
    return describe(repo, done.stdout.strip())


def describe(repo: Path, sha: str) -> Commit:
    """Short sha and subject of ``sha``."""
    line = git(repo, "log", "-1", "--format=%H%x00%h%x00%s", sha).stdout.strip()
    full, short, subject = line.split("\x00", 2)
    return Commit(full, short, subject)


def commits_between(repo: Path, good: Commit, bad: Commit) -> list[Commit]:
    """The commits after GOOD up to and including BAD, oldest first (on the ancestry path)."""
    if good.sha == bad.sha:
        raise UsageError("GOOD and BAD are the same commit: nothing to bisect")
    if git(repo, "merge-base", "--is-ancestor", good.sha, bad.sha, check=False).returncode:
        raise UsageError(f"{good.short} is not an ancestor of {bad.short}: nothing to bisect")
    text = git(repo, "rev-list", "--reverse", "--ancestry-path", f"{good.sha}..{bad.sha}").stdout
    return [describe(repo, sha) for sha in text.split()]


def add_worktree(repo: Path, commit: Commit, where: Path) -> Path:
    """A detached worktree of ``commit`` at ``where`` (replacing a stale one)."""
    if where.exists():
        remove_worktree(repo, where)
    git(repo, "worktree", "add", "--detach", "--force", str(where), commit.sha)
    return where


def remove_worktree(repo: Path, where: Path) -> None:
    """Remove a worktree made by ``add_worktree`` (and its folder)."""
    git(repo, "worktree", "remove", "--force", str(where), check=False)
    shutil.rmtree(where, ignore_errors=True)
    git(repo, "worktree", "prune", check=False)
