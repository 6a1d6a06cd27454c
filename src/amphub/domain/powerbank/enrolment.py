"""Signing up (one or many), stopping, the DK2 rule, terms and conditions, and the history
kept of each enrolment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from amphub.domain.errors import Conflict, InvalidValue
from amphub.domain.powerbank.compatibility import CompatibilityRule
from amphub.domain.powerbank.eligibility import (
    AUTO_ENROL_ZONES,
    FACILITY_ID_PROBLEMS,
    ChargePointFacts,
    Eligibility,
    Problem,
    Reason,
    assess,
    needs_facility_id,
)

MAX_TERMS_CHARS = 100_000

# -- signing up -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignUpRequest:
    """Bulk sign-up within one team: every compatible charge point, or a selection, with the
    Facility IDs typed in for Swedish ones (charge point id → Facility ID)."""

    all_compatible: bool = False
    selected: tuple[int, ...] = ()
    facility_ids: Mapping[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.all_compatible == bool(self.selected):
            raise InvalidValue(
                "charge_point_ids", "choose either all compatible charge points or a selection"
            )
        if len(set(self.selected)) != len(self.selected):
            raise InvalidValue("charge_point_ids", "a charge point is selected twice")


@dataclass(frozen=True, slots=True)
class ToEnrol:
    charge_point_id: int
    facility_id: str | None
    withdraws_opt_out: bool


@dataclass(frozen=True, slots=True)
class NotEnrolled:
    charge_point_id: int
    label: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class SignUpPlan:
    enrol: tuple[ToEnrol, ...]
    already_enrolled: tuple[int, ...]
    not_enrolled: tuple[NotEnrolled, ...]
    facility_ids: tuple[tuple[int, str], ...]
    """Valid Facility IDs typed in, to keep (normalised)."""


class FacilityIdsRequired(InvalidValue):
    """The whole sign-up is refused: these Swedish charge points lack a valid Facility ID."""

    def __init__(self, missing: Sequence[NotEnrolled]) -> None:
        names = "; ".join(reason.message for item in missing for reason in item.reasons)
        super().__init__(
            "facility_ids",
            "nothing was signed up: every Swedish charge point needs a valid Facility ID "
            f"before it can join PowerBank — {names}",
        )
        self.missing = tuple(missing)


class NotEligible(InvalidValue):
    """A single sign-up (the toggle) is refused: the charge point may not join, and why."""

    def __init__(self, item: NotEnrolled) -> None:
        super().__init__(
            "charge_point",
            f"{item.label} cannot join PowerBank: " + " ".join(r.message for r in item.reasons),
        )
        self.item = item


def plan_sign_up(
    request: SignUpRequest, team: Sequence[ChargePointFacts], rules: Sequence[CompatibilityRule]
) -> SignUpPlan:
    """Decide a (bulk) sign-up within one team, all or nothing on Facility IDs.

    If any Swedish charge point that is to be signed up lacks a valid Facility ID, the
    whole request is refused naming each one (:class:`FacilityIdsRequired`). Otherwise the
    eligible ones are enrolled and every other one is listed with its reasons: nothing is
    skipped silently. In "all compatible" mode the Facility ID is demanded of the
    compatible Swedish charge points only (the incompatible ones are flagged anyway); a
    selection demands it of every selected Swedish charge point.
    """
    by_id = {facts.charge_point_id: facts for facts in team}
    for charge_point_id in request.selected:
        if charge_point_id not in by_id:
            raise InvalidValue(
                "charge_point_ids", f"charge point {charge_point_id} is not in this team"
            )
    targets = list(team) if request.all_compatible else [by_id[i] for i in request.selected]
    target_ids = {facts.charge_point_id for facts in targets}
    for charge_point_id in request.facility_ids:
        facts = by_id.get(charge_point_id)
        if facts is None or charge_point_id not in target_ids:
            raise InvalidValue(
                "facility_ids", f"charge point {charge_point_id} is not being signed up"
            )
        if not needs_facility_id(facts):
            raise InvalidValue(
                "facility_ids",
                f"{facts.label} is in {facts.country}: only Swedish charge points have a "
                "Facility ID",
            )
    assessed = [(f, assess(f, rules, request.facility_ids.get(f.charge_point_id))) for f in targets]
    missing = [
        NotEnrolled(facts.charge_point_id, facts.label, _facility_reasons(eligibility))
        for facts, eligibility in assessed
        if eligibility.has(FACILITY_ID_PROBLEMS)
        and _facility_id_demanded(request, facts, eligibility)
    ]
    if missing:
        raise FacilityIdsRequired(missing)
    enrol: list[ToEnrol] = []
    already: list[int] = []
    not_enrolled: list[NotEnrolled] = []
    given = {cp_id: "".join(text.split()) for cp_id, text in request.facility_ids.items()}
    for facts, eligibility in assessed:
        if facts.enrolled:
            already.append(facts.charge_point_id)
        elif eligibility.eligible:
            facility = given.get(facts.charge_point_id, facts.facility_id)
            enrol.append(ToEnrol(facts.charge_point_id, facility, facts.opted_out))
        else:
            not_enrolled.append(
                NotEnrolled(facts.charge_point_id, facts.label, eligibility.reasons)
            )
    return SignUpPlan(
        tuple(enrol), tuple(already), tuple(not_enrolled), tuple(sorted(given.items()))
    )


def _facility_id_demanded(
    request: SignUpRequest, facts: ChargePointFacts, eligibility: Eligibility
) -> bool:
    """A Facility ID typed in must be valid; otherwise one is demanded of each Swedish charge
    point about to join (in "all compatible" mode: of the compatible ones)."""
    if facts.charge_point_id in request.facility_ids:
        return True
    if facts.enrolled:
        return False
    return not request.all_compatible or eligibility.compatibility.compatible


def _facility_reasons(eligibility: Eligibility) -> tuple[Reason, ...]:
    return tuple(r for r in eligibility.reasons if r.problem in FACILITY_ID_PROBLEMS)


# -- stopping and the DK2 rule -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StopPlan:
    end_enrolment: bool
    record_opt_out: bool


def plan_stop(facts: ChargePointFacts) -> StopPlan:
    """Stopping ends the enrolment, if any, and is remembered as an opt-out — also for a
    charge point that was never enrolled, so that a DK2 site never pulls it in."""
    return StopPlan(end_enrolment=facts.enrolled, record_opt_out=not facts.opted_out)


class PlacementAction(StrEnum):
    NONE = "none"
    ENROL = "enrol"
    """Enrol under the DK2 rule, by the system."""
    END = "end"
    """The charge point no longer qualifies where it now stands; end its enrolment."""


@dataclass(frozen=True, slots=True)
class PlacementDecision:
    action: PlacementAction
    reason: str = ""


def after_placement(
    facts: ChargePointFacts, rules: Sequence[CompatibilityRule]
) -> PlacementDecision:
    """What the programme does when a charge point is registered, moved, its site's zone
    changed, or its brand, model or firmware became known at boot.

    Not enrolled, in DK2, never opted out, and eligible: the system enrols it. Enrolled, but
    now in a country outside the programme or in Sweden without a Facility ID: the
    enrolment ends (that is no opt-out; moving it back into DK2 enrols it again). A charge
    point that merely became incompatible stays enrolled and shows why it is flagged. An
    opt-out is never touched here.
    """
    eligibility = assess(facts, rules)
    if facts.enrolled:
        lost = [
            r
            for r in eligibility.reasons
            if r.problem is Problem.COUNTRY or r.problem in FACILITY_ID_PROBLEMS
        ]
        if lost:
            return PlacementDecision(PlacementAction.END, " ".join(r.message for r in lost))
        return PlacementDecision(PlacementAction.NONE)
    if facts.bidding_zone in AUTO_ENROL_ZONES and not facts.opted_out and eligibility.eligible:
        return PlacementDecision(
            PlacementAction.ENROL,
            f"enrolled by the system under the programme's {facts.bidding_zone} rules",
        )
    return PlacementDecision(PlacementAction.NONE)


# -- terms and conditions ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TermsVersion:
    operator_id: int
    version: int
    text: str
    published_at: datetime
    published_by: str


def validate_terms_text(text: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise InvalidValue("text", "the terms and conditions must not be empty")
    if len(stripped) > MAX_TERMS_CHARS:
        raise InvalidValue("text", f"must be at most {MAX_TERMS_CHARS} characters")
    return stripped


def check_acceptance(accepted_version: int, current: TermsVersion | None) -> TermsVersion:
    """Signing up needs the current version accepted; an older one is refused (the user
    read something that no longer applies)."""
    if current is None:
        raise Conflict(
            "terms_version",
            "no PowerBank terms and conditions are published for this operator yet; "
            "an Operator Admin publishes them first",
        )
    if accepted_version != current.version:
        raise Conflict(
            "terms_version",
            f"version {current.version} of the PowerBank terms and conditions is current; "
            f"read and accept it (you accepted version {accepted_version})",
        )
    return current


# -- history ------------------------------------------------------------------------------------


class EnrolmentBasis(StrEnum):
    SIGN_UP = "sign_up"
    """A user signed it up and accepted the terms."""
    AUTOMATIC = "automatic"
    """The system enrolled it under the programme's DK2 rules."""


@dataclass(frozen=True, slots=True)
class EnrolmentStart:
    """What is recorded when a charge point joins."""

    charge_point_id: int
    basis: EnrolmentBasis
    at: datetime
    by_user_id: int | None
    by: str
    terms_version: int | None
    terms_accepted_at: datetime | None
    facility_id: str | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Enrolment:
    id: int
    start: EnrolmentStart
    ended_at: datetime | None = None
    ended_by_user_id: int | None = None
    ended_by: str | None = None
    end_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True, slots=True)
class OptOut:
    charge_point_id: int
    at: datetime
    by_user_id: int | None
    by: str
