"""The environment fingerprint of a run: the facts that change what a benchmark measures.

``fingerprint(environment, pinning)`` flattens what the manifest's ``environment``
already holds (CPU model and count, Python, packages) and adds what it did not: the
kernel, the CPU frequency governor and frequencies where ``/sys`` shows them, the CPU
affinity and pinning of the run, and a short machine id (a hash: the host's name never
leaves the machine). Every value is a string, so two fingerprints compare key by key
(``bench.runner.compare.drift``). Missing facts are ``"unknown"``, never guessed.
"""

from __future__ import annotations

import hashlib
import platform
from pathlib import Path
from typing import Any

#: Where Linux shows CPU 0's frequency scaling.
CPUFREQ = Path("/sys/devices/system/cpu/cpu0/cpufreq")
#: Written for a fact that cannot be read.
UNKNOWN = "unknown"
#: Keys that identify the machine itself (a difference means "another machine").
MACHINE_KEYS: tuple[str, ...] = ("machine", "cpu.model", "cpu.logical")


def _read(path: Path) -> str:
    try:
        return path.read_text().strip() or UNKNOWN
    except OSError:
        return UNKNOWN


def _mhz(text: str) -> str:
    return f"{int(text) // 1000} MHz" if text.isdigit() else UNKNOWN


def machine_id() -> str:
    """12 hex digits identifying this machine (hash of /etc/machine-id and the host name)."""
    seed = _read(Path("/etc/machine-id")) + "|" + platform.node()
    return hashlib.sha256(seed.encode()).hexdigest()[:12]


def cpu_frequency() -> dict[str, str]:
    """Governor, current and maximum frequency of CPU 0 (``unknown`` when not shown)."""
    return {
        "cpu.governor": _read(CPUFREQ / "scaling_governor"),
        "cpu.freq_cur": _mhz(_read(CPUFREQ / "scaling_cur_freq")),
        "cpu.freq_max": _mhz(_read(CPUFREQ / "cpuinfo_max_freq")),
    }


def fingerprint(environment: dict[str, Any], pinning: dict[str, Any] | None) -> dict[str, str]:
    """The flat fingerprint of a run from its manifest's environment and pinning."""
    cpu = environment.get("cpu") or {}
    python = environment.get("python") or {}
    out = {
        "machine": machine_id(),
        "cpu.model": str(cpu.get("model") or UNKNOWN),
        "cpu.logical": str(cpu.get("logical") or UNKNOWN),
        "cpu.available": ",".join(str(c) for c in cpu.get("available") or ()) or UNKNOWN,
        **cpu_frequency(),
        "kernel": platform.release() or UNKNOWN,
        "python": f"{python.get('implementation', '')} {python.get('version', '')}".strip()
        or UNKNOWN,
        "pinning": _pinning(pinning),
    }
    for name, version in sorted((environment.get("packages") or {}).items()):
        out[f"package.{name}"] = str(version)
    return out


def _pinning(pinning: dict[str, Any] | None) -> str:
    if not pinning:
        return UNKNOWN
    parts = [f"{k}={pinning[k]}" for k in sorted(pinning) if k != "note"]
    return " ".join(parts) or UNKNOWN
