"""The look of every figure: colours, fonts, units, and the one way user text is escaped.

Every figure function goes through ``style`` (layout defaults) and ``esc`` (any string that
came from a scenario or a results table), so the report looks the same everywhere and no
scenario string is ever interpreted as markup: plotly renders a subset of HTML tags in
titles, legends and hover text, so ``<b>`` in a label would be bold and ``<a href>`` a
link. ``html.escape`` turns them into entities, which plotly shows as the literal text.

Latencies are stored in µs; ``latency_unit`` picks µs or ms for an axis from the values it
will show, so a 40 µs hello-world and a 250 ms downstream call both read naturally.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from dataclasses import dataclass

import plotly.graph_objects as go
from plotly.subplots import make_subplots

#: Categorical colours for server configurations (Okabe–Ito, colour-blind safe, then Tableau).
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#7F7F7F",
    "#F0E442",
    "#4E79A7",
    "#59A14F",
    "#B07AA1",
    "#9C755F",
)

#: Status of a cell -> (colour, marker symbol) used wherever cells are marked.
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "ok": ("#2E7D32", "circle"),
    "engine-bound": ("#EF6C00", "circle-open"),
    "overloaded": ("#8E24AA", "triangle-up"),
    "failed": ("#C62828", "x"),
    "skipped": ("#757575", "x-open"),
}

#: Emoji -> a symbol every common font has. Emoji need a colour-emoji font, which a
#: headless CI browser often lacks (they show as empty boxes); pages go through
#: ``plain_symbols``.
TEXT_SYMBOLS: dict[str, str] = {
    "\N{CROSS MARK}": "✗",
    "\N{WHITE HEAVY CHECK MARK}": "✓",
    "\N{WHITE QUESTION MARK ORNAMENT}": "?",
    "\N{LARGE RED CIRCLE}": "✗",
    "\N{LARGE GREEN CIRCLE}": "✓",
    "\N{MEDIUM WHITE CIRCLE}": "–",
    "\N{LARGE YELLOW CIRCLE}": "?",
    "\N{VARIATION SELECTOR-16}": "",
}


def plain_symbols(text: str) -> str:
    """``text`` with each emoji of ``TEXT_SYMBOLS`` replaced by its plain symbol."""
    for emoji, symbol in TEXT_SYMBOLS.items():
        text = text.replace(emoji, symbol)
    return text


SLO_COLOR = "#C62828"
SATURATION_COLOR = "#212121"
WARMUP_FILL = "rgba(120, 120, 120, 0.18)"
FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
FIGURE_HEIGHT = 460
#: Top margin: the title, the modebar and a menu (dropdown or buttons) all fit above the plot.
TOP_MARGIN = 104
BOTTOM_MARGIN = 56
#: The legend starts this far (px) below the plot area, under the x axis title.
LEGEND_OFFSET_PX = 72

#: Colours the report's script applies to every figure when the reader prefers dark mode.
DARK: dict[str, str] = {
    "paper": "#161b22",
    "plot": "#0d1117",
    "font": "#e6edf3",
    "grid": "#30363d",
}
#: The same keys in light mode (plotly_white's own colours), restored on a switch back.
LIGHT: dict[str, str] = {
    "paper": "#ffffff",
    "plot": "#ffffff",
    "font": "#2a3f5f",
    "grid": "#ebf0f8",
}


_AXIS: dict[str, object] = {
    "gridcolor": "#ebf0f8",
    "linecolor": "#ebf0f8",
    "zerolinecolor": "#ebf0f8",
    "zerolinewidth": 2,
    "ticks": "",
    "automargin": True,
    "title": {"standoff": 15},
    # Log axes: label minor ticks with their whole value (200, 500), not a bare "2", "5".
    "minorloglabels": "complete",
}


#: Extra space (px) between the x axes and their tick labels.
X_TICK_STANDOFF = 6
#: Log axes spanning fewer decades than this get 1-2-5 ticks; more get one per decade.
LOG_1_2_5_DECADES = 3.0
#: Below this span plotly's own ticks (every digit) are few enough to keep.
LOG_DIGITS_DECADES = 0.5


def log_ticks(values: Iterable[float | None]) -> dict[str, object]:
    """Tick options for a log axis showing ``values``: 1-2-5 (``50, 100, 200, 500``) over
    half a decade to three, one tick per decade beyond, plotly's own below: never a label
    on every digit of several decades (``40 50 60 70 80 90 100 200 300``)."""
    finite = [float(v) for v in values if v is not None and not _isnan(v) and float(v) > 0]
    if len(finite) < 2:
        return {}
    decades = math.log10(max(finite) / min(finite))
    if decades > LOG_1_2_5_DECADES:
        return {"dtick": 1}
    if decades >= LOG_DIGITS_DECADES:
        return {"dtick": "D2"}
    return {}


def template() -> dict[str, object]:
    """The report's plotly template: plotly_white's look in a few keys (cheap to copy)."""
    return {
        "layout": {
            "font": {"color": LIGHT["font"]},
            "paper_bgcolor": LIGHT["paper"],
            "plot_bgcolor": LIGHT["plot"],
            "colorway": list(PALETTE),
            "hovermode": "closest",
            "hoverlabel": {"align": "left"},
            # x tick labels a few px lower: the first one (a 0 at the origin) no longer
            # touches the y axis's lowest label.
            "xaxis": {**_AXIS, "ticklabelstandoff": X_TICK_STANDOFF},
            "yaxis": dict(_AXIS),
            "shapedefaults": {"line": {"color": LIGHT["font"]}},
            "annotationdefaults": {"arrowcolor": LIGHT["font"], "arrowhead": 0, "arrowwidth": 1},
        }
    }


def figure() -> go.Figure:
    """An empty figure with the report's template (no default template to copy first)."""
    return go.Figure(layout={"template": template()})


