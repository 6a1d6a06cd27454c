"""Where the real data lives and how a scenario turns it into sessions and a building.

The data sets stay in the shared data folder (``../shared/data`` beside the repository);
they are read from there, never copied in. ``AMPHUB_SIM_DATA`` or ``--data`` point
elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from amphub_sim.building import (
    HOUSEHOLD_FILE,
    BuildingLoad,
    HouseholdBuilding,
    HouseholdTrace,
    PhaseCsvBuilding,
)
from amphub_sim.reading import ScenarioError
from amphub_sim.scenario import Scenario
from amphub_sim.sessions import SESSIONS_FILE, PlannedSession, draw_sessions, load_sessions

_REPO_ROOT = Path(__file__).resolve().parents[2]


def default_data_dir() -> Path:
    """``AMPHUB_SIM_DATA``, else ``../shared/data`` from here or from the repository."""
    configured = os.environ.get("AMPHUB_SIM_DATA")
    if configured:
        return Path(configured)
    for candidate in (Path.cwd().parent / "shared" / "data", _REPO_ROOT.parent / "shared" / "data"):
        if candidate.is_dir():
            return candidate
    return _REPO_ROOT.parent / "shared" / "data"


def _require(path: Path) -> Path:
    if not path.is_file():
        raise ScenarioError(f"data file {path} not found (set AMPHUB_SIM_DATA or --data)")
    return path


def sessions_for(scenario: Scenario, data_dir: Path) -> list[PlannedSession]:
    config = scenario.sessions
    recorded = load_sessions(_require(data_dir / SESSIONS_FILE))
    return draw_sessions(
        recorded,
        start=scenario.start.replace(tzinfo=None).time(),
        window_h=scenario.duration_h,
        seed=scenario.seed,
        on_date=config.on_date,
        count=config.count,
        garages=config.garages,
        time_mapping=config.time_mapping,
        fleet=config.fleet,
    )


def building_for(scenario: Scenario, data_dir: Path) -> BuildingLoad | None:
    config = scenario.building
    if config.source == "none":
        return None
    if config.source == "csv":
        assert config.csv is not None
        return PhaseCsvBuilding.load(_require(config.csv), scenario.start, config.scale)
    return HouseholdBuilding(
        HouseholdTrace.load(_require(data_dir / HOUSEHOLD_FILE)),
        sim_start=scenario.start,
        data_start=config.data_start,
        households=config.households,
        scale=config.scale,
        base_a=config.base_a,
        weights=config.weights,
        noise=config.noise,
        seed=scenario.seed,
    )
