"""Lifecycle and fault events during a cell's measured window: what to do, to whom, when.

- ``mapping``    pure: which server takes which action, and how (or why not); imports
                 nothing of bench (the scenario loader reads it)
- ``actions``    performs one action on a running server (signals, restart) and says
                 which processes it acted on
- ``scheduler``  a thread that fires a cell's events at their times in the window and
                 records what was done (``EventRecord``), and watches for recycles
- ``spawner``    the long-lived thread a ``restart`` starts the server from

The cell's hook (``bench.runner.session.cell_events``) joins the scheduler's records with the
window arithmetic of ``bench.runner.results.events`` and writes the ``events/`` table.
"""
