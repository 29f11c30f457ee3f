"""The per-cell summary: one row per cell over its repetitions (pure), read by the terminal
summary, the dashboard and the plan.

How this works: ``cells.parquet`` has one row per cell × repetition. ``summarize`` groups
them by ``cell_id`` into one row per cell:

- the cell's *status* follows ``bench.runner.results.status.cell_status`` (``status_kind`` and
  ``status_text``);
- throughput is the median of the usable repetitions, with their min and max as spread;
- latency percentiles come from the *merged* histogram of the usable repetitions
  (histograms merge by adding counts; percentiles are never averaged). Only when a cell
  has no histogram rows are the repetitions' own percentiles used (their median), and
  ``merged`` says so;
- numbers of failed cells stay missing (NaN), never 0, so no figure can draw them as 0.

Column names come from ``bench.runner.results.schema``; an absent optional column reads as missing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bench.runner.loadspec import ERROR_KINDS, PERCENTILES
from bench.runner.results.dimensions import CONFIG_COLUMNS, LOAD_COLUMNS, PERCENTILE_COLUMNS
from bench.runner.results.histogram import Histogram
from bench.runner.results.labels import field_value, config_label, load_label, load_value, series_labels
from bench.runner.results.slo import Slo
from bench.runner.results.status import USABLE, cell_status_parts, is_missing, status_kind


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


def _summary_columns() -> list[str]:
    return [
        "cell_id", "cell_index", "config", *CONFIG_COLUMNS, *LOAD_COLUMNS, "load", "load_label",
        "reps", "reps_usable", "status_kind", "status_text", "status_note", "rps", "rps_min", "rps_max",
        "achieved_rate", "served_share", "requests", "errors", *(f"errors_{k}" for k in ERROR_KINDS),
        "error_rate", "latency_mean_us", *PERCENTILE_COLUMNS, "latency_max_us", "latency_resolution_us", "merged",
        "server_cpu_s", "server_cpu_util", "cpu_us_per_request", "server_rss_peak_bytes",
        "engine_cpu", "little_ratio", "ws_connect_p50_us", "connect_mean_us", "connects_per_request",
        "schedule_lag_p99_us", "target_rate_sent",
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
        out[name] = field_value(first, name)
    out["config"] = config_label(first)
    out["load"] = load_value(first)
    out["load_label"] = load_label(first)
    out["reps"] = len(group)
    out["reps_usable"] = len(usable)
    kind, head, note = cell_status_parts([r["status"] for r in group])
    out["status_kind"], out["status_text"], out["status_note"] = kind, head + note, note
    rps = _numbers(usable, "rps")
    nan = float("nan")
    out["rps"] = float(np.median(rps)) if rps else nan
    out["rps_min"] = min(rps) if rps else nan
    out["rps_max"] = max(rps) if rps else nan
    out["achieved_rate"] = _median(usable, "achieved_rate")
    out["served_share"] = _median(usable, "served_share")
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
    for name in (
        "server_cpu_s",
        "server_cpu_util",
        "little_ratio",
        "ws_connect_p50_us",
        "connect_mean_us",
        "connects_per_request",
    ):
        out[name] = _median(usable, name)
    out["schedule_lag_p99_us"] = _max(usable, "schedule_lag_p99_us")
    out["latency_resolution_us"] = _max(usable, "latency_resolution_us")
    target = _numbers([first], "target_rate")
    out["target_rate_sent"] = out["achieved_rate"] / target[0] if target and target[0] else nan
    out["engine_cpu"] = _max(usable, "engine_cpu")
    cpu = _sum(usable, "server_cpu_s")
    measured = bool(_numbers(usable, "server_cpu_s"))  # an external target: never sampled
    out["cpu_us_per_request"] = cpu * 1e6 / out["requests"] if measured and out["requests"] else nan
    out["server_rss_peak_bytes"] = _max(usable, "server_rss_peak_bytes")
    out["slo_pass"] = _slo_pass(out, usable, slo)
    return out


def _slo_pass(values: dict[str, Any], usable: list[dict[str, Any]], slo: Slo | None) -> bool | None:
    if not usable:
        return None
    if slo is not None:
        return slo.verdict(values)
    verdicts = [bool(r["slo_pass"]) for r in usable if not is_missing(r.get("slo_pass"))]
    return all(verdicts) if verdicts else None


