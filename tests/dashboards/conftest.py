"""Run folders for the dashboard tests, written once per session by the real results writer.

``io_run``: a closed-loop I/O scenario whose strings try to inject markup (a description
with a ``<script>``, a server label with an ``onerror`` handler) and that has a failed, a
partly failed and an engine-bound cell. ``ws_run``: a WebSocket echo scenario;
``open_run``: an open-loop (fixed arrival rate) scenario.
"""

from __future__ import annotations

from pathlib import Path

import dash_synth
import pytest
from dash_synth import HOSTILE_IO


@pytest.fixture(scope="session")
def io_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run folder of ``HOSTILE_IO``."""
    return dash_synth.write_run(tmp_path_factory.mktemp("runs") / "io-run", HOSTILE_IO)


@pytest.fixture(scope="session")
def ws_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run folder of the WebSocket scenario."""
    return dash_synth.write_run(tmp_path_factory.mktemp("runs") / "ws-run", dash_synth.WS_SCENARIO)


@pytest.fixture(scope="session")
def open_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished open-loop run folder."""
    return dash_synth.write_run(
        tmp_path_factory.mktemp("runs") / "open-run", dash_synth.OPEN_SCENARIO
    )
