"""What PowerBank needs of the store, and the views it answers with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from amphub.application.uow import UnitOfWork
from amphub.domain.powerbank.compatibility import CompatibilityEntry, CompatibilityRule
from amphub.domain.powerbank.eligibility import ChargePointFacts, Eligibility, Reason
from amphub.domain.powerbank.enrolment import Enrolment, EnrolmentStart, OptOut, TermsVersion
from amphub.domain.tenancy import ChargePoint, Site


@dataclass(frozen=True, slots=True)
class EnrolledPlacement:
    charge_point_id: int
    operator_id: int
    site_id: int
    connector_ids: tuple[int, ...]


class PowerBankRepository(Protocol):
    # compatibility list (per operator)
    async def compatibility(self, operator_id: int) -> list[CompatibilityEntry]: ...
    async def add_compatibility(
        self, operator_id: int, rule: CompatibilityRule, created_at: datetime
    ) -> CompatibilityEntry: ...
    async def get_compatibility(self, entry_id: int) -> CompatibilityEntry | None: ...
    async def remove_compatibility(self, entry_id: int) -> None: ...

    # terms and conditions (per operator, numbered from 1)
    async def terms(self, operator_id: int) -> list[TermsVersion]:
        """Every version, newest first."""
        ...

    async def current_terms(self, operator_id: int) -> TermsVersion | None: ...
    async def add_terms(self, terms: TermsVersion) -> None: ...

    # per charge point
    async def lock(self, charge_point_ids: Sequence[int]) -> None:
        """Hold these charge points until commit, so that a user's stop and the system's
        DK2 enrolment of the same charge point cannot interleave."""
        ...

    async def facility_ids(self, charge_point_ids: Sequence[int]) -> dict[int, str]: ...
    async def set_facility_id(
        self, charge_point_id: int, facility_id: str, at: datetime, by: str
    ) -> None: ...
    async def active_enrolments(self, charge_point_ids: Sequence[int]) -> dict[int, Enrolment]: ...
    async def history(self, charge_point_id: int) -> list[Enrolment]:
        """Every enrolment of the charge point, newest first."""
        ...

    async def enrol(self, start: EnrolmentStart) -> Enrolment: ...
    async def end(
        self, enrolment_id: int, at: datetime, by_user_id: int | None, by: str, reason: str
    ) -> None: ...
    async def opt_outs(self, charge_point_ids: Sequence[int]) -> dict[int, OptOut]: ...
    async def add_opt_out(self, opt_out: OptOut) -> None: ...
    async def withdraw_opt_out(self, charge_point_id: int) -> None: ...

    # lookups for the programme
    async def charge_point_ids_at_sites(self, site_ids: Sequence[int]) -> list[int]: ...
    async def not_enrolled_in_zones(self, operator_id: int, zones: Sequence[str]) -> list[int]:
        """Charge points of the operator at sites in these bidding zones, not enrolled now."""
        ...

    async def enrolled_in_zone(self, bidding_zone: str) -> list[EnrolledPlacement]:
        """Every charge point enrolled now at a site in the bidding zone, by id."""
        ...


class PowerBankUnitOfWork(UnitOfWork, Protocol):
    """The foundation's unit of work with PowerBank's repository on it (one transaction)."""

    powerbank: PowerBankRepository


@dataclass(frozen=True, slots=True)
class PowerBankStatus:
    """One charge point as the sign-up flow and the functionalities page show it."""

    charge_point: ChargePoint
    site: Site
    facts: ChargePointFacts
    eligibility: Eligibility
    enrolment: Enrolment | None
    opt_out: OptOut | None
    can_manage: bool
    """May the asking user sign it up or stop it (the portal greys the toggle out if not)."""


@dataclass(frozen=True, slots=True)
class ChargePointPowerBank:
    """The charge point's functionalities page: its status, the terms a sign-up accepts,
    and every enrolment it had, newest first."""

    status: PowerBankStatus
    terms: TermsVersion | None
    history: tuple[Enrolment, ...]


@dataclass(frozen=True, slots=True)
class TeamPowerBank:
    """What the team's "Sign up for PowerBank" dialog needs: the current terms, and every
    charge point of the team with its eligibility."""

    team_id: int
    operator_id: int
    terms: TermsVersion | None
    charge_points: tuple[PowerBankStatus, ...]
    can_manage: bool


@dataclass(frozen=True, slots=True)
class NotEnrolledStatus:
    status: PowerBankStatus
    reasons: tuple[Reason, ...]
    """Why it was not enrolled (with the Facility ID typed in, if any)."""


@dataclass(frozen=True, slots=True)
class SignUpResult:
    enrolled: tuple[PowerBankStatus, ...]
    already_enrolled: tuple[PowerBankStatus, ...]
    not_enrolled: tuple[NotEnrolledStatus, ...]
    terms: TermsVersion


@dataclass(frozen=True, slots=True)
class EnrolledChargePoint:
    """The dispatch seam: an enrolled charge point of a bidding zone and what it draws now."""

    charge_point_id: int
    operator_id: int
    site_id: int
    connector_ids: tuple[int, ...]
    power_w: float | None
    """Sum of the connectors' present power; None when the charger is offline or has not
    reported any yet."""
    measured_at: datetime | None
