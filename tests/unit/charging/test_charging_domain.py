"""Pure rules of charging: id tags, meter samples, transaction idempotency and ordering."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amphub.domain.charging import (
    AuthorizationStatus,
    ConnectorStatus,
    IdTagEntry,
    SampledValue,
    StartTransaction,
    TransactionEvent,
    TransactionEventType,
    decide_id_tag,
    is_newer,
    merge_event,
    normalise_id_tag,
    reading_from_samples,
)
from amphub.domain.errors import InvalidValue
from amphub.domain.units import PhaseCurrents

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class TestIdTags:
    def test_tags_compare_case_insensitively(self) -> None:
        assert normalise_id_tag(" abc123 ") == "ABC123"

    @pytest.mark.parametrize("tag", ["", "   ", "X" * 37])
    def test_empty_or_overlong_tags_are_refused(self, tag: str) -> None:
        with pytest.raises(InvalidValue):
            normalise_id_tag(tag)

    def test_decisions(self) -> None:
        entry = IdTagEntry(team_id=1, id_tag="A")
        assert decide_id_tag(entry, NOW) is AuthorizationStatus.ACCEPTED
        assert decide_id_tag(None, NOW) is AuthorizationStatus.INVALID
        assert decide_id_tag(None, NOW, remotely_started=True) is AuthorizationStatus.ACCEPTED
        blocked = IdTagEntry(1, "A", blocked=True)
        assert decide_id_tag(blocked, NOW, remotely_started=True) is AuthorizationStatus.BLOCKED
        expired = IdTagEntry(1, "A", expires_at=NOW)
        assert decide_id_tag(expired, NOW) is AuthorizationStatus.EXPIRED
        later = IdTagEntry(1, "A", expires_at=NOW + timedelta(seconds=1))
        assert decide_id_tag(later, NOW) is AuthorizationStatus.ACCEPTED
        assert decide_id_tag(entry, NOW, in_use_elsewhere=True) is AuthorizationStatus.CONCURRENT_TX
        assert decide_id_tag(blocked, NOW, in_use_elsewhere=True) is AuthorizationStatus.BLOCKED


class TestMeterSamples:
    def test_per_phase_current_power_and_energy_in_base_units(self) -> None:
        reading = reading_from_samples(
            NOW,
            [
                SampledValue(16.0, "Current.Import", phase="L1", unit="A"),
                SampledValue(15.5, "Current.Import", phase="L2", unit="A"),
                SampledValue(15.0, "Current.Import", phase="L3", unit="A"),
                SampledValue(10.9, "Power.Active.Import", unit="kW"),
                SampledValue(12.345, unit="kWh", context="Sample.Periodic"),
                SampledValue(55, "SoC", unit="Percent"),
            ],
        )
        assert reading.current_a == PhaseCurrents(16.0, 15.5, 15.0)
        assert reading.power_w == pytest.approx(10_900.0)
        assert reading.energy_wh == pytest.approx(12_345.0)
        assert reading.soc_percent == 55
        assert reading.context == "Sample.Periodic"

    def test_outlet_wins_over_inlet_and_ev_side_values_are_ignored(self) -> None:
        reading = reading_from_samples(
            NOW,
            [
                SampledValue(100.0, unit="Wh", location="Inlet"),
                SampledValue(90.0, unit="Wh", location="Outlet"),
                SampledValue(80.0, unit="Wh", location="EV"),
                SampledValue(7.0, "Current.Import", location="Cable"),
            ],
        )
        assert reading.energy_wh == 90.0
        assert reading.current_a is None
        assert reading.current_unphased_a is None

    def test_inlet_is_used_when_nothing_else_is_reported(self) -> None:
        reading = reading_from_samples(NOW, [SampledValue(100.0, unit="Wh", location="Inlet")])
        assert reading.energy_wh == 100.0

    def test_per_phase_powers_add_up_and_voltages_average(self) -> None:
        reading = reading_from_samples(
            NOW,
            [
                SampledValue(3000.0, "Power.Active.Import", phase="L1"),
                SampledValue(2000.0, "Power.Active.Import", phase="L2"),
                SampledValue(230.0, "Voltage", phase="L1-N"),
                SampledValue(232.0, "Voltage", phase="L2-N"),
                SampledValue(2.0, "Current.Import", phase="N"),
            ],
        )
        assert reading.power_w == 5000.0
        assert reading.voltage_v == 231.0
        assert reading.current_a is None

    def test_unknown_measurands_are_skipped(self) -> None:
        reading = reading_from_samples(NOW, [SampledValue(1.0, "Temperature", unit="Celsius")])
        assert reading.is_empty

    @pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
    def test_non_finite_values_are_refused(self, value: float) -> None:
        with pytest.raises(InvalidValue):
            reading_from_samples(NOW, [SampledValue(value, "Current.Import")])

    def test_a_unit_foreign_to_its_measurand_is_refused(self) -> None:
        with pytest.raises(InvalidValue, match="unit"):
            reading_from_samples(
                NOW, [SampledValue(1.0, "Energy.Active.Import.Register", unit="A")]
            )

    def test_phaseless_current_applies_to_each_wired_phase(self) -> None:
        reading = reading_from_samples(NOW, [SampledValue(10.0, "Current.Import")])
        assert reading.per_phase_current(1) == PhaseCurrents(10.0, 0.0, 0.0)
        assert reading.per_phase_current(3) == PhaseCurrents.uniform(10.0)

    def test_old_values_never_replace_newer_live_values(self) -> None:
        assert is_newer(None, NOW)
        assert is_newer(NOW, NOW)
        assert not is_newer(NOW, NOW - timedelta(seconds=1))


class TestStartIdempotency:
    def test_a_retry_has_the_same_key_and_a_new_start_another(self) -> None:
        start = StartTransaction(1, "tag", 1000.0, NOW)
        assert start.idempotency_key() == StartTransaction(1, "TAG", 1000.0, NOW).idempotency_key()
        for other in (
            StartTransaction(2, "tag", 1000.0, NOW),
            StartTransaction(1, "tag2", 1000.0, NOW),
            StartTransaction(1, "tag", 1001.0, NOW),
            StartTransaction(1, "tag", 1000.0, NOW + timedelta(seconds=1)),
        ):
            assert other.idempotency_key() != start.idempotency_key()


def _event(
    seq_no: int, minute: int, kind: TransactionEventType, **fields: object
) -> TransactionEvent:
    return TransactionEvent(
        transaction_ref="tx-1",
        seq_no=seq_no,
        event_type=kind,
        timestamp=NOW + timedelta(minutes=minute),
        trigger_reason="MeterValuePeriodic",
        **fields,  # type: ignore[arg-type]
    )


SESSION = [
    _event(
        0,
        0,
        TransactionEventType.STARTED,
        connector_id=1,
        id_tag="A",
        energy_wh=100.0,
        charging_state=ConnectorStatus.PREPARING,
    ),
    _event(
        1, 5, TransactionEventType.UPDATED, charging_state=ConnectorStatus.CHARGING, energy_wh=900.0
    ),
    _event(2, 10, TransactionEventType.UPDATED, offline=True, energy_wh=1500.0),
    _event(3, 15, TransactionEventType.UPDATED, charging_state=ConnectorStatus.SUSPENDED_EV),
    _event(
        4,
        20,
        TransactionEventType.ENDED,
        stopped_reason="EVDisconnected",
        energy_wh=2000.0,
        charging_state=ConnectorStatus.AVAILABLE,
    ),
]


class TestTransactionEventFold:
    def test_in_order(self) -> None:
        summary = None
        for event in SESSION:
            summary = merge_event(summary, event)
        assert summary is not None
        assert summary.started_at == NOW
        assert summary.ended_at == NOW + timedelta(minutes=20)
        assert summary.ended is not None
        assert summary.ended.value == "EVDisconnected"
        assert summary.meter_start_wh is not None
        assert summary.meter_start_wh.value == 100.0
        assert summary.meter_last_wh is not None
        assert summary.meter_last_wh.value == 2000.0
        assert summary.charging_state is not None
        assert summary.charging_state.value is ConnectorStatus.AVAILABLE
        assert summary.id_tag is not None
        assert summary.id_tag.value == "A"
        assert summary.connector_id is not None
        assert summary.connector_id.value == 1
        assert not summary.is_active

    @settings(max_examples=200, deadline=None)
    @given(st.permutations(SESSION), st.lists(st.sampled_from(SESSION), max_size=5))
    def test_any_arrival_order_and_any_retries_give_the_same_summary(
        self, order: list[TransactionEvent], retries: list[TransactionEvent]
    ) -> None:
        expected = None
        for event in SESSION:
            expected = merge_event(expected, event)
        summary = None
        for event in [*order, *retries]:
            summary = merge_event(summary, event)
        assert summary == expected

    def test_a_late_offline_event_does_not_overwrite_the_present(self) -> None:
        summary = merge_event(None, SESSION[3])
        summary = merge_event(summary, SESSION[1])
        assert summary.charging_state is not None
        assert summary.charging_state.value is ConnectorStatus.SUSPENDED_EV
        assert summary.started_at == SESSION[1].timestamp
