"""Meter ingestion (SPEC §3, issue 4): parse, validate, keep live, store, watch status.

Wiring: build one ``MeterIngestion`` with a ``MeterDirectory`` and a ``ReadingRecorder``
(the store), hand it to the HTTP route and to the MQTT/Modbus adapters, and give its
``live`` (``LiveMeterState``) to the balancing controllers.
"""

from amphub.application.metering.counters import IngestCounters
from amphub.application.metering.credentials import (
    IssuedCredentials,
    generate_pin,
    generate_serial,
    issue_credentials,
)
from amphub.application.metering.ingestion import (
    IngestResult,
    MeterIngestion,
    RejectedReading,
    UnknownMeter,
    WrongTransport,
)
from amphub.application.metering.live import LiveMeterState, LiveReading, Subscription
from amphub.application.metering.payload import (
    MAX_BATCH_READINGS,
    ParsedPayload,
    PayloadError,
    field_path,
    parse_document,
    parse_payload,
)
from amphub.application.metering.ports import (
    AcceptedReading,
    Clock,
    IngestOutcome,
    MeterDirectory,
    MeterReadingSink,
    MeterStatusEvent,
    ReadingRecorder,
    SecretHasher,
    utc_now,
)

__all__ = [
    "MAX_BATCH_READINGS",
    "AcceptedReading",
    "Clock",
    "IngestCounters",
    "IngestOutcome",
    "IngestResult",
    "IssuedCredentials",
    "LiveMeterState",
    "LiveReading",
    "MeterDirectory",
    "MeterIngestion",
    "MeterReadingSink",
    "MeterStatusEvent",
    "ParsedPayload",
    "PayloadError",
    "ReadingRecorder",
    "RejectedReading",
    "SecretHasher",
    "Subscription",
    "UnknownMeter",
    "WrongTransport",
    "field_path",
    "generate_pin",
    "generate_serial",
    "issue_credentials",
    "parse_document",
    "parse_payload",
    "utc_now",
]
