"""The comparison view: figures per metric, verdicts highlighted, one self-contained page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.dashboards.compare_view import (
    VERDICT_COLORS,
    build_comparison_report,
    comparison_figures,
)
from bench.runner.compare import Outcome, judge
from bench.runner.compare.render import Context
from bench.runner.results.schema import CELL_COLUMNS, frame
from bench.runner.scenario.gates import Gates

#: Repetitions per side: enough for 2 cells × 6 metrics at the default alpha (0.008).
REPS = 8
CELLS = (("c1", "prefork sync w1"), ("c2", "eventloop w1 <i>uvloop</i>"))


def table(slow: dict[str, float], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = []
    for rep in range(REPS):
        for index, (cell_id, label) in enumerate(CELLS):
            f = 1 + slow.get(cell_id, 0.0)
            j = lambda: float(rng.lognormal(0, 0.02))  # noqa: E731
            out.append(
                {
                    "cell_id": cell_id,
                    "cell_index": index,
                    "repetition": rep,
                    "label": label,
                    "mode": "closed",
                    "concurrency": 16,
                    "status": "ok",
                    "rps": 5000 / f * j(),
                    "p50_us": 1500 * f * j(),
                    "p99_us": 4000 * f * j(),
                    "p999_us": 9000 * f * j(),
                    "error_rate": 0.0,
                    "server_rss_peak_bytes": int(30e6 * j()),
                }
            )
    return frame(out, CELL_COLUMNS)


def test_compare_view_figures_highlight_the_regressed_cell(tmp_path: Path) -> None:
    base, cand = table({}, 1), table({"c2": 0.25}, 2)
    verdicts = judge(base, cand, Gates())
    figures = comparison_figures(verdicts, base, cand)
    titles = [f.layout.title.text for f in figures]
    assert titles[0].startswith("Change per gate")
    assert len(figures) == 1 + 6  # overview + rps, p50, p99, p99.9, error rate, peak RSS
    overview = figures[0]
    regressed = [t for t in overview.data if t.name == "regressed"]
    assert regressed and all("uvloop" in y for y in regressed[0].y)
    assert all("&lt;i&gt;" in y for y in regressed[0].y)  # labels escaped, not markup
    p99 = next(f for f in figures if f.layout.title.text.startswith("p99:"))
    assert [t.name for t in p99.data] == ["baseline", "candidate"]
    assert len(p99.data[0].y) == 2 * REPS and len(p99.data[1].y) == 2 * REPS
    tints = [s.fillcolor for s in p99.layout.shapes]
    assert tints == [VERDICT_COLORS[Outcome.UNCHANGED][1], VERDICT_COLORS[Outcome.REGRESSED][1]]
    assert p99.layout.yaxis.title.text == "p99 (ms)"


def test_compare_view_report_is_one_self_contained_page(tmp_path: Path) -> None:
    base, cand = table({}, 3), table({"c1": 0.3}, 4)
    verdicts = judge(base, cand, Gates())
    ctx = Context("main (abc1234)", "pr (def5678)", "quick", Gates())
    out = build_comparison_report(verdicts, base, cand, tmp_path / "cmp.html", context=ctx)
    page = out.read_text()
    assert page.count("* plotly.js v") == 1  # the library inlined exactly once
    assert page.count("Plotly.newPlot") == 7 and "<script src=" not in page  # no CDN
    assert "bench compare: ✗ 4 regressions" in page  # no emoji: every font has ✗
    assert 'class="regressed"' in page
    assert "&lt;i&gt;uvloop&lt;/i&gt;" in page
