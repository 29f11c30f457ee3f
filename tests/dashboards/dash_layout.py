"""What a rendered page's figures look like, measured in the browser: axis types and the
text boxes that overlap.

``LAYOUT`` waits until the report's script has given every figure its final layout
(``data-layout-ready`` on ``<body>``: narrow fit, thinned ticks), then, per figure,
returns plotly's axis types and every pair of visible text elements (tick labels, axis
titles, legend entries, annotations, tile texts, menu labels, and the menu buttons'
boxes) whose bounding boxes (``getBoundingClientRect``) intersect by more than ``SLACK``
px both ways, and the texts that stick out of the figure's left or right edge (cut off
by the page). Text in the hover layer and the modebar is not the page's: left out.
"""

from __future__ import annotations

from typing import Any

#: Pixels two boxes may share (anti-aliasing, glyph overhang) before they overlap.
SLACK = 2

LAYOUT = """
new Promise((resolve) => {
  const SLACK = __SLACK__;
  const started = performance.now();
  const visible = (el, gd) => {
    for (let p = el; p && p !== gd; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (s.display === "none" || s.visibility === "hidden" || Number(s.opacity) === 0) return false;
    }
    return true;
  };
  const kind = (el) => el.closest(".legend") ? "legend"
    : el.closest("[class$='tick']") ? el.closest("[class$='tick']").getAttribute("class")
    : el.closest(".annotation") ? "annotation"
    : el.closest(".updatemenu-container") ? "menu"
    : el.closest(".hm, .trace") ? "trace"
    : (el.getAttribute("class") || el.parentElement.getAttribute("class") || "text");
  const boxes = (gd) => {
    const out = [];
    for (const el of gd.querySelectorAll("svg text")) {
      const text = el.textContent.trim();
      if (!text || el.closest(".hoverlayer, .modebar") || !visible(el, gd)) continue;
      const r = el.getBoundingClientRect();
      if (r.width >= 1 && r.height >= 1) out.push({text, kind: kind(el), r});
    }
    for (const el of gd.querySelectorAll(".updatemenu-button rect, .updatemenu-header rect")) {
      const r = el.getBoundingClientRect();
      if (visible(el, gd) && r.width >= 1 && r.height >= 1) out.push({text: "[button]", kind: "menu", r});
    }
    return out;
  };
  const overlaps = (bs) => {
    const found = [];
    for (let i = 0; i < bs.length; i++) for (let j = i + 1; j < bs.length; j++) {
      const a = bs[i], b = bs[j];
      if (a.kind === "menu" && b.kind === "menu") continue;  // a button and its own label
      const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (w > SLACK && h > SLACK) found.push(`${a.kind} "${a.text}" × ${b.kind} "${b.text}" (${Math.round(w)}×${Math.round(h)} px)`);
    }
    return found;
  };
  (function measure() {
    const plots = [...document.querySelectorAll(".js-plotly-plot")];
    const ready = document.body.dataset.layoutReady === "1";
    if (!ready && performance.now() - started < 20000) { setTimeout(measure, 25); return; }
    resolve({ready, plots: plots.map((gd) => {
      const axes = {};
      for (const key of Object.keys(gd._fullLayout)) {
        if (/^[xy]axis\\d*$/.test(key)) axes[key] = gd._fullLayout[key].type;
      }
      const bs = boxes(gd);
      const edge = gd.getBoundingClientRect();
      const outside = bs.filter((b) => b.r.left < edge.left - SLACK || b.r.right > edge.right + SLACK)
        .map((b) => `${b.kind} "${b.text}"`);
      return {id: gd.id, axes, texts: bs.length, overlaps: overlaps(bs), outside};
    })});
  })();
})
""".replace("__SLACK__", str(SLACK))


def measure(browser: Any, session: str) -> dict[str, dict[str, Any]]:
    """Per figure id: ``axes`` (name -> plotly type), ``texts`` (boxes measured),
    ``overlaps`` (one line per overlapping pair) and ``outside`` (texts past the figure's
    edges); fails if the layout never settled."""
    page = browser.evaluate(session, LAYOUT)
    assert page["ready"], "the report's script never set data-layout-ready"
    return {plot["id"]: plot for plot in page["plots"]}
