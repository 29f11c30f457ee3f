"""The views of a capacity plan (``bench plan``): figures, tables, the HTML page and the
markdown report. The analysis they show is ``bench.runner.plan``'s (pure, no plotly)."""
