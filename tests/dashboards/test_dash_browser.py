"""The report in a real browser: headless Chromium loads it, renders every figure, logs no
error, fetches nothing, runs no injected script, and a screenshot of it is taken.

Needs Debian's ``chromium`` (``apt-get install chromium``); skipped when it is absent.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path

import dash_cdp
import dash_layout
import pytest
from dash_synth import HOSTILE_LABEL

from bench.dashboards.html import figure_html, page
from bench.dashboards.panels import Panel
from bench.dashboards.plan.page import write_reports
from bench.dashboards.report import build_report
from bench.dashboards.theme import DARK, figure, style
from bench.runner.plan.analysis import build_plan
from bench.runner.results.slo import Slo

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not dash_cdp.CHROMIUM.exists(),
        reason=f"{dash_cdp.CHROMIUM} not installed (Debian package: chromium)",
    ),
]

#: Resolves once every figure has plotly's SVG (or after 20 s), with what the page shows.
RENDERED = """
new Promise((resolve) => {
  const want = Number(document.body.dataset.figures);
  const started = performance.now();
  const describe = (gd) => ({
    id: gd.id,
    traces: gd.data.length,
    drawn: gd.querySelectorAll("g.trace, g.hm, image").length,
    mainSvgs: gd.querySelectorAll("svg.main-svg").length,
    title: (gd.querySelector(".gtitle") || {}).textContent || "",
    xtitles: [...gd.querySelectorAll(".g-xtitle, .g-x2title, .g-x3title")].map(e => e.textContent),
    ytitles: [...gd.querySelectorAll("[class^='g-y'][class$='title']")].map(e => e.textContent),
    legend: [...gd.querySelectorAll(".legendtext")].map(e => e.textContent),
    ticks: [...gd.querySelectorAll(".ytick text")].map(e => e.textContent),
    paper: gd._fullLayout.paper_bgcolor,
    height: gd._fullLayout.height,
  });
  (function check() {
    const plots = [...document.querySelectorAll(".js-plotly-plot")];
    const done = plots.filter(gd => gd._fullLayout && gd.querySelector("svg.main-svg"));
    if (done.length >= want || performance.now() - started > 20000) {
      resolve({
        want, rendered: done.length, plots: plots.map(describe),
        pwned: typeof window.__pwned,
        header: document.querySelector("dl.manifest").innerText,
        background: getComputedStyle(document.body).backgroundColor,
      });
    } else {
      setTimeout(check, 25);
    }
  })();
})
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dash_cdp.Browser]:
    with dash_cdp.chromium(tmp_path_factory.mktemp("chromium-profile")) as b:
        yield b


