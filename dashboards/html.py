"""Assembly of the report: one HTML file that works offline, plotly.js inlined once.

How this works: each figure is rendered with ``plotly.io.to_html(include_plotlyjs=False,
full_html=False)`` (a div and the ``Plotly.newPlot`` call; plotly writes the figure data
as JSON with ``<`` escaped as ``\\u003c``, so no string in it can close the script tag).
The page puts ``plotly.offline.get_plotlyjs()`` in one ``<script>`` in the head, then the
manifest header, then one section per panel. Every string taken from the run (scenario
name and text, labels, reasons, versions) goes through ``html.escape``; nothing in the
page loads from the network.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from importlib import resources
from typing import Any

import plotly.io as pio
import yaml
from plotly.offline import get_plotlyjs

from bench.dashboards.attribution import CSS as ATTRIBUTION_CSS
from bench.dashboards.attribution import attribution_html, toc_links
from bench.dashboards.panels import Panel
from bench.dashboards.run import RunView
from bench.dashboards.tables import failed_lines
from bench.dashboards.theme import DARK, LIGHT, plain_symbols
from bench.runner.results.status import STATUS_KINDS

#: plotly's per-figure options: resize with the window, no plotly logo, PNG export at 2×.
PLOTLY_CONFIG: dict[str, Any] = {
    "responsive": True,
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def _asset(name: str) -> str:
    return (
        resources.files(__package__ or "bench.dashboards")
        .joinpath(name)
        .read_text(encoding="utf-8")
    )


def figure_html(panel: Panel) -> str:
    """The section of one panel: heading, explanation, and the figure's div + script."""
    div = pio.to_html(
        panel.figure,
        include_plotlyjs=False,
        full_html=False,
        config=PLOTLY_CONFIG,
        div_id=f"fig-{panel.key}",
        default_width="100%",
    )
    return (
        f'<section class="card" id="{escape(panel.key)}">\n'
        f"<h2>{escape(panel.title)}</h2>\n"
        f'<p class="explains">{escape(panel.explains)}</p>\n'
        f'<div class="figure">{div}</div>\n</section>'
    )


