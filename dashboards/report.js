// bench report: recolour every plotly figure when the reader's system prefers dark mode.
// The colours come from the page (data-dark / data-light JSON on <body>), set by bench.dashboards.html.
(function () {
  "use strict";
  var body = document.body;
  var dark = JSON.parse(body.getAttribute("data-dark"));
  var light = JSON.parse(body.getAttribute("data-light"));

  function colours(c) {
    return function (gd) {
      var update = {
        paper_bgcolor: c.paper,
        plot_bgcolor: c.plot,
        "font.color": c.font,
        "legend.font.color": c.font,
        "title.font.color": c.font
      };
      Object.keys(gd.layout || {}).forEach(function (key) {
        if (/^[xy]axis\d*$/.test(key)) {
          update[key + ".gridcolor"] = c.grid;
          update[key + ".zerolinecolor"] = c.grid;
          update[key + ".linecolor"] = c.grid;
        }
      });
      return update;
    };
  }

  function apply(isDark) {
    if (typeof Plotly === "undefined") { return; }
    var make = colours(isDark ? dark : light);
    document.querySelectorAll(".js-plotly-plot").forEach(function (gd) {
      Plotly.relayout(gd, make(gd));
    });
    body.setAttribute("data-theme", isDark ? "dark" : "light");
  }

  // On a phone-width window the legend wraps to one entry per line: make each figure
  // taller by the legend's height, so the plot keeps its size, and trim the side margins.
  function fitNarrow() {
    if (window.innerWidth >= 600 || typeof Plotly === "undefined") { return; }
    document.querySelectorAll(".js-plotly-plot").forEach(function (gd) {
      var entries = (gd.data || []).filter(function (t) {
        return t.showlegend !== false && t.visible !== false;
      }).length;
      var height = (gd.layout.height || 460) + Math.min(640, 24 * entries + 24);
      (gd.data || []).forEach(function (trace, index) {
        if (trace.type === "heatmap") {
          Plotly.restyle(gd, { showscale: false, "textfont.size": 9 }, [index]);
        }
      });
      gd.style.height = height + "px";
      gd.parentElement.style.height = height + "px"; // plotly's wrapper div has a fixed height
      Plotly.relayout(gd, { height: height, "margin.l": 52, "margin.r": 8, "title.font.size": 14 });
    });
  }

  fitNarrow();
  var query = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  if (query && query.matches) { apply(true); }
  if (query && query.addEventListener) {
    query.addEventListener("change", function (event) { apply(event.matches); });
  }
  body.setAttribute("data-figures-ready", String(document.querySelectorAll(".js-plotly-plot").length));
})();
