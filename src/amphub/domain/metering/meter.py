"""A registered measurement device: its identity (serial number and PIN, seed 002) and the
settings its readings are judged by."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from amphub.domain.errors import InvalidValue
from amphub.domain.metering.status import DEFAULT_METER_TIMEOUT, MeterStatus
from amphub.domain.metering.validation import DEFAULT_FROZEN_AFTER_N

SERIAL_PREFIX = "AMH"
_SERIAL = re.compile(r"^AMH(-[A-Z2-7]{4}){4}$")
"""``AMH-`` and 16 characters of the RFC 4648 base32 alphabet in groups of four (80 random
bits): easy to read aloud and to type into a meter's set-up page, and safe as an MQTT
username and topic level (no ``/``, ``+``, ``#``)."""

PIN_LENGTH = 8

MIN_METER_TIMEOUT = timedelta(seconds=2)
MAX_METER_TIMEOUT = timedelta(hours=1)
MAX_MAIN_FUSE_A = 6300.0
"""The largest common low-voltage main fuse (NH gG 1250 A is typical for big sites; 6300 A
is the top of the IEC 60947-2 air circuit breaker range)."""


class MeterTransport(StrEnum):
    """How a meter's readings reach amphub."""

    HTTP = "http"
    MQTT = "mqtt"
    MODBUS = "modbus"


def validate_serial(serial: str) -> str:
    """The serial number in its canonical form (upper case), or ``InvalidValue``."""
    text = serial.strip().upper()
    if not _SERIAL.fullmatch(text):
        raise InvalidValue("serial", "must look like AMH-XXXX-XXXX-XXXX-XXXX (A–Z, 2–7)")
    return text


def is_valid_serial(serial: str) -> bool:
    return bool(_SERIAL.fullmatch(serial))


def validate_pin(pin: str) -> str:
    """The PIN unchanged if it is exactly eight ASCII digits, else ``InvalidValue``."""
    if len(pin) != PIN_LENGTH or not (pin.isascii() and pin.isdigit()):
        raise InvalidValue("pin", f"must be exactly {PIN_LENGTH} digits")
    return pin


def validate_main_fuse_a(main_fuse_a: float) -> float:
    if not math.isfinite(main_fuse_a) or not 0 < main_fuse_a <= MAX_MAIN_FUSE_A:
        raise InvalidValue("main_fuse_a", f"must be above 0 and at most {MAX_MAIN_FUSE_A:g} A")
    return main_fuse_a


def validate_meter_timeout(timeout: timedelta) -> timedelta:
    if not MIN_METER_TIMEOUT <= timeout <= MAX_METER_TIMEOUT:
        raise InvalidValue(
            "timeout_s",
            f"must be between {MIN_METER_TIMEOUT.total_seconds():g} s and "
            f"{MAX_METER_TIMEOUT.total_seconds():g} s",
        )
    return timeout


def validate_frozen_after_n(frozen_after_n: int | None) -> int | None:
    if frozen_after_n is not None and not 2 <= frozen_after_n <= 100_000:
        raise InvalidValue("frozen_after_n", "must be between 2 and 100000, or empty to disable")
    return frozen_after_n


@dataclass(frozen=True, slots=True)
class MeterConfig:
    """What ingestion needs to know about a registered meter.

    ``status`` is the status last recorded for it, so that a restart neither repeats nor
    loses a transition.
    """

    meter_id: int
    site_id: int
    serial: str
    main_fuse_a: float
    transport: MeterTransport
    timeout: timedelta = DEFAULT_METER_TIMEOUT
    frozen_after_n: int | None = DEFAULT_FROZEN_AFTER_N
    status: MeterStatus = MeterStatus.NEVER_SEEN

    def __post_init__(self) -> None:
        object.__setattr__(self, "serial", validate_serial(self.serial))
        validate_main_fuse_a(self.main_fuse_a)
        validate_meter_timeout(self.timeout)
        validate_frozen_after_n(self.frozen_after_n)
