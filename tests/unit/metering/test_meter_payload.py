"""The meter JSON payload parser shared by HTTP and MQTT."""

from __future__ import annotations

import contextlib
import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amphub.application.metering import (
    MAX_BATCH_READINGS,
    PayloadError,
    field_path,
    parse_document,
    parse_payload,
)
from amphub.domain.metering import PhasePowers, PhaseVoltages
from amphub.domain.units import PhaseCurrents

FULL: dict[str, Any] = {
    "measured_at": "2025-03-01T12:00:00.250Z",
    "currents_a": {"l1": 12.5, "l2": -3, "l3": 0.4},
    "voltages_v": {"l1": 231.0, "l2": 230.2, "l3": 229.8},
    "power_w": 2150.0,
    "power_w_per_phase": {"l1": 2870.0, "l2": -690.0, "l3": 92.0},
    "energy_import_wh": 1234567,
    "energy_export_wh": 89012.5,
}
MINIMAL: dict[str, Any] = {
    "measured_at": "2025-03-01T13:00:00+01:00",
    "currents_a": {"l1": 1, "l2": 2, "l3": 3},
}


def test_full_reading() -> None:
    parsed = parse_payload(json.dumps(FULL).encode())
    assert not parsed.is_batch
    assert parsed.serial is None
    (reading,) = parsed.readings
    assert reading.measured_at == datetime(2025, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)
    assert reading.currents_a == PhaseCurrents(12.5, -3.0, 0.4)
    assert reading.voltages_v == PhaseVoltages(231.0, 230.2, 229.8)
    assert reading.power_w == 2150.0
    assert reading.power_w_per_phase == PhasePowers(2870.0, -690.0, 92.0)
    assert reading.energy_import_wh == 1234567.0
    assert reading.energy_export_wh == 89012.5


def test_minimal_reading_with_offset_and_nulls() -> None:
    (reading,) = parse_document({**MINIMAL, "voltages_v": None, "power_w": None}).readings
    assert reading.measured_at == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert reading.voltages_v is None
    assert reading.power_w is None
    assert reading.energy_import_wh is None


def test_batch_with_serial() -> None:
    parsed = parse_document({"serial": "amh-abcd-efgh-2345-67qz", "readings": [FULL, MINIMAL]})
    assert parsed.is_batch
    assert parsed.serial == "AMH-ABCD-EFGH-2345-67QZ"
    assert len(parsed.readings) == 2


def test_nan_is_left_to_validation() -> None:
    """NaN is valid (non-standard) JSON for Python; the domain rule refuses it by name."""
    (reading,) = parse_payload(
        b'{"measured_at":"2025-03-01T12:00:00Z","currents_a":{"l1":NaN,"l2":0,"l3":0}}'
    ).readings
    assert math.isnan(reading.currents_a.l1_a)


def _batch(*readings: Any) -> dict[str, Any]:
    return {"readings": list(readings)}


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ([FULL], ""),
        ("reading", ""),
        (_with(MINIMAL, measured_at=None), "measured_at"),
        ({"currents_a": MINIMAL["currents_a"]}, "measured_at"),
        (_with(MINIMAL, measured_at="2025-03-01T12:00:00"), "measured_at"),  # naive
        (_with(MINIMAL, measured_at="yesterday"), "measured_at"),
        (_with(MINIMAL, measured_at=1740830400), "measured_at"),
        (_with(MINIMAL, measured_at="9999-12-31T23:00:00-05:00"), "measured_at"),
        ({"measured_at": MINIMAL["measured_at"]}, "currents_a"),
        (_with(MINIMAL, currents_a=[1, 2, 3]), "currents_a"),
        (_with(MINIMAL, currents_a={"l1": 1, "l2": 2}), "currents_a.l3"),
        (_with(MINIMAL, currents_a={"l1": 1, "l2": "2", "l3": 3}), "currents_a.l2"),
        (_with(MINIMAL, currents_a={"l1": True, "l2": 2, "l3": 3}), "currents_a.l1"),
        (_with(MINIMAL, currents_a={"l1": 1, "l2": 2, "l3": 3, "n": 0}), "currents_a.n"),
        (_with(MINIMAL, voltages_v={"l1": 230, "l2": 230, "l3": None}), "voltages_v.l3"),
        (_with(MINIMAL, power_w="1 kW"), "power_w"),
        (_with(MINIMAL, power_w=10**400), "power_w"),
        (_with(MINIMAL, power_w_per_phase={"l1": 1, "l2": 2, "l3": {}}), "power_w_per_phase.l3"),
        (_with(MINIMAL, energy_import_wh=[1]), "energy_import_wh"),
        (_with(MINIMAL, energy_export_wh=False), "energy_export_wh"),
        (_with(MINIMAL, current_a={"l1": 1}), "current_a"),  # a typo is caught
        (_batch(), "readings"),
        ({"readings": {"0": FULL}}, "readings"),
        ({"readings": [FULL], "extra": 1}, "extra"),
        (_batch(FULL, FULL, "x"), "readings[2]"),
        (
            _batch(FULL, _with(MINIMAL, currents_a={"l1": 1, "l2": None, "l3": 3})),
            "readings[1].currents_a.l2",
        ),
        (_batch(FULL, _with(FULL, serial="AMH-ABCD-EFGH-2345-67QZ")), "readings[1].serial"),
        (_batch(*([MINIMAL] * (MAX_BATCH_READINGS + 1))), "readings"),
        (_with(MINIMAL, serial=7), "serial"),
    ],
)
def test_shape_errors_name_the_field(document: object, field: str) -> None:
    with pytest.raises(PayloadError) as raised:
        parse_document(document)
    assert raised.value.field == field
    assert raised.value.message


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"\xff\xfe{}", b"[" * 100_000, b"1" * 5000, b'{"a":1}' + b" " * (600 * 1024)],
)
def test_undecodable_payloads(raw: bytes) -> None:
    with pytest.raises(PayloadError) as raised:
        parse_payload(raw)
    assert raised.value.field == ""


def test_field_path() -> None:
    assert field_path(None, "currents_a.l2") == "currents_a.l2"
    assert field_path(3, "currents_a.l2") == "readings[3].currents_a.l2"
    assert field_path(3, "") == "readings[3]"
    assert field_path(None, "") == ""


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
_phase = st.fixed_dictionaries({"l1": _json, "l2": _json, "l3": _json})
_reading_like = st.fixed_dictionaries(
    {
        "measured_at": st.one_of(
            st.datetimes(timezones=st.timezones()).map(datetime.isoformat), _json
        )
    },
    optional={
        "currents_a": st.one_of(_phase, _json),
        "voltages_v": st.one_of(_phase, _json),
        "power_w": _json,
        "power_w_per_phase": _phase,
        "energy_import_wh": _json,
        "energy_export_wh": _json,
        "serial": _json,
    },
)
_documents = st.one_of(
    _json, _reading_like, st.fixed_dictionaries({"readings": st.lists(_reading_like, max_size=4)})
)


@settings(max_examples=200, deadline=None)
@given(_documents)
def test_parser_raises_nothing_but_payload_error(document: object) -> None:
    with contextlib.suppress(PayloadError):
        parse_document(document)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | _documents.map(lambda d: json.dumps(d).encode()))
def test_parser_raises_nothing_but_payload_error_on_bytes(raw: bytes) -> None:
    with contextlib.suppress(PayloadError):
        parse_payload(raw)
