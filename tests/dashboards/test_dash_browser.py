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
import pytest
from dash_synth import HOSTILE_LABEL

from bench.dashboards.report import build_report
from bench.dashboards.theme import DARK

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
