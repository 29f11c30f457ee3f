"""One ``bench run``: prepare -> conduct -> loop -> cell -> driver, and the rows it stores.

- ``prepare``   the plan (scenario, cells, order, pinning), ``--dry-run``, the run folder
- ``conduct``   ``run_session``: signals, downstream service, loop, manifest, summary, exit code
- ``loop``      every scheduled cell x repetition not yet stored
- ``cell``      one cell repetition: start, sample, prime, drive, stop
- ``drivers``   ``DRIVERS`` by load mode (fixed load, search) over one ``measure_window``
- ``search``    one configuration's SLO search over real windows
- ``context``   ``RunContext``, ``CellRun``, ``CellOutcome``, ``Interrupted``
- ``rows``, ``summary``, ``progress``  a cell's row, the terminal summary, the rich view
"""
