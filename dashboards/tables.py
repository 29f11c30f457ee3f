"""From the results tables to what the figures plot: one summary row per cell (pure).

How this works: ``cells.parquet`` has one row per cell × repetition. ``summarize`` groups
them by ``cell_id`` into one row per cell:

- the cell's *status* is ``failed`` (or ``skipped``) only when no repetition produced
  numbers, ``engine-bound`` when any usable repetition was engine-bound (its numbers are a
  lower bound on the server), else ``ok``; ``status_text`` keeps the reason;
- throughput is the median of the usable repetitions, with their min and max as spread;
- latency percentiles come from the *merged* histogram of the usable repetitions
  (histograms merge by adding counts; percentiles are never averaged). Only when a cell
  has no histogram rows are the repetitions' own percentiles used (their median), and
  ``merged`` says so;
- numbers of failed cells stay missing (NaN), never 0, so no figure can draw them as 0.

Column names come from ``runner.results``; an absent optional column reads as missing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dashboards.slo import Slo
from runner.engines.native.histogram import Histogram
from runner.loadspec import ERROR_KINDS, PERCENTILES
from runner.results import CELL_COLUMNS

#: Cell status kinds, in the order legends list them.
STATUS_KINDS: tuple[str, ...] = ("ok", "engine-bound", "failed", "skipped")
#: Kinds whose repetitions carry numbers.
USABLE: frozenset[str] = frozenset({"ok", "engine-bound"})
#: Percentile columns of the summary, from the engine contract (p50_us, p90_us, …).
PERCENTILE_COLUMNS: tuple[str, ...] = tuple(f"{key}_us" for key, _ in PERCENTILES)
#: Columns that name a cell's server configuration (from the results schema).
CONFIG_COLUMNS: tuple[str, ...] = (
    "label",
    "server",
    "server_kind",
    "worker_class",
    "workers",
    "threads",
    "loop",
    "interface",
    "http",
)
#: Columns that name a cell's load point.
LOAD_COLUMNS: tuple[str, ...] = (
    "mode",
    "concurrency",
    "target_rate",
    "message_size",
    "message_rate",
)
#: Closed loop: |rps × mean latency / concurrency − 1| above this is shown as a warning.
LITTLE_TOLERANCE = 0.25

_SCHEMA = {c.name for c in CELL_COLUMNS}
assert set(CONFIG_COLUMNS) | set(LOAD_COLUMNS) <= _SCHEMA


def status_kind(status: object) -> str:
    """``"failed: crashed"`` -> ``"failed"``; unknown or missing -> ``"failed"``."""
    text = "" if _missing(status) else str(status).strip()
    kind = text.split(":", 1)[0].strip()
    return kind if kind in STATUS_KINDS else "failed"


def status_reason(status: object) -> str:
    """The text after ``failed:`` / ``skipped:`` (empty for ok and engine-bound)."""
    text = "" if _missing(status) else str(status)
    _, sep, reason = text.partition(":")
    return reason.strip() if sep else ""


def _missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def _get(row: pd.Series | dict[str, Any], name: str) -> Any:
    value = row.get(name) if hasattr(row, "get") else None
    return None if _missing(value) else value


def config_label(row: pd.Series | dict[str, Any]) -> str:
    """The configuration's human label (the ``label`` column, else built from its axes)."""
    label = _get(row, "label")
    if label:
        return str(label)
    parts = [str(_get(row, "server") or "?")]
    if _get(row, "worker_class"):
        parts.append(str(row["worker_class"]))
    size = []
    if _get(row, "workers") is not None:
        size.append(f"w{int(row['workers'])}")
    if _get(row, "threads") is not None:
        size.append(f"t{int(row['threads'])}")
    if size:
        parts.append("×".join(size))
    for name in ("loop", "http"):
        if _get(row, name):
            parts.append(str(row[name]))
    return " ".join(parts)


def load_value(row: pd.Series | dict[str, Any]) -> float:
    """The load point as a number: connections (closed loop) or target rate (open loop)."""
    value = _get(row, "concurrency") if _get(row, "mode") != "open" else None
    if value is None:
        value = _get(row, "target_rate")
    if value is None:
        value = _get(row, "concurrency")
    return float(value) if value is not None else float("nan")


