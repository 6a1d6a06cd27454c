"""The use cases behind the messages a charger sends, whatever its OCPP version.

The OCPP adapter parses and validates a message, converts it into domain values, calls one
method here and answers with what it returns. Every method that touches a transaction
returns only after the store has committed (write before you answer); the live state is
updated after the commit, so the balancer never sees what the store might lose.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from amphub.application.charging.errors import (
    AdmissionRefused,
    NotAccepted,
    RefusalReason,
    StoreUnavailable,
)
from amphub.application.charging.live import LiveChargerState
from amphub.application.charging.ports import (
    BootReport,
    ChargePointDirectory,
    ChargePointRecord,
    SecurityEvent,
    StartResult,
    StatusReport,
    StopResult,
    TransactionStore,
)
from amphub.application.charging.remote_starts import RemoteStarts
from amphub.application.ports import Clock, SecretHasher
from amphub.domain.charging import (
    AuthorizationStatus,
    BootStatus,
    MeterReading,
    StartTransaction,
    StopOutcome,
    StopTransaction,
    TransactionEvent,
    TransactionEventType,
    decide_id_tag,
    normalise_id_tag,
)
from amphub.domain.ratelimit import SlidingWindowLimiter

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChargingSettings:
    heartbeat_interval_s: int = 300
    pending_interval_s: int = 60
    """How soon a Pending charger should send its BootNotification again."""
    accept_unknown_as_pending: bool = False
    """Development only: let unknown identities connect; they stay Pending, nothing is
    stored, every message but BootNotification is refused with SecurityError."""
    handshake_failures_allowed: int = 20
    handshake_failure_window_s: float = 60.0
    """Refused handshakes per source address and window before that address gets 429."""


@dataclass(slots=True)
class ChargerSession:
    """One connection of one charger. ``charge_point`` is None for an unknown charger let
    in by the development switch."""

    identity: str
    ocpp_version: str
    charge_point: ChargePointRecord | None
    boot_status: BootStatus | None = None

    @property
    def is_accepted(self) -> bool:
        """A registered charger is trusted until its boot is answered otherwise: after a
        network drop chargers reconnect without booting again."""
        return self.charge_point is not None and self.boot_status in (None, BootStatus.ACCEPTED)


@dataclass(frozen=True, slots=True)
class BootDecision:
    status: BootStatus
    interval_s: int
    at: datetime


class DataTransferStatus(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNKNOWN_VENDOR = "unknown_vendor"
    UNKNOWN_MESSAGE = "unknown_message"


class ChargingService:
    def __init__(
        self,
        directory: ChargePointDirectory,
        store: TransactionStore,
        live: LiveChargerState,
        hasher: SecretHasher,
        clock: Clock,
        settings: ChargingSettings | None = None,
        remote_starts: RemoteStarts | None = None,
    ) -> None:
        self._directory = directory
        self._store = store
        self._live = live
        self._hasher = hasher
        self._clock = clock
        self.settings = settings or ChargingSettings()
        self.remote_starts = remote_starts or RemoteStarts()
        self._limiter = SlidingWindowLimiter(
            self.settings.handshake_failures_allowed,
            timedelta(seconds=self.settings.handshake_failure_window_s),
        )
        self._current: dict[int, ChargerSession] = {}

    # -- connection ----------------------------------------------------------------------------

    async def admit(
        self, identity: str, username: str | None, password: str | None, source: str
    ) -> ChargePointRecord | None:
        """Check a handshake. Returns the charge point, or None for an unknown charger let
        in as Pending; raises :class:`AdmissionRefused` otherwise. Refusals are counted per
        source address; past the limit every handshake from it is refused unread."""
        now = self._clock.now()
        if self._limiter.is_blocked(source, now):
            retry_after = self._limiter.retry_after(source, now).total_seconds()
            raise AdmissionRefused(RefusalReason.TOO_MANY_ATTEMPTS, retry_after)
        record = await self._directory.find_by_identity(identity)
        if record is None:
            if self.settings.accept_unknown_as_pending:
                LOGGER.warning(
                    "unknown charger %r admitted as Pending (development switch)", identity
                )
                return None
            self._limiter.record(source, now)
            raise AdmissionRefused(RefusalReason.UNKNOWN_IDENTITY)
        if (
            record.password_hash is None
            or password is None
            or username != identity
            or not self._hasher.verify(record.password_hash, password)
        ):
            self._limiter.record(source, now)
            raise AdmissionRefused(RefusalReason.BAD_CREDENTIALS)
        return record

    def open_session(
        self, identity: str, record: ChargePointRecord | None, ocpp_version: str
    ) -> ChargerSession:
        """The charger's new connection becomes its current one (synchronous, so that the
        gateway's routing and this bookkeeping change together); see :meth:`record_opened`."""
        session = ChargerSession(identity, ocpp_version, record)
        if record is not None:
            self._current[record.charge_point_id] = session
            self._live.mark_connected(
                record.charge_point_id,
                identity,
                ocpp_version,
                self._clock.now(),
                [(c.connector_id, c.phases) for c in record.connectors],
            )
        return session

    async def record_opened(self, session: ChargerSession) -> None:
        record = session.charge_point
        if record is not None:
            await self._best_effort(
                self._store.record_connection(
                    record.charge_point_id, session.ocpp_version, True, self._clock.now()
                )
            )

    async def close_session(self, session: ChargerSession) -> None:
        """Only the charger's current connection marks it offline: a connection replaced by
        a newer one leaves quietly."""
        record = session.charge_point
        if record is None or self._current.get(record.charge_point_id) is not session:
            return
        del self._current[record.charge_point_id]
        self._live.mark_disconnected(record.charge_point_id)
        await self._best_effort(
            self._store.record_connection(
                record.charge_point_id, session.ocpp_version, False, self._clock.now()
            )
        )

    def require_accepted(self, session: ChargerSession) -> ChargePointRecord:
        """The gate before every message but BootNotification."""
        if not session.is_accepted or session.charge_point is None:
            raise NotAccepted(
                f"{session.identity}: boot is {session.boot_status or 'not accepted'}"
            )
        self._live.touch(session.charge_point.charge_point_id, self._clock.now())
        return session.charge_point

    # -- messages ------------------------------------------------------------------------------

    async def boot(self, session: ChargerSession, report: BootReport) -> BootDecision:
        now = self._clock.now()
        record = session.charge_point
        if record is None:
            session.boot_status = BootStatus.PENDING
            LOGGER.info(
                "unknown charger %r booted (%s %s): Pending",
                session.identity,
                report.vendor,
                report.model,
            )
            return BootDecision(BootStatus.PENDING, self.settings.pending_interval_s, now)
        await self._store.record_boot(record.charge_point_id, report, BootStatus.ACCEPTED, now)
        session.boot_status = BootStatus.ACCEPTED
        self._live.set_boot_status(record.charge_point_id, BootStatus.ACCEPTED)
        return BootDecision(BootStatus.ACCEPTED, self.settings.heartbeat_interval_s, now)

    async def heartbeat(self, session: ChargerSession) -> datetime:
        """Chargers do not retry a heartbeat: a store outage is logged, not answered."""
        record = self.require_accepted(session)
        now = self._clock.now()
        await self._best_effort(self._store.record_heartbeat(record.charge_point_id, now))
        return now

    async def status(self, session: ChargerSession, report: StatusReport) -> None:
        """Shown live at once; persisted best-effort (chargers do not retry a status)."""
        record = self.require_accepted(session)
        if report.connector_id > 0:
            self._live.set_status(
                record.charge_point_id, report.connector_id, report.status, report.at
            )
        await self._best_effort(
            self._store.record_status(record.charge_point_id, report, self._clock.now())
        )

    async def authorize(self, session: ChargerSession, id_tag: str) -> AuthorizationStatus:
        record = self.require_accepted(session)
        return await self._decide(record, id_tag, None)

    async def start_transaction(
        self, session: ChargerSession, start: StartTransaction
    ) -> StartResult:
        """1.6. A retry gets the id and status of the first attempt."""
        record = self.require_accepted(session)
        status = await self._decide(record, start.id_tag, (start.connector_id, None))
        result = await self._store.start_transaction(
            record.charge_point_id, start, status, self._clock.now()
        )
        self._live.set_transaction(
            record.charge_point_id, start.connector_id, result.transaction_id
        )
        return result

    async def stop_transaction(
        self, session: ChargerSession, stop: StopTransaction, readings: Sequence[MeterReading]
    ) -> tuple[StopResult, AuthorizationStatus | None]:
        """1.6. Always answerable: a repeat changes nothing, an unknown id is quarantined."""
        record = self.require_accepted(session)
        result = await self._store.stop_transaction(
            record.charge_point_id, stop, readings, self._clock.now()
        )
        if result.outcome is StopOutcome.QUARANTINED:
            LOGGER.warning(
                "%s: StopTransaction for unknown transaction %s quarantined",
                session.identity,
                stop.transaction_id,
            )
        elif result.connector_id is not None:
            connector = self._live.connector(record.charge_point_id, result.connector_id)
            if connector is not None and connector.transaction_id == result.transaction_id:
                self._live.set_transaction(record.charge_point_id, result.connector_id, None)
        status = None if stop.id_tag is None else await self._decide(record, stop.id_tag, None)
        return result, status

    async def transaction_event(
        self, session: ChargerSession, event: TransactionEvent, readings: Sequence[MeterReading]
    ) -> AuthorizationStatus | None:
        """2.0.1. Deduplicated by (station, transactionId, seqNo); applied in timestamp order
        whatever the arrival order. Returns the token's status when the event carries one."""
        record = self.require_accepted(session)
        status = None
        if event.id_tag is not None:
            status = await self._decide(record, event.id_tag, (None, event.transaction_ref))
        result = await self._store.record_transaction_event(
            record.charge_point_id, event, readings, status, self._clock.now()
        )
        if result.duplicate:
            return status
        cp_id = record.charge_point_id
        connector_id = event.connector_id or (
            result.summary.connector_id.value if result.summary.connector_id else None
        )
        if connector_id is not None:
            ended = result.summary.ended is not None
            if event.event_type is TransactionEventType.ENDED or not ended:
                self._live.set_transaction(
                    cp_id, connector_id, None if ended else result.transaction_id
                )
            if event.charging_state is not None:
                self._live.set_status(cp_id, connector_id, event.charging_state, event.timestamp)
            for reading in sorted(readings, key=lambda r: r.at):
                self._live.apply_reading(cp_id, connector_id, reading)
        return status

    async def meter_values(
        self,
        session: ChargerSession,
        connector_id: int,
        transaction_ref: str | None,
        readings: Sequence[MeterReading],
    ) -> None:
        record = self.require_accepted(session)
        await self._store.record_meter_values(
            record.charge_point_id, connector_id, transaction_ref, readings, self._clock.now()
        )
        if connector_id > 0:
            for reading in sorted(readings, key=lambda r: r.at):
                self._live.apply_reading(record.charge_point_id, connector_id, reading)

    async def security_event(self, session: ChargerSession, event: SecurityEvent) -> None:
        record = self.require_accepted(session)
        LOGGER.warning("%s: security event %s %s", session.identity, event.kind, event.tech_info)
        await self._store.record_security_event(record.charge_point_id, event, self._clock.now())

    def note(self, session: ChargerSession, message: str, detail: str) -> None:
        """A notification amphub only logs (firmware, diagnostics, device model events)."""
        self.require_accepted(session)
        LOGGER.info("%s: %s %s", session.identity, message, detail)

    def now(self) -> datetime:
        return self._clock.now()

    def data_transfer(
        self, session: ChargerSession, vendor_id: str, message_id: str | None
    ) -> DataTransferStatus:
        """amphub knows no vendor extension yet: every DataTransfer is logged and answered
        UnknownVendorId, as the specification asks of a receiver without that vendor."""
        self.require_accepted(session)
        LOGGER.info(
            "%s: DataTransfer from vendor %r (%r) ignored", session.identity, vendor_id, message_id
        )
        return DataTransferStatus.UNKNOWN_VENDOR

    # -- internals -----------------------------------------------------------------------------

    async def _decide(
        self,
        record: ChargePointRecord,
        id_tag: str,
        own: tuple[int | None, str | None] | None,
    ) -> AuthorizationStatus:
        """``own`` identifies the transaction being started ((connector, None) in 1.6,
        (None, transaction ref) in 2.0.1) so that its own retry is not a concurrent one."""
        tag = normalise_id_tag(id_tag)
        now = self._clock.now()
        entry = await self._store.find_id_tag(record.team_id, tag)
        in_use_elsewhere = False
        if own is not None:
            active = await self._store.active_transaction_of_tag(record.team_id, tag)
            if active is not None:
                connector_id, transaction_ref = own
                same_charger = active.charge_point_id == record.charge_point_id
                in_use_elsewhere = not same_charger or (
                    active.connector_id != connector_id
                    if transaction_ref is None
                    else active.transaction_ref != transaction_ref
                )
        return decide_id_tag(
            entry,
            now,
            remotely_started=self.remote_starts.is_pending(record.charge_point_id, tag, now),
            in_use_elsewhere=in_use_elsewhere,
        )

    @staticmethod
    async def _best_effort(write: Awaitable[None]) -> None:
        try:
            await write
        except StoreUnavailable as error:
            LOGGER.error("store unavailable, not recorded: %s", error)
