"""PowerBank: the team's sign-up dialog, the charge point's toggle, the operator's
compatibility list and terms. Everything the portal's PowerBank pages need, and nothing they
must work out themselves: each charge point comes with its eligibility and the reasons."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from amphub.domain.powerbank.compatibility import CompatibilityRule
from amphub.domain.powerbank.enrolment import FacilityIdsRequired, SignUpRequest
from amphub.entrypoints.api.deps import ActorDep, ContainerDep
from amphub.entrypoints.api.powerbank_schemas import (
    ChargePointPowerBankOut,
    CompatibilityIn,
    CompatibilityOut,
    EnrolIn,
    FacilityIdIn,
    SignUpIn,
    SignUpOut,
    StatusOut,
    TeamPowerBankOut,
    TermsIn,
    TermsOut,
)

router = APIRouter(tags=["powerbank"])


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
