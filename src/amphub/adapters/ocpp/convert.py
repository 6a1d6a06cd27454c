"""Conversions shared by both versions: timestamps and sampled values."""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime
from typing import Any

from amphub.domain.charging import SampledValue
from amphub.domain.errors import InvalidValue


def parse_timestamp(text: str, field: str = "timestamp") -> datetime:
    """An OCPP dateTime (RFC 3339). One without an offset is taken as UTC, which is what
    the specifications require chargers to send."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError) as error:
        raise InvalidValue(field, f"{text!r} is not an RFC 3339 date-time") from error
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@functools.lru_cache(maxsize=64)
def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC, milliseconds. Cached: a balancing cycle stamps every charger's
    profile with the same instant."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def number(value: Any, field: str) -> float:
    """A number that 1.6 sends as text and 2.0.1 as a JSON number; finite or refused."""
    try:
        parsed = float(value)
    except (TypeError, ValueError) as error:
        raise InvalidValue(field, f"{value!r} is not a number") from error
    if not math.isfinite(parsed):
        raise InvalidValue(field, f"{value!r} is not a finite number")
    return parsed


def sampled_value_16(raw: dict[str, Any]) -> SampledValue | None:
    """A 1.6 SampledValue; None for signed data, which is not a number."""
    if raw.get("format") == "SignedData":
        return None
    return SampledValue(
        value=number(raw["value"], "sampledValue.value"),
        measurand=raw.get("measurand", "Energy.Active.Import.Register"),
        phase=raw.get("phase"),
        unit=raw.get("unit"),
        location=raw.get("location"),
        context=raw.get("context"),
    )


def sampled_value_201(raw: dict[str, Any]) -> SampledValue:
    """A 2.0.1 SampledValue: the value is a number, scaled by unitOfMeasure.multiplier."""
    unit_of_measure = raw.get("unitOfMeasure") or {}
    multiplier = int(unit_of_measure.get("multiplier", 0))
    return SampledValue(
        value=number(raw["value"], "sampledValue.value") * 10.0**multiplier,
        measurand=raw.get("measurand", "Energy.Active.Import.Register"),
        phase=raw.get("phase"),
        unit=unit_of_measure.get("unit"),
        location=raw.get("location"),
        context=raw.get("context"),
    )