def load_label(row: pd.Series | dict[str, Any]) -> str:
    """``"c=32"``, ``"500 req/s"``, ``"c=8 · 1024 B"`` (WebSocket message size)."""
    if _get(row, "mode") == "open" and _get(row, "target_rate") is not None:
        text = f"{float(row['target_rate']):g} req/s"
    elif _get(row, "concurrency") is not None:
        text = f"c={int(row['concurrency'])}"
    else:
        text = "?"
    if _get(row, "message_size") is not None:
        text += f" · {int(row['message_size'])} B"
        if _get(row, "message_rate") is not None:
            text += f" @{float(row['message_rate']):g}/s"
    return text


def rate_unit(summary: pd.DataFrame) -> str:
    """``msg/s`` when every cell is a WebSocket cell (a round-trip per message), else ``req/s``."""
    ws = is_websocket(summary)
    return "msg/s" if len(summary) and bool(ws.all()) else "req/s"


def load_axis_title(mode: str) -> str:
    """Axis title of the load point: connections or target arrival rate."""
    return "target rate (req/s)" if mode == "open" else "concurrency (connections)"


def merged_histograms(
    histograms: pd.DataFrame, keys: Iterable[tuple[str, int]]
) -> dict[str, Histogram]:
    """Per cell_id, the merged histogram of the given (cell_id, repetition) pairs."""
    wanted = set(keys)
    if histograms.empty or not wanted:
        return {}
    keys = pd.MultiIndex.from_arrays(
        [histograms["cell_id"].astype(object), histograms["repetition"].astype("int64")]
    )
    df = histograms[keys.isin(list(wanted))]
    sums = df.groupby([df["cell_id"].astype(object), "value_us"], sort=True)["count"].sum()
    sums = sums[sums > 0]
    out: dict[str, Histogram] = {}
    for cell_id, counts in sums.groupby(level=0, sort=False):
        values = counts.index.get_level_values(1).to_numpy(dtype=np.int64)
        out[str(cell_id)] = Histogram(values, counts.to_numpy(dtype=np.int64))
    return out


def spectrum(hist: Histogram, points: int = 80) -> tuple[list[float], list[float]]:
    """HDR-style percentile spectrum: (``1 in N`` values, latency µs) from p0 up to the max.

    ``1 in N`` is ``1 / (1 − percentile)``: 10 is p90, 1000 is p99.9; the grid includes
    p50 and every ``10^k`` exactly. The last point is the largest value, at ``1 in total``.
    """
    total = hist.total
    if total == 0:
        return [], []
    top = max(1.0, float(total))
    marks = [2.0] + [10.0**k for k in range(1, int(math.log10(top)) + 1)]  # p50, p90, p99…
    grid = np.concatenate(
        [np.logspace(0.0, math.log10(top), points), [m for m in marks if m < top]]
    )
    ns = np.unique(np.round(grid, 6))
    xs: list[float] = []
    ys: list[float] = []
    for n in ns:
        pct = 100.0 * (1.0 - 1.0 / float(n))
        xs.append(float(n))
        ys.append(hist.percentile(pct))
    xs.append(top)
    ys.append(float(hist.values[-1]))
    return xs, ys


def summarize(
    cells: pd.DataFrame,
    histograms: pd.DataFrame,
    slo: Slo | None = None,
    *,
    merged: Mapping[str, Histogram] | None = None,
) -> pd.DataFrame:
    """One row per cell (see the module docstring); ordered by the matrix (``cell_index``).

    ``merged`` may pass the cells' merged histograms when the caller already has them.
    """
    if cells.empty:
        return pd.DataFrame(columns=[*_summary_columns(), "series"])
    kinds = cells["status"].map(status_kind)
    if merged is None:
        usable_keys = [
            (str(c), int(r))
            for c, r, k in zip(cells["cell_id"], cells["repetition"], kinds, strict=True)
            if k in USABLE
        ]
        merged = merged_histograms(histograms, usable_keys)
    groups: dict[str, list[dict[str, Any]]] = {}
    records = cells.assign(_kind=kinds).sort_values(["cell_index", "repetition"], kind="stable")
    for record in records.to_dict("records"):
        groups.setdefault(str(record["cell_id"]), []).append(record)
    rows = [_summarize_cell(c, group, merged.get(c), slo) for c, group in groups.items()]
    summary = pd.DataFrame(rows, columns=_summary_columns())
    summary["series"] = series_labels(summary)
    return summary


