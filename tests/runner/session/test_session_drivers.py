"""Every load mode a scenario accepts has a driver, and the two drivers share one window."""

from __future__ import annotations

import inspect
from typing import get_args

from bench.runner.scenario.model import Load
from bench.runner.session import drivers


def test_every_load_mode_has_a_driver() -> None:
    modes = set(get_args(Load.model_fields["mode"].annotation))
    assert modes == set(drivers.DRIVERS)
    assert drivers.DRIVERS["search"] is drivers.drive_search
    assert drivers.DRIVERS["closed"] is drivers.DRIVERS["open"] is drivers.drive_fixed


def test_both_drivers_measure_through_the_one_window_function() -> None:
    for driver in (drivers.drive_fixed, drivers.drive_search):
        source = inspect.getsource(driver)
        assert "measure_window(" in source
        assert "engine.run(" not in source  # the engine runs only inside measure_window
