"""Ports of the charging use cases: what they need from the store and from the wire.

The store side (:class:`ChargePointDirectory`, :class:`TransactionStore`) commits every
write before it returns, so a use case that returned has made its change durable: the OCPP
adapter answers the charger only then. The wire side (:class:`ChargerCommander`) is
version-neutral; the OCPP adapter translates to 1.6 or 2.0.1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from amphub.domain.charging import (
    AuthorizationStatus,
    BootStatus,
    ConnectorStatus,
    IdTagEntry,
    MeterReading,
    StartTransaction,
    StopOutcome,
    StopTransaction,
    TransactionEvent,
    TransactionSummary,
)
from amphub.domain.smart_charging import (
    ChargingProfile,
    ChargingProfilePurpose,
    ChargingRateUnit,
    CompositeSchedule,
)

# -- records -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectorRecord:
    connector_id: int
    phases: int
    max_current_a: float


@dataclass(frozen=True, slots=True)
class ChargePointRecord:
    """A registered charge point as the gateway needs it at the handshake."""

    charge_point_id: int
    identity: str
    site_id: int
    team_id: int
    operator_id: int
    password_hash: str | None
    connectors: tuple[ConnectorRecord, ...]

    def connector(self, connector_id: int) -> ConnectorRecord | None:
        return next((c for c in self.connectors if c.connector_id == connector_id), None)


@dataclass(frozen=True, slots=True)
class BootReport:
    vendor: str
    model: str
    serial_number: str = ""
    firmware_version: str = ""
    iccid: str = ""
    imsi: str = ""
    meter_type: str = ""
    meter_serial_number: str = ""
    reason: str = ""
    """2.0.1 only: PowerUp, Triggered, …"""


@dataclass(frozen=True, slots=True)
class StatusReport:
    connector_id: int
    """0 is the charger as a whole."""
    status: ConnectorStatus
    at: datetime
    error_code: str = ""
    info: str = ""
    vendor_error_code: str = ""


@dataclass(frozen=True, slots=True)
class ConnectorReading:
    """A reading of one connector, as stored."""

    connector_id: int
    reading: MeterReading
    transaction_id: int | None = None


@dataclass(frozen=True, slots=True)
class StartResult:
    transaction_id: int
    created: bool
    """False for a retried StartTransaction: the id and status are those of the first."""
    id_tag_status: AuthorizationStatus


@dataclass(frozen=True, slots=True)
class StopResult:
    outcome: StopOutcome
    transaction_id: int | None
    connector_id: int | None


@dataclass(frozen=True, slots=True)
class EventResult:
    transaction_id: int
    duplicate: bool
    """The (station, transactionId, seqNo) was seen before: nothing changed."""
    summary: TransactionSummary
    id_tag_status: AuthorizationStatus | None


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    kind: str
    at: datetime
    tech_info: str = ""


@dataclass(frozen=True, slots=True)
class ActiveTransaction:
    transaction_id: int
    charge_point_id: int
    connector_id: int
    transaction_ref: str
    """The id the charger knows it by (1.6: our id as text; 2.0.1: the charger's own)."""


# -- store ports ---------------------------------------------------------------------------


class ChargePointDirectory(Protocol):
    async def find_by_identity(self, identity: str) -> ChargePointRecord | None: ...


class TransactionStore(Protocol):
    """Every method commits before it returns and is idempotent by natural key. A failure
    to reach the database raises :class:`~amphub.application.charging.errors.StoreUnavailable`."""

    async def record_connection(
        self, charge_point_id: int, ocpp_version: str, connected: bool, at: datetime
    ) -> None: ...

    async def record_boot(
        self, charge_point_id: int, boot: BootReport, status: BootStatus, at: datetime
    ) -> None: ...

    async def record_heartbeat(self, charge_point_id: int, at: datetime) -> None: ...

    async def record_status(
        self, charge_point_id: int, report: StatusReport, received_at: datetime
    ) -> None: ...

    async def find_id_tag(self, team_id: int, id_tag: str) -> IdTagEntry | None: ...

    async def active_transaction_of_tag(
        self, team_id: int, id_tag: str
    ) -> ActiveTransaction | None: ...

    async def find_transaction(
        self, charge_point_id: int, transaction_id: int
    ) -> ActiveTransaction | None:
        """A transaction of this charge point, running or not."""
        ...

    async def start_transaction(
        self,
        charge_point_id: int,
        start: StartTransaction,
        id_tag_status: AuthorizationStatus,
        received_at: datetime,
    ) -> StartResult: ...

    async def stop_transaction(
        self,
        charge_point_id: int,
        stop: StopTransaction,
        readings: Sequence[MeterReading],
        received_at: datetime,
    ) -> StopResult:
        """Stop, or do nothing for a repeat, or quarantine an unknown id; store the
        transaction data readings with the transaction."""
        ...

    async def record_transaction_event(
        self,
        charge_point_id: int,
        event: TransactionEvent,
        readings: Sequence[MeterReading],
        id_tag_status: AuthorizationStatus | None,
        received_at: datetime,
    ) -> EventResult: ...

    async def record_meter_values(
        self,
        charge_point_id: int,
        connector_id: int,
        transaction_ref: str | None,
        readings: Sequence[MeterReading],
        received_at: datetime,
    ) -> int | None:
        """Store readings (a repeat is ignored); returns the transaction they belong to."""
        ...

    async def record_security_event(
        self, charge_point_id: int, event: SecurityEvent, received_at: datetime
    ) -> None: ...


class IdTagAllowList(Protocol):
    """A team's allow list (tags are stored upper-cased; adding an existing tag updates it)."""

    async def put_id_tag(self, entry: IdTagEntry, at: datetime) -> None: ...

    async def remove_id_tag(self, team_id: int, id_tag: str) -> bool: ...

    async def list_id_tags(self, team_id: int) -> list[IdTagEntry]: ...


# -- wire port -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfigKey:
    """A setting named for both versions: ``key`` in 1.6 (GetConfiguration), ``component``
    and ``variable`` (default: ``key``) in 2.0.1 (GetVariables). A key without a component
    cannot be read from a 2.0.1 charger."""

    key: str
    component: str | None = None
    variable: str | None = None
    instance: str | None = None

    @property
    def variable_name(self) -> str:
        return self.variable or self.key


MAX_STACK_LEVEL = ConfigKey("ChargeProfileMaxStackLevel", "SmartChargingCtrlr", "ProfileStackLevel")
RATE_UNITS = ConfigKey("ChargingScheduleAllowedChargingRateUnit", "SmartChargingCtrlr", "RateUnit")
HEARTBEAT_INTERVAL = ConfigKey("HeartbeatInterval", "OCPPCommCtrlr", "HeartbeatInterval")
METER_VALUE_SAMPLE_INTERVAL = ConfigKey(
    "MeterValueSampleInterval", "SampledDataCtrlr", "TxUpdatedInterval"
)


@dataclass(frozen=True, slots=True)
class ConfigValue:
    key: ConfigKey
    value: str | None
    """None: the charger does not know the key (or would not say)."""
    readonly: bool = False


class ConfigChange(StrEnum):
    ACCEPTED = "accepted"
    REBOOT_REQUIRED = "reboot_required"


class TriggerableMessage(StrEnum):
    BOOT_NOTIFICATION = "boot_notification"
    HEARTBEAT = "heartbeat"
    METER_VALUES = "meter_values"
    STATUS_NOTIFICATION = "status_notification"
    FIRMWARE_STATUS_NOTIFICATION = "firmware_status_notification"


class ResetKind(StrEnum):
    SOFT = "soft"
    """1.6 Soft; 2.0.1 OnIdle (after running transactions end)."""
    HARD = "hard"
    """1.6 Hard; 2.0.1 Immediate."""


class ResetOutcome(StrEnum):
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"


@dataclass(frozen=True, slots=True)
class ProfileCriteria:
    """Which profiles to clear; all None clears every profile the charger holds."""

    profile_id: int | None = None
    connector_id: int | None = None
    purpose: ChargingProfilePurpose | None = None
    stack_level: int | None = None


class ChargerCommander(Protocol):
    """Outgoing calls to a connected charger. Every call has a timeout; at most one is in
    flight per charger. Errors: ChargerOffline, CommandTimedOut, CommandRejected (a refusal
    status), CommandFailed (CALLERROR or invalid reply), CommandNotSupported."""

    def ocpp_version(self, charge_point_id: int) -> str | None:
        """The version of the live connection, None when offline."""
        ...

    async def set_charging_profile(
        self, charge_point_id: int, connector_id: int, profile: ChargingProfile
    ) -> None: ...

    async def clear_charging_profile(self, charge_point_id: int, criteria: ProfileCriteria) -> bool:
        """True if the charger cleared something, False if it knew no such profile."""
        ...

    async def get_composite_schedule(
        self,
        charge_point_id: int,
        connector_id: int,
        duration_s: int,
        rate_unit: ChargingRateUnit | None = None,
    ) -> CompositeSchedule | None:
        """None when the charger has no schedule to report."""
        ...

    async def remote_start(
        self,
        charge_point_id: int,
        id_tag: str,
        connector_id: int | None,
        profile: ChargingProfile | None,
        remote_start_id: int,
    ) -> None: ...

    async def remote_stop(self, charge_point_id: int, transaction_ref: str) -> None: ...

    async def get_configuration(
        self, charge_point_id: int, keys: Sequence[ConfigKey]
    ) -> list[ConfigValue]: ...

    async def change_configuration(
        self, charge_point_id: int, key: ConfigKey, value: str
    ) -> ConfigChange: ...

    async def trigger_message(
        self, charge_point_id: int, message: TriggerableMessage, connector_id: int | None = None
    ) -> None: ...

    async def reset(self, charge_point_id: int, kind: ResetKind) -> ResetOutcome: ...
