"""Configuring load balancing groups (seed 000): general settings, charge points, meter
settings, sub-groups. Every change audited; the balancing controllers told at once."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from amphub.application.access import Actor, require, require_visible
from amphub.application.audit import record_change, snapshot
from amphub.application.ports import Clock
from amphub.application.site_equipment import StoredGroup
from amphub.application.uow import Page, UnitOfWork, UnitOfWorkFactory
from amphub.domain.errors import InvalidValue, NotFound
from amphub.domain.group_config import GroupLayout, GroupSettingsSpec, validate_group
from amphub.domain.roles import Action, Scope
from amphub.domain.tenancy import ChargePoint

GroupListener = Callable[[int], None]
"""Told the id of a group whose configuration changed (or that was deleted)."""

_IDENTIFIER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed in


def new_identifier() -> str:
    """A group identifier such as ``LBG-7KQ2-M9XD``, to configure the meter with."""
    chars = "".join(secrets.choice(_IDENTIFIER_ALPHABET) for _ in range(8))
    return f"LBG-{chars[:4]}-{chars[4:]}"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A charge point that could join a group, and the group it is in now, if any."""

    charge_point: ChargePoint
    group_id: int | None
    group_name: str | None


class GroupService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        listeners: list[GroupListener] | None = None,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._listeners = listeners if listeners is not None else []

    def add_listener(self, listener: GroupListener) -> None:
        self._listeners.append(listener)

    def _notify(self, group_id: int) -> None:
        for listener in self._listeners:
            listener(group_id)

    async def _group(self, uow: UnitOfWork, actor: Actor, group_id: int) -> StoredGroup:
        group = await uow.groups.get(group_id)
        if group is None:
            raise NotFound("group", group_id)
        require_visible(actor, Scope(group.operator_id, group.team_id), "group", group_id)
        return group

    async def _check_references(
        self, uow: UnitOfWork, site_id: int, settings: GroupSettingsSpec
    ) -> None:
        """The meter must be one of the site's own; a foreign id is as good as unknown."""
        if settings.meter_id is not None:
            meter = await uow.meters.get(settings.meter_id)
            if meter is None or meter.site_id != site_id:
                raise InvalidValue("meter_id", "no such meter at this site")

    async def _check_layout(self, uow: UnitOfWork, group: StoredGroup, layout: GroupLayout) -> None:
        members = layout.all_charge_point_ids()
        for charge_point_id in members:
            charge_point = await uow.charge_points.get(charge_point_id)
            if charge_point is None or charge_point.site_id != group.site_id:
                raise InvalidValue(
                    "charge_point_ids", f"charge point {charge_point_id} is not at this site"
                )
        elsewhere = {
            cp_id: name
            for cp_id, (group_id, name) in (await uow.groups.groups_of(members)).items()
            if group_id != group.id
        }
        if elsewhere:
            listed = ", ".join(f"{cp_id} (in {name})" for cp_id, name in sorted(elsewhere.items()))
            raise InvalidValue(
                "charge_point_ids",
                f"a charge point can belong to one group at a time: {listed}",
            )
        validate_group(group.settings, layout)

    async def create(self, actor: Actor, site_id: int, settings: GroupSettingsSpec) -> StoredGroup:
        async with self._uow() as uow:
            site = await uow.sites.get(site_id)
            if site is None:
                raise NotFound("site", site_id)
            scope = Scope(site.operator_id, site.team_id)
            require(actor, Action.CONFIGURE_CHARGE_POINTS, scope, "site", site_id)
            await self._check_references(uow, site_id, settings)
            validate_group(settings, GroupLayout())
            group = await uow.groups.add(site_id, new_identifier(), settings, self._clock.now())
            await record_change(
                uow, self._clock.now(), actor, scope=scope, action="group.create",
                object_type="group", object_id=group.id, old=None,
                new={"identifier": group.identifier, **snapshot(settings)},
            )  # fmt: skip
            await uow.commit()
        self._notify(group.id)
        return group

    async def update_settings(
        self, actor: Actor, group_id: int, settings: GroupSettingsSpec
    ) -> StoredGroup:
        async with self._uow() as uow:
            group = await self._group(uow, actor, group_id)
            scope = Scope(group.operator_id, group.team_id)
            require(actor, Action.CONFIGURE_CHARGE_POINTS, scope, "group", group_id)
            await self._check_references(uow, group.site_id, settings)
            validate_group(settings, group.layout)
            await uow.groups.update_settings(group_id, settings)
            await record_change(
                uow, self._clock.now(), actor, scope=scope, action="group.update",
                object_type="group", object_id=group_id,
                old=snapshot(group.settings), new=snapshot(settings),
            )  # fmt: skip
            await uow.commit()
            updated = await uow.groups.get(group_id)
        assert updated is not None
        self._notify(group_id)
        return updated

    async def set_layout(self, actor: Actor, group_id: int, layout: GroupLayout) -> StoredGroup:
        """Replace the group's charge points and sub-groups (all connectors come along)."""
        async with self._uow() as uow:
            group = await self._group(uow, actor, group_id)
            scope = Scope(group.operator_id, group.team_id)
            require(actor, Action.CONFIGURE_CHARGE_POINTS, scope, "group", group_id)
            await self._check_layout(uow, group, layout)
            await uow.groups.set_layout(group_id, layout)
            await record_change(
                uow, self._clock.now(), actor, scope=scope, action="group.layout",
                object_type="group", object_id=group_id,
                old=snapshot(group.layout), new=snapshot(layout),
            )  # fmt: skip
            await uow.commit()
            updated = await uow.groups.get(group_id)
        assert updated is not None
        self._notify(group_id)
        return updated

    async def delete(self, actor: Actor, group_id: int) -> None:
        async with self._uow() as uow:
            group = await self._group(uow, actor, group_id)
            scope = Scope(group.operator_id, group.team_id)
            require(actor, Action.CONFIGURE_CHARGE_POINTS, scope, "group", group_id)
            await uow.groups.delete(group_id)
            await record_change(
                uow, self._clock.now(), actor, scope=scope, action="group.delete",
                object_type="group", object_id=group_id,
                old={"identifier": group.identifier, **snapshot(group.settings)}, new=None,
            )  # fmt: skip
            await uow.commit()
        self._notify(group_id)

    async def get(self, actor: Actor, group_id: int) -> StoredGroup:
        async with self._uow() as uow:
            return await self._group(uow, actor, group_id)

    async def list_for_site(self, actor: Actor, site_id: int) -> list[StoredGroup]:
        async with self._uow() as uow:
            site = await uow.sites.get(site_id)
            if site is None:
                raise NotFound("site", site_id)
            require_visible(actor, Scope(site.operator_id, site.team_id), "site", site_id)
            return await uow.groups.list_for_sites([site_id])

    async def candidates(
        self, actor: Actor, site_id: int, search: str, page: Page
    ) -> Sequence[Candidate]:
        """The site's charge points matching ``search`` (address or serial number), each with
        the group it is in now — "a charge point already in another group is shown as such"."""
        async with self._uow() as uow:
            site = await uow.sites.get(site_id)
            if site is None:
                raise NotFound("site", site_id)
            require_visible(actor, Scope(site.operator_id, site.team_id), "site", site_id)
            found = await uow.charge_points.list_visible(
                actor.visibility(), search.strip(), page, site_id=site_id
            )
            groups = await uow.groups.groups_of([cp.id for cp in found])
        candidates = []
        for cp in found:
            group_id, group_name = groups.get(cp.id, (None, None))
            candidates.append(Candidate(cp, group_id, group_name))
        return candidates
