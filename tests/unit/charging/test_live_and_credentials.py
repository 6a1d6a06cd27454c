"""The live state the balancer reads, and charge point passwords."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

import pytest

from amphub.application.charging.credentials import (
    ChargePointPasswordHasher,
    generate_charge_point_password,
)
from amphub.application.charging.live import LiveChargerState, LiveEvent, LiveEventKind
from amphub.domain.charging import ConnectorStatus, MeterReading
from amphub.domain.errors import InvalidValue
from amphub.domain.units import PhaseCurrents

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_passwords_are_long_random_and_alphanumeric() -> None:
    passwords = {generate_charge_point_password() for _ in range(200)}
    assert len(passwords) == 200
    assert all(
        len(p) == 24 and set(p) <= set(string.ascii_letters + string.digits) for p in passwords
    )
    assert len(generate_charge_point_password(16)) == 16
    assert len(generate_charge_point_password(40)) == 40
    for length in (15, 41):
        with pytest.raises(InvalidValue):
            generate_charge_point_password(length)


def test_the_hash_is_salted_and_verifies_only_its_password() -> None:
    hasher = ChargePointPasswordHasher()
    first, second = hasher.hash("secret-password-1"), hasher.hash("secret-password-1")
    assert first != second
    assert hasher.verify(first, "secret-password-1")
    assert not hasher.verify(first, "secret-password-2")
    for stored in ("", "sha256$zz$00", "argon2$x$y", "sha256$00"):
        assert not hasher.verify(stored, "secret-password-1")


def test_the_live_state_follows_a_connector_and_notifies() -> None:
    live = LiveChargerState()
    events: list[LiveEvent] = []
    unsubscribe = live.subscribe(events.append)
    live.subscribe(lambda event: 1 / 0)  # a broken listener does not stop the others
    live.apply_reading(7, 1, MeterReading(T0, energy_wh=1.0))  # unknown charger: ignored
    live.mark_connected(7, "CP-7", "1.6", T0, [(1, 3), (2, 1)])
    live.set_status(7, 1, ConnectorStatus.CHARGING, T0)
    live.set_status(7, 1, ConnectorStatus.AVAILABLE, T0 - timedelta(seconds=1))
    assert live.apply_reading(7, 2, MeterReading(T0, current_unphased_a=10.0, power_w=2300.0))
    assert not live.apply_reading(7, 2, MeterReading(T0 - timedelta(seconds=5), power_w=1.0))
    assert live.apply_reading(7, 2, MeterReading(T0 + timedelta(seconds=5), energy_wh=500.0))
    connector = live.connector(7, 2)
    assert connector is not None
    assert connector.current_a == PhaseCurrents(10.0, 0.0, 0.0)  # a 1-phase connector
    assert (connector.power_w, connector.energy_wh) == (2300.0, 500.0)
    assert live.connector(7, 1).status is ConnectorStatus.CHARGING  # type: ignore[union-attr]
    live.mark_disconnected(7)
    live.mark_disconnected(7)
    live.mark_connected(7, "CP-7", "2.0.1", T0, [(1, 3), (2, 1)])
    assert live.connector(7, 2).energy_wh == 500.0  # type: ignore[union-attr]
    unsubscribe()
    live.mark_disconnected(7)
    assert [e.kind for e in events] == [
        LiveEventKind.CONNECTED,
        LiveEventKind.STATUS,
        LiveEventKind.METER,
        LiveEventKind.METER,
        LiveEventKind.DISCONNECTED,
        LiveEventKind.CONNECTED,
    ]
