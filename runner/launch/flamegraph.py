"""A flamegraph SVG from a profile's stacks (pure: stacks in, SVG text out).

How this works: the root-first stacks of a ``bench.runner.results.profile.Profile`` are merged
into a tree (a frame's children are the functions it called, in name order, as in
Brendan Gregg's flamegraphs); each node is a box as wide as its share of all samples,
stacked upward from the root. Boxes narrower than ``MIN_WIDTH_PX`` are left out, labels
are cut to fit, and every box has a ``<title>`` (function, samples, share) that a browser
shows on hover. The colours are a warm palette picked by a hash of the function name,
so one function has one colour in every flamegraph of a run.

py-spy writes a flamegraph of its own, but only instead of the speedscope file; drawing
it from the speedscope stacks gives both files from one recording.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from html import escape

from bench.runner.results.profile import Profile

WIDTH_PX = 1200
ROW_PX = 16
MIN_WIDTH_PX = 0.5
_PAD_TOP = 40
_CHAR_PX = 7.0


@dataclass
class _Node:
    weight: float = 0.0
    children: dict[str, _Node] = field(default_factory=dict)


def _tree(profile: Profile) -> _Node:
    root = _Node()
    for stack, weight in profile.stacks.items():
        root.weight += weight
        node = root
        for key in stack:
            node = node.children.setdefault(key, _Node())
            node.weight += weight
    return root


def _depth(node: _Node) -> int:
    return 1 + max((_depth(c) for c in node.children.values()), default=0)


def _colour(name: str) -> str:
    h = zlib.crc32(name.encode())
    return f"rgb({205 + h % 50},{(h >> 8) % 200},{(h >> 16) % 55})"


def flamegraph_svg(profile: Profile, title: str = "") -> str:
    """The flamegraph of ``profile`` as a standalone SVG document."""
    root = _tree(profile)
    total = root.weight
    depth = _depth(root)  # includes the "all" row
    height = _PAD_TOP + depth * ROW_PX + 10
    scale = WIDTH_PX / total if total > 0 else 0.0
    boxes: list[str] = []

    def box(name: str, weight: float, x: float, level: int) -> None:
        width = weight * scale
        y = height - 10 - (level + 1) * ROW_PX
        share = weight / total if total else 0.0
        tip = escape(f"{name} — {share:.1%} of samples")
        chars = int((width - 6) / _CHAR_PX)
        label = name if len(name) <= chars else (name[: chars - 2] + ".." if chars > 3 else "")
        boxes.append(
            f'<g><title>{tip}</title><rect x="{x:.1f}" y="{y}" width="{width:.1f}" '
            f'height="{ROW_PX - 1}" fill="{_colour(name)}" rx="2"/>'
            + (
                f'<text x="{x + 3:.1f}" y="{y + ROW_PX - 4}">{escape(label)}</text>'
                if label
                else ""
            )
            + "</g>"
        )

    def walk(node: _Node, x: float, level: int) -> None:
        for name in sorted(node.children):
            child = node.children[name]
            if child.weight * scale >= MIN_WIDTH_PX:
                box(name, child.weight, x, level)
                walk(child, x, level + 1)
            x += child.weight * scale

    if total > 0:
        box("all", total, 0.0, 0)
        walk(root, 0.0, 1)
    heading = escape(title or "flamegraph")
    empty = "" if total > 0 else '<text x="10" y="60">no samples</text>'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH_PX}" height="{height}" '
        f'viewBox="0 0 {WIDTH_PX} {height}" font-family="monospace" font-size="11">'
        f'<rect width="100%" height="100%" fill="#fafafa"/>'
        f'<text x="{WIDTH_PX / 2}" y="20" text-anchor="middle" font-size="15">{heading}</text>'
        f'<text x="{WIDTH_PX / 2}" y="34" text-anchor="middle" fill="#666">'
        f"{profile.samples} samples; hover a box for its share</text>"
        + empty
        + "".join(boxes)
        + "</svg>"
    )
