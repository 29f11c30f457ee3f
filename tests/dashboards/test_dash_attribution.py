"""The report's worker balance and profile sections."""

from __future__ import annotations

from bench.dashboards.attribution import balance_html, profiles_html
from bench.runner.results.attribution import Balance, CellProfile
from bench.runner.results.profile import FunctionShare


def _balance(workers: int, cpu: list[float]) -> Balance:
    return Balance(
        "a", "prefork sync w2", "c=8", workers, cpu, [0.8, 0.2], 12_000.0, None, None, 0.004, 800.0
    )


def test_balance_table_shades_the_overloaded_worker_beside_p99() -> None:
    html = balance_html([_balance(2, [0.75, 0.25]), _balance(1, [1.0])])
    assert html.count("<tr>") == 2  # header + the one multi-worker cell
    assert '<span class="share hot">75%</span>' in html
    assert '<span class="share">25%</span>' in html
    assert "12 ms" in html and "4.0 ms (max 800 µs)" in html
    assert balance_html([_balance(1, [1.0])]) == ""


def test_profile_block_links_files_and_lists_top_functions_escaped() -> None:
    p = CellProfile(
        "a",
        0,
        "prefork sync w2",
        "c=8",
        "profiles/a-r0.svg",
        "profiles/a-r0.speedscope.json",
        420,
        1000.0,
        880.0,
        0.12,
        None,
        [FunctionShare("<lambda> (app.py)", 0.5, 0.9)],
    )
    gone = CellProfile(
        "b",
        0,
        "uvicorn w2",
        "c=8",
        None,
        None,
        None,
        None,
        None,
        None,
        "py-spy cannot attach: no ptrace permission",
        [],
    )
    html = profiles_html([p, gone])
    assert '<a href="profiles/a-r0.svg">flamegraph (SVG)</a>' in html
    assert 'href="profiles/a-r0.speedscope.json"' in html
    assert "&lt;lambda&gt; (app.py)" in html and "<lambda>" not in html
    assert "Profiling cost 12.0% of throughput" in html
    assert "no profile: py-spy cannot attach: no ptrace permission" in html
    assert profiles_html([]) == ""


def test_the_compare_page_section_lists_grown_and_shrunk_functions() -> None:
    from bench.dashboards.profile_diff_view import diff_html
    from bench.runner.compare.profile_diff import CellDiff, FunctionDelta

    d = CellDiff(
        "c1",
        "prefork sync w2 · c=8",
        True,
        [FunctionDelta("audit <x>", 0.0, 0.3)],
        [FunctionDelta("burn", 0.7, 0.45)],
    )
    html = diff_html([d])
    assert '<tr class="grew"><td class="fn">audit &lt;x&gt;</td>' in html
    assert "+30.0 pp" in html and "-25.0 pp" in html and "regressed" in html
    assert diff_html([]) == ""


def test_links_follow_a_report_written_outside_the_run_folder() -> None:
    p = CellProfile(
        "a", 0, "prefork sync w2", "c=8", "profiles/a-r0.svg", None, 10, None, None, None, None, []
    )
    assert 'href="../run-1/profiles/a-r0.svg"' in profiles_html([p], "../run-1")
    assert 'href="profiles/a-r0.svg"' in profiles_html([p], ".")