def _scenario_data(manifest: Mapping[str, Any]) -> dict[str, Any]:
    text = manifest.get("scenario_text")
    try:
        data = yaml.safe_load(text) if isinstance(text, str) else None
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def _get(mapping: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


def manifest_rows(view: RunView) -> list[tuple[str, str]]:
    """(label, value) rows of the header, unescaped; missing facts are left out."""
    m = view.manifest
    scenario = _scenario_data(m)
    env = m.get("environment") if isinstance(m.get("environment"), Mapping) else {}
    pin = m.get("pinning") if isinstance(m.get("pinning"), Mapping) else {}
    engines = sorted({str(e) for e in view.cells.get("engine", []) if isinstance(e, str)})
    cpu = _get(env, "cpu")
    python = _get(env, "python")
    rows: list[tuple[str, Any]] = [
        ("scenario", view.scenario),
        ("description", scenario.get("description")),
        ("workload", _workload(scenario.get("workload"))),
        ("run", m.get("run_id") or view.run_dir.name),
        ("started", m.get("started_at")),
        ("finished", m.get("finished_at")),
        ("status", m.get("status")),
        ("SLO", view.slo.describe() if view.slo else None),
        ("load engine", ", ".join(engines) or None),
        ("CPU", f"{_get(cpu, 'model') or '?'} · {_get(cpu, 'logical') or '?'} logical CPUs"
         if cpu else None),
        ("platform", _get(env, "platform")),
        ("Python", f"{_get(python, 'version')} ({_get(python, 'implementation')})"
         if python else None),
        ("bench", f"{_get(env, 'bench_version') or '?'} · git {_get(env, 'git_sha') or 'unknown'}"
         if env else None),
        ("pinning", _pinning(pin)),
        ("repetitions", _get(m, "options", "repeat") or scenario.get("repeat")),
    ]  # fmt: skip
    return [(k, str(v)) for k, v in rows if v not in (None, "", [])]


def _workload(workload: Any) -> str | None:
    if not isinstance(workload, Mapping):
        return None
    params = workload.get("params") or {}
    extra = ", ".join(f"{k}={v}" for k, v in params.items()) if isinstance(params, Mapping) else ""
    return f"{workload.get('app')}" + (f" ({extra})" if extra else "")


def _pinning(pin: Mapping[str, Any]) -> str | None:
    if not pin:
        return None
    parts = [str(pin.get("mode") or "")]
    if pin.get("note"):
        parts.append(str(pin["note"]))
    else:
        if pin.get("server_cpus"):
            parts.append(f"server on CPUs {pin['server_cpus']}")
        if pin.get("engine_cpus"):
            parts.append(f"engine on CPUs {pin['engine_cpus']}")
    return " · ".join(p for p in parts if p) or None


def header_html(view: RunView) -> str:
    """The manifest header: facts, cell status counts, failed cells, packages, scenario text."""
    rows = "\n".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in manifest_rows(view))
    counts = view.status_counts()
    total = sum(counts.values())
    status = ", ".join(
        f'<span class="{k}">{counts[k]} {escape(k)}</span>' for k in STATUS_KINDS if counts.get(k)
    )
    failed = failed_lines(view.summary)
    failed_html = (
        '<ul class="failed">' + "".join(f"<li>{escape(line)}</li>" for line in failed) + "</ul>"
        if failed
        else ""
    )
    packages = _get(view.manifest, "environment", "packages")
    packages_html = ""
    if isinstance(packages, Mapping) and packages:
        cells = "".join(
            f"<tr><td>{escape(str(k))}</td><td>{escape(str(v))}</td></tr>"
            for k, v in sorted(packages.items())
        )
        packages_html = (
            f'<details><summary>package versions</summary><table class="packages">{cells}'
            "</table></details>"
        )
    text = view.manifest.get("scenario_text")
    scenario_html = (
        f"<details><summary>scenario file</summary><pre>{escape(text)}</pre></details>"
        if isinstance(text, str) and text.strip()
        else ""
    )
    return (
        f'<section class="card"><dl class="manifest">{rows}</dl>\n'
        f'<p class="status">{total} cells: {status or "none"}</p>{failed_html}'
        f"{packages_html}{scenario_html}</section>"
    )


def page(title: str, body: str, *, figures: int, footer: str, css: str = "") -> str:
    """A whole self-contained page: plotly.js inlined once, the report's style and script.

    ``body`` is HTML already escaped by the caller; ``title`` and ``footer`` are plain
    text (escaped here); ``figures`` is how many plotly figures the body holds (the
    browser test and report.js read it); ``css`` is extra style for the page's tables.
    Emoji become plain symbols (``theme.plain_symbols``): the page must read where no
    emoji font is installed.
    """
    title, body, footer = (plain_symbols(t) for t in (title, body, footer))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="bench">
<title>{escape(title)}</title>
<style>
{_asset("report.css")}
{css}
</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head>
<body data-figures="{figures}" data-dark="{escape(json.dumps(DARK))}" \
data-light="{escape(json.dumps(LIGHT))}">
<main>
<h1>{escape(title)}</h1>
{body}
<footer>{escape(footer)}</footer>
</main>
<script type="text/javascript">
{_asset("report.js")}
</script>
</body>
</html>
"""


def render_page(view: RunView, panels: Sequence[Panel], files: str = ".") -> str:
    """The whole report page as a string (``files``: the run folder, relative to the page)."""
    links = [(p.key, p.title) for p in panels] + toc_links(view)  # + dashboards.attribution
    toc = " ".join(f'<a href="#{escape(key)}">{escape(title)}</a>' for key, title in links)
    sections = "\n".join(figure_html(p) for p in panels) + attribution_html(view, files)
    body = f"""<p class="lede">What each server configuration delivers at each load: throughput, latency \
percentiles and the resources it took. Compare configurations within this run; absolute numbers \
move with the machine.</p>
{header_html(view)}
<nav class="toc card">{toc}</nav>
{sections}"""
    return page(
        f"bench report: {view.scenario}",
        body,
        figures=len(panels),
        footer=f"Generated by bench from {view.run_dir.name}. Self-contained: works offline.",
        css=ATTRIBUTION_CSS,
    )
