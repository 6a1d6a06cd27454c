"""Charging sessions as the central system sees them (SPEC §2, R-OCPP), version-neutral.

What lives here is the part of OCPP that is a rule rather than a wire format:

- connector status, id-tag decisions against a team's allow list;
- meter samples turned into per-phase current, power and energy with their units;
- the idempotency key of a 1.6 StartTransaction, the outcome of a StopTransaction;
- the fold of 2.0.1 TransactionEvents into one transaction, which gives the same result
  whatever order the events arrive in (offline events come late with old timestamps).

Charging profiles (what the balancer will send) are in :mod:`amphub.domain.smart_charging`.
Nothing here knows a payload's shape: the OCPP adapters convert at the edge.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from amphub.domain.errors import InvalidValue
from amphub.domain.units import Phase, PhaseCurrents

T = TypeVar("T")


class ConnectorStatus(StrEnum):
    """Connector states of both versions (1.6 StatusNotification, 2.0.1 ConnectorStatus and
    TransactionEvent chargingState), in one vocabulary."""

    AVAILABLE = "available"
    PREPARING = "preparing"
    CHARGING = "charging"
    SUSPENDED_EV = "suspended_ev"
    SUSPENDED_EVSE = "suspended_evse"
    FINISHING = "finishing"
    RESERVED = "reserved"
    OCCUPIED = "occupied"
    UNAVAILABLE = "unavailable"
    FAULTED = "faulted"

    @property
    def has_session(self) -> bool:
        """An EV is plugged in and may draw current if it is given some (the balancer's
        candidates). SuspendedEVSE counts: it is the state a limit of 0 A puts a car in."""
        return self in (
            ConnectorStatus.CHARGING,
            ConnectorStatus.SUSPENDED_EV,
            ConnectorStatus.SUSPENDED_EVSE,
            ConnectorStatus.OCCUPIED,
            ConnectorStatus.PREPARING,
        )


class BootStatus(StrEnum):
    """Our answer to a BootNotification. While not ACCEPTED, any other message from the
    charger is answered with SecurityError."""

    ACCEPTED = "accepted"
    PENDING = "pending"
    REJECTED = "rejected"


# -- id tags ------------------------------------------------------------------------------


class AuthorizationStatus(StrEnum):
    ACCEPTED = "accepted"
    BLOCKED = "blocked"
    EXPIRED = "expired"
    INVALID = "invalid"
    CONCURRENT_TX = "concurrent_tx"


MAX_ID_TAG_LENGTH = 36
"""2.0.1 IdToken is a CiString36; 1.6 IdToken a CiString20. The longer one bounds both."""


def normalise_id_tag(id_tag: str) -> str:
    """OCPP id tokens are case-insensitive strings (CiString): compare them upper-cased."""
    tag = id_tag.strip().upper()
    if not tag or len(tag) > MAX_ID_TAG_LENGTH:
        raise InvalidValue("id_tag", f"must be 1–{MAX_ID_TAG_LENGTH} characters")
    return tag


@dataclass(frozen=True, slots=True)
class IdTagEntry:
    """One entry of a team's allow list."""

    team_id: int
    id_tag: str
    blocked: bool = False
    expires_at: datetime | None = None
    label: str = ""


def decide_id_tag(
    entry: IdTagEntry | None,
    now: datetime,
    *,
    remotely_started: bool = False,
    in_use_elsewhere: bool = False,
) -> AuthorizationStatus:
    """Whether a charger may start (or continue) charging for this tag.

    A tag not on the team's list is INVALID unless amphub itself just asked the charger to
    start with it (a remote start is an authorisation already given). A tag that already
    has a transaction running on another connector gets CONCURRENT_TX (1.6 §7.2).
    """
    if entry is None:
        status = AuthorizationStatus.ACCEPTED if remotely_started else AuthorizationStatus.INVALID
    elif entry.blocked:
        status = AuthorizationStatus.BLOCKED
    elif entry.expires_at is not None and entry.expires_at <= now:
        status = AuthorizationStatus.EXPIRED
    else:
        status = AuthorizationStatus.ACCEPTED
    if status is AuthorizationStatus.ACCEPTED and in_use_elsewhere:
        return AuthorizationStatus.CONCURRENT_TX
    return status