def series_labels(summary: pd.DataFrame) -> list[str]:
    """The line each cell belongs to: its configuration, plus the secondary load axes
    (WebSocket message size and rate) when the run varies them, so that a line only
    walks along the primary load (connections or arrival rate)."""
    varying = [c for c in ("message_size", "message_rate") if summary[c].nunique() > 1]
    labels: list[str] = []
    for _, row in summary.iterrows():
        label = str(row["config"])
        if "message_size" in varying and not _missing(row["message_size"]):
            label += f" · {int(row['message_size'])} B"
        if "message_rate" in varying and not _missing(row["message_rate"]):
            label += f" @{float(row['message_rate']):g} msg/s"
        labels.append(label)
    return labels


def _summary_columns() -> list[str]:
    return [
        "cell_id", "cell_index", "config", *CONFIG_COLUMNS, *LOAD_COLUMNS, "load", "load_label",
        "reps", "reps_usable", "status_kind", "status_text", "rps", "rps_min", "rps_max",
        "achieved_rate", "requests", "errors", *(f"errors_{k}" for k in ERROR_KINDS),
        "error_rate", "latency_mean_us", *PERCENTILE_COLUMNS, "latency_max_us", "merged",
        "server_cpu_s", "server_cpu_util", "cpu_us_per_request", "server_rss_peak_bytes",
        "engine_cpu", "little_ratio", "ws_connect_p50_us", "schedule_lag_p99_us", "target_rate_sent",
        "duration_s", "warmup_s",
        "server_cpus", "slo_pass",
    ]  # fmt: skip


def _numbers(rows: Sequence[dict[str, Any]], name: str) -> list[float]:
    """The non-missing numeric values of ``name`` in ``rows``."""
    out: list[float] = []
    for row in rows:
        value = row.get(name)
        if value is None or value is pd.NA or isinstance(value, bool | str):
            continue
        number = float(value)
        if not math.isnan(number):
            out.append(number)
    return out


def _median(rows: Sequence[dict[str, Any]], name: str) -> float:
    values = _numbers(rows, name)
    return float(np.median(values)) if values else float("nan")


def _max(rows: Sequence[dict[str, Any]], name: str) -> float:
    values = _numbers(rows, name)
    return max(values) if values else float("nan")


def _sum(rows: Sequence[dict[str, Any]], name: str) -> float:
    return float(sum(_numbers(rows, name))) if rows else float("nan")


def _summarize_cell(
    cell_id: str, group: list[dict[str, Any]], hist: Histogram | None, slo: Slo | None
) -> dict[str, Any]:
    first = group[0]
    usable = [r for r in group if r["_kind"] in USABLE]
    out: dict[str, Any] = {"cell_id": cell_id, "cell_index": int(first["cell_index"])}
    for name in (*CONFIG_COLUMNS, *LOAD_COLUMNS, "duration_s", "warmup_s", "server_cpus"):
        out[name] = _get(first, name)
    out["config"] = config_label(first)
    out["load"] = load_value(first)
    out["load_label"] = load_label(first)
    out["reps"] = len(group)
    out["reps_usable"] = len(usable)
    out["status_kind"], out["status_text"] = _cell_status(group, usable)
    rps = _numbers(usable, "rps")
    nan = float("nan")
    out["rps"] = float(np.median(rps)) if rps else nan
    out["rps_min"] = min(rps) if rps else nan
    out["rps_max"] = max(rps) if rps else nan
    out["achieved_rate"] = _median(usable, "achieved_rate")
    for name in ("requests", "errors", *(f"errors_{k}" for k in ERROR_KINDS)):
        out[name] = _sum(usable, name)
    attempts = out["requests"] + out["errors"]
    out["error_rate"] = out["errors"] / attempts if usable and attempts > 0 else nan
    if hist is not None and hist.total > 0:
        summary = hist.summary()
        for key, _ in PERCENTILES:
            out[f"{key}_us"] = summary[key]
        out["latency_mean_us"] = summary["mean"]
        out["latency_max_us"] = summary["max"]
        out["merged"] = True
    else:
        for name in (*PERCENTILE_COLUMNS, "latency_mean_us"):
            out[name] = _median(usable, name)
        out["latency_max_us"] = _max(usable, "latency_max_us")
        out["merged"] = False
    for name in ("server_cpu_s", "server_cpu_util", "little_ratio", "ws_connect_p50_us"):
        out[name] = _median(usable, name)
    out["schedule_lag_p99_us"] = _max(usable, "schedule_lag_p99_us")
    target = _numbers([first], "target_rate")
    out["target_rate_sent"] = out["achieved_rate"] / target[0] if target and target[0] else nan
    out["engine_cpu"] = _max(usable, "engine_cpu")
    cpu = _sum(usable, "server_cpu_s")
    out["cpu_us_per_request"] = cpu * 1e6 / out["requests"] if usable and out["requests"] else nan
    out["server_rss_peak_bytes"] = _max(usable, "server_rss_peak_bytes")
    out["slo_pass"] = _slo_pass(out, usable, slo)
    return out


