"""A short synthetic git history of this project, for ``bench bisect`` to search.

``make_history(root)`` copies the project's tracked files into a new repository and adds
commits on top: harmless ones, one that breaks the build (a syntax error, fixed in the
next commit), and one that makes the bundled ``cpu`` app do twice the work per request.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[3]
CPU_APP = "servers/apps/cpu.py"
SCENARIO = "scenarios/bisect_cpu.yaml"
#: A tiny CPU-bound scenario gated on server CPU per response (steady on a busy machine).
#: The gate's threshold (30 %) sits far from both sides: the slow commit adds 100 %, and
#: a good commit's interval must stay below the threshold, which a 10 % gate missed three
#: times in a row on a loaded 2-core runner (the good commit was skipped).
SCENARIO_TEXT = """\
name: bisect_cpu
workload: {app: cpu, params: {iterations: 20000}}
servers:
  - {server: eventloop, workers: 1}
load: {engine: native, mode: closed, concurrency: [2], duration: 0.4s, warmup: 0.1s}
repeat: 6
pin: auto
gates:
  max_regression: 30%
  metrics: {rps: off, p50: off, p99: off, p999: off, rss: off, error_rate: off, cpu: 30%}
"""
SLOW_BEFORE = "    for i in range(iterations):\n"
SLOW_AFTER = "    for i in range(iterations * 2):\n"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def _commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


def make_history(root: Path) -> dict[str, str]:
    """The repository at ``root``; name -> sha of each commit (``base`` … ``head``)."""
    root.mkdir(parents=True)
    files = git(PROJECT, "ls-files", "-z").split("\0")
    git(root, "init", "-q")
    for name in filter(None, files):
        source = PROJECT / name
        if source.is_file():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    (root / SCENARIO).write_text(SCENARIO_TEXT)
    shas = {"base": _commit(root, "base: the project as it is")}
    notes = root / "NOTES.md"
    notes.write_text("one\n")
    shas["docs"] = _commit(root, "docs: a note")
    hello = root / "servers/apps/hello.py"
    good_hello = hello.read_text()
    hello.write_text(good_hello + "\ndef broken(:\n")
    shas["broken"] = _commit(root, "hello app: a syntax error (the build fails)")
    hello.write_text(good_hello)
    shas["fixed"] = _commit(root, "hello app: fix the syntax error")
    cpu = root / CPU_APP
    text = cpu.read_text()
    assert SLOW_BEFORE in text, "the cpu app's loop moved: update the synthetic history"
    cpu.write_text(text.replace(SLOW_BEFORE, SLOW_AFTER, 1))
    shas["slow"] = _commit(root, "cpu app: twice the work per request")
    notes.write_text("one\ntwo\n")
    shas["head"] = _commit(root, "docs: another note")
    return shas