# -- meter values ---------------------------------------------------------------------------


class Measurand(StrEnum):
    """The measurands amphub uses; others are stored nowhere and ignored."""

    CURRENT_IMPORT = "Current.Import"
    CURRENT_OFFERED = "Current.Offered"
    POWER_ACTIVE_IMPORT = "Power.Active.Import"
    ENERGY_ACTIVE_IMPORT_REGISTER = "Energy.Active.Import.Register"
    VOLTAGE = "Voltage"
    SOC = "SoC"


DEFAULT_MEASURAND = "Energy.Active.Import.Register"
"""Both versions: a sampled value without a measurand is this one."""

_UNIT_FACTORS: dict[Measurand, dict[str, float]] = {
    Measurand.CURRENT_IMPORT: {"A": 1.0},
    Measurand.CURRENT_OFFERED: {"A": 1.0},
    Measurand.POWER_ACTIVE_IMPORT: {"W": 1.0, "kW": 1000.0},
    Measurand.ENERGY_ACTIVE_IMPORT_REGISTER: {"Wh": 1.0, "kWh": 1000.0},
    Measurand.VOLTAGE: {"V": 1.0},
    Measurand.SOC: {"Percent": 1.0},
}
_DEFAULT_UNITS: dict[Measurand, str] = {
    Measurand.CURRENT_IMPORT: "A",
    Measurand.CURRENT_OFFERED: "A",
    Measurand.POWER_ACTIVE_IMPORT: "W",
    Measurand.ENERGY_ACTIVE_IMPORT_REGISTER: "Wh",
    Measurand.VOLTAGE: "V",
    Measurand.SOC: "Percent",
}
_PHASES = {
    "L1": Phase.L1,
    "L2": Phase.L2,
    "L3": Phase.L3,
    "L1-N": Phase.L1,
    "L2-N": Phase.L2,
    "L3-N": Phase.L3,
}
_IGNORED_LOCATIONS = frozenset({"EV", "Body", "Cable"})
_MEASURANDS = {measurand.value: measurand for measurand in Measurand}


@dataclass(frozen=True, slots=True)
class SampledValue:
    """One sampled value as the charger sent it, already a number (1.6 sends strings; the
    adapter parses them, 2.0.1 multipliers are applied by the adapter too)."""

    value: float
    measurand: str = DEFAULT_MEASURAND
    phase: str | None = None
    unit: str | None = None
    location: str | None = None
    context: str | None = None


@dataclass(frozen=True, slots=True)
class MeterReading:
    """What one MeterValue element (one timestamp) says about a connector, in base units.

    ``current_a`` holds per-phase values the charger labelled L1/L2/L3 (the *charger's*
    phases: the balancer applies the connector's phase rotation); ``current_unphased_a``
    a current reported without a phase, which :meth:`per_phase_current` interprets.
    """

    at: datetime
    context: str = ""
    current_a: PhaseCurrents | None = None
    current_unphased_a: float | None = None
    offered_a: float | None = None
    power_w: float | None = None
    energy_wh: float | None = None
    voltage_v: float | None = None
    soc_percent: float | None = None

    def per_phase_current(self, phases_wired: int) -> PhaseCurrents | None:
        """Measured current per charger phase. A phase-less current is the current of each
        wired phase (what chargers send: 16 A on a 3-phase car is 16 A per phase)."""
        if self.current_a is not None:
            return self.current_a
        if self.current_unphased_a is None:
            return None
        if phases_wired == 1:
            return PhaseCurrents(self.current_unphased_a, 0.0, 0.0)
        return PhaseCurrents.uniform(self.current_unphased_a)

    @property
    def is_empty(self) -> bool:
        return all(
            value is None
            for value in (
                self.current_a,
                self.current_unphased_a,
                self.offered_a,
                self.power_w,
                self.energy_wh,
                self.voltage_v,
                self.soc_percent,
            )
        )


