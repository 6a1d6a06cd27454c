"""Measurement devices (SPEC §3, R-METER): readings, their validation, status and identity."""

from amphub.domain.metering.meter import (
    PIN_LENGTH,
    MeterConfig,
    MeterTransport,
    is_valid_serial,
    validate_frozen_after_n,
    validate_main_fuse_a,
    validate_meter_timeout,
    validate_pin,
    validate_serial,
)
from amphub.domain.metering.readings import MeterReading, PhasePowers, PhaseVoltages
from amphub.domain.metering.status import (
    DEFAULT_METER_TIMEOUT,
    MeterStatus,
    StatusTransition,
    next_status,
)
from amphub.domain.metering.validation import (
    DEFAULT_FROZEN_AFTER_N,
    MAX_FUTURE_SKEW,
    Rejection,
    RejectionReason,
    validate_reading,
)

__all__ = [
    "DEFAULT_FROZEN_AFTER_N",
    "DEFAULT_METER_TIMEOUT",
    "MAX_FUTURE_SKEW",
    "PIN_LENGTH",
    "MeterConfig",
    "MeterReading",
    "MeterStatus",
    "MeterTransport",
    "PhasePowers",
    "PhaseVoltages",
    "Rejection",
    "RejectionReason",
    "StatusTransition",
    "is_valid_serial",
    "next_status",
    "validate_frozen_after_n",
    "validate_main_fuse_a",
    "validate_meter_timeout",
    "validate_pin",
    "validate_reading",
    "validate_serial",
]
