"""Charging profiles as a charger keeps and combines them: pure, protocol-neutral.

This is the simulated charger's side of OCPP smart charging (1.6 §3.13 and §5.16; 2.0.1
use cases K01, K08, K10), written from the specifications, independently of amphub's own
profile code so that the simulator is a check on amphub, not a copy of it:

- A profile is **in force** at an instant when its validity (``valid_from``/``valid_to``)
  covers it, its schedule has started, and the schedule's ``duration`` (if any) has not run
  out. A profile whose schedule has lapsed no longer applies: the charger falls back to the
  next lower stack level, and with nothing in force to its own maximum.
- Within one purpose the profile in force with the **highest stack level** wins. For
  TxDefault, a profile on the connector itself shadows one on connector 0 of the same
  stack level (connector 0 means "every connector").
- **TxProfile** (for the running transaction) overrules TxDefaultProfile.
- **ChargePointMaxProfile** (2.0.1 ChargingStationMaxProfile, connector 0 only) caps the
  whole charger; the charger shares it out over its connectors.
- Replacement: a profile with the same id replaces the old one. 1.6 also replaces one with
  the same purpose and stack level on the same connector; 2.0.1 refuses that instead
  (K01.FR.06/FR.39), since two such profiles would be in force at once.

Limits in W are turned into amperes per phase with the period's ``numberPhases`` (default
3) at the nominal voltage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

NOMINAL_VOLTAGE_V = 230.0
DAY_S = 86_400
WEEK_S = 7 * DAY_S


class Purpose(StrEnum):
    CHARGER_MAX = "ChargePointMaxProfile"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"


class Kind(StrEnum):
    ABSOLUTE = "Absolute"
    RELATIVE = "Relative"
    RECURRING = "Recurring"


class Dialect(StrEnum):
    """The rules differ slightly between versions (see the module docstring)."""

    V16 = "1.6"
    V201 = "2.0.1"


@dataclass(frozen=True, slots=True)
class Period:
    start_s: int
    limit: float
    number_phases: int | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    rate_unit: str
    """``A`` or ``W``."""
    periods: tuple[Period, ...]
    duration_s: int | None = None
    start: datetime | None = None
    min_rate: float | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    profile_id: int
    stack_level: int
    purpose: Purpose
    kind: Kind
    schedule: Schedule
    connector_id: int
    transaction_id: str | None = None
    recurrency: str | None = None
    """``Daily`` or ``Weekly`` for a recurring profile."""
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    received_at: datetime | None = None
    """When the charger took it: the start of a 1.6 Absolute schedule without one."""


@dataclass(frozen=True, slots=True)
class Transaction:
    """The running transaction a connector's limit is evaluated for."""

    transaction_id: str
    started_at: datetime


class ProfileRefused(ValueError):
    """The charger answers SetChargingProfile with Rejected; the message says why."""


def limit_in_amperes(limit: float, rate_unit: str, phases: int, voltage_v: float) -> float:
    return limit if rate_unit == "A" else limit / (phases * voltage_v)


def _schedule_start(profile: Profile, at: datetime, tx: Transaction | None) -> datetime | None:
    """When the schedule's offset 0 lies for an evaluation at ``at``; None: not started."""
    schedule = profile.schedule
    if profile.kind is Kind.RELATIVE:
        # Relative to the start of the transaction; outside one it is about to start.
        return tx.started_at if tx is not None else at
    if schedule.start is None:  # 1.6 Absolute without startSchedule: relative to charging
        return tx.started_at if tx is not None else (profile.received_at or at)
    if profile.kind is Kind.RECURRING:
        if at < schedule.start:
            return None
        cycle = WEEK_S if profile.recurrency == "Weekly" else DAY_S
        elapsed = (at - schedule.start).total_seconds()
        return schedule.start + timedelta(seconds=elapsed - elapsed % cycle)
    return schedule.start


def profile_limit_a(
    profile: Profile,
    at: datetime,
    tx: Transaction | None = None,
    voltage_v: float = NOMINAL_VOLTAGE_V,
) -> float | None:
    """The profile's limit in A per phase at ``at``, or None when it is not in force."""
    if profile.valid_from is not None and at < profile.valid_from:
        return None
    if profile.valid_to is not None and at >= profile.valid_to:
        return None
    start = _schedule_start(profile, at, tx)
    if start is None:
        return None
    offset = (at - start).total_seconds()
    schedule = profile.schedule
    if offset < 0 or (schedule.duration_s is not None and offset >= schedule.duration_s):
        return None
    period = schedule.periods[0]
    for candidate in schedule.periods:
        if candidate.start_s <= offset:
            period = candidate
    return limit_in_amperes(period.limit, schedule.rate_unit, period.number_phases or 3, voltage_v)