def subplots(rows: int, **kwargs: object) -> go.Figure:
    """``make_subplots(rows, 1, shared x axes)`` with the report's template."""
    options: dict[str, object] = {"shared_xaxes": True, "vertical_spacing": 0.06, **kwargs}
    return make_subplots(rows=rows, cols=1, figure=figure(), **options)  # type: ignore[arg-type]


def esc(text: object) -> str:
    """``text`` as a string safe to put in a plotly title, legend, hover or annotation.

    ``<``, ``>`` and ``&`` become entities, which plotly shows as the characters; quotes
    stay as they are (plotly does not decode ``&quot;``, and without ``<`` no tag, hence
    no attribute, can be formed).
    """
    return html.escape("" if text is None else str(text), quote=False)


def color_for(index: int) -> str:
    """The palette colour of the ``index``-th configuration (cycling)."""
    return PALETTE[index % len(PALETTE)]


def colors_for(labels: Iterable[str]) -> dict[str, str]:
    """A stable colour per label, in the order the labels are given."""
    out: dict[str, str] = {}
    for label in labels:
        if label not in out:
            out[label] = color_for(len(out))
    return out


@dataclass(frozen=True, slots=True)
class Unit:
    """A display unit for latencies stored in µs: ``value_us / divisor`` is shown."""

    label: str
    divisor: float

    def scale(self, values_us: Iterable[float | None]) -> list[float | None]:
        """Convert µs values to this unit; missing values stay None (never 0)."""
        out: list[float | None] = []
        for v in values_us:
            out.append(None if v is None or _isnan(v) else float(v) / self.divisor)
        return out

    def one(self, value_us: float) -> float:
        """Convert one µs value."""
        return float(value_us) / self.divisor


MICROSECONDS = Unit("µs", 1.0)
MILLISECONDS = Unit("ms", 1000.0)


def latency_unit(values_us: Iterable[float | None]) -> Unit:
    """µs when every value is under 2 ms, else ms."""
    finite = [float(v) for v in values_us if v is not None and not _isnan(v)]
    if finite and max(finite) >= 2000.0:
        return MILLISECONDS
    return MICROSECONDS


def _isnan(value: object) -> bool:
    try:
        return math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


def style(
    fig: go.Figure,
    *,
    title: str,
    height: int = FIGURE_HEIGHT,
    legend_title: str | None = None,
    subtitle: str | None = None,
) -> go.Figure:
    """Apply the report's layout defaults to ``fig`` (in place) and return it.

    ``title`` and ``subtitle`` are escaped here; axis titles are set by the figure functions.
    """
    heading: dict[str, object] = {
        "text": esc(title),
        "x": 0.0,
        "xanchor": "left",
        "font": {"size": 17},
    }
    if subtitle:
        heading["subtitle"] = {"text": esc(subtitle), "font": {"size": 13}}
    fig.update_layout(
        template=template(),
        title=heading,
        font={"family": FONT_FAMILY, "size": 13},
        height=height,
        margin={"l": 64, "r": 24, "t": TOP_MARGIN, "b": BOTTOM_MARGIN},
        hoverlabel={"namelength": -1},
        legend={
            "orientation": "h",
            "yanchor": "top",
            "y": -LEGEND_OFFSET_PX / max(1, height - TOP_MARGIN - BOTTOM_MARGIN),
            "xanchor": "left",
            "x": 0.0,
            # The title above the entries: beside them, plotly wraps the entries as if it
            # were not there and the last ones run past the figure's right edge.
            "title": {"text": esc(legend_title) if legend_title else "", "side": "top"},
        },
    )
    return fig


def no_data(fig: go.Figure, message: str) -> go.Figure:
    """Write ``message`` in the middle of an empty figure (axes hidden)."""
    fig.add_annotation(
        text=esc(message),
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font={"size": 15},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def add_menu(fig: go.Figure, menu: dict[str, object]) -> go.Figure:
    """Add a dropdown or button row at the top right, above the plot, clear of the modebar."""
    menus = [*fig.layout.updatemenus, {"x": 1.0, "xanchor": "right", "y": 1.0,
                                        "yanchor": "bottom", "pad": {"b": 6}, **menu}]  # fmt: skip
    fig.update_layout(updatemenus=menus)
    return fig
