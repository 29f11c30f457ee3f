"""The limits of what a run measured, stated next to every plan (pure).

A capacity plan is only as good as the measurements under it. This module lists what
the reader must know before trusting the numbers: the machine's cores and how they were
split, worker counts beyond the server's CPU set (contention, not scaling), engine-bound
cells (lower bounds), capacities that are lower bounds, refused USL fits, closed-loop
latencies and Little's-law deviations, failed cells, and how many repetitions (how much
of the machine's noise) the numbers carry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bench.runner.plan.capacity import Capacity, little_deviations
from bench.runner.plan.scaling import ScalingFit

#: Coefficient of variation of a cell's throughput over repetitions above which the
#: run is called noisy.
NOISY_CV = 0.10


@dataclass(frozen=True, slots=True)
class Limit:
    """One limit: a short kind (``cores``, ``engine-bound``, …) and what it means."""

    kind: str
    text: str


def _get(mapping: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


def machine_limit(manifest: Mapping[str, Any]) -> Limit | None:
    """The machine's CPUs and how server and engine shared them."""
    logical = _get(manifest, "environment", "cpu", "logical")
    model = _get(manifest, "environment", "cpu", "model")
    pin = _get(manifest, "pinning") or {}
    if logical is None and not pin:
        return None
    text = f"measured on {logical or '?'} logical CPUs"
    if model:
        text += f" ({model})"
    mode = pin.get("mode") if isinstance(pin, Mapping) else None
    server, engine = _get(pin, "server_cpus"), _get(pin, "engine_cpus")
    if server and engine:
        text += f"; server pinned to CPU {server}, load engine to CPU {engine}"
    elif mode == "none":
        text += "; not pinned: server and load engine shared the CPUs, the engine's CPU use came out of the server's"
    if pin.get("note") if isinstance(pin, Mapping) else None:
        text += f" ({pin['note']})"
    return Limit(
        "cores", text + ". A bigger machine gives other absolute numbers; re-measure there."
    )


def _workers_limit(caps: Sequence[Capacity], logical: int | None) -> Limit | None:
    beyond: list[str] = []
    cpus_seen: set[int] = set()
    for cap in caps:
        workers = cap.dims.get("workers")
        cpus = cap.server_cpus or logical
        if workers is None or pd.isna(workers) or cpus is None:
            continue
        if int(workers) > cpus:
            beyond.append(cap.config)
            cpus_seen.add(cpus)
    if not beyond:
        return None
    cpus_text = "/".join(str(c) for c in sorted(cpus_seen))
    return Limit(
        "cores",
        f"worker scaling beyond the server's CPU set ({cpus_text} CPU) cannot be shown: "
        f"{', '.join(beyond)} — more workers than CPUs, so the extra workers share the same "
        "CPUs; for CPU-bound work that is contention, not scaling",
    )


def _noise_limits(cells: pd.DataFrame) -> list[Limit]:
    usable = cells[cells["status"].isin(["ok", "engine-bound"])]
    if usable.empty:
        return []
    reps = usable.groupby("cell_id")["repetition"].nunique()
    if int(reps.max()) <= 1:
        return [
            Limit(
                "noise",
                "one repetition per cell: the run-to-run spread of this machine is not "
                "measured, so differences of a few percent mean nothing; use repeat: 3 or more",
            )
        ]
    stats = usable.groupby("cell_id")["rps"].agg(["mean", "std", "count"])
    stats = stats[stats["count"] > 1]
    cv = (stats["std"] / stats["mean"]).dropna()
    if len(cv) and float(cv.max()) > NOISY_CV:
        return [
            Limit(
                "noise",
                f"throughput varied by up to {float(cv.max()):.0%} (coefficient of variation) "
                "between repetitions of a cell: the machine was noisy; read capacities with "
                "their min–max",
            )
        ]
    return []


def external_limit(cells: pd.DataFrame) -> Limit | None:
    """Servers bench did not start: measured from outside, their resources unknown."""
    if cells.empty or "server_kind" not in cells:
        return None
    labels = sorted(set(cells.loc[cells["server_kind"] == "external", "label"].dropna()))
    if not labels:
        return None
    return Limit(
        "external",
        f"{', '.join(labels)}: a server bench did not start (an external target): its "
        "capacity is what this load host measured through the network, and its CPU and "
        "memory were not measured, so the plan cannot size its instances' resources",
    )


def limits(
    manifest: Mapping[str, Any],
    summary: pd.DataFrame,
    cells: pd.DataFrame,
    caps: Sequence[Capacity],
    fits: Sequence[ScalingFit],
) -> list[Limit]:
    """Everything that bounds what the plan can say, most fundamental first."""
    out: list[Limit] = []
    machine = machine_limit(manifest)
    if machine:
        out.append(machine)
    logical = _get(manifest, "environment", "cpu", "logical")
    workers = _workers_limit(caps, int(logical) if isinstance(logical, int) else None)
    if workers:
        out.append(workers)
    external = external_limit(cells)
    if external:
        out.append(external)
    if not summary.empty:
        bound = summary[summary["status_kind"] == "engine-bound"]
        if len(bound):
            names = ", ".join(f"{r.config} · {r.load_label}" for r in bound.itertuples())
            out.append(
                Limit(
                    "engine-bound",
                    f"the load engine was the bottleneck in {len(bound)} cell(s) ({names}): "
                    "their throughput is a lower bound on the server's",
                )
            )
    for cap in caps:
        if cap.lower_bound:
            todo = (
                "give the load engine more CPUs or processes to find the real limit"
                if "engine" in cap.bound_reason
                else "measure higher loads to find the real limit"
            )
            out.append(
                Limit(
                    "lower bound",
                    f"{cap.config}: {cap.capacity_rps:,.0f} req/s is a lower bound — "
                    f"{cap.bound_reason}; {todo}",
                )
            )
    if any(c.source == "closed" for c in caps):
        out.append(
            Limit(
                "closed loop",
                "capacities from closed-loop cells use latencies measured with N connections "
                "back to back (service time under N connections), not the latencies users "
                "would see at that arrival rate; confirm with an open-loop search "
                "(load: {mode: search})",
            )
        )
    for config, load, ratio in little_deviations(summary):
        out.append(
            Limit(
                "little's law",
                f"{config} · {load}: throughput × mean latency / connections = {ratio:.2f} "
                "(expected ≈ 1): the connections were not all busy, or the timing is off",
            )
        )
    for fit in fits:
        for reason in fit.refusals:
            out.append(Limit("usl refused", f"{fit.family} over {fit.axis}: {reason}"))
    for cap in caps:
        for note in cap.notes:
            out.append(Limit("note", f"{cap.config}: {note}"))
    out.extend(_noise_limits(cells))
    return out
