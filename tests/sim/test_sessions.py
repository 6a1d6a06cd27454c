"""Drawing sessions from the Trondheim data: what is left out, real and compressed time,
seeds."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from amphub_sim.data import default_data_dir
from amphub_sim.ev import EvSpec
from amphub_sim.sessions import (
    SESSIONS_FILE,
    FleetEntry,
    TimeMapping,
    draw_sessions,
    id_tag_of,
    load_sessions,
)

FIXTURES = Path(__file__).parent / "fixtures"
ONE_CAR = (FleetEntry(1.0, EvSpec(60, 16, 3)),)


@pytest.fixture(scope="module")
def excerpt() -> list:  # type: ignore[type-arg]
    return load_sessions(FIXTURES / "trondheim_sessions_excerpt.csv")


def test_sessions_without_plug_out_or_energy_are_left_out(excerpt: list) -> None:  # type: ignore[type-arg]
    ids = [s.session_id for s in excerpt]
    assert 5052 not in ids  # no plug-out time
    assert 21 not in ids  # 0.08 kWh
    assert ids == list(range(4129, 4141))


def test_a_date_gives_that_days_sessions_in_real_time(excerpt: list) -> None:  # type: ignore[type-arg]
    planned = draw_sessions(
        excerpt, start=time(6, 0), window_h=24, seed=1, on_date=date(2019, 11, 21), fleet=ONE_CAR
    )
    first = planned[0]
    # 4129 plugged in at 00:06, before the window; 4130 from 09:45 to 12:19, 18.64 kWh
    assert first.session_id == 4130
    assert first.arrival_s == pytest.approx((3 * 60 + 45) * 60)
    assert first.stay_s == pytest.approx((2 * 60 + 34) * 60)
    assert first.energy_need_wh == pytest.approx(18_640)
    assert first.id_tag == "TRD-SHARE-30"
    assert [p.arrival_s for p in planned] == sorted(p.arrival_s for p in planned)


def test_compressing_scales_arrivals_stays_and_needs_alike(excerpt: list) -> None:  # type: ignore[type-arg]
    real = draw_sessions(
        excerpt, start=time(6, 0), window_h=24, seed=1, on_date=date(2019, 11, 21), fleet=ONE_CAR
    )
    squeezed = draw_sessions(
        excerpt,
        start=time(6, 0),
        window_h=2,
        seed=1,
        on_date=date(2019, 11, 21),
        fleet=ONE_CAR,
        time_mapping=TimeMapping.COMPRESS,
    )
    assert [s.session_id for s in squeezed] == [s.session_id for s in real]
    for a, b in zip(real, squeezed, strict=True):
        assert b.arrival_s == pytest.approx(a.arrival_s / 12)
        assert b.stay_s == pytest.approx(a.stay_s / 12)
        assert b.energy_need_wh == pytest.approx(min(a.energy_need_wh, 57_000) / 12)


def test_needs_are_capped_by_the_battery(excerpt: list) -> None:  # type: ignore[type-arg]
    small = (FleetEntry(1.0, EvSpec(20, 16, 3)),)
    planned = draw_sessions(
        excerpt, start=time(0, 0), window_h=48, seed=1, on_date=date(2019, 11, 21), fleet=small
    )
    assert max(p.energy_need_wh for p in planned) == pytest.approx(19_000)


def test_the_same_seed_draws_the_same_sessions() -> None:
    recorded = load_sessions(default_data_dir() / SESSIONS_FILE)
    a = draw_sessions(recorded, start=time(17, 0), window_h=1, seed=3, count=10)
    b = draw_sessions(recorded, start=time(17, 0), window_h=1, seed=3, count=10)
    c = draw_sessions(recorded, start=time(17, 0), window_h=1, seed=4, count=10)
    assert a == b
    assert a != c
    assert len(a) == 10
    assert all(0 <= s.arrival_s < 3600 for s in a)


def test_the_real_file_loads_whole() -> None:
    recorded = load_sessions(default_data_dir() / SESSIONS_FILE)
    # 6,878 rows: 34 without a plug-out time, 86 more below 0.1 kWh (among them all 17
    # that plug out in the minute they plug in)
    assert len(recorded) == 6878 - 34 - 86


def test_id_tags_fit_ocpp_16() -> None:
    assert id_tag_of("AdO3-4") == "TRD-ADO3-4"
    assert len(id_tag_of("x" * 40)) == 20
