"""What the user wrote: the scenario models, their one-line errors, gates, search settings.

- ``model``     pydantic models of a scenario file; ``load_scenario`` / ``parse_scenario``
- ``messages``  a validation error as one line naming file, line and YAML path
- ``gates``     CI gate thresholds, shared with ``bench compare``
- ``search``    ``load.slo`` and ``load.search`` of search mode (``bench plan``)
"""
