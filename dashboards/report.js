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

  //: Characters per line of a title on a phone-width window.
  var NARROW_CHARS = 38;
  //: Characters of a dropdown entry on a phone-width window (longer ones end in "…").
  var MENU_CHARS = 36;

  //: Characters of a legend entry on a phone-width window.
  var LEGEND_CHARS = 40;

  // ``text`` cut to ``width`` characters, ending in "…" (an entity counts as one, never cut).
  function shorten(text, width) {
    if (typeof text !== "string") { return text; }
    var chars = text.match(/&#?\w+;|[\s\S]/g) || [];
    return chars.length > width ? chars.slice(0, width - 1).join("") + "…" : text;
  }

  // A long category label wrapped to lines of at most ``width`` characters (an HTML
  // entity such as &lt; counts as one and is never cut; a longer word is split).
  function wrapLabel(label, width) {
    var words = String(label).split(" "), lines = [], line = [];
    words.forEach(function (word) {
      var chars = word.match(/&#?\w+;|[\s\S]/g) || [];
      while (chars.length > width) {
        if (line.length) { lines.push(line.join("")); line = []; }
        lines.push(chars.splice(0, width).join(""));
      }
      if (line.length && line.length + 1 + chars.length > width) { lines.push(line.join("")); line = []; }
      if (line.length) { line.push(" "); }
      line.push.apply(line, chars);
    });
    if (line.length) { lines.push(line.join("")); }
    return lines.join("<br>");
  }

  // On a phone-width window the legend wraps to one entry per line: make each figure
  // taller by the legend's height, so the plot keeps its size, and trim the side margins.
  // Row labels (a heatmap's, horizontal bars') wrap at 16 characters, so the plot keeps
  // room for its tiles and bars.
  function fitNarrow(gd) {
    if (window.innerWidth >= 600) { return Promise.resolve(); }
    var entries = (gd.data || []).filter(function (t) {
      return t.showlegend !== false && t.visible !== false;
    }).length;
    var layout = gd.layout, margin = layout.margin || {};
    // The legend hangs this far (px) under the plot (theme.style): keep it so once the
    // plot is resized and the legend's own height has moved the margin.
    var designed = (layout.height || 460) - (margin.t || 104) - (margin.b || 56);
    var legendPx = -((layout.legend && layout.legend.y) || 0) * designed;
    var height = (layout.height || 460) + Math.min(640, 24 * entries + 24);
    var top = (layout.margin && layout.margin.t) || 104;
    var update = { height: height, "margin.l": 52, "margin.r": 8, "title.font.size": 14 };
    var title = layout.title && layout.title.text;
    var extra = 0; // px added at the top for wrapped title lines
    if (title && title.length > NARROW_CHARS) {
      update["title.text"] = wrapLabel(title, NARROW_CHARS);
      extra += 20 * (update["title.text"].split("<br>").length - 1);
    }
    Object.keys(layout).forEach(function (key) {
      var axis = layout[key], text = axis && axis.title && axis.title.text;
      if (/^xaxis\d*$/.test(key) && text && text.length > NARROW_CHARS) {
        update[key + ".title.text"] = wrapLabel(text, NARROW_CHARS);
      }
    });
    (layout.updatemenus || []).forEach(function (menu, i) {
      if (menu.type === "dropdown") { // its width is its longest entry: start it on the left
        update["updatemenus[" + i + "].x"] = 0;
        update["updatemenus[" + i + "].xanchor"] = "left";
        update["updatemenus[" + i + "].font.size"] = 10;
        (menu.buttons || []).forEach(function (button, j) {
          var label = shorten(button.label, MENU_CHARS);
          if (label !== button.label) { update["updatemenus[" + i + "].buttons[" + j + "].label"] = label; }
        });
      }
    });
    update["legend.font.size"] = 11;
    var subtitle = layout.title && layout.title.subtitle && layout.title.subtitle.text;
    if (subtitle) { // one line per part, clear of the menu under it
      update["title.subtitle.text"] = subtitle.split(" · ").join("<br>");
      extra += 64;
    }
    if (extra) {
      update["margin.t"] = top + extra;
      update.height = height + extra;
    }
    var heatmaps = [], rowsExtra = 0;
    (gd.data || []).forEach(function (trace, index) {
      var rowsAxis = trace.type === "heatmap" || (trace.type === "bar" && trace.orientation === "h");
      if (trace.type === "heatmap") { heatmaps.push(index); }
      if (rowsAxis) {
        var rows = trace.y || [];
        update["yaxis.tickmode"] = "array";
        update["yaxis.tickvals"] = rows;
        var wrapped = rows.map(function (r) { return wrapLabel(r, 16); });
        update["yaxis.ticktext"] = wrapped;
        var lines = Math.max.apply(null, wrapped.map(function (w) { return w.split("<br>").length; }).concat([1]));
        rowsExtra = Math.max(rowsExtra, rows.length * (lines - 1) * 14); // room for the extra lines
      }
    });
    if (rowsExtra) { update.height = (update.height || height) + rowsExtra; }
    if (heatmaps.length) { update.showscale = false; update["textfont.size"] = 9; }
    gd.style.height = update.height + "px";
    gd.parentElement.style.height = update.height + "px"; // plotly's wrapper div has a fixed height
    var traces = heatmaps.length ? { showscale: false, "textfont.size": 9 } : {};
    delete update.showscale; delete update["textfont.size"];
    var long = [], names = [];
    (gd.data || []).forEach(function (trace, index) {
      var name = shorten(trace.name, LEGEND_CHARS);
      if (trace.showlegend !== false && name !== trace.name) { long.push(index); names.push(name); }
    });
    return Plotly.update(gd, traces, update, heatmaps.length ? heatmaps : undefined)
      .then(function () { return long.length ? Plotly.restyle(gd, { name: names }, long) : null; })
      .then(function () { return keepLegendPx(gd, legendPx); })
      .then(function () { return keepLegendPx(gd, legendPx); }); // the margin moves once more
  }

  function keepLegendPx(gd, px) {
    if (!(px > 0) || !gd._fullLayout._size.h) { return Promise.resolve(); }
    return Plotly.relayout(gd, { "legend.y": -px / gd._fullLayout._size.h });
  }

  // Tick labels given as a list (the spectrum's "min, p50, p90 …", load points) can
  // crowd on a narrow plot: from the right, blank every label that would touch the one
  // kept after it. Plotly's own ticks thin themselves; listed ones do not, nor do 1-2-5
  // log ticks (theme.log_ticks): on a short axis those fall back to one per decade.
  function thinTicks(gd) {
    var update = {};
    Object.keys(gd._fullLayout || {}).forEach(function (key) {
      var axis = gd._fullLayout[key];
      if (!/^xaxis\d*$/.test(key) || axis.tickmode !== "array" || !axis.ticktext) { return; }
      var labels = gd.querySelectorAll("." + axis._id + "tick text");
      if (labels.length < 2) { return; }
      var boxes = Array.prototype.map.call(labels, function (el) {
        return { text: el.textContent, box: el.getBoundingClientRect() };
      }).sort(function (a, b) { return a.box.left - b.box.left; });
      var left = Infinity, blank = {};
      for (var i = boxes.length - 1; i >= 0; i--) {
        if (boxes[i].box.right + 4 > left) { blank[boxes[i].text] = true; }
        else { left = boxes[i].box.left; }
      }
      if (Object.keys(blank).length === 0) { return; }
      update[key + ".ticktext"] = axis.ticktext.map(function (t) { return blank[t] ? "" : t; });
    });
    Object.keys(gd._fullLayout || {}).forEach(function (key) {
      var axis = gd._fullLayout[key];
      if (!/^yaxis\d*$/.test(key) || axis.type !== "log" || axis.dtick !== "D2") { return; }
      var boxes = Array.prototype.map.call(
        gd.querySelectorAll("." + axis._id + "tick text"),
        function (el) { return el.getBoundingClientRect(); }
      ).sort(function (a, b) { return a.top - b.top; });
      for (var i = 1; i < boxes.length; i++) {
        if (boxes[i].top < boxes[i - 1].bottom) { update[key + ".dtick"] = 1; return; }
      }
    });
    return Object.keys(update).length ? Plotly.relayout(gd, update) : Promise.resolve();
  }

  // An annotation past the figure's right edge (a value written after its bar): widen
  // the linear x axis's range until it fits.
  function fitAnnotations(gd) {
    var axis = gd._fullLayout.xaxis, size = gd._fullLayout._size;
    if (!axis || axis.type !== "linear" || !size || !size.w) { return Promise.resolve(); }
    var edge = gd.getBoundingClientRect().right - 4, over = 0;
    gd.querySelectorAll(".annotation").forEach(function (el) {
      over = Math.max(over, el.getBoundingClientRect().right - edge);
    });
    if (over <= 0) { return Promise.resolve(); }
    var range = axis.range.slice(), span = range[1] - range[0];
    range[1] += span * (over + 8) / Math.max(1, size.w - over - 8);
    return Plotly.relayout(gd, { "xaxis.range": range });
  }

  function fitAll() {
    if (typeof Plotly === "undefined") { return Promise.resolve(); }
    var plots = Array.prototype.slice.call(document.querySelectorAll(".js-plotly-plot"));
    return Promise.all(plots.map(function (gd) {
      return fitNarrow(gd)
        .then(function () { return thinTicks(gd); })
        .then(function () { return fitAnnotations(gd); });
    }));
  }

  var fitted = fitAll();
  var query = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  if (query && query.matches) { apply(true); }
  if (query && query.addEventListener) {
    query.addEventListener("change", function (event) { apply(event.matches); });
  }
  body.setAttribute("data-figures-ready", String(document.querySelectorAll(".js-plotly-plot").length));
  // Set once every figure has its final layout (narrow fit, thinned ticks): what a test
  // measures after.
  fitted.then(function () { body.setAttribute("data-layout-ready", "1"); });
})();
