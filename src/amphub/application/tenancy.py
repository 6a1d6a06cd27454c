"""Use cases for operators, teams, sites, charge points and memberships.

Each use case: open a unit of work, load the object, check the actor's right on the object's
scope (not the route's), change it, write the audit entry, commit. One transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from amphub.application.access import Actor, require, require_visible
from amphub.application.audit import record_change, snapshot
from amphub.application.ports import Clock
from amphub.application.uow import Page, StoredAuditEntry, UnitOfWork, UnitOfWorkFactory
from amphub.domain.errors import Conflict, Forbidden, InvalidValue, NotFound
from amphub.domain.roles import Action, Membership, Role, Scope, may_grant
from amphub.domain.tenancy import ChargePoint, ChargePointSpec, Operator, Site, SiteSpec, Team, User

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChargePointsChanged:
    """Charge points that were registered or edited (moved to another site, brand or model
    corrected), and sites whose country or bidding zone changed: rules that depend on where
    a charge point stands and what it is (PowerBank's DK2 auto-enrolment) look again."""

    charge_point_ids: tuple[int, ...] = ()
    site_ids: tuple[int, ...] = ()


ChangeListener = Callable[[ChargePointsChanged], Awaitable[None]]
"""Awaited after the change is committed. A failing listener is logged and does not undo
or fail the change."""


class TenancyService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._change_listeners: list[ChangeListener] = []

    def add_change_listener(self, listener: ChangeListener) -> None:
        self._change_listeners.append(listener)

    async def _changed(self, changed: ChargePointsChanged) -> None:
        for listener in self._change_listeners:
            try:
                await listener(changed)
            except Exception:
                LOGGER.exception("charge point listener %r failed on %s", listener, changed)

    async def _audit(
        self,
        uow: UnitOfWork,
        actor: Actor,
        *,
        scope: Scope | None,
        action: str,
        object_type: str,
        object_id: object,
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
    ) -> None:
        await record_change(
            uow,
            self._clock.now(),
            actor,
            scope=scope,
            action=action,
            object_type=object_type,
            object_id=object_id,
            old=old,
            new=new,
        )

    # -- operators --------------------------------------------------------------------------

    async def create_operator(self, actor: Actor, name: str) -> Operator:
        """Anyone signed in may found an operator; they become its Operator Admin."""
        name = name.strip()
        if not name:
            raise InvalidValue("name", "must not be empty")
        async with self._uow() as uow:
            operator = await uow.operators.add(name, self._clock.now())
            if actor.user_id is not None:
                await uow.memberships.add(
                    Membership(actor.user_id, operator.id, None, Role.OPERATOR_ADMIN)
                )
            await self._audit(
                uow,
                actor,
                scope=Scope(operator.id),
                action="operator.create",
                object_type="operator",
                object_id=operator.id,
                old=None,
                new=snapshot(operator),
            )
            await uow.commit()
        return operator

    async def list_operators(self, actor: Actor, page: Page) -> list[Operator]:
        async with self._uow() as uow:
            return await uow.operators.list_by_ids(
                None if actor.is_system else actor.operator_ids(), page
            )

    async def get_operator(self, actor: Actor, operator_id: int) -> Operator:
        async with self._uow() as uow:
            operator = await uow.operators.get(operator_id)
            if operator is None or not (actor.is_system or operator_id in actor.operator_ids()):
                raise NotFound("operator", operator_id)
            return operator

    async def rename_operator(self, actor: Actor, operator_id: int, name: str) -> Operator:
        name = name.strip()
        if not name:
            raise InvalidValue("name", "must not be empty")
        async with self._uow() as uow:
            operator = await uow.operators.get(operator_id)
            if operator is None or not (actor.is_system or operator_id in actor.operator_ids()):
                raise NotFound("operator", operator_id)
            require(actor, Action.MANAGE_OPERATOR, Scope(operator_id), "operator", operator_id)
            await uow.operators.rename(operator_id, name)
            renamed = Operator(operator_id, name)
            await self._audit(
                uow,
                actor,
                scope=Scope(operator_id),
                action="operator.rename",
                object_type="operator",
                object_id=operator_id,
                old=snapshot(operator),
                new=snapshot(renamed),
            )
            await uow.commit()
        return renamed

    # -- teams ------------------------------------------------------------------------------

    async def _team(self, uow: UnitOfWork, actor: Actor, team_id: int) -> Team:
        team = await uow.teams.get(team_id)
        if team is None:
            raise NotFound("team", team_id)
        require_visible(actor, Scope(team.operator_id, team.id), "team", team_id)
        return team

    async def create_team(self, actor: Actor, operator_id: int, name: str) -> Team:
        name = name.strip()
        if not name:
            raise InvalidValue("name", "must not be empty")
        async with self._uow() as uow:
            if await uow.operators.get(operator_id) is None:
                raise NotFound("operator", operator_id)
            require(actor, Action.MANAGE_TEAMS, Scope(operator_id), "operator", operator_id)
            team = await uow.teams.add(operator_id, name, self._clock.now())
            await self._audit(
                uow,
                actor,
                scope=Scope(operator_id, team.id),
                action="team.create",
                object_type="team",
                object_id=team.id,
                old=None,
                new=snapshot(team),
            )
            await uow.commit()
        return team

    async def list_teams(self, actor: Actor, operator_id: int, page: Page) -> list[Team]:
        async with self._uow() as uow:
            if await uow.operators.get(operator_id) is None or not (
                actor.is_system or operator_id in actor.operator_ids()
            ):
                raise NotFound("operator", operator_id)
            return await uow.teams.list_visible(operator_id, actor.visibility(), page)

    async def get_team(self, actor: Actor, team_id: int) -> Team:
        async with self._uow() as uow:
            return await self._team(uow, actor, team_id)

    async def rename_team(self, actor: Actor, team_id: int, name: str) -> Team:
        name = name.strip()
        if not name:
            raise InvalidValue("name", "must not be empty")
        async with self._uow() as uow:
            team = await self._team(uow, actor, team_id)
            require(actor, Action.MANAGE_TEAMS, Scope(team.operator_id), "team", team_id)
            await uow.teams.rename(team_id, name)
            renamed = Team(team.id, team.operator_id, name)
            await self._audit(
                uow,
                actor,
                scope=Scope(team.operator_id, team.id),
                action="team.rename",
                object_type="team",
                object_id=team_id,
                old=snapshot(team),
                new=snapshot(renamed),
            )
            await uow.commit()
        return renamed

    async def delete_team(self, actor: Actor, team_id: int) -> None:
        async with self._uow() as uow:
            team = await self._team(uow, actor, team_id)
            require(actor, Action.MANAGE_TEAMS, Scope(team.operator_id), "team", team_id)
            if await uow.sites.list_ids_of_team(team_id):
                raise Conflict("team", "the team still has sites; delete or move them first")
            await uow.teams.delete(team_id)
            await self._audit(
                uow,
                actor,
                scope=Scope(team.operator_id, team.id),
                action="team.delete",
                object_type="team",
                object_id=team_id,
                old=snapshot(team),
                new=None,
            )
            await uow.commit()

    # -- sites ------------------------------------------------------------------------------

    async def _site(self, uow: UnitOfWork, actor: Actor, site_id: int) -> Site:
        site = await uow.sites.get(site_id)
        if site is None:
            raise NotFound("site", site_id)
        require_visible(actor, Scope(site.operator_id, site.team_id), "site", site_id)
        return site

    async def create_site(self, actor: Actor, team_id: int, spec: SiteSpec) -> Site:
        async with self._uow() as uow:
            team = await self._team(uow, actor, team_id)
            scope = Scope(team.operator_id, team.id)
            require(actor, Action.MANAGE_SITES, scope, "team", team_id)
            site = await uow.sites.add(team_id, spec, self._clock.now())
            await self._audit(
                uow,
                actor,
                scope=scope,
                action="site.create",
                object_type="site",
                object_id=site.id,
                old=None,
                new=snapshot(spec),
            )
            await uow.commit()
        return site

    async def list_sites(self, actor: Actor, page: Page) -> list[Site]:
        async with self._uow() as uow:
            return await uow.sites.list_visible(actor.visibility(), page)

    async def get_site(self, actor: Actor, site_id: int) -> Site:
        async with self._uow() as uow:
            return await self._site(uow, actor, site_id)

    async def update_site(self, actor: Actor, site_id: int, spec: SiteSpec) -> Site:
        async with self._uow() as uow:
            site = await self._site(uow, actor, site_id)
            scope = Scope(site.operator_id, site.team_id)
            require(actor, Action.MANAGE_SITES, scope, "site", site_id)
            await uow.sites.update(site_id, spec)
            await self._audit(
                uow,
                actor,
                scope=scope,
                action="site.update",
                object_type="site",
                object_id=site_id,
                old=snapshot(site.spec),
                new=snapshot(spec),
            )
            await uow.commit()
        if (spec.country, spec.bidding_zone) != (site.spec.country, site.spec.bidding_zone):
            await self._changed(ChargePointsChanged(site_ids=(site_id,)))
        return Site(site.id, site.team_id, site.operator_id, spec)

    async def delete_site(self, actor: Actor, site_id: int) -> None:
        async with self._uow() as uow:
            site = await self._site(uow, actor, site_id)
            scope = Scope(site.operator_id, site.team_id)
            require(actor, Action.MANAGE_SITES, scope, "site", site_id)
            if await uow.sites.count_charge_points(site_id):
                raise Conflict(
                    "site", "the site still has charge points; remove or move them first"
                )
            await uow.sites.delete(site_id)
            await self._audit(
                uow,
                actor,
                scope=scope,
                action="site.delete",
                object_type="site",
                object_id=site_id,
                old=snapshot(site.spec),
                new=None,
            )
            await uow.commit()

    # -- charge points ----------------------------------------------------------------------

    async def _charge_point(
        self, uow: UnitOfWork, actor: Actor, charge_point_id: int
    ) -> ChargePoint:
        charge_point = await uow.charge_points.get(charge_point_id)
        if charge_point is None:
            raise NotFound("charge point", charge_point_id)
        scope = Scope(charge_point.operator_id, charge_point.team_id)
        require_visible(actor, scope, "charge point", charge_point_id)
        return charge_point

    async def _check_unique(
        self, uow: UnitOfWork, spec: ChargePointSpec, except_id: int | None = None
    ) -> None:
        if await uow.charge_points.identity_taken(spec.ocpp_identity, except_id):
            raise InvalidValue("ocpp_identity", f"{spec.ocpp_identity!r} is already registered")
        if await uow.charge_points.serial_taken(spec.serial_number, except_id):
            raise InvalidValue("serial_number", f"{spec.serial_number!r} is already registered")

    async def create_charge_point(
        self, actor: Actor, site_id: int, spec: ChargePointSpec, password_hash: str | None = None
    ) -> ChargePoint:
        async with self._uow() as uow:
            site = await self._site(uow, actor, site_id)
            scope = Scope(site.operator_id, site.team_id)
            require(actor, Action.CONFIGURE_CHARGE_POINTS, scope, "site", site_id)
            await self._check_unique(uow, spec)
            charge_point = await uow.charge_points.add(site_id, spec, self._clock.now())
            if password_hash is not None:
                await uow.charge_points.set_password_hash(charge_point.id, password_hash)
            await self._audit(
                uow,
                actor,
                scope=scope,
                action="charge_point.create",
                object_type="charge_point",
                object_id=charge_point.id,
                old=None,
                new=snapshot(spec),
            )
            await uow.commit()
        await self._changed(ChargePointsChanged(charge_point_ids=(charge_point.id,)))
        return charge_point

    async def list_charge_points(self, actor: Actor, search: str, page: Page) -> list[ChargePoint]:
        async with self._uow() as uow:
            return await uow.charge_points.list_visible(actor.visibility(), search.strip(), page)

    async def get_charge_point(self, actor: Actor, charge_point_id: int) -> ChargePoint:
        async with self._uow() as uow:
            return await self._charge_point(uow, actor, charge_point_id)

    async def update_charge_point(
        self, actor: Actor, charge_point_id: int, spec: ChargePointSpec, site_id: int | None = None
    ) -> ChargePoint:
        """Edit a charge point; moving it to another site needs the right on both sites."""
        async with self._uow() as uow:
            current = await self._charge_point(uow, actor, charge_point_id)
            scope = Scope(current.operator_id, current.team_id)
            require(actor, Action.CONFIGURE_CHARGE_POINTS, scope, "charge point", charge_point_id)
            target_site_id = current.site_id if site_id is None else site_id
            target = await self._site(uow, actor, target_site_id)
            target_scope = Scope(target.operator_id, target.team_id)
            require(actor, Action.CONFIGURE_CHARGE_POINTS, target_scope, "site", target_site_id)
            await self._check_unique(uow, spec, except_id=charge_point_id)
            await uow.charge_points.update(charge_point_id, target_site_id, spec)
            await self._audit(
                uow,
                actor,
                scope=target_scope,
                action="charge_point.update",
                object_type="charge_point",
                object_id=charge_point_id,
                old={"site_id": current.site_id, **snapshot(current.spec)},
                new={"site_id": target_site_id, **snapshot(spec)},
            )
            await uow.commit()
        await self._changed(ChargePointsChanged(charge_point_ids=(charge_point_id,)))
        return ChargePoint(
            current.id, target_site_id, target.team_id, target.operator_id, spec, current.created_at
        )

    async def delete_charge_point(self, actor: Actor, charge_point_id: int) -> None:
        async with self._uow() as uow:
            current = await self._charge_point(uow, actor, charge_point_id)
            scope = Scope(current.operator_id, current.team_id)
            require(actor, Action.CONFIGURE_CHARGE_POINTS, scope, "charge point", charge_point_id)
            await uow.charge_points.delete(charge_point_id)
            await self._audit(
                uow,
                actor,
                scope=scope,
                action="charge_point.delete",
                object_type="charge_point",
                object_id=charge_point_id,
                old=snapshot(current.spec),
                new=None,
            )
            await uow.commit()

    async def set_charge_point_password_hash(
        self, actor: Actor, charge_point_id: int, password_hash: str
    ) -> None:
        """Replace the OCPP Basic-auth password; the audit says it changed, never what to."""
        async with self._uow() as uow:
            current = await self._charge_point(uow, actor, charge_point_id)
            scope = Scope(current.operator_id, current.team_id)
            require(actor, Action.CONFIGURE_CHARGE_POINTS, scope, "charge point", charge_point_id)
            await uow.charge_points.set_password_hash(charge_point_id, password_hash)
            await self._audit(
                uow,
                actor,
                scope=scope,
                action="charge_point.set_password",
                object_type="charge_point",
                object_id=charge_point_id,
                old=None,
                new={"password": "(changed)"},
            )
            await uow.commit()

    # -- memberships ------------------------------------------------------------------------

    async def add_member(self, actor: Actor, membership: Membership) -> None:
        async with self._uow() as uow:
            if await uow.operators.get(membership.operator_id) is None:
                raise NotFound("operator", membership.operator_id)
            scope = Scope(membership.operator_id, membership.team_id)
            if membership.team_id is not None:
                team = await self._team(uow, actor, membership.team_id)
                if team.operator_id != membership.operator_id:
                    raise NotFound("team", membership.team_id)
            else:
                require_visible(actor, scope, "operator", membership.operator_id)
            if not actor.is_system and not may_grant(actor.memberships, membership.role, scope):
                raise Forbidden(f"your role may not grant {membership.role.value}")
            if await uow.users.get(membership.user_id) is None:
                raise NotFound("user", membership.user_id)
            previous = await uow.memberships.find(
                membership.user_id, membership.operator_id, membership.team_id
            )
            if previous is not None:
                await uow.memberships.remove(
                    membership.user_id, membership.operator_id, membership.team_id
                )
            await uow.memberships.add(membership)
            await self._audit(
                uow,
                actor,
                scope=scope,
                action="membership.grant",
                object_type="user",
                object_id=membership.user_id,
                old=snapshot(previous) if previous else None,
                new=snapshot(membership),
            )
            await uow.commit()

    async def remove_member(
        self, actor: Actor, user_id: int, operator_id: int, team_id: int | None
    ) -> None:
        async with self._uow() as uow:
            existing = await uow.memberships.find(user_id, operator_id, team_id)
            scope = Scope(operator_id, team_id)
            if existing is None:
                raise NotFound("membership", user_id)
            require_visible(actor, scope, "membership", user_id)
            if not actor.is_system and not may_grant(actor.memberships, existing.role, scope):
                raise Forbidden(f"your role may not revoke {existing.role.value}")
            if (
                existing.role is Role.OPERATOR_ADMIN
                and await uow.memberships.count_with_role(operator_id, Role.OPERATOR_ADMIN) <= 1
            ):
                raise Conflict("role", "an operator keeps at least one Operator Admin")
            await uow.memberships.remove(user_id, operator_id, team_id)
            await self._audit(
                uow,
                actor,
                scope=scope,
                action="membership.revoke",
                object_type="user",
                object_id=user_id,
                old=snapshot(existing),
                new=None,
            )
            await uow.commit()

    async def list_members(self, actor: Actor, operator_id: int) -> list[tuple[Membership, User]]:
        async with self._uow() as uow:
            if not (actor.is_system or operator_id in actor.operator_ids()):
                raise NotFound("operator", operator_id)
            visibility = actor.visibility()
            result: list[tuple[Membership, User]] = []
            for membership in await uow.memberships.of_operator(operator_id):
                visible = (
                    visibility.everything
                    or operator_id in visibility.operator_ids
                    or membership.team_id in visibility.team_ids
                )
                user = await uow.users.get(membership.user_id)
                if visible and user is not None:
                    result.append((membership, user))
            return result

    # -- audit ------------------------------------------------------------------------------

    async def audit_log(self, actor: Actor, page: Page) -> list[StoredAuditEntry]:
        async with self._uow() as uow:
            return await uow.audit.list_visible(actor.visibility(), page)
