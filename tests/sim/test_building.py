"""Building load from the household data: gaps, scaling, the split over phases, noise."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amphub_sim.building import (
    HOUSEHOLD_FILE,
    HouseholdBuilding,
    HouseholdTrace,
    PhaseCsvBuilding,
    peak_of,
)
from amphub_sim.data import default_data_dir

FIXTURES = Path(__file__).parent / "fixtures"
START = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def excerpt() -> HouseholdTrace:
    return HouseholdTrace.load(FIXTURES / "uci_household_excerpt.csv")


def test_missing_minutes_are_interpolated(excerpt: HouseholdTrace) -> None:
    # 11:22 is 0.244 kW, 11:25 is 0.246 kW, no reactive power; 11:23 and 11:24 are missing
    assert excerpt.start == datetime(2006, 12, 21, 11, 20)
    assert excerpt.kva[3] == pytest.approx(0.244 + (0.246 - 0.244) / 3)
    assert excerpt.kva[4] == pytest.approx(0.244 + 2 * (0.246 - 0.244) / 3)


def test_between_minutes_the_trace_is_linear(excerpt: HouseholdTrace) -> None:
    assert excerpt.kva_at(1.5) == pytest.approx((0.242 + 0.244) / 2)


def building(trace: HouseholdTrace, **options: object) -> HouseholdBuilding:
    return HouseholdBuilding(trace, START, trace.start, **options)  # type: ignore[arg-type]


def test_the_split_follows_the_weights_without_noise(excerpt: HouseholdTrace) -> None:
    b = building(excerpt, noise=0.0, weights=(0.5, 0.3, 0.2))
    currents = b.currents_at(START)
    total_a = 0.244 * 1000 / 230
    # 0.1 A of noise floor remains at noise=0, so compare with that tolerance
    assert currents.l1_a == pytest.approx(0.5 * total_a, abs=0.5)
    assert currents.l1_a > currents.l2_a > currents.l3_a or math.isclose(currents.l2_a, 0.0)


def test_scale_households_and_base_add_up(excerpt: HouseholdTrace) -> None:
    one = building(excerpt, noise=0.0).total_kva_at(START)
    assert building(excerpt, noise=0.0, scale=3.0).total_kva_at(START) == pytest.approx(3 * one)
    four = building(excerpt, noise=0.0, households=4).total_kva_at(START)
    assert four == pytest.approx(4 * one, rel=0.05)  # the excerpt is nearly flat
    base = building(excerpt, noise=0.0, base_a=5.0, weights=(1.0, 0.0, 0.0))
    assert base.currents_at(START).l3_a == pytest.approx(5.0, abs=0.5)


def test_noise_is_deterministic_per_seed_and_differs_per_phase(excerpt: HouseholdTrace) -> None:
    a = building(excerpt, seed=1).currents_at(START + timedelta(seconds=30))
    b = building(excerpt, seed=1).currents_at(START + timedelta(seconds=30))
    c = building(excerpt, seed=2).currents_at(START + timedelta(seconds=30))
    assert a == b
    assert a != c


def test_the_real_fortnight_has_plausible_peaks() -> None:
    trace = HouseholdTrace.load(default_data_dir() / HOUSEHOLD_FILE)
    assert len(trace.kva) == 20_160
    site = HouseholdBuilding(trace, START, datetime(2006, 12, 20, 6, 0), households=4, base_a=3.0)
    peak = peak_of(site, START, 24)
    assert 15 < peak < 63  # four flats and a garage on a 63 A fuse


def test_a_per_phase_csv_is_replayed_and_wraps(tmp_path: Path) -> None:
    path = tmp_path / "phases.csv"
    path.write_text(
        "timestamp,l1_a,l2_a,l3_a\n2026-01-01T00:00:00,10,20,30\n2026-01-01T00:01:00,20,20,10\n"
    )
    replay = PhaseCsvBuilding.load(path, START)
    assert replay.currents_at(START).as_tuple() == (10, 20, 30)
    assert replay.currents_at(START + timedelta(seconds=30)).as_tuple() == (15, 20, 20)
    assert replay.currents_at(START + timedelta(seconds=60)).as_tuple() == (10, 20, 30)


def test_a_per_phase_csv_must_go_forward(tmp_path: Path) -> None:
    path = tmp_path / "phases.csv"
    path.write_text(
        "timestamp,l1_a,l2_a,l3_a\n2026-01-01T00:01:00,1,1,1\n2026-01-01T00:00:00,1,1,1\n"
    )
    with pytest.raises(ValueError, match="increase"):
        PhaseCsvBuilding.load(path, START)
