"""A cell's profile: py-spy's speedscope file read into stacks and function shares (pure).

How this works: ``bench run --profile`` records the server's process tree with py-spy
(``bench.runner.launch.profiler``) into ``profiles/<cell>-r<rep>.speedscope.json`` (speedscope's
"sampled" format: a shared frame table, one profile per process × thread, each sample a
list of frame indexes from the root). ``read_speedscope`` folds every thread of every
process into one ``Profile`` — root-first stacks of function keys with their sample
weight — and drops py-spy's synthetic ``process PID:"cmdline"`` root frames (their PIDs
give ``Profile.processes``). A function is its name and short file, not its line, so the
loop body and the return of one function count as one.

``function_shares`` is each function's share of all samples: *self* (it was running) and
*total* (it was on the stack); ``top_functions`` the ones that explain the most. Only
threads doing something are sampled (py-spy without ``--idle``), so a share is a share of
the time the server was busy.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Folder of a run with the profile files of each profiled cell.
PROFILES_DIR = "profiles"
_PROCESS_FRAME = re.compile(r"^process (\d+):")
_LIB_MARKERS = ("site-packages/", "dist-packages/")


def profile_stem(cell_id: str, repetition: int) -> str:
    """The file stem of one cell repetition's profile files under ``profiles/``."""
    return f"{cell_id}-r{repetition}"


@dataclass(frozen=True, slots=True)
class Profile:
    """Root-first stacks of function keys and their sample weight, all threads folded."""

    stacks: dict[tuple[str, ...], float]
    processes: dict[int, float] = field(default_factory=dict)  # PID -> sample weight
    samples: int = 0  # stack samples (py-spy weighs each in seconds: 1/rate)

    @property
    def total(self) -> float:
        """All sample weight."""
        return sum(self.stacks.values())


@dataclass(frozen=True, slots=True)
class FunctionShare:
    """One function's share of the samples: running itself, and anywhere on the stack."""

    function: str
    self_share: float
    total_share: float


def _roots() -> tuple[str, ...]:
    """Import roots (sys.path and the current folder), longest first."""
    found = {os.path.abspath(p or os.curdir).replace("\\", "/").rstrip("/") for p in sys.path}
    found.add(os.getcwd().replace("\\", "/").rstrip("/"))
    return tuple(sorted((r for r in found if r), key=len, reverse=True))


def short_file(path: str, roots: Sequence[str] | None = None) -> str:
    """A file path as a reader knows it: relative to its import root, else 3 parts.

    ``roots`` defaults to this process's import path and current folder (the server ran
    from the same checkout and environment); a path under ``site-packages`` is cut there.
    """
    path = path.replace("\\", "/")
    for marker in _LIB_MARKERS:
        if marker in path:
            return path.rsplit(marker, 1)[1]
    for root in _roots() if roots is None else roots:
        if path.startswith(root.rstrip("/") + "/"):
            return path[len(root.rstrip("/")) + 1 :]
    parts = [p for p in path.split("/") if p]
    return "/".join(parts[-3:]) if parts else path


_SHORT: dict[str, str] = {}


def _short(path: str) -> str:
    if path not in _SHORT:
        _SHORT[path] = short_file(path)
    return _SHORT[path]


def function_key(name: str, file: str) -> str:
    """``name (short/file.py)``; the name alone when the file is unknown."""
    return f"{name} ({_short(file)})" if file else name


def read_speedscope(data: dict[str, Any]) -> Profile:
    """Fold a speedscope document (py-spy's, "sampled" profiles) into one Profile.

    Raises:
        ValueError: not a speedscope document with a frame table and sampled profiles.
    """
    try:
        frames = data["shared"]["frames"]
        profiles = data["profiles"]
    except (KeyError, TypeError):
        raise ValueError("not a speedscope file (no shared.frames / profiles)") from None
    keys: list[str | None] = []
    pids: list[int | None] = []
    for frame in frames:
        name = str(frame.get("name", "?"))
        file = str(frame.get("file") or "")
        match = _PROCESS_FRAME.match(name) if not file else None
        keys.append(None if match else function_key(name, file))
        pids.append(int(match.group(1)) if match else None)
    stacks: dict[tuple[str, ...], float] = {}
    processes: dict[int, float] = {}
    count = 0
    for prof in profiles:
        if prof.get("type") != "sampled":
            continue
        samples = prof.get("samples", [])
        weights = prof.get("weights") or [1.0] * len(samples)
        count += len(samples)
        for sample, weight in zip(samples, weights, strict=False):
            stack = tuple(k for i in sample if (k := keys[i]) is not None)
            found = [p for i in sample if (p := pids[i]) is not None]
            pid = found[-1] if found else None  # the innermost: a worker under its master
            if pid is not None:
                processes[pid] = processes.get(pid, 0.0) + float(weight)
            if stack:
                stacks[stack] = stacks.get(stack, 0.0) + float(weight)
    return Profile(stacks, processes, count)


def load_profile(path: Path) -> Profile:
    """Read a speedscope file.

    Raises:
        ValueError: the file is missing, not JSON, or not a speedscope document.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the profile ({exc})") from None
    return read_speedscope(data)


def function_shares(profile: Profile) -> list[FunctionShare]:
    """Every function's self and total share, largest self share first."""
    total = profile.total
    if total <= 0:
        return []
    own: dict[str, float] = {}
    anywhere: dict[str, float] = {}
    for stack, weight in profile.stacks.items():
        own[stack[-1]] = own.get(stack[-1], 0.0) + weight
        for key in set(stack):
            anywhere[key] = anywhere.get(key, 0.0) + weight
    shares = [
        FunctionShare(key, own.get(key, 0.0) / total, weight / total)
        for key, weight in anywhere.items()
    ]
    return sorted(shares, key=lambda s: (-s.self_share, -s.total_share, s.function))


def top_functions(profile: Profile, n: int = 10) -> list[FunctionShare]:
    """The ``n`` functions with the largest self share (ties: larger total share)."""
    return [s for s in function_shares(profile) if s.self_share > 0][:n]


def top_to_json(top: list[FunctionShare]) -> str:
    """Top functions as the JSON text stored in ``cells.parquet`` (``profile_top``)."""
    return json.dumps([[s.function, round(s.self_share, 5), round(s.total_share, 5)] for s in top])


def top_from_json(text: object) -> list[FunctionShare]:
    """``profile_top`` back into FunctionShares (empty for NA or bad text)."""
    if not isinstance(text, str) or not text:
        return []
    try:
        items = json.loads(text)
        return [FunctionShare(str(f), float(s), float(t)) for f, s, t in items]
    except (ValueError, TypeError):
        return []