def _base_value(sample: SampledValue, measurand: Measurand) -> float:
    if not math.isfinite(sample.value):
        raise InvalidValue("sampledValue.value", f"{sample.value!r} is not a finite number")
    unit = sample.unit or _DEFAULT_UNITS[measurand]
    factor = _UNIT_FACTORS[measurand].get(unit)
    if factor is None:
        raise InvalidValue("sampledValue.unit", f"{unit!r} is not a unit of {measurand.value}")
    return sample.value * factor


def reading_from_samples(at: datetime, samples: Iterable[SampledValue]) -> MeterReading:
    """Fold the sampled values of one timestamp into a reading.

    Outlet (or unlabelled) values win over Inlet values for the same quantity; values
    measured at the EV, the body or the cable are ignored; per-phase powers add up to the
    total when no total is given. Raises :class:`InvalidValue` on a non-finite value or a
    unit that does not belong to its measurand.
    """
    chosen: dict[tuple[Measurand, Phase | None], tuple[int, float]] = {}
    contexts: list[str] = []
    for sample in samples:
        measurand = _MEASURANDS.get(sample.measurand)
        if measurand is None or sample.location in _IGNORED_LOCATIONS:
            continue
        phase = None
        if sample.phase is not None:
            phase = _PHASES.get(sample.phase)
            if phase is None:
                continue  # neutral currents and phase-to-phase voltages are not used
        number = _base_value(sample, measurand)
        rank = 0 if sample.location == "Inlet" else 1
        key = (measurand, phase)
        if key not in chosen or chosen[key][0] <= rank:
            chosen[key] = (rank, number)
        if sample.context and sample.context not in contexts:
            contexts.append(sample.context)

    totals: dict[Measurand, float] = {}
    phased: dict[Measurand, dict[Phase, float]] = {}
    for (measurand, phase), (_, number) in chosen.items():
        if phase is None:
            totals[measurand] = number
        else:
            phased.setdefault(measurand, {})[phase] = number
    value = totals.get
    currents = phased.get(Measurand.CURRENT_IMPORT)
    power_w = value(Measurand.POWER_ACTIVE_IMPORT)
    phase_powers = phased.get(Measurand.POWER_ACTIVE_IMPORT)
    if power_w is None and phase_powers:
        power_w = sum(phase_powers.values())
    voltages = phased.get(Measurand.VOLTAGE)
    voltage_v = value(Measurand.VOLTAGE)
    if voltage_v is None and voltages:
        voltage_v = sum(voltages.values()) / len(voltages)
    return MeterReading(
        at=at,
        context=",".join(contexts),
        current_a=PhaseCurrents.from_mapping(currents) if currents else None,
        current_unphased_a=value(Measurand.CURRENT_IMPORT),
        offered_a=value(Measurand.CURRENT_OFFERED),
        power_w=power_w,
        energy_wh=value(Measurand.ENERGY_ACTIVE_IMPORT_REGISTER),
        voltage_v=voltage_v,
        soc_percent=value(Measurand.SOC),
    )


def is_newer(previous_at: datetime | None, at: datetime) -> bool:
    """Whether a value measured ``at`` may replace the live value measured ``previous_at``.
    Offline messages arrive late with old timestamps: they are stored, never shown as live."""
    return previous_at is None or at >= previous_at


# -- transactions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartTransaction:
    """A 1.6 StartTransaction, version-neutral enough to be stored."""

    connector_id: int
    id_tag: str
    meter_start_wh: float
    timestamp: datetime
    reservation_id: int | None = None

    def idempotency_key(self) -> str:
        """Identical for a retried message (the charger resends the same fields), different
        for any genuinely new start: same connector and tag at another instant or reading."""
        return (
            f"{self.connector_id}|{normalise_id_tag(self.id_tag)}|"
            f"{self.timestamp.isoformat()}|{self.meter_start_wh:.3f}"
        )