@pytest.fixture(scope="module")
def report(io_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_report(io_run, tmp_path_factory.mktemp("report") / "report.html")


@pytest.fixture(scope="module")
def desktop(browser: dash_cdp.Browser, report: Path) -> tuple[str, dict]:
    """The report loaded once at 1280×900: (session, what ``RENDERED`` found)."""
    session, _ = browser.open(report.as_uri(), width=1280, height=900)
    return session, browser.evaluate(session, RENDERED)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _by_id(page: dict) -> dict[str, dict]:
    return {plot["id"]: plot for plot in page["plots"]}


def test_every_figure_renders_without_errors(
    browser: dash_cdp.Browser, desktop: tuple[str, dict], tmp_path: Path
) -> None:
    session, page = desktop
    assert page["want"] == 8
    assert page["rendered"] == page["want"] == len(page["plots"])
    for plot in page["plots"]:
        assert plot["mainSvgs"] >= 1, plot["id"]
        assert plot["drawn"] >= 1, f"{plot['id']}: no trace drawn"
        assert plot["title"], f"{plot['id']}: no title"
    log = browser.page_log(session)
    assert log.errors == []
    assert all(url.startswith(("file:", "data:")) for url in log.requests), log.requests
    shot = browser.screenshot(session, tmp_path / "report.png")
    width, height = _png_size(shot)
    assert width == 1280 and height > 8 * 400  # the whole page, every figure


def test_axes_legends_and_units_are_drawn(desktop: tuple[str, dict]) -> None:
    plots = _by_id(desktop[1])
    hockey = plots["fig-latency-throughput"]
    assert hockey["xtitles"] == ["achieved throughput (req/s)"]
    assert "latency (ms)" in hockey["ytitles"]
    assert "✕ failed: prefork sync w1 · c=128" in hockey["legend"]
    assert "saturation point" in hockey["legend"]
    load = plots["fig-throughput-load"]
    assert "throughput (req/s)" in load["ytitles"] and "p99 latency (ms)" in load["ytitles"]
    assert plots["fig-resources"]["ytitles"][-1] == "peak RSS (MiB)"


def test_injected_markup_is_shown_not_run(desktop: tuple[str, dict]) -> None:
    page = desktop[1]
    assert page["pwned"] == "undefined"
    assert "<script>window.__pwned = 1</script>" in page["header"]
    assert HOSTILE_LABEL in _by_id(page)["fig-matrix"]["ticks"]


def test_menu_payloads_are_valid_for_plotly(
    browser: dash_cdp.Browser, desktop: tuple[str, dict]
) -> None:
    session = desktop[0]  # changes the time series figure: runs after the tests that read it
    script = """
    (async () => {
      const gd = document.getElementById("fig-timeseries");
      const menu = gd.layout.updatemenus[0];
      const first = menu.buttons[0];
      await Plotly.restyle(gd, ...first.args);
      return {label: first.label, x: Array.from(gd.data[0].x), expected: first.args[0].x[0],
              drawn: gd.querySelectorAll("g.trace").length};
    })()
    """
    result = browser.evaluate(session, script)
    assert result["x"] == result["expected"] and result["x"]
    assert result["drawn"] >= 3
    assert browser.page_log(session).errors == []


def test_dark_mode_on_a_phone(
    browser: dash_cdp.Browser, report: Path, desktop: tuple[str, dict], tmp_path: Path
) -> None:
    wide = _by_id(desktop[1])
    session, _ = browser.open(report.as_uri(), width=390, height=844, dark=True)
    page = browser.evaluate(session, RENDERED)
    assert page["rendered"] == page["want"]
    assert page["background"] == "rgb(13, 17, 23)"
    assert {plot["paper"] for plot in page["plots"]} == {DARK["paper"]}
    for plot in page["plots"]:  # taller, to make room for the legend's wrapped lines
        assert plot["height"] > wide[plot["id"]]["height"], plot["id"]
    assert browser.page_log(session).errors == []
    width, _ = _png_size(browser.screenshot(session, tmp_path / "phone-dark.png"))
    assert width == 390, json.dumps(page["plots"][0])[:200]


#: The report's figures of ``io_run`` and the plotly type of each of their axes: loads
#: 1-128 and throughputs of ~170 to ~8,500 req/s span more than 10x (log), latencies
#: from ~5 ms to ~2 s (log), 1 and 2 workers do not (linear), 4 and 16 threads do.
REPORT_AXES: dict[str, dict[str, str]] = {
    "fig-matrix": {"xaxis": "category", "yaxis": "category"},
    "fig-latency-throughput": {"xaxis": "log", "yaxis": "log"},
    "fig-throughput-load": {"xaxis": "log", "xaxis2": "log", "yaxis": "linear", "yaxis2": "log"},
    "fig-capacity-workers": {"xaxis": "linear", "xaxis2": "linear", "yaxis": "linear",
                             "yaxis2": "linear"},
    "fig-capacity-threads": {"xaxis": "log", "xaxis2": "log", "yaxis": "linear",
                             "yaxis2": "linear"},
    "fig-spectrum": {"xaxis": "log", "yaxis": "log"},
    "fig-resources": {"xaxis": "log", "xaxis2": "log", "xaxis3": "log", "yaxis": "linear",
                      "yaxis2": "linear", "yaxis3": "linear"},
    "fig-timeseries": {"xaxis": "linear", "xaxis2": "linear", "xaxis3": "linear",
                       "yaxis": "linear", "yaxis2": "linear", "yaxis3": "linear"},
}  # fmt: skip

#: The capacity plan's figures of the same run.
PLAN_AXES: dict[str, dict[str, str]] = {
    "fig-capacity": {"xaxis": "linear", "yaxis": "category"},
    "fig-latency": {"xaxis": "log", "yaxis": "log"},
    "fig-usl-workers": {"xaxis": "linear", "yaxis": "linear"},
    "fig-usl-threads": {"xaxis": "linear", "yaxis": "linear"},
    "fig-usl-concurrency": {"xaxis": "linear", "yaxis": "linear"},
}


@pytest.fixture(scope="module")
def plan_page(io_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    plan = build_plan(io_run, Slo({"p99": 100_000.0}, 0.01), target_rps=3000.0)
    return write_reports(plan, tmp_path_factory.mktemp("plan"))[1]


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("page", ["report", "plan"])
def test_axis_types_and_no_text_overlaps(
    browser: dash_cdp.Browser, report: Path, plan_page: Path, page: str, width: int
) -> None:
    """Every figure, at a desktop and a phone width: the axes have the expected types,
    no two texts (ticks, titles, legend, annotations, tile values, menu buttons) cover
    each other, and none runs past the figure's edge."""
    path, expected = (report, REPORT_AXES) if page == "report" else (plan_page, PLAN_AXES)
    session, _ = browser.open(path.as_uri(), width=width, height=900)
    figures = dash_layout.measure(browser, session)
    assert {fid: fig["axes"] for fid, fig in figures.items()} == expected
    for fid, fig in figures.items():
        assert fig["texts"] >= 5, f"{fid}: too few texts measured"
        assert fig["overlaps"] == [], f"{fid} at {width} px"
        assert fig["outside"] == [], f"{fid} at {width} px: cut off"
    assert browser.page_log(session).errors == []


def test_the_overlap_check_sees_a_collision(browser: dash_cdp.Browser, tmp_path: Path) -> None:
    """The measurement itself: two annotations written on the same spot overlap."""
    fig = figure()
    style(fig, title="two labels on one spot")
    fig.add_scatter(x=[1, 2], y=[1, 2])
    for text in ("first label", "second label"):
        fig.add_annotation(x=1.5, y=1.5, text=text, showarrow=False)
    path = tmp_path / "collide.html"
    path.write_text(page("collision", figure_html(Panel("c", "c", "", fig)), figures=1, footer=""))
    session, _ = browser.open(path.as_uri(), width=1280, height=900)
    overlaps = dash_layout.measure(browser, session)["fig-c"]["overlaps"]
    assert overlaps == [
        'annotation "first label" × annotation "second label" (' + overlaps[0].split("(")[1]
    ]
