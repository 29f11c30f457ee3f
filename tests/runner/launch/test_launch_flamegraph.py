"""The flamegraph SVG drawn from a profile's stacks."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bench.runner.launch.flamegraph import WIDTH_PX, flamegraph_svg
from bench.runner.results.profile import Profile

NS = "{http://www.w3.org/2000/svg}"


def _boxes(svg: str) -> dict[str, float]:
    """Function -> box width, from each box's <title>."""
    root = ET.fromstring(svg)
    out: dict[str, float] = {}
    for g in root.iter(f"{NS}g"):
        title = g.find(f"{NS}title").text or ""
        rect = g.find(f"{NS}rect")
        out[title.split(" — ")[0]] = float(rect.get("width"))
    return out


def test_box_widths_are_shares_of_all_samples() -> None:
    profile = Profile({("main", "handle", "burn"): 3.0, ("main", "handle"): 1.0}, samples=4)
    svg = flamegraph_svg(profile, "cell x")
    boxes = _boxes(svg)
    assert boxes["all"] == pytest.approx(WIDTH_PX, abs=0.1)
    assert boxes["main"] == pytest.approx(WIDTH_PX, abs=0.1)
    assert boxes["burn"] == pytest.approx(WIDTH_PX * 0.75, abs=0.1)
    assert "cell x" in svg and "4 samples" in svg
    assert "burn — 75.0% of samples" in svg


def test_names_are_escaped_and_tiny_boxes_left_out() -> None:
    profile = Profile({("<module>", "a&b"): 1.0, ("<module>", "tiny"): 0.0001}, samples=2)
    svg = flamegraph_svg(profile)
    boxes = _boxes(svg)  # parses: the names are escaped
    assert "<module>" in boxes and "a&b" in boxes
    assert "tiny" not in boxes


def test_an_empty_profile_still_draws_a_page() -> None:
    svg = flamegraph_svg(Profile({}), "empty")
    assert "no samples" in svg
    ET.fromstring(svg)
