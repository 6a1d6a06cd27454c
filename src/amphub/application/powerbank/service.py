"""The user's PowerBank use cases: the team's sign-up dialog, the charge point's toggle,
stopping, the Swedish Facility ID, and the history.

Each change: load the object, check who asks on the object's own scope, decide with the pure
rules, write the change and its audit entry in one transaction. A refused attempt is audited
too, in a transaction of its own, and then raised (404, 403, 409 or 422 at the API).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from amphub.application.access import Actor, require_visible
from amphub.application.audit import record_change
from amphub.application.ports import Clock
from amphub.application.powerbank.common import (
    Attempt,
    PowerBankUnitOfWorkFactory,
    audit_refusal,
    can_manage,
    end_enrolment,
    enrolment_snapshot,
    load_statuses,
    rules_of,
    scope_of,
    start_enrolment,
)
from amphub.application.powerbank.ports import (
    ChargePointPowerBank,
    NotEnrolledStatus,
    PowerBankStatus,
    PowerBankUnitOfWork,
    SignUpResult,
    TeamPowerBank,
)
from amphub.application.uow import Page, Visibility
from amphub.domain.errors import DomainError, Forbidden, InvalidValue, NotFound
from amphub.domain.powerbank.eligibility import (
    FACILITY_ID_COUNTRY,
    MANAGE_REFUSAL,
    validate_facility_id,
)
from amphub.domain.powerbank.enrolment import (
    EnrolmentBasis,
    EnrolmentStart,
    NotEligible,
    NotEnrolled,
    OptOut,
    SignUpPlan,
    SignUpRequest,
    TermsVersion,
    check_acceptance,
    plan_sign_up,
    plan_stop,
)
from amphub.domain.roles import Scope
from amphub.domain.tenancy import ChargePoint, Team

T = TypeVar("T")
_TEAM_PAGE = 500


class PowerBankService:
    def __init__(self, uow_factory: PowerBankUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    # -- loading and checking -----------------------------------------------------------------

    async def _charge_point(
        self, uow: PowerBankUnitOfWork, actor: Actor, charge_point_id: int
    ) -> ChargePoint:
        charge_point = await uow.charge_points.get(charge_point_id)
        if charge_point is None:
            raise NotFound("charge point", charge_point_id)
        require_visible(actor, scope_of(charge_point), "charge point", charge_point_id)
        return charge_point

    async def _team(self, uow: PowerBankUnitOfWork, actor: Actor, team_id: int) -> Team:
        team = await uow.teams.get(team_id)
        if team is None:
            raise NotFound("team", team_id)
        require_visible(actor, Scope(team.operator_id, team.id), "team", team_id)
        return team

    @staticmethod
    async def _charge_points_of(uow: PowerBankUnitOfWork, team_id: int) -> list[ChargePoint]:
        found: list[ChargePoint] = []
        visibility = Visibility(team_ids=(team_id,))
        while True:
            page = await uow.charge_points.list_visible(
                visibility, "", Page(_TEAM_PAGE, found[-1].id if found else 0)
            )
            found.extend(page)
            if len(page) < _TEAM_PAGE:
                return found

    @staticmethod
    def _require_manage(actor: Actor, scope: Scope) -> None:
        if not can_manage(actor, scope):
            raise Forbidden(MANAGE_REFUSAL)

    async def _attempt(self, actor: Actor, attempt: Attempt, work: Callable[[], Awaitable[T]]) -> T:
        try:
            return await work()
        except DomainError as error:
            await audit_refusal(self._uow, self._clock.now(), actor, attempt, error)
            raise

    # -- reading ------------------------------------------------------------------------------

    async def status(self, actor: Actor, charge_point_id: int) -> PowerBankStatus:
        async with self._uow() as uow:
            charge_point = await self._charge_point(uow, actor, charge_point_id)
            return (await load_statuses(uow, actor, [charge_point]))[0]

    async def details(self, actor: Actor, charge_point_id: int) -> ChargePointPowerBank:
        async with self._uow() as uow:
            charge_point = await self._charge_point(uow, actor, charge_point_id)
            return ChargePointPowerBank(
                status=(await load_statuses(uow, actor, [charge_point]))[0],
                terms=await uow.powerbank.current_terms(charge_point.operator_id),
                history=tuple(await uow.powerbank.history(charge_point_id)),
            )

    async def team(self, actor: Actor, team_id: int) -> TeamPowerBank:
        async with self._uow() as uow:
            team = await self._team(uow, actor, team_id)
            statuses = await load_statuses(uow, actor, await self._charge_points_of(uow, team_id))
            return TeamPowerBank(
                team_id=team.id,
                operator_id=team.operator_id,
                terms=await uow.powerbank.current_terms(team.operator_id),
                charge_points=tuple(statuses),
                can_manage=can_manage(actor, Scope(team.operator_id, team.id)),
            )

    # -- signing up ---------------------------------------------------------------------------

    async def sign_up_team(
        self, actor: Actor, team_id: int, terms_version: int, request: SignUpRequest
    ) -> SignUpResult:
        """Bulk sign-up within one team ("Sign up all charge points" or the checkboxes)."""
        attempt = Attempt("powerbank.sign_up", "team", team_id)

        async def work() -> SignUpResult:
            async with self._uow() as uow:
                team = await self._team(uow, actor, team_id)
                attempt.scope = scope = Scope(team.operator_id, team.id)
                self._require_manage(actor, scope)
                charge_points = await self._charge_points_of(uow, team_id)
                result = await self._sign_up(
                    uow, actor, scope, charge_points, terms_version, request
                )
                await record_change(
                    uow,
                    self._clock.now(),
                    actor,
                    scope=scope,
                    action="powerbank.sign_up",
                    object_type="team",
                    object_id=team_id,
                    old=None,
                    new={
                        "all_compatible": request.all_compatible,
                        "terms_version": terms_version,
                        "enrolled": [s.charge_point.id for s in result.enrolled],
                        "already_enrolled": [s.charge_point.id for s in result.already_enrolled],
                        "not_enrolled": {
                            str(item.status.charge_point.id): [r.message for r in item.reasons]
                            for item in result.not_enrolled
                        },
                    },
                )
                await uow.commit()
                return result

        return await self._attempt(actor, attempt, work)

    async def sign_up(
        self, actor: Actor, charge_point_id: int, terms_version: int, facility_id: str | None = None
    ) -> PowerBankStatus:
        """The charge point's toggle, switched on. Refused as a whole (422) if it may not join."""
        attempt = Attempt("powerbank.sign_up", "charge_point", charge_point_id)
        facility_ids = {charge_point_id: facility_id} if facility_id is not None else {}

        async def work() -> PowerBankStatus:
            async with self._uow() as uow:
                charge_point = await self._charge_point(uow, actor, charge_point_id)
                attempt.scope = scope = scope_of(charge_point)
                self._require_manage(actor, scope)
                request = SignUpRequest(selected=(charge_point_id,), facility_ids=facility_ids)
                result = await self._sign_up(
                    uow, actor, scope, [charge_point], terms_version, request
                )
                if result.not_enrolled:
                    item = result.not_enrolled[0]
                    status = item.status
                    raise NotEligible(
                        NotEnrolled(status.charge_point.id, status.facts.label, item.reasons)
                    )
                if result.already_enrolled:
                    await record_change(
                        uow,
                        self._clock.now(),
                        actor,
                        scope=scope,
                        action="powerbank.sign_up",
                        object_type="charge_point",
                        object_id=charge_point_id,
                        old=None,
                        new={"outcome": "already enrolled"},
                    )
                await uow.commit()
                return (result.enrolled or result.already_enrolled)[0]

        return await self._attempt(actor, attempt, work)

    async def _sign_up(
        self,
        uow: PowerBankUnitOfWork,
        actor: Actor,
        scope: Scope,
        charge_points: list[ChargePoint],
        terms_version: int,
        request: SignUpRequest,
    ) -> SignUpResult:
        terms = check_acceptance(
            terms_version, await uow.powerbank.current_terms(scope.operator_id)
        )
        await uow.powerbank.lock([cp.id for cp in charge_points])
        before = await load_statuses(uow, actor, charge_points)
        rules = await rules_of(uow, scope.operator_id)
        plan = plan_sign_up(request, [status.facts for status in before], rules)
        await self._write(uow, actor, scope, plan, terms)
        after = {s.charge_point.id: s for s in await load_statuses(uow, actor, charge_points)}
        return SignUpResult(
            enrolled=tuple(after[item.charge_point_id] for item in plan.enrol),
            already_enrolled=tuple(after[cp_id] for cp_id in plan.already_enrolled),
            not_enrolled=tuple(
                NotEnrolledStatus(after[item.charge_point_id], item.reasons)
                for item in plan.not_enrolled
            ),
            terms=terms,
        )

    async def _write(
        self,
        uow: PowerBankUnitOfWork,
        actor: Actor,
        scope: Scope,
        plan: SignUpPlan,
        terms: TermsVersion,
    ) -> None:
        now = self._clock.now()
        stored = await uow.powerbank.facility_ids([cp_id for cp_id, _ in plan.facility_ids])
        for charge_point_id, facility_id in plan.facility_ids:
            if stored.get(charge_point_id) != facility_id:
                await self._store_facility_id(
                    uow, actor, scope, charge_point_id, stored.get(charge_point_id), facility_id
                )
        for item in plan.enrol:
            start = EnrolmentStart(
                charge_point_id=item.charge_point_id,
                basis=EnrolmentBasis.SIGN_UP,
                at=now,
                by_user_id=actor.user_id,
                by=actor.name,
                terms_version=terms.version,
                terms_accepted_at=now,
                facility_id=item.facility_id,
            )
            await start_enrolment(
                uow, actor, scope, start, withdraws_opt_out=item.withdraws_opt_out
            )

    # -- stopping -----------------------------------------------------------------------------

    async def stop(self, actor: Actor, charge_point_id: int) -> PowerBankStatus:
        """The toggle switched off: the enrolment ends (history kept) and the stop is
        remembered as an opt-out, which the DK2 rule never overrides."""
        attempt = Attempt("powerbank.stop", "charge_point", charge_point_id)

        async def work() -> PowerBankStatus:
            async with self._uow() as uow:
                charge_point = await self._charge_point(uow, actor, charge_point_id)
                attempt.scope = scope = scope_of(charge_point)
                self._require_manage(actor, scope)
                await uow.powerbank.lock([charge_point_id])
                status = (await load_statuses(uow, actor, [charge_point]))[0]
                plan = plan_stop(status.facts)
                now = self._clock.now()
                if plan.end_enrolment and status.enrolment is not None:
                    await end_enrolment(uow, actor, status.enrolment, now, "stopped")
                if plan.record_opt_out:
                    await uow.powerbank.add_opt_out(
                        OptOut(charge_point_id, now, actor.user_id, actor.name)
                    )
                await record_change(
                    uow,
                    now,
                    actor,
                    scope=scope,
                    action="powerbank.stop",
                    object_type="charge_point",
                    object_id=charge_point_id,
                    old={
                        "enrolment": enrolment_snapshot(status.enrolment)
                        if status.enrolment
                        else None,
                        "opted_out": status.facts.opted_out,
                    },
                    new={"enrolment": None, "opted_out": True},
                )
                after = (await load_statuses(uow, actor, [charge_point]))[0]
                await uow.commit()
                return after

        return await self._attempt(actor, attempt, work)

    # -- Facility ID --------------------------------------------------------------------------

    async def set_facility_id(
        self, actor: Actor, charge_point_id: int, facility_id: str
    ) -> PowerBankStatus:
        """Enter or correct a Swedish charge point's Facility ID (validated exactly)."""
        attempt = Attempt("powerbank.facility_id", "charge_point", charge_point_id)

        async def work() -> PowerBankStatus:
            async with self._uow() as uow:
                charge_point = await self._charge_point(uow, actor, charge_point_id)
                attempt.scope = scope = scope_of(charge_point)
                self._require_manage(actor, scope)
                site = await uow.sites.get(charge_point.site_id)
                assert site is not None
                if site.spec.country != FACILITY_ID_COUNTRY:
                    raise InvalidValue(
                        "facility_id",
                        f"only Swedish charge points have a Facility ID; "
                        f"{charge_point.spec.ocpp_identity} is in {site.spec.country}",
                    )
                normalised = validate_facility_id(facility_id)
                stored = (await uow.powerbank.facility_ids([charge_point_id])).get(charge_point_id)
                if stored != normalised:
                    await self._store_facility_id(
                        uow, actor, scope, charge_point_id, stored, normalised
                    )
                after = (await load_statuses(uow, actor, [charge_point]))[0]
                await uow.commit()
                return after

        return await self._attempt(actor, attempt, work)

    async def _store_facility_id(
        self,
        uow: PowerBankUnitOfWork,
        actor: Actor,
        scope: Scope,
        charge_point_id: int,
        old: str | None,
        new: str,
    ) -> None:
        now = self._clock.now()
        await uow.powerbank.set_facility_id(charge_point_id, new, now, actor.name)
        await record_change(
            uow,
            now,
            actor,
            scope=scope,
            action="powerbank.facility_id",
            object_type="charge_point",
            object_id=charge_point_id,
            old={"facility_id": old},
            new={"facility_id": new},
        )
