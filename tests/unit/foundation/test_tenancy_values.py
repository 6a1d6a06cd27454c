"""Validation of sites, charge points and connectors: bad input names its field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from amphub.domain.errors import InvalidValue
from amphub.domain.ratelimit import SlidingWindowLimiter
from amphub.domain.tenancy import ChargePointSpec, ConnectorSpec, SiteSpec, validate_email
from amphub.domain.units import Phase, PhaseCurrents, PhaseRotation


def site(**changes: str) -> SiteSpec:
    values = {
        "name": "Garage",
        "country": "dk",
        "bidding_zone": "dk2",
        "time_zone": "Europe/Copenhagen",
    }
    values.update(changes)
    return SiteSpec(**values)


def test_a_valid_site_is_normalised() -> None:
    spec = site()
    assert (spec.country, spec.bidding_zone) == ("DK", "DK2")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "Denmark"}, "country"),
        ({"bidding_zone": "DK3"}, "bidding_zone"),
        ({"bidding_zone": "SE3"}, "bidding_zone"),  # exists, but not in Denmark
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"time_zone": "CET+1"}, "time_zone"),
        ({"name": "   "}, "name"),
    ],
)
def test_a_bad_site_names_the_field(changes: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        site(**changes)
    assert raised.value.field == field


def test_northern_ireland_may_sit_in_the_irish_market() -> None:
    assert site(country="GB", bidding_zone="IE", time_zone="Europe/Belfast").bidding_zone == "IE"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phases": 2}, "phases"),
        ({"min_current_a": 5.0}, "min_current_a"),
        ({"max_current_a": 5.9}, "max_current_a"),
        ({"max_current_a": 81.0}, "max_current_a"),
        ({"connector_id": 0}, "connector_id"),
    ],
)
def test_a_bad_connector_names_the_field(changes: dict[str, float], field: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        ConnectorSpec(**{"connector_id": 1, **changes})  # type: ignore[arg-type]
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("identity", "ok"),
    [
        ("CP-001", True),
        ("x" * 48, True),
        ("x" * 49, False),
        ("has space", False),
        ("a/b", False),
        ("", False),
    ],
)
def test_ocpp_identity_rules(identity: str, ok: bool) -> None:
    build = lambda: ChargePointSpec(identity, "SN1", (ConnectorSpec(1),))  # noqa: E731
    if ok:
        assert build().ocpp_identity == identity
    else:
        with pytest.raises(InvalidValue, match="ocpp_identity"):
            build()


def test_connector_ids_must_be_unique() -> None:
    with pytest.raises(InvalidValue, match="connectors"):
        ChargePointSpec("CP", "SN", (ConnectorSpec(1), ConnectorSpec(1)))


def test_email_normalised_and_checked() -> None:
    assert validate_email(" Ann@Example.COM ") == "ann@example.com"
    with pytest.raises(InvalidValue):
        validate_email("not-an-email")


@pytest.mark.parametrize("rotation", list(PhaseRotation))
def test_rotation_is_a_permutation_and_maps_currents(rotation: PhaseRotation) -> None:
    assert sorted(rotation.grid_phases()) == [Phase.L1, Phase.L2, Phase.L3]
    on_grid = rotation.charger_to_grid(PhaseCurrents(1.0, 2.0, 3.0))
    for charger_phase, grid_phase in zip(Phase, rotation.grid_phases(), strict=True):
        assert on_grid.on(grid_phase) == float(charger_phase)


def test_limiter_blocks_after_max_and_forgets_after_window() -> None:
    limiter = SlidingWindowLimiter(3, timedelta(minutes=1))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(3):
        assert not limiter.is_blocked("k", start + timedelta(seconds=i))
        limiter.record("k", start + timedelta(seconds=i))
    assert limiter.is_blocked("k", start + timedelta(seconds=10))
    assert limiter.retry_after("k", start + timedelta(seconds=10)) == timedelta(seconds=50)
    assert not limiter.is_blocked("other", start)
    assert not limiter.is_blocked("k", start + timedelta(seconds=61))


def test_limiter_memory_is_bounded() -> None:
    limiter = SlidingWindowLimiter(1, timedelta(minutes=1), max_keys=100)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(1000):
        limiter.record(f"source-{i}", now)
    assert limiter.is_blocked("source-999", now)
    assert not limiter.is_blocked("source-0", now)  # forgotten, oldest first
