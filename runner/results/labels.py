"""The one format of a cell's labels: its configuration, its load point, its line.

``config_label`` -> ``"prefork sync w2"``; ``load_label`` -> ``"c=32"``, ``"500 req/s"``,
``"c=8 · 1024 B"``; ``series_labels`` -> the line a cell belongs to in a figure. The
terminal summary, the dashboard and the plan all print these.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from bench.runner.results.status import is_missing

#: Servers that serve ASGI by default and WSGI on request: their WSGI cells say so (and
#: prefork's eventloop workers: ``prefork eventloop w1 wsgi``).
SERVES_BOTH: frozenset[str] = frozenset({"eventloop", "granian", "hypercorn"})


def field_value(row: pd.Series | dict[str, Any], name: str) -> Any:
    """``row[name]``, or None when absent or missing."""
    value = row.get(name) if hasattr(row, "get") else None
    return None if is_missing(value) else value


def config_label(row: pd.Series | dict[str, Any]) -> str:
    """The configuration's human label (the ``label`` column, else built from its axes).

    ``prefork thread w2×t8``, ``eventloop w1 uvloop``, ``granian w2 wsgi``: the matrix
    labels its cells with this same function (``ServerPoint.describe``).
    """
    label = field_value(row, "label")
    if label:
        return str(label)
    parts = [str(field_value(row, "server") or "?")]
    if field_value(row, "worker_class"):
        parts.append(str(row["worker_class"]))
    size = []
    if field_value(row, "workers") is not None:
        size.append(f"w{int(row['workers'])}")
    if field_value(row, "threads") is not None:
        size.append(f"t{int(row['threads'])}")
    if size:
        parts.append("×".join(size))
    for name in ("loop", "http"):
        if field_value(row, name):
            parts.append(str(row[name]))
    serves_both = parts[0] in SERVES_BOTH or (
        parts[0] == "prefork" and field_value(row, "worker_class") == "eventloop"
    )
    if serves_both and field_value(row, "interface") == "wsgi":
        parts.append("wsgi")
    return " ".join(parts)


def load_value(row: pd.Series | dict[str, Any]) -> float:
    """The load point as a number: connections (closed loop) or target rate (open loop)."""
    value = field_value(row, "concurrency") if field_value(row, "mode") != "open" else None
    if value is None:
        value = field_value(row, "target_rate")
    if value is None:
        value = field_value(row, "concurrency")
    return float(value) if value is not None else float("nan")


def load_label(row: pd.Series | dict[str, Any]) -> str:
    """``"c=32"``, ``"500 req/s"``, ``"c=8 · 1024 B"`` (WebSocket message size), ``"search"``."""
    if field_value(row, "mode") == "search":  # the rate is found per cell
        return "search"
    if field_value(row, "mode") == "open" and field_value(row, "target_rate") is not None:
        text = f"{float(row['target_rate']):g} req/s"
    elif field_value(row, "concurrency") is not None:
        text = f"c={int(row['concurrency'])}"
    else:
        text = "?"
    if field_value(row, "message_size") is not None:
        text += f" · {int(row['message_size'])} B"
        if field_value(row, "message_rate") is not None:
            text += f" @{float(row['message_rate']):g}/s"
    return text


def series_labels(summary: pd.DataFrame) -> list[str]:
    """The line each cell belongs to: its configuration, plus the secondary load axes
    (WebSocket message size and rate) when the run varies them, so that a line only
    walks along the primary load (connections or arrival rate)."""
    varying = [c for c in ("message_size", "message_rate") if summary[c].nunique() > 1]
    labels: list[str] = []
    for _, row in summary.iterrows():
        label = str(row["config"])
        if "message_size" in varying and not is_missing(row["message_size"]):
            label += f" · {int(row['message_size'])} B"
        if "message_rate" in varying and not is_missing(row["message_rate"]):
            label += f" @{float(row['message_rate']):g} msg/s"
        labels.append(label)
    return labels
