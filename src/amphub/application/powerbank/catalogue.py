"""The operator's PowerBank data: the compatibility list and the terms and conditions.

Both belong to an operator (``Action.MANAGE_OPERATOR``: its Operator Admins maintain them;
every member of the operator may read them). A charge point is judged against its own
operator's list, and signs up under its own operator's current terms.
"""

from __future__ import annotations

from amphub.application.access import Actor, require
from amphub.application.audit import record_change
from amphub.application.ports import Clock
from amphub.application.powerbank.common import PowerBankUnitOfWorkFactory
from amphub.application.powerbank.ports import PowerBankUnitOfWork
from amphub.application.powerbank.programme import PowerBankProgramme
from amphub.domain.errors import Conflict, NotFound
from amphub.domain.powerbank.compatibility import CompatibilityEntry, CompatibilityRule
from amphub.domain.powerbank.enrolment import TermsVersion, validate_terms_text
from amphub.domain.roles import Action, Scope


class PowerBankCatalogue:
    def __init__(
        self, uow_factory: PowerBankUnitOfWorkFactory, clock: Clock, programme: PowerBankProgramme
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._programme = programme

    @staticmethod
    async def _operator(uow: PowerBankUnitOfWork, actor: Actor, operator_id: int) -> None:
        """A member of the operator at any level sees it; anyone else gets 404."""
        visible = actor.is_system or operator_id in actor.operator_ids()
        if not visible or await uow.operators.get(operator_id) is None:
            raise NotFound("operator", operator_id)

    # -- compatibility list ------------------------------------------------------------------

    async def compatibility(self, actor: Actor, operator_id: int) -> list[CompatibilityEntry]:
        async with self._uow() as uow:
            await self._operator(uow, actor, operator_id)
            return await uow.powerbank.compatibility(operator_id)

    async def add_compatibility(
        self, actor: Actor, operator_id: int, rule: CompatibilityRule
    ) -> CompatibilityEntry:
        """Add a brand and model (optionally a firmware range); DK2 charge points of that
        model that were waiting for it join at once (unless opted out)."""
        async with self._uow() as uow:
            await self._operator(uow, actor, operator_id)
            scope = Scope(operator_id)
            require(actor, Action.MANAGE_OPERATOR, scope, "operator", operator_id)
            for existing in await uow.powerbank.compatibility(operator_id):
                same_range = (existing.rule.firmware_min, existing.rule.firmware_below) == (
                    rule.firmware_min,
                    rule.firmware_below,
                )
                if existing.rule.same_model(rule.brand, rule.model) and same_range:
                    raise Conflict(
                        "model",
                        f"{rule.brand} {rule.model} is on the list already (entry {existing.id})",
                    )
            entry = await uow.powerbank.add_compatibility(operator_id, rule, self._clock.now())
            await record_change(
                uow,
                entry.created_at,
                actor,
                scope=scope,
                action="powerbank.compatibility.add",
                object_type="powerbank_compatibility",
                object_id=entry.id,
                old=None,
                new=_rule_snapshot(rule),
            )
            await uow.commit()
        await self._programme.compatibility_added(operator_id)
        return entry

    async def remove_compatibility(self, actor: Actor, operator_id: int, entry_id: int) -> None:
        """Remove an entry. Charge points enrolled under it stay enrolled and are shown as
        no longer compatible; stopping them is the operator's decision."""
        async with self._uow() as uow:
            await self._operator(uow, actor, operator_id)
            entry = await uow.powerbank.get_compatibility(entry_id)
            if entry is None or entry.operator_id != operator_id:
                raise NotFound("compatibility entry", entry_id)
            scope = Scope(operator_id)
            require(actor, Action.MANAGE_OPERATOR, scope, "operator", operator_id)
            await uow.powerbank.remove_compatibility(entry_id)
            await record_change(
                uow,
                self._clock.now(),
                actor,
                scope=scope,
                action="powerbank.compatibility.remove",
                object_type="powerbank_compatibility",
                object_id=entry_id,
                old=_rule_snapshot(entry.rule),
                new=None,
            )
            await uow.commit()

    # -- terms and conditions ------------------------------------------------------------------

    async def terms(self, actor: Actor, operator_id: int) -> list[TermsVersion]:
        """Every published version, newest (the current one) first."""
        async with self._uow() as uow:
            await self._operator(uow, actor, operator_id)
            return await uow.powerbank.terms(operator_id)

    async def publish_terms(self, actor: Actor, operator_id: int, text: str) -> TermsVersion:
        """Publish a new version; from now on sign-ups must accept it. Enrolments made under
        an earlier version keep the version they accepted."""
        text = validate_terms_text(text)
        async with self._uow() as uow:
            await self._operator(uow, actor, operator_id)
            scope = Scope(operator_id)
            require(actor, Action.MANAGE_OPERATOR, scope, "operator", operator_id)
            current = await uow.powerbank.current_terms(operator_id)
            terms = TermsVersion(
                operator_id=operator_id,
                version=current.version + 1 if current else 1,
                text=text,
                published_at=self._clock.now(),
                published_by=actor.name,
            )
            await uow.powerbank.add_terms(terms)
            await record_change(
                uow,
                terms.published_at,
                actor,
                scope=scope,
                action="powerbank.terms.publish",
                object_type="powerbank_terms",
                object_id=terms.version,
                old={"version": current.version} if current else None,
                new={"version": terms.version, "characters": len(text)},
            )
            await uow.commit()
        return terms


def _rule_snapshot(rule: CompatibilityRule) -> dict[str, object]:
    return {
        "brand": rule.brand,
        "model": rule.model,
        "firmware_min": rule.firmware_min,
        "firmware_below": rule.firmware_below,
    }
