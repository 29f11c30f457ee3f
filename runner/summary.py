"""The end-of-run summary: one line per cell across its repetitions (pure).

Throughput is summarised by the median and the min–max of the repetitions; latency
percentiles come from the cell's histograms merged across repetitions — percentiles are
never averaged. A cell's status is the worst of its repetitions (failed > engine-bound
> ok); a cell with some failed repetitions says how many.
"""

from __future__ import annotations

import statistics
from typing import Any

import pandas as pd

from runner.engines.native.histogram import Histogram


def _load_text(row: pd.Series) -> str:
    if row["mode"] == "open":
        return f"rate={float(row['target_rate']):g}/s"
    text = f"c={int(row['concurrency'])}" if not pd.isna(row["concurrency"]) else ""
    if not pd.isna(row.get("message_size")):
        text += f" ws {int(row['message_size'])}B"
    return text


def _status(statuses: list[str]) -> str:
    failed = [s for s in statuses if s.startswith("failed")]
    skipped = [s for s in statuses if s.startswith("skipped")]
    if skipped and len(skipped) == len(statuses):
        return skipped[0]
    if failed:
        prefix = "" if len(failed) == len(statuses) else f"{len(failed)}/{len(statuses)} "
        return f"{prefix}{failed[0]}"
    if "engine-bound" in statuses:
        return "engine-bound"
    return "ok"


def summarize(cells: pd.DataFrame, histograms: pd.DataFrame) -> list[dict[str, Any]]:
    """One dict per cell (in matrix order) for ``runner.progress.render_summary``."""
    out: list[dict[str, Any]] = []
    if cells.empty:
        return out
    by_cell = {cid: df for cid, df in histograms.groupby("cell_id")} if len(histograms) else {}
    for cell_id, group in cells.sort_values(["cell_index", "repetition"]).groupby(
        "cell_id", sort=False
    ):
        first = group.iloc[0]
        statuses = [str(s) for s in group["status"]]
        ok = group[~group["status"].str.startswith(("failed", "skipped"))]
        rps = [float(v) for v in ok["rps"].dropna()]
        reps_ok = {int(r) for r in ok["repetition"]}
        hist_rows = by_cell.get(cell_id)
        p50 = p99 = None
        if hist_rows is not None:
            hist_rows = hist_rows[hist_rows["repetition"].isin(reps_ok)]
            if len(hist_rows):
                hist = Histogram.from_pairs(
                    zip(hist_rows["value_us"].tolist(), hist_rows["count"].tolist(), strict=True)
                )
                p50, p99 = hist.percentile(50.0), hist.percentile(99.0)
        cpu = [float(v) for v in ok["server_cpu_util"].dropna()]
        verdicts = [bool(v) for v in ok["slo_pass"].dropna()]
        per_request = [float(v) for v in ok["server_cpu_per_request_us"].dropna()]
        out.append(
            {
                "cell_id": cell_id,
                "label": str(first["label"]),
                "load": _load_text(first),
                "reps": len(group),
                "reps_ok": len(rps),
                "rps_median": statistics.median(rps) if rps else None,
                "rps_min": min(rps) if rps else None,
                "rps_max": max(rps) if rps else None,
                "p50_us": p50,
                "p99_us": p99,
                "errors": int(ok["errors"].fillna(0).sum()) if len(ok) else 0,
                "server_cpu_util": statistics.median(cpu) if cpu else None,
                "cpu_per_request_us": statistics.median(per_request) if per_request else None,
                "slo": ("pass" if all(verdicts) else "fail") if verdicts else "",
                "status": _status(statuses),
            }
        )
    return out
