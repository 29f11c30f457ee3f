"""Figure functions: pure, from the summary tables (``bench.dashboards.tables``) to plotly figures.

One module per family: ``latency`` (latency vs throughput, percentile spectrum),
``scaling`` (throughput and p99 vs load, workers, threads), ``matrix`` (the heatmap),
``timeseries`` (per-second series of a cell), ``resources`` (server CPU and memory),
``websocket`` (messages/s, round-trips, connection set-up); ``marks`` holds what they
share (status markers, failed cells, SLO lines).
"""
