"""PowerBank: the team's sign-up dialog, the charge point's toggle, the operator's
compatibility list and terms. Everything the portal's PowerBank pages need, and nothing they
must work out themselves: each charge point comes with its eligibility and the reasons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from amphub.application.powerbank.ports import (
    ChargePointPowerBank,
    PowerBankStatus,
    SignUpResult,
    TeamPowerBank,
)
from amphub.domain.powerbank.compatibility import CompatibilityEntry, CompatibilityRule
from amphub.domain.powerbank.eligibility import (
    AUTO_ENROL_ZONES,
    Problem,
    Reason,
    needs_facility_id,
)
from amphub.domain.powerbank.enrolment import (
    Enrolment,
    EnrolmentBasis,
    FacilityIdsRequired,
    SignUpRequest,
    TermsVersion,
)
from amphub.entrypoints.api.deps import ActorDep, ContainerDep
from amphub.entrypoints.api.schemas import Strict

router = APIRouter(tags=["powerbank"])


# -- shapes ----------------------------------------------------------------------------------


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


_FACILITY_IDS_REFUSED: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "Refused as a whole: each Swedish charge point without a valid "
        "Facility ID is one item, located at its Facility ID input"
    }
}


def _facility_ids_refused(error: FacilityIdsRequired, location: list[str]) -> JSONResponse:
    """FastAPI's error shape, one item per charge point, so that the portal can show each
    message beside that charge point's Facility ID input."""
    return JSONResponse(
        status_code=422,
        content={
            "detail": [
                {
                    "loc": [*location, str(item.charge_point_id)],
                    "msg": " ".join(r.message for r in item.reasons),
                    "type": item.reasons[0].problem.value,
                    "charge_point_id": item.charge_point_id,
                }
                for item in error.missing
            ]
        },
    )


# -- team: the sign-up dialog --------------------------------------------------------------


@router.get("/teams/{team_id}/powerbank", response_model=TeamPowerBankOut)
async def team_powerbank(
    team_id: int, actor: ActorDep, container: ContainerDep
) -> TeamPowerBankOut:
    """The team's charge points with their eligibility, and the terms to accept."""
    return TeamPowerBankOut.of(await container.powerbank.team(actor, team_id))


@router.post(
    "/teams/{team_id}/powerbank/sign-up",
    response_model=SignUpOut,
    responses=_FACILITY_IDS_REFUSED,
)
async def sign_up_team(
    team_id: int, body: SignUpIn, actor: ActorDep, container: ContainerDep
) -> SignUpOut | JSONResponse:
    """Sign up all compatible charge points of the team, or the selected ones."""
    request = SignUpRequest(
        all_compatible=body.all_compatible,
        selected=tuple(body.charge_point_ids),
        facility_ids=body.facility_ids,
    )
    try:
        result = await container.powerbank.sign_up_team(actor, team_id, body.terms_version, request)
    except FacilityIdsRequired as error:
        return _facility_ids_refused(error, ["body", "facility_ids"])
    return SignUpOut.of(result)


# -- charge point: functionalities → PowerBank ------------------------------------------------


@router.get("/charge-points/{charge_point_id}/powerbank", response_model=ChargePointPowerBankOut)
async def charge_point_powerbank(
    charge_point_id: int, actor: ActorDep, container: ContainerDep
) -> ChargePointPowerBankOut:
    return ChargePointPowerBankOut.of(await container.powerbank.details(actor, charge_point_id))


@router.post(
    "/charge-points/{charge_point_id}/powerbank/enrolment",
    response_model=StatusOut,
    responses=_FACILITY_IDS_REFUSED,
)
async def enrol(
    charge_point_id: int, body: EnrolIn, actor: ActorDep, container: ContainerDep
) -> StatusOut | JSONResponse:
    """The toggle switched on. Refused (422, with the reasons) if it may not join."""
    try:
        status = await container.powerbank.sign_up(
            actor, charge_point_id, body.terms_version, body.facility_id
        )
    except FacilityIdsRequired as error:
        return _facility_ids_refused(error, ["body", "facility_id"])
    return StatusOut.of(status)


@router.delete("/charge-points/{charge_point_id}/powerbank/enrolment", response_model=StatusOut)
async def stop(charge_point_id: int, actor: ActorDep, container: ContainerDep) -> StatusOut:
    """The toggle switched off: participation ends (history kept) and the opt-out is
    remembered, also against the DK2 rule."""
    return StatusOut.of(await container.powerbank.stop(actor, charge_point_id))


@router.put("/charge-points/{charge_point_id}/powerbank/facility-id", response_model=StatusOut)
async def set_facility_id(
    charge_point_id: int, body: FacilityIdIn, actor: ActorDep, container: ContainerDep
) -> StatusOut:
    return StatusOut.of(
        await container.powerbank.set_facility_id(actor, charge_point_id, body.facility_id)
    )


# -- operator: compatibility list and terms -------------------------------------------------


@router.get(
    "/operators/{operator_id}/powerbank/compatibility", response_model=list[CompatibilityOut]
)
async def list_compatibility(
    operator_id: int, actor: ActorDep, container: ContainerDep
) -> list[CompatibilityOut]:
    entries = await container.powerbank_catalogue.compatibility(actor, operator_id)
    return [CompatibilityOut.of(entry) for entry in entries]


@router.post(
    "/operators/{operator_id}/powerbank/compatibility",
    response_model=CompatibilityOut,
    status_code=201,
)
async def add_compatibility(
    operator_id: int, body: CompatibilityIn, actor: ActorDep, container: ContainerDep
) -> CompatibilityOut:
    """Operator Admins: add a brand and model, optionally with a firmware range."""
    rule = CompatibilityRule(body.brand, body.model, body.firmware_min, body.firmware_below)
    entry = await container.powerbank_catalogue.add_compatibility(actor, operator_id, rule)
    return CompatibilityOut.of(entry)


@router.delete(
    "/operators/{operator_id}/powerbank/compatibility/{compatibility_id}", status_code=204
)
async def remove_compatibility(
    operator_id: int, compatibility_id: int, actor: ActorDep, container: ContainerDep
) -> Response:
    await container.powerbank_catalogue.remove_compatibility(actor, operator_id, compatibility_id)
    return Response(status_code=204)


@router.get("/operators/{operator_id}/powerbank/terms", response_model=list[TermsOut])
async def list_terms(operator_id: int, actor: ActorDep, container: ContainerDep) -> list[TermsOut]:
    """Every version, the current one first."""
    return [TermsOut.of(t) for t in await container.powerbank_catalogue.terms(actor, operator_id)]


@router.post("/operators/{operator_id}/powerbank/terms", response_model=TermsOut, status_code=201)
async def publish_terms(
    operator_id: int, body: TermsIn, actor: ActorDep, container: ContainerDep
) -> TermsOut:
    """Operator Admins: publish a new version; sign-ups from now on must accept it."""
    terms = await container.powerbank_catalogue.publish_terms(actor, operator_id, body.text)
    return TermsOut.of(terms)
