"""Scenario files: the shipped ones read, and mistakes are named by their field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from amphub.domain.units import PhaseRotation
from amphub_sim.data import default_data_dir, sessions_for
from amphub_sim.reading import ScenarioError
from amphub_sim.scenario import MeterTransport, Placement, load_scenario, parse_scenario

SCENARIOS = sorted((Path(__file__).parents[2] / "scenarios").glob("*.yaml"))


def minimal(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "group": {"total_a": 40},
        "chargers": [{"count": 2, "phases": 1, "max_a": 32}],
    }
    raw.update(changes)
    return raw


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_shipped_scenario_reads_and_draws_sessions(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.chargers
    assert sessions_for(scenario, default_data_dir())


def test_the_demo_is_the_site_the_issue_asks_for() -> None:
    demo = load_scenario(Path(__file__).parents[2] / "scenarios" / "demo.yaml")
    assert demo.group.total_a == 63
    assert demo.group.placement is Placement.INCLUDING_CHARGE_POINTS
    assert demo.meter.transport is MeterTransport.HTTP
    assert len(demo.chargers) == 12
    assert {c.phases for c in demo.chargers} == {1, 3}
    assert {c.version for c in demo.chargers} == {"1.6", "2.0.1"}
    assert len({c.rotation for c in demo.chargers}) == 3
    assert demo.site.name == "Demo Site — Ørestad garage"  # seeded by amphub demo


def test_defaults_and_expansion() -> None:
    scenario = parse_scenario(
        minimal(
            chargers=[
                {"count": 3, "prefix": "A-", "rotation": ["L1L2L3", "L2L3L1"], "lag_s": [1, 5]},
            ]
        )
    )
    assert [c.identity for c in scenario.chargers] == ["A-01", "A-02", "A-03"]
    assert [c.rotation for c in scenario.chargers] == [
        PhaseRotation.L1L2L3,
        PhaseRotation.L2L3L1,
        PhaseRotation.L1L2L3,
    ]
    assert all(1 <= c.lag_s <= 5 for c in scenario.chargers)
    assert scenario.start.tzinfo is not None
    assert scenario.meter.transport is MeterTransport.HTTP


def test_lags_are_drawn_with_the_seed() -> None:
    raw = minimal(chargers=[{"count": 5, "lag_s": [1, 5]}], seed=9)
    assert [c.lag_s for c in parse_scenario(raw).chargers] == [
        c.lag_s for c in parse_scenario(raw).chargers
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (minimal(chargers=[{"phases": 2}]), r"chargers\[0\]\.phases: must be 1 or 3"),
        (minimal(chargers=[{"version": "2.0"}]), r"chargers\[0\]\.version"),
        (minimal(chargers=[{"rotation": "L1L1L1"}]), r"chargers\[0\]\.rotation"),
        (minimal(chargers=[{"lag_s": [3, 1]}]), r"chargers\[0\]\.lag_s"),
        (minimal(chargers=[{"colour": "red"}]), r"chargers\[0\]\.colour: unknown field"),
        (
            minimal(chargers=[{"count": 2, "prefix": "A-"}, {"count": 1, "prefix": "A-"}]),
            r"identities repeat",
        ),
        (minimal(chargers=[]), r"chargers: must be a non-empty list"),
        (minimal(group={}), r"group\.total_a: is required"),
        (minimal(group={"total_a": 40, "fail_safe_a": 50}), r"group: fail_safe_a"),
        (minimal(meter={"transport": "zigbee"}), r"meter\.transport: must be one of"),
        (minimal(meter={"interval_s": 30}), r"meter\.interval_s: must be at most 10"),
        (minimal(site={"time_zone": "Mars/Olympus"}), r"site\.time_zone"),
        (minimal(sessions={"date": "yesterday"}), r"sessions\.date"),
        (minimal(sessions={"fleet": [{"battery_kwh": 50, "max_a": 3}]}), r"fleet\[0\]"),
        (minimal(start="soon"), r"start: must be an ISO 8601"),
    ],
)
def test_mistakes_name_their_field(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(raw)


def test_the_norway_problem_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(minimal()) + "site:\n  country: NO\n")
    with pytest.raises(ScenarioError, match="quotes"):
        load_scenario(path)


def test_a_csv_building_is_found_beside_the_scenario(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(minimal(building={"source": "csv", "csv": "load.csv"})))
    assert load_scenario(path).building.csv == tmp_path / "load.csv"


def test_broken_yaml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("group: [unclosed\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(path)