@dataclass(frozen=True, slots=True)
class Limit:
    """A connector's limit from its profiles at one instant (None: no profile in force)."""

    tx_a: float | None
    """From TxProfile, else TxDefaultProfile."""
    charger_max_a: float | None
    """From ChargePointMaxProfile, for the whole charger."""
    source: str
    """Which profile bound ``tx_a``, e.g. ``TxDefaultProfile#7200001@1``; "" for none."""


def _label(profile: Profile) -> str:
    return f"{profile.purpose.value}#{profile.profile_id}@{profile.stack_level}"


def _highest_in_force(
    candidates: Iterable[Profile],
    at: datetime,
    tx: Transaction | None,
    voltage_v: float,
    specific_connector: int | None = None,
) -> tuple[float, Profile] | None:
    """The limit of the highest stack level in force; ties go to ``specific_connector``."""
    best: tuple[int, int, float, Profile] | None = None
    for profile in candidates:
        limit = profile_limit_a(profile, at, tx, voltage_v)
        if limit is None:
            continue
        rank = (profile.stack_level, int(profile.connector_id == specific_connector))
        if best is None or rank > best[:2]:
            best = (rank[0], rank[1], limit, profile)
    return None if best is None else (best[2], best[3])


class ProfileStore:
    """The profiles one charger holds, with the rules for adding, clearing and combining."""

    def __init__(
        self,
        dialect: Dialect,
        connector_ids: Iterable[int],
        max_stack_level: int = 8,
        rate_units: frozenset[str] = frozenset({"A", "W"}),
    ) -> None:
        self.dialect = dialect
        self.connector_ids = frozenset(connector_ids)
        self.max_stack_level = max_stack_level
        self.rate_units = rate_units
        self._profiles: dict[int, Profile] = {}

    @property
    def profiles(self) -> tuple[Profile, ...]:
        return tuple(self._profiles.values())

    # -- SetChargingProfile ----------------------------------------------------------------

    def add(self, profile: Profile, active_tx: str | None, now: datetime) -> None:
        """Add or replace; raises :class:`ProfileRefused` (answer Rejected) otherwise.
        ``active_tx``: the transaction running on the profile's connector, if any."""
        self._check(profile, active_tx)
        if profile.purpose is Purpose.TX and profile.transaction_id is None:
            profile = replace(profile, transaction_id=active_tx)  # 1.6: the running one
        profile = replace(profile, received_at=now)
        for other in list(self._profiles.values()):
            same_slot = (
                other.profile_id != profile.profile_id
                and other.connector_id == profile.connector_id
                and other.purpose is profile.purpose
                and other.stack_level == profile.stack_level
                and (
                    profile.purpose is not Purpose.TX
                    or other.transaction_id == profile.transaction_id
                )
            )
            if not same_slot:
                continue
            if self.dialect is Dialect.V201:
                raise ProfileRefused(
                    f"profile {other.profile_id} has the same purpose and stack level"
                )
            del self._profiles[other.profile_id]
        self._profiles[profile.profile_id] = profile

    def _check(self, profile: Profile, active_tx: str | None) -> None:
        schedule = profile.schedule
        if profile.connector_id != 0 and profile.connector_id not in self.connector_ids:
            raise ProfileRefused(f"no connector {profile.connector_id}")
        if not 0 <= profile.stack_level <= self.max_stack_level:
            raise ProfileRefused(f"stack level above {self.max_stack_level}")
        if schedule.rate_unit not in self.rate_units:
            raise ProfileRefused(f"rate unit {schedule.rate_unit} not supported")
        starts = [period.start_s for period in schedule.periods]
        if not starts or starts[0] != 0 or starts != sorted(set(starts)):
            raise ProfileRefused("periods must start at 0 and increase")
        if any(period.limit < 0 for period in schedule.periods):
            raise ProfileRefused("negative limit")
        if profile.purpose is Purpose.CHARGER_MAX and profile.connector_id != 0:
            raise ProfileRefused("a charger maximum goes on connector 0")
        if profile.purpose is Purpose.CHARGER_MAX and profile.kind is Kind.RELATIVE:
            raise ProfileRefused("a charger maximum cannot be relative")
        if profile.purpose is Purpose.TX:
            if profile.connector_id == 0 or active_tx is None:
                raise ProfileRefused("a TxProfile needs a transaction on its connector")
            if profile.transaction_id not in (None, active_tx):
                raise ProfileRefused("not the running transaction")
        if profile.kind is Kind.RECURRING and profile.recurrency not in ("Daily", "Weekly"):
            raise ProfileRefused("a recurring profile needs Daily or Weekly")
        if self.dialect is Dialect.V201:
            if profile.kind is Kind.RELATIVE and schedule.start is not None:
                raise ProfileRefused("a relative schedule has no start")
            if profile.kind is not Kind.RELATIVE and schedule.start is None:
                raise ProfileRefused("an absolute or recurring schedule needs a start")
        elif profile.kind is Kind.RECURRING and schedule.start is None:
            raise ProfileRefused("a recurring schedule needs a start")

    # -- ClearChargingProfile, end of transaction, reboot -----------------------------------

    def clear(
        self,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: Purpose | None = None,
        stack_level: int | None = None,
    ) -> bool:
        """Remove the matching profiles (no criteria: all); True if any was removed."""
        if profile_id is not None:
            return self._profiles.pop(profile_id, None) is not None
        doomed = [
            p.profile_id
            for p in self._profiles.values()
            if (connector_id is None or p.connector_id == connector_id)
            and (purpose is None or p.purpose is purpose)
            and (stack_level is None or p.stack_level == stack_level)
        ]
        for pid in doomed:
            del self._profiles[pid]
        return bool(doomed)

    def end_transaction(self, connector_id: int) -> None:
        """TxProfiles die with their transaction."""
        self.clear(connector_id=connector_id, purpose=Purpose.TX)

    def forget_all(self) -> None:
        self._profiles.clear()

    # -- evaluation -------------------------------------------------------------------------

    def limit_at(
        self,
        connector_id: int,
        at: datetime,
        tx: Transaction | None = None,
        voltage_v: float = NOMINAL_VOLTAGE_V,
    ) -> Limit:
        profiles = self._profiles.values()
        chosen = None
        if tx is not None:
            chosen = _highest_in_force(
                (
                    p
                    for p in profiles
                    if p.purpose is Purpose.TX
                    and p.connector_id == connector_id
                    and p.transaction_id == tx.transaction_id
                ),
                at,
                tx,
                voltage_v,
            )
        if chosen is None:
            chosen = _highest_in_force(
                (
                    p
                    for p in profiles
                    if p.purpose is Purpose.TX_DEFAULT and p.connector_id in (0, connector_id)
                ),
                at,
                tx,
                voltage_v,
                specific_connector=connector_id,
            )
        maximum = self.charger_max_at(at, voltage_v)
        if chosen is None:
            return Limit(None, maximum, "")
        return Limit(chosen[0], maximum, _label(chosen[1]))

    def charger_max_at(self, at: datetime, voltage_v: float = NOMINAL_VOLTAGE_V) -> float | None:
        found = _highest_in_force(
            (p for p in self._profiles.values() if p.purpose is Purpose.CHARGER_MAX),
            at,
            None,
            voltage_v,
        )
        return None if found is None else found[0]

    def _changes(self, start: datetime, end: datetime, tx: Transaction | None) -> set[datetime]:
        """Every instant in [start, end) at which some profile may start, stop or step."""
        moments = {start}
        for profile in self._profiles.values():
            for bound in (profile.valid_from, profile.valid_to):
                if bound is not None:
                    moments.add(bound)
            origins: list[datetime] = []
            if profile.kind is Kind.RECURRING and profile.schedule.start is not None:
                cycle = timedelta(seconds=WEEK_S if profile.recurrency == "Weekly" else DAY_S)
                first = _schedule_start(profile, start, tx) or profile.schedule.start
                while first < end:
                    origins.append(first)
                    first += cycle
            else:
                origin = _schedule_start(profile, start, tx)
                if origin is not None:
                    origins.append(origin)
            for origin in origins:
                offsets = [p.start_s for p in profile.schedule.periods]
                if profile.schedule.duration_s is not None:
                    offsets.append(profile.schedule.duration_s)
                moments.update(origin + timedelta(seconds=s) for s in offsets)
        return {moment for moment in moments if start <= moment < end}

    def composite(
        self,
        connector_id: int,
        start: datetime,
        duration_s: int,
        hardware_max_a: float,
        tx: Transaction | None = None,
        voltage_v: float = NOMINAL_VOLTAGE_V,
    ) -> list[tuple[int, float]]:
        """GetCompositeSchedule: (offset s, limit A per phase) steps over ``duration_s``,
        equal neighbours merged. Connector 0 answers for the whole charger."""
        end = start + timedelta(seconds=duration_s)
        steps: list[tuple[int, float]] = []
        for moment in sorted(self._changes(start, end, tx)):
            if connector_id == 0:
                maximum = self.charger_max_at(moment, voltage_v)
                value = hardware_max_a if maximum is None else min(maximum, hardware_max_a)
            else:
                limit = self.limit_at(connector_id, moment, tx, voltage_v)
                value = hardware_max_a
                for bound in (limit.tx_a, limit.charger_max_a):
                    if bound is not None:
                        value = min(value, bound)
            value = round(value, 3)
            offset = int((moment - start).total_seconds())
            if steps and steps[-1][0] == offset:  # sub-second moments share a step
                steps.pop()
            if steps and steps[-1][1] == value:
                continue
            steps.append((offset, value))
        return steps
