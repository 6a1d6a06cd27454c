"""The JSON a meter sends, over HTTP and MQTT alike, turned into domain readings.

One reading::

    {"measured_at": "2025-03-01T12:00:00.250Z",
     "currents_a": {"l1": 12.5, "l2": -3.0, "l3": 0.4},
     "voltages_v": {"l1": 231.0, "l2": 230.2, "l3": 229.8},
     "power_w": 2150.0,
     "power_w_per_phase": {"l1": 2870.0, "l2": -690.0, "l3": 92.0},
     "energy_import_wh": 1234567.0,
     "energy_export_wh": 89012.0}

or a batch ``{"readings": [ …up to 1000 readings… ]}``. Either may carry ``"serial"``,
which must then match the meter the message came from (HTTP login, MQTT topic).

``measured_at`` is ISO 8601 with a UTC offset (``Z`` or ``+01:00``). Only
``measured_at`` and ``currents_a`` are required; ``null`` means absent. Unknown fields are
refused, so that a typo (``current_a``) is caught instead of silently ignored. Values are
checked later by the domain's rules; this module only checks the shape and names the
field in JSON-pointer-ish form: ``readings[3].currents_a.l2``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from amphub.domain.errors import InvalidValue
from amphub.domain.metering import MeterReading, PhasePowers, PhaseVoltages
from amphub.domain.units import PhaseCurrents

MAX_BATCH_READINGS = 1000
MAX_PAYLOAD_BYTES = 512 * 1024
_MAX_TIMESTAMP_CHARS = 64

_PHASE_KEYS = ("l1", "l2", "l3")
_PHASE_KEY_SET = frozenset(_PHASE_KEYS)
_READING_KEYS = frozenset(
    {
        "measured_at",
        "currents_a",
        "voltages_v",
        "power_w",
        "power_w_per_phase",
        "energy_import_wh",
        "energy_export_wh",
    }
)
_READING_KEYS_WITH_SERIAL = _READING_KEYS | {"serial"}


class PayloadError(Exception):
    """The payload is not a reading or a batch of readings. ``field`` names where (``""``
    for the payload as a whole)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class ParsedPayload:
    readings: tuple[MeterReading, ...]
    serial: str | None
    is_batch: bool


def field_path(index: int | None, field: str) -> str:
    """Where a problem sits: ``readings[3].currents_a.l2`` in a batch, else the field."""
    prefix = "" if index is None else f"readings[{index}]"
    if prefix and field:
        return f"{prefix}.{field}"
    return prefix or field


def parse_payload(raw: bytes | str) -> ParsedPayload:
    """Decode and parse a payload; raises only ``PayloadError``."""
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise PayloadError("", f"payload larger than {MAX_PAYLOAD_BYTES} bytes")
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as error:  # JSONDecodeError and bad UTF-8 are ValueErrors
        raise PayloadError("", f"not valid JSON: {error}") from None
    return parse_document(document)


def parse_document(document: object) -> ParsedPayload:
    """Parse an already decoded JSON document; raises only ``PayloadError``."""
    if not isinstance(document, dict):
        raise PayloadError("", "expected a JSON object")
    serial = _optional_serial(document)
    if "readings" not in document:
        return ParsedPayload((_reading(document, None, allow_serial=True),), serial, is_batch=False)
    unknown = sorted(set(document) - {"readings", "serial"})
    if unknown:
        raise PayloadError(unknown[0], "unknown field (a batch holds only readings and serial)")
    items = document["readings"]
    if not isinstance(items, list):
        raise PayloadError("readings", "expected a list of readings")
    if not items:
        raise PayloadError("readings", "must hold at least one reading")
    if len(items) > MAX_BATCH_READINGS:
        raise PayloadError("readings", f"at most {MAX_BATCH_READINGS} readings per message")
    readings = tuple(_reading(item, index, allow_serial=False) for index, item in enumerate(items))
    return ParsedPayload(readings, serial, is_batch=True)


