"""The API's shapes for PowerBank, converted from domain values at this edge only."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from amphub.application.powerbank.ports import (
    ChargePointPowerBank,
    PowerBankStatus,
    SignUpResult,
    TeamPowerBank,
)
from amphub.domain.powerbank.compatibility import CompatibilityEntry
from amphub.domain.powerbank.eligibility import (
    AUTO_ENROL_ZONES,
    Problem,
    Reason,
    needs_facility_id,
)
from amphub.domain.powerbank.enrolment import Enrolment, EnrolmentBasis, TermsVersion
from amphub.entrypoints.api.schemas import Strict


class ReasonOut(BaseModel):
    problem: Problem = Field(description="what keeps the charge point out")
    message: str

    @classmethod
    def of(cls, reason: Reason) -> ReasonOut:
        return cls(problem=reason.problem, message=reason.message)


class EnrolmentOut(BaseModel):
    id: int
    basis: EnrolmentBasis = Field(description="sign_up by a user, or automatic (DK2 rules)")
    enrolled_at: datetime
    enrolled_by: str
    terms_version: int | None = Field(description="the version accepted (automatic: current)")
    terms_accepted_at: datetime | None
    facility_id: str | None
    note: str
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None

    @classmethod
    def of(cls, enrolment: Enrolment) -> EnrolmentOut:
        start = enrolment.start
        return cls(
            id=enrolment.id,
            basis=start.basis,
            enrolled_at=start.at,
            enrolled_by=start.by,
            terms_version=start.terms_version,
            terms_accepted_at=start.terms_accepted_at,
            facility_id=start.facility_id,
            note=start.note,
            ended_at=enrolment.ended_at,
            ended_by=enrolment.ended_by,
            end_reason=enrolment.end_reason,
        )


class StatusOut(BaseModel):
    """One charge point in the programme: what it is, where, whether it may join and why
    not, and whether it is enrolled."""

    charge_point_id: int
    ocpp_identity: str
    serial_number: str
    brand: str
    model: str
    firmware_version: str
    site_id: int
    site_name: str
    country: str
    bidding_zone: str
    compatible: bool
    compatibility_reason: str
    eligible: bool = Field(description="may join now (with the stored Facility ID, if any)")
    reasons: list[ReasonOut]
    needs_facility_id: bool = Field(description="Swedish: show a Facility ID input")
    facility_id: str | None
    enrolled: bool
    enrolment: EnrolmentOut | None
    automatic_zone: bool = Field(description="in DK2: enrolled automatically unless opted out")
    opted_out: bool
    opted_out_at: datetime | None
    opted_out_by: str | None
    can_manage: bool = Field(description="may the caller sign it up or stop it")

    @classmethod
    def of(cls, status: PowerBankStatus) -> StatusOut:
        cp, site, facts = status.charge_point, status.site, status.facts
        return cls(
            charge_point_id=cp.id,
            ocpp_identity=cp.spec.ocpp_identity,
            serial_number=cp.spec.serial_number,
            brand=cp.spec.brand,
            model=cp.spec.model,
            firmware_version=cp.spec.firmware_version,
            site_id=site.id,
            site_name=site.spec.name,
            country=facts.country,
            bidding_zone=facts.bidding_zone,
            compatible=status.eligibility.compatibility.compatible,
            compatibility_reason=status.eligibility.compatibility.reason,
            eligible=status.eligibility.eligible,
            reasons=[ReasonOut.of(r) for r in status.eligibility.reasons],
            needs_facility_id=needs_facility_id(facts),
            facility_id=facts.facility_id,
            enrolled=status.enrolment is not None,
            enrolment=EnrolmentOut.of(status.enrolment) if status.enrolment else None,
            automatic_zone=facts.bidding_zone in AUTO_ENROL_ZONES,
            opted_out=status.opt_out is not None,
            opted_out_at=status.opt_out.at if status.opt_out else None,
            opted_out_by=status.opt_out.by if status.opt_out else None,
            can_manage=status.can_manage,
        )


class TermsOut(BaseModel):
    version: int
    text: str
    published_at: datetime
    published_by: str

    @classmethod
    def of(cls, terms: TermsVersion) -> TermsOut:
        return cls(
            version=terms.version,
            text=terms.text,
            published_at=terms.published_at,
            published_by=terms.published_by,
        )


class TeamPowerBankOut(BaseModel):
    team_id: int
    operator_id: int
    can_manage: bool
    terms: TermsOut | None = Field(description="the current version; sign-ups accept it")
    charge_points: list[StatusOut]

    @classmethod
    def of(cls, team: TeamPowerBank) -> TeamPowerBankOut:
        return cls(
            team_id=team.team_id,
            operator_id=team.operator_id,
            can_manage=team.can_manage,
            terms=TermsOut.of(team.terms) if team.terms else None,
            charge_points=[StatusOut.of(s) for s in team.charge_points],
        )


class ChargePointPowerBankOut(BaseModel):
    status: StatusOut
    terms: TermsOut | None = Field(description="the current version; signing up accepts it")
    history: list[EnrolmentOut] = Field(description="every enrolment, newest first")

    @classmethod
    def of(cls, details: ChargePointPowerBank) -> ChargePointPowerBankOut:
        return cls(
            status=StatusOut.of(details.status),
            terms=TermsOut.of(details.terms) if details.terms else None,
            history=[EnrolmentOut.of(e) for e in details.history],
        )


class SignUpIn(Strict):
    terms_version: int = Field(ge=1, description="the version of the terms the user accepted")
    all_compatible: bool = Field(False, description='"Sign up all charge points"')
    charge_point_ids: list[int] = Field(
        default_factory=list, max_length=10_000, description="the ticked checkboxes"
    )
    facility_ids: dict[int, str] = Field(
        default_factory=dict, description="charge point id → Facility ID (Swedish ones)"
    )


class NotEnrolledOut(BaseModel):
    charge_point: StatusOut
    reasons: list[ReasonOut]


class SignUpOut(BaseModel):
    terms_version: int
    enrolled: list[StatusOut]
    already_enrolled: list[StatusOut]
    not_enrolled: list[NotEnrolledOut] = Field(description="flagged, each with its reasons")

    @classmethod
    def of(cls, result: SignUpResult) -> SignUpOut:
        return cls(
            terms_version=result.terms.version,
            enrolled=[StatusOut.of(s) for s in result.enrolled],
            already_enrolled=[StatusOut.of(s) for s in result.already_enrolled],
            not_enrolled=[
                NotEnrolledOut(
                    charge_point=StatusOut.of(item.status),
                    reasons=[ReasonOut.of(r) for r in item.reasons],
                )
                for item in result.not_enrolled
            ],
        )


class EnrolIn(Strict):
    terms_version: int = Field(ge=1, description="the version of the terms the user accepted")
    facility_id: str | None = Field(None, max_length=40, description="Swedish charge points")


class FacilityIdIn(Strict):
    facility_id: str = Field(max_length=40, description="18 digits beginning 735999")


class CompatibilityIn(Strict):
    brand: str = Field(max_length=50)
    model: str = Field(max_length=50)
    firmware_min: str | None = Field(None, max_length=50, description="from this version on")
    firmware_below: str | None = Field(None, max_length=50, description="below this version")


class CompatibilityOut(BaseModel):
    id: int
    operator_id: int
    brand: str
    model: str
    firmware_min: str | None
    firmware_below: str | None
    created_at: datetime

    @classmethod
    def of(cls, entry: CompatibilityEntry) -> CompatibilityOut:
        rule = entry.rule
        return cls(
            id=entry.id,
            operator_id=entry.operator_id,
            brand=rule.brand,
            model=rule.model,
            firmware_min=rule.firmware_min,
            firmware_below=rule.firmware_below,
            created_at=entry.created_at,
        )


class TermsIn(Strict):
    text: str = Field(max_length=100_000)
