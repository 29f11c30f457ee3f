"""What a run produced, and the rules that read it: the one home of each results concept.

Engines and the run loop write through this package; dashboards, ``bench.runner.compare`` and
``bench.runner.plan`` read through it. It imports nothing from engines, launch, the session,
commands or dashboards (``tests/test_import_directions.py`` holds it to that).

- ``schema``      the columns of every results table (``CELL_COLUMNS`` …), ``frame``
- ``store``       atomic writes, ``load_run`` / ``RunData``, ``RunStore``
- ``manifest``    the run's manifest (environment, versions, scenario text)
- ``histogram``   exact µs latency histograms: merge by adding counts, percentiles
- ``slo``         the one ``Slo`` type, its judge, its description, read from a manifest
- ``status``      cell status values and the rule of a cell over its repetitions
- ``dimensions``  the columns that name a cell's configuration and load point
- ``labels``      the one format of configuration and load labels
- ``little``      the Little's-law consistency check and its tolerance
- ``overload``    did an open-loop server keep up with the asked rate (``overloaded``)
"""