def _optional_serial(document: Mapping[str, object]) -> str | None:
    serial = document.get("serial")
    if serial is None:
        return None
    if not isinstance(serial, str):
        raise PayloadError("serial", "expected a string")
    return serial.strip().upper()


def _reading(item: object, index: int | None, *, allow_serial: bool) -> MeterReading:
    if not isinstance(item, dict):
        raise PayloadError(field_path(index, ""), "expected a reading object")
    allowed = _READING_KEYS_WITH_SERIAL if allow_serial else _READING_KEYS
    if not item.keys() <= allowed:
        unknown = sorted(key for key in item if key not in allowed)
        raise PayloadError(field_path(index, unknown[0]), "unknown field")
    measured_at = _timestamp(item.get("measured_at"), index)
    currents = item.get("currents_a")
    if currents is None:
        raise PayloadError(field_path(index, "currents_a"), "required")
    l1_a, l2_a, l3_a = _phases(currents, index, "currents_a")
    voltages = _optional_phases(item.get("voltages_v"), index, "voltages_v")
    powers = _optional_phases(item.get("power_w_per_phase"), index, "power_w_per_phase")
    try:
        return MeterReading(
            measured_at=measured_at,
            currents_a=PhaseCurrents(l1_a, l2_a, l3_a),
            voltages_v=None if voltages is None else PhaseVoltages(*voltages),
            power_w=_optional_number(item.get("power_w"), index, "power_w"),
            power_w_per_phase=None if powers is None else PhasePowers(*powers),
            energy_import_wh=_optional_number(
                item.get("energy_import_wh"), index, "energy_import_wh"
            ),
            energy_export_wh=_optional_number(
                item.get("energy_export_wh"), index, "energy_export_wh"
            ),
        )
    except InvalidValue as error:
        raise PayloadError(field_path(index, error.field), error.message) from None


def _timestamp(value: object, index: int | None) -> datetime:
    where = field_path(index, "measured_at")
    if value is None:
        raise PayloadError(where, "required")
    if not isinstance(value, str) or len(value) > _MAX_TIMESTAMP_CHARS:
        raise PayloadError(where, "expected an ISO 8601 timestamp string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PayloadError(
            where, "expected an ISO 8601 timestamp, e.g. 2025-03-01T12:00:00Z"
        ) from None
    if parsed.utcoffset() is None:
        raise PayloadError(where, "must carry a UTC offset (end in Z or +HH:MM)")
    try:
        return parsed.astimezone(UTC)  # 9999-12-31T23:00-05:00 has no UTC equivalent
    except OverflowError:
        raise PayloadError(where, "outside the representable range") from None


def _phases(value: object, index: int | None, name: str) -> tuple[float, float, float]:
    if not isinstance(value, dict):
        raise PayloadError(field_path(index, name), 'expected {"l1": …, "l2": …, "l3": …}')
    if not value.keys() <= _PHASE_KEY_SET:
        unknown = sorted(key for key in value if key not in _PHASE_KEY_SET)
        raise PayloadError(
            field_path(index, f"{name}.{unknown[0]}"), "unknown phase (use l1, l2, l3)"
        )
    l1, l2, l3 = value.get("l1"), value.get("l2"), value.get("l3")
    if type(l1) is float and type(l2) is float and type(l3) is float:
        return l1, l2, l3  # the usual case; anything else is checked one by one below
    numbers = []
    for key in _PHASE_KEYS:
        where = f"{name}.{key}"
        if value.get(key) is None:
            raise PayloadError(field_path(index, where), "required")
        numbers.append(_number(value[key], index, where))
    return numbers[0], numbers[1], numbers[2]


def _optional_phases(
    value: object, index: int | None, name: str
) -> tuple[float, float, float] | None:
    return None if value is None else _phases(value, index, name)


def _optional_number(value: object, index: int | None, name: str) -> float | None:
    return None if value is None else _number(value, index, name)


def _number(value: object, index: int | None, name: str) -> float:
    # bool is an int in Python but true/false are not measurements
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(field_path(index, name), "expected a number")
    try:
        return float(value)
    except OverflowError:
        raise PayloadError(field_path(index, name), "number too large") from None
