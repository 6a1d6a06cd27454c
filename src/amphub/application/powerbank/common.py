"""What the PowerBank services share: loading the facts the rules need, starting and ending
enrolments with their audit entries, and auditing refused attempts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from amphub.application.access import Actor
from amphub.application.audit import record_change
from amphub.application.powerbank.ports import PowerBankStatus, PowerBankUnitOfWork
from amphub.domain.errors import Conflict, DomainError, Forbidden, InvalidValue, NotFound
from amphub.domain.powerbank.compatibility import CompatibilityRule
from amphub.domain.powerbank.eligibility import ChargePointFacts, assess, may_manage
from amphub.domain.powerbank.enrolment import Enrolment, EnrolmentStart
from amphub.domain.roles import Scope
from amphub.domain.tenancy import ChargePoint, Site

PowerBankUnitOfWorkFactory = Callable[[], PowerBankUnitOfWork]

SYSTEM = Actor.system("powerbank")
"""Who the audit log names for what the programme does by itself (DK2 rules)."""


def scope_of(charge_point: ChargePoint) -> Scope:
    return Scope(charge_point.operator_id, charge_point.team_id)


def can_manage(actor: Actor, scope: Scope) -> bool:
    return actor.is_system or may_manage(actor.memberships, scope)


async def rules_of(uow: PowerBankUnitOfWork, operator_id: int) -> list[CompatibilityRule]:
    return [entry.rule for entry in await uow.powerbank.compatibility(operator_id)]


async def load_statuses(
    uow: PowerBankUnitOfWork, actor: Actor, charge_points: Sequence[ChargePoint]
) -> list[PowerBankStatus]:
    """The programme's view of these charge points, in the order given."""
    ids = [cp.id for cp in charge_points]
    facility_ids = await uow.powerbank.facility_ids(ids)
    active = await uow.powerbank.active_enrolments(ids)
    opt_outs = await uow.powerbank.opt_outs(ids)
    sites: dict[int, Site] = {}
    rules: dict[int, list[CompatibilityRule]] = {}
    statuses = []
    for cp in charge_points:
        if cp.site_id not in sites:
            site = await uow.sites.get(cp.site_id)
            assert site is not None, "a charge point's site cannot vanish (RESTRICT)"
            sites[cp.site_id] = site
        if cp.operator_id not in rules:
            rules[cp.operator_id] = await rules_of(uow, cp.operator_id)
        site = sites[cp.site_id]
        facts = ChargePointFacts(
            charge_point_id=cp.id,
            label=cp.spec.ocpp_identity,
            country=site.spec.country,
            bidding_zone=site.spec.bidding_zone,
            brand=cp.spec.brand,
            model=cp.spec.model,
            firmware_version=cp.spec.firmware_version,
            facility_id=facility_ids.get(cp.id),
            enrolled=cp.id in active,
            opted_out=cp.id in opt_outs,
        )
        statuses.append(
            PowerBankStatus(
                charge_point=cp,
                site=site,
                facts=facts,
                eligibility=assess(facts, rules[cp.operator_id]),
                enrolment=active.get(cp.id),
                opt_out=opt_outs.get(cp.id),
                can_manage=can_manage(actor, scope_of(cp)),
            )
        )
    return statuses


def enrolment_snapshot(enrolment: Enrolment) -> dict[str, object]:
    start = enrolment.start
    return {
        "enrolment_id": enrolment.id,
        "basis": start.basis.value,
        "enrolled_at": start.at.isoformat(),
        "enrolled_by": start.by,
        "terms_version": start.terms_version,
        "facility_id": start.facility_id,
    }


async def start_enrolment(
    uow: PowerBankUnitOfWork,
    actor: Actor,
    scope: Scope,
    start: EnrolmentStart,
    *,
    withdraws_opt_out: bool,
) -> Enrolment:
    """Record the enrolment (and the end of an opt-out a user now overrides), audited."""
    if withdraws_opt_out:
        await uow.powerbank.withdraw_opt_out(start.charge_point_id)
    enrolment = await uow.powerbank.enrol(start)
    await record_change(
        uow,
        start.at,
        actor,
        scope=scope,
        action="powerbank.enrol",
        object_type="charge_point",
        object_id=start.charge_point_id,
        old={"opted_out": True} if withdraws_opt_out else None,
        new={**enrolment_snapshot(enrolment), "note": start.note},
    )
    return enrolment


async def end_enrolment(
    uow: PowerBankUnitOfWork, actor: Actor, enrolment: Enrolment, at: datetime, reason: str
) -> None:
    """End it, keeping the record (the caller writes the audit entry saying why)."""
    await uow.powerbank.end(enrolment.id, at, actor.user_id, actor.name, reason)


@dataclass
class Attempt:
    """A user's attempt at a PowerBank change, audited even when it is refused. ``scope`` is
    filled in once the object is known to be visible to the user; a refusal on an object the
    user may not see is logged without one, so that no tenant reads about another."""

    action: str
    object_type: str
    object_id: object
    scope: Scope | None = None


def _status_code(error: DomainError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Forbidden):
        return 403
    if isinstance(error, Conflict):
        return 409
    return 422 if isinstance(error, InvalidValue) else 400


async def audit_refusal(
    uow_factory: PowerBankUnitOfWorkFactory,
    at: datetime,
    actor: Actor,
    attempt: Attempt,
    error: DomainError,
) -> None:
    """A refused attempt changed nothing, so it is written in a transaction of its own."""
    async with uow_factory() as uow:
        await record_change(
            uow,
            at,
            actor,
            scope=attempt.scope if not isinstance(error, NotFound) else None,
            action=f"{attempt.action}.refused",
            object_type=attempt.object_type,
            object_id=attempt.object_id,
            old=None,
            new={"status": _status_code(error), "reason": str(error)},
        )
        await uow.commit()
