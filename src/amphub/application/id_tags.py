"""A team's allow list of id tags (RFID cards, app tokens): who may charge at its sites.
The OCPP gateway's Authorize reads it; people change it here, audited."""

from __future__ import annotations

from datetime import datetime

from amphub.application.access import Actor, require, require_visible
from amphub.application.audit import record_change, snapshot
from amphub.application.ports import Clock
from amphub.application.uow import UnitOfWork, UnitOfWorkFactory
from amphub.domain.charging import IdTagEntry, normalise_id_tag
from amphub.domain.errors import InvalidValue, NotFound
from amphub.domain.roles import Action, Scope
from amphub.domain.tenancy import Team


class IdTagService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    async def _team(self, uow: UnitOfWork, actor: Actor, team_id: int) -> Team:
        team = await uow.teams.get(team_id)
        if team is None:
            raise NotFound("team", team_id)
        require_visible(actor, Scope(team.operator_id, team.id), "team", team_id)
        return team

    async def list_tags(self, actor: Actor, team_id: int) -> list[IdTagEntry]:
        async with self._uow() as uow:
            await self._team(uow, actor, team_id)
            return await uow.id_tags.list_of_team(team_id)

    async def put(
        self,
        actor: Actor,
        team_id: int,
        id_tag: str,
        *,
        blocked: bool = False,
        expires_at: datetime | None = None,
        label: str = "",
    ) -> IdTagEntry:
        tag = normalise_id_tag(id_tag)
        if expires_at is not None and expires_at.tzinfo is None:
            raise InvalidValue("expires_at", "must carry a time zone (e.g. end in Z)")
        async with self._uow() as uow:
            team = await self._team(uow, actor, team_id)
            scope = Scope(team.operator_id, team.id)
            require(actor, Action.CONFIGURE_CHARGE_POINTS, scope, "team", team_id)
            old = await uow.id_tags.get(team_id, tag)
            entry = IdTagEntry(team_id, tag, blocked, expires_at, label.strip()[:100])
            await uow.id_tags.put(entry, self._clock.now())
            await record_change(
                uow, self._clock.now(), actor, scope=scope, action="id_tag.put",
                object_type="id_tag", object_id=tag,
                old=None if old is None else snapshot(old), new=snapshot(entry),
            )  # fmt: skip
            await uow.commit()
        return entry

    async def remove(self, actor: Actor, team_id: int, id_tag: str) -> None:
        tag = normalise_id_tag(id_tag)
        async with self._uow() as uow:
            team = await self._team(uow, actor, team_id)
            scope = Scope(team.operator_id, team.id)
            require(actor, Action.CONFIGURE_CHARGE_POINTS, scope, "team", team_id)
            old = await uow.id_tags.get(team_id, tag)
            if old is None:
                raise NotFound("id tag", tag)
            await uow.id_tags.remove(team_id, tag)
            await record_change(
                uow, self._clock.now(), actor, scope=scope, action="id_tag.remove",
                object_type="id_tag", object_id=tag, old=snapshot(old), new=None,
            )  # fmt: skip
            await uow.commit()