@dataclass(frozen=True, slots=True)
class StopTransaction:
    """A 1.6 StopTransaction. ``transaction_id`` is the charger's (our id, as a string, for
    1.6; any string for a charger that invents one)."""

    transaction_id: str
    meter_stop_wh: float
    timestamp: datetime
    reason: str = ""
    id_tag: str | None = None


class StopOutcome(StrEnum):
    STOPPED = "stopped"
    """The transaction was running and is now stopped."""
    ALREADY_STOPPED = "already_stopped"
    """A retry: nothing changed."""
    QUARANTINED = "quarantined"
    """No such transaction: kept aside for reconciliation, answered all the same."""


class TransactionEventType(StrEnum):
    STARTED = "started"
    UPDATED = "updated"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class TransactionEvent:
    """A 2.0.1 TransactionEvent, reduced to what is kept. ``transaction_ref`` is the
    charger's transactionId (a string of its own making)."""

    transaction_ref: str
    seq_no: int
    event_type: TransactionEventType
    timestamp: datetime
    trigger_reason: str
    connector_id: int | None = None
    offline: bool = False
    charging_state: ConnectorStatus | None = None
    stopped_reason: str = ""
    id_tag: str | None = None
    energy_wh: float | None = None
    remote_start_id: int | None = None

    def order_key(self) -> tuple[datetime, int]:
        """Events are applied in the order of their own timestamps, then sequence numbers."""
        return (self.timestamp, self.seq_no)


EventKey = tuple[datetime, int]


@dataclass(frozen=True, slots=True)
class Keyed(Generic[T]):
    """A value and the (timestamp, seqNo) of the event it came from."""

    key: EventKey
    value: T


def _earliest(current: Keyed[T] | None, key: EventKey, value: T | None) -> Keyed[T] | None:
    if value is None or (current is not None and current.key <= key):
        return current
    return Keyed(key, value)


def _latest(current: Keyed[T] | None, key: EventKey, value: T | None) -> Keyed[T] | None:
    if value is None or (current is not None and current.key >= key):
        return current
    return Keyed(key, value)


@dataclass(frozen=True, slots=True)
class TransactionSummary:
    """A transaction folded from its events.

    Facts about the start come from the earliest event that carries them, facts about the
    present from the latest, the end from the (earliest) Ended event. Each fact keeps the
    key of its event, so :func:`merge_event` is commutative and idempotent: the summary
    does not depend on the order the events arrived in, nor on retries.
    """

    first: EventKey
    last: EventKey
    connector_id: Keyed[int] | None = None
    id_tag: Keyed[str] | None = None
    charging_state: Keyed[ConnectorStatus] | None = None
    meter_start_wh: Keyed[float] | None = None
    meter_last_wh: Keyed[float] | None = None
    remote_start_id: Keyed[int] | None = None
    ended: Keyed[str] | None = None
    """The Ended event; its value is the stopped reason."""

    @property
    def started_at(self) -> datetime:
        return self.first[0]

    @property
    def ended_at(self) -> datetime | None:
        return None if self.ended is None else self.ended.key[0]

    @property
    def is_active(self) -> bool:
        return self.ended is None


def merge_event(summary: TransactionSummary | None, event: TransactionEvent) -> TransactionSummary:
    """Apply one event to the summary of its transaction (None for the first one seen)."""
    key = event.order_key()
    if summary is None:
        summary = TransactionSummary(first=key, last=key)
    return TransactionSummary(
        first=min(summary.first, key),
        last=max(summary.last, key),
        connector_id=_earliest(summary.connector_id, key, event.connector_id),
        id_tag=_earliest(summary.id_tag, key, event.id_tag),
        charging_state=_latest(summary.charging_state, key, event.charging_state),
        meter_start_wh=_earliest(summary.meter_start_wh, key, event.energy_wh),
        meter_last_wh=_latest(summary.meter_last_wh, key, event.energy_wh),
        remote_start_id=_earliest(summary.remote_start_id, key, event.remote_start_id),
        ended=_earliest(
            summary.ended,
            key,
            event.stopped_reason if event.event_type is TransactionEventType.ENDED else None,
        ),
    )
