"""Lifecycle and fault events during a cell's measured window: what to do, to whom, when.

- ``mapping``    pure: which server takes which action, and how (or why not)
- ``actions``    performs one action on a running server (signals, restart) and says
                 which processes it acted on
- ``scheduler``  a thread that fires a cell's events at their times in the window and
                 records what was done (``EventLog``)
- ``record``     the events table of a cell: the scheduler's log joined with the window
                 arithmetic of ``bench.runner.results.events``
"""
