"""Scenario files (YAML): the site, its group, chargers, meter, building and sessions.

Every field is checked when the file is read; an error names the field the way the file
spells it (``chargers[1].phases: must be 1 or 3``). See ``docs/simulator.md`` for the
format and ``scenarios/`` for examples.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from amphub.domain.units import PhaseRotation
from amphub_sim.ev import EvSpec
from amphub_sim.reading import Reader, ScenarioError, read_datetime, read_values
from amphub_sim.sessions import DEFAULT_FLEET, FleetEntry, TimeMapping


class MeterTransport(StrEnum):
    HTTP = "http"
    MQTT = "mqtt"
    MODBUS = "modbus"


class Placement(StrEnum):
    BUILDING_ONLY = "BUILDING_ONLY"
    INCLUDING_CHARGE_POINTS = "INCLUDING_CHARGE_POINTS"


@dataclass(frozen=True, slots=True)
class SiteConfig:
    name: str
    country: str = "NO"
    bidding_zone: str = "NO3"
    time_zone: str = "Europe/Oslo"


@dataclass(frozen=True, slots=True)
class GroupConfig:
    name: str
    total_a: float
    dynamic_buffer_a: float = 0.0
    fail_safe_a: float = 0.0
    placement: Placement = Placement.INCLUDING_CHARGE_POINTS
    meter_timeout_s: float = 30.0


@dataclass(frozen=True, slots=True)
class ChargerConfig:
    """One simulated charge point with one connector."""

    identity: str
    version: str
    phases: int
    max_a: float
    rotation: PhaseRotation
    lag_s: float
    forget_profiles_on_reboot: bool = False
    meter_values_s: float = 5.0
    max_stack_level: int = 3
    rate_units: tuple[str, ...] = ("A", "W")


@dataclass(frozen=True, slots=True)
class MeterConfig:
    transport: MeterTransport = MeterTransport.HTTP
    interval_s: float = 2.0
    name: str = "Simulated main meter"
    host: str = "127.0.0.1"
    port: int = 0
    """MQTT: the broker's port (default 1883). Modbus: the port the simulated meter
    serves on (0: any free port)."""
    unit_id: int = 1


@dataclass(frozen=True, slots=True)
class BuildingConfig:
    source: str = "household"
    households: int = 1
    scale: float = 1.0
    base_a: float = 0.0
    weights: tuple[float, float, float] = (0.40, 0.33, 0.27)
    noise: float = 0.03
    data_start: datetime = datetime(2006, 12, 20, 6, 0)  # the data's local time
    csv: Path | None = None


@dataclass(frozen=True, slots=True)
class SessionsConfig:
    on_date: date | None = None
    count: int | None = None
    garages: frozenset[str] = frozenset()
    time_mapping: TimeMapping = TimeMapping.REAL
    fleet: tuple[FleetEntry, ...] = DEFAULT_FLEET


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    start: datetime
    """Simulated start, timezone-aware (the site's time zone)."""
    duration_h: float
    seed: int
    site: SiteConfig
    group: GroupConfig
    chargers: tuple[ChargerConfig, ...]
    meter: MeterConfig
    building: BuildingConfig
    sessions: SessionsConfig
    source: Path | None = field(default=None, compare=False)


def _lag(reader: Reader, rng: random.Random) -> float:
    value = reader.get("lag_s", 2.0)
    if isinstance(value, list) and len(value) == 2:
        low, high = float(value[0]), float(value[1])
        lag = rng.uniform(low, high)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        low = high = lag = float(value)
    else:
        raise reader.fail("lag_s", "must be a number or [low, high]")
    if not 0 <= low <= high <= 60:
        raise reader.fail("lag_s", "must lie between 0 and 60 s")
    return round(lag, 2)


def _chargers(raw: Any, rng: random.Random) -> tuple[ChargerConfig, ...]:
    if not isinstance(raw, list) or not raw:
        raise ScenarioError("chargers: must be a non-empty list")
    chargers: list[ChargerConfig] = []
    for i, item in enumerate(raw):
        reader = Reader(item, f"chargers[{i}]")
        reader.check_keys(
            "count",
            "prefix",
            "version",
            "phases",
            "max_a",
            "rotation",
            "lag_s",
            "forget_profiles_on_reboot",
            "meter_values_s",
            "max_stack_level",
            "rate_units",
        )
        count = reader.integer("count", 1, low=1)
        prefix = reader.text("prefix", f"SIM-{i + 1}-")
        version = str(reader.get("version", "1.6"))
        if version not in ("1.6", "2.0.1"):
            raise reader.fail("version", "must be 1.6 or 2.0.1")
        phases = reader.integer("phases", 3, low=1)
        if phases not in (1, 3):
            raise reader.fail("phases", "must be 1 or 3")
        max_a = reader.number("max_a", 16.0, low=6.0)
        rotations = read_values(reader, "rotation", "L1L2L3")
        try:
            rotation_cycle = [PhaseRotation(str(r)) for r in rotations]
        except ValueError:
            raise reader.fail("rotation", "must be e.g. L1L2L3 or L2L3L1") from None
        units = tuple(str(u) for u in read_values(reader, "rate_units", ["A", "W"]))
        if not units or not set(units) <= {"A", "W"}:
            raise reader.fail("rate_units", "must be A, W or both")
        for n in range(count):
            chargers.append(
                ChargerConfig(
                    identity=f"{prefix}{n + 1:02d}",
                    version=version,
                    phases=phases,
                    max_a=max_a,
                    rotation=rotation_cycle[n % len(rotation_cycle)],
                    lag_s=_lag(reader, rng),
                    forget_profiles_on_reboot=bool(reader.get("forget_profiles_on_reboot", False)),
                    meter_values_s=reader.number("meter_values_s", 5.0, low=0.5),
                    max_stack_level=reader.integer("max_stack_level", 3),
                    rate_units=units,
                )
            )
    identities = [c.identity for c in chargers]
    if len(set(identities)) != len(identities):
        raise ScenarioError("chargers: identities repeat; give each block its own prefix")
    return tuple(chargers)


def _fleet(raw: Any) -> tuple[FleetEntry, ...]:
    if raw is None:
        return DEFAULT_FLEET
    if not isinstance(raw, list) or not raw:
        raise ScenarioError("sessions.fleet: must be a non-empty list")
    fleet = []
    for i, item in enumerate(raw):
        reader = Reader(item, f"sessions.fleet[{i}]")
        reader.check_keys("weight", "battery_kwh", "max_a", "phases")
        try:
            ev = EvSpec(
                battery_kwh=reader.number("battery_kwh"),
                max_a=reader.number("max_a"),
                phases=reader.integer("phases", 3, low=1),
            )
        except ValueError as error:
            raise ScenarioError(f"sessions.fleet[{i}]: {error}") from None
        fleet.append(FleetEntry(reader.number("weight", 1.0), ev))
    return tuple(fleet)


def parse_scenario(raw: Any, source: Path | None = None) -> Scenario:
    root = Reader(raw, "")
    root.check_keys(
        "name",
        "description",
        "start",
        "duration_h",
        "seed",
        "site",
        "group",
        "chargers",
        "meter",
        "building",
        "sessions",
    )
    seed = root.integer("seed", 1)
    site_reader = root.child("site")
    site_reader.check_keys("name", "country", "bidding_zone", "time_zone")
    site = SiteConfig(
        name=site_reader.text("name", "amphub simulated site"),
        country=site_reader.text("country", "NO"),
        bidding_zone=site_reader.text("bidding_zone", "NO3"),
        time_zone=site_reader.text("time_zone", "Europe/Oslo"),
    )
    try:
        zone = ZoneInfo(site.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScenarioError(f"site.time_zone: unknown time zone {site.time_zone!r}") from None
    start = read_datetime(root, "start", datetime(2019, 11, 21, 6, 0))
    start = start.replace(tzinfo=zone) if start.tzinfo is None else start.astimezone(zone)

    group_reader = root.child("group")
    group_reader.check_keys(
        "name", "total_a", "dynamic_buffer_a", "fail_safe_a", "placement", "meter_timeout_s"
    )
    group = GroupConfig(
        name=group_reader.text("name", "Main fuse"),
        total_a=group_reader.number("total_a", low=1.0),
        dynamic_buffer_a=group_reader.number("dynamic_buffer_a", 0.0),
        fail_safe_a=group_reader.number("fail_safe_a", 0.0),
        placement=group_reader.choice("placement", Placement, Placement.INCLUDING_CHARGE_POINTS),
        meter_timeout_s=group_reader.number("meter_timeout_s", 30.0, low=2.0),
    )
    if group.fail_safe_a > group.total_a or group.dynamic_buffer_a >= group.total_a:
        raise ScenarioError("group: fail_safe_a and dynamic_buffer_a must fit in total_a")

    meter_reader = root.child("meter")
    meter_reader.check_keys("transport", "interval_s", "name", "host", "port", "unit_id")
    transport = meter_reader.choice("transport", MeterTransport, MeterTransport.HTTP)
    interval = meter_reader.number("interval_s", 2.0, low=0.2)
    if interval > 10:
        raise meter_reader.fail("interval_s", "must be at most 10 s")
    meter = MeterConfig(
        transport=transport,
        interval_s=interval,
        name=meter_reader.text("name", "Simulated main meter"),
        host=meter_reader.text("host", "127.0.0.1"),
        port=meter_reader.integer("port", 1883 if transport is MeterTransport.MQTT else 0),
        unit_id=meter_reader.integer("unit_id", 1),
    )

    b = root.child("building")
    b.check_keys("source", "households", "scale", "base_a", "weights", "noise", "data_start", "csv")
    source_kind = b.text("source", "household")
    if source_kind not in ("household", "csv", "none"):
        raise b.fail("source", "must be household, csv or none")
    weights = b.get("weights", [0.40, 0.33, 0.27])
    if not (isinstance(weights, list) and len(weights) == 3 and min(weights) >= 0):
        raise b.fail("weights", "must be three non-negative numbers")
    csv_path = None
    if source_kind == "csv":
        csv_path = Path(b.text("csv"))
        if source is not None and not csv_path.is_absolute():
            csv_path = source.parent / csv_path
    building = BuildingConfig(
        source=source_kind,
        households=b.integer("households", 1, low=1),
        scale=b.number("scale", 1.0),
        base_a=b.number("base_a", 0.0),
        weights=(float(weights[0]), float(weights[1]), float(weights[2])),
        noise=b.number("noise", 0.03),
        data_start=read_datetime(b, "data_start", datetime(2006, 12, 20, 6, 0)),
        csv=csv_path,
    )

    s = root.child("sessions")
    s.check_keys("date", "count", "garages", "time_mapping", "fleet")
    on_date = s.get("date")
    if on_date is not None and not isinstance(on_date, date):
        try:
            on_date = date.fromisoformat(str(on_date))
        except ValueError:
            raise s.fail("date", "must be an ISO 8601 date") from None
    sessions = SessionsConfig(
        on_date=on_date,
        count=s.integer("count", 0) or None,
        garages=frozenset(str(g) for g in s.get("garages", [])),
        time_mapping=s.choice("time_mapping", TimeMapping, TimeMapping.REAL),
        fleet=_fleet(s.get("fleet")),
    )
    return Scenario(
        name=root.text("name", source.stem if source else "scenario"),
        start=start,
        duration_h=root.number("duration_h", 24.0, low=0.01),
        seed=seed,
        site=site,
        group=group,
        chargers=_chargers(root.get("chargers", required=True), random.Random(seed)),
        meter=meter,
        building=building,
        sessions=sessions,
        source=source,
    )


def load_scenario(path: Path) -> Scenario:
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {error}") from None
    return parse_scenario(raw, path)