def _cell_status(group: list[dict[str, Any]], usable: list[dict[str, Any]]) -> tuple[str, str]:
    if not usable:
        kind = "skipped" if all(r["_kind"] == "skipped" for r in group) else "failed"
        reasons = sorted({status_reason(r["status"]) for r in group} - {""})
        return kind, f"{kind}: {'; '.join(reasons) or 'no reason recorded'}"
    failed = [r for r in group if r["_kind"] not in USABLE]
    note = ""
    if failed:
        reasons = sorted({status_reason(r["status"]) for r in failed} - {""})
        note = f" ({len(failed)} of {len(group)} repetitions failed: {'; '.join(reasons)})"
    if any(r["_kind"] == "engine-bound" for r in usable):
        return "engine-bound", "engine-bound: the load generator was the bottleneck" + note
    return "ok", "ok" + note


def _slo_pass(values: dict[str, Any], usable: list[dict[str, Any]], slo: Slo | None) -> bool | None:
    if not usable:
        return None
    if slo is not None:
        return slo.verdict(values)
    verdicts = [bool(r["slo_pass"]) for r in usable if not _missing(r.get("slo_pass"))]
    return all(verdicts) if verdicts else None


def ordered_configs(summary: pd.DataFrame) -> list[str]:
    """Configuration labels in matrix order (the order the scenario lists them)."""
    return list(dict.fromkeys(summary.sort_values("cell_index", kind="stable")["config"]))


def ordered_series(summary: pd.DataFrame) -> list[str]:
    """Line labels (``series``) grouped by configuration in matrix order."""
    if summary.empty:
        return []
    ordered = summary.sort_values(["cell_index"], kind="stable")
    return [
        s
        for c in ordered_configs(summary)
        for s in dict.fromkeys(ordered[ordered["config"] == c]["series"])
    ]


def is_websocket(summary: pd.DataFrame) -> pd.Series:
    """True for the cells of a WebSocket workload (they have a message size)."""
    return summary["message_size"].notna() if "message_size" in summary else pd.Series(False)


def server_cpu_count(summary: pd.DataFrame) -> int | None:
    """How many CPUs the server was pinned to (the smallest over cells), or None."""
    from runner.units import parse_cpus

    counts: list[int] = []
    for text in summary.get("server_cpus", pd.Series(dtype=object)).dropna():
        try:
            counts.append(len(parse_cpus(str(text))))
        except ValueError:
            continue
    return min(counts) if counts else None


def failed_lines(summary: pd.DataFrame, kinds: Sequence[str] = ("failed", "skipped")) -> list[str]:
    """``"prefork sync w1 · c=512 — failed: server exited (code 1)"`` per unusable cell."""
    rows = summary[summary["status_kind"].isin(kinds)]
    return [f"✕ {r.config} · {r.load_label} — {r.status_text}" for r in rows.itertuples()]
