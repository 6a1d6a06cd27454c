"""SQL repositories for a site's meters and load balancing groups (configuration side)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from amphub.adapters.store.balancing_tables import GroupMemberRow, GroupRow, SubGroupRow
from amphub.adapters.store.metering_tables import MeterRow, MeterStatusEventRow
from amphub.adapters.store.tables import SiteRow, TeamRow
from amphub.adapters.store.tenancy import visible_teams
from amphub.application.site_equipment import MeterSpec, RegisteredMeter, StoredGroup
from amphub.application.uow import Page, Visibility
from amphub.domain.balancing.model import Placement
from amphub.domain.group_config import (
    GroupLayout,
    GroupSettingsSpec,
    PowerDistribution,
    SubGroupSpec,
)
from amphub.domain.metering import MeterStatus, MeterTransport, StatusTransition


def _meter(row: MeterRow, team_id: int, operator_id: int) -> RegisteredMeter:
    return RegisteredMeter(
        id=row.id,
        site_id=row.site_id,
        team_id=team_id,
        operator_id=operator_id,
        serial=row.serial,
        spec=MeterSpec(
            name=row.name,
            main_fuse_a=row.main_fuse_a,
            transport=MeterTransport(row.transport),
            timeout_s=row.timeout_s,
            frozen_after_n=row.frozen_after_n,
            transport_settings=dict(row.transport_settings or {}),
        ),
        status=MeterStatus(row.status),
        status_since=row.status_since,
        created_at=row.created_at,
    )


def _meter_values(spec: MeterSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "main_fuse_a": spec.main_fuse_a,
        "transport": spec.transport.value,
        "timeout_s": spec.timeout_s,
        "frozen_after_n": spec.frozen_after_n,
        "transport_settings": dict(spec.transport_settings or {}),
    }


class SqlMeters:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _select(self) -> Select[MeterRow, int, int]:
        return (
            select(MeterRow, SiteRow.team_id, TeamRow.operator_id)
            .join(SiteRow, MeterRow.site_id == SiteRow.id)
            .join(TeamRow, SiteRow.team_id == TeamRow.id)
        )

    async def add(
        self, site_id: int, serial: str, pin_hash: str, spec: MeterSpec, created_at: datetime
    ) -> RegisteredMeter:
        row = MeterRow(
            site_id=site_id,
            serial=serial,
            pin_hash=pin_hash,
            status=MeterStatus.NEVER_SEEN.value,
            status_since=created_at,
            created_at=created_at,
            **_meter_values(spec),
        )
        self._session.add(row)
        await self._session.flush()
        created = await self.get(row.id)
        assert created is not None
        return created

    async def get(self, meter_id: int) -> RegisteredMeter | None:
        found = (await self._session.execute(self._select().where(MeterRow.id == meter_id))).first()
        return _meter(*found) if found else None

    async def list_visible(
        self, visibility: Visibility, site_id: int | None, page: Page
    ) -> list[RegisteredMeter]:
        statement = self._select().where(visible_teams(visibility), MeterRow.id > page.after_id)
        if site_id is not None:
            statement = statement.where(MeterRow.site_id == site_id)
        result = await self._session.execute(statement.order_by(MeterRow.id).limit(page.limit))
        return [_meter(*found) for found in result]

    async def set_pin_hash(self, meter_id: int, pin_hash: str) -> None:
        await self._session.execute(
            update(MeterRow).where(MeterRow.id == meter_id).values(pin_hash=pin_hash)
        )

    async def update(self, meter_id: int, spec: MeterSpec) -> None:
        await self._session.execute(
            update(MeterRow).where(MeterRow.id == meter_id).values(**_meter_values(spec))
        )

    async def delete(self, meter_id: int) -> None:
        await self._session.execute(delete(MeterRow).where(MeterRow.id == meter_id))

    async def groups_using(self, meter_id: int) -> list[str]:
        names = await self._session.scalars(
            select(GroupRow.name).where(GroupRow.meter_id == meter_id).order_by(GroupRow.id)
        )
        return list(names)

    async def status_events(self, meter_id: int, limit: int) -> list[StatusTransition]:
        rows = await self._session.scalars(
            select(MeterStatusEventRow)
            .where(MeterStatusEventRow.meter_id == meter_id)
            .order_by(MeterStatusEventRow.id.desc())
            .limit(limit)
        )
        return [
            StatusTransition(MeterStatus(row.from_status), MeterStatus(row.to_status), row.at)
            for row in rows
        ]


def _settings(row: GroupRow) -> GroupSettingsSpec:
    return GroupSettingsSpec(
        name=row.name,
        total_a=row.total_a,
        power_distribution=PowerDistribution(row.power_distribution),
        master_charge_point_id=row.master_charge_point_id,
        meter_id=row.meter_id,
        placement=Placement(row.placement),
        dynamic_buffer_a=row.dynamic_buffer_a,
        fail_safe_a=row.fail_safe_a,
        meter_timeout_s=row.meter_timeout_s,
    )


def _settings_values(settings: GroupSettingsSpec) -> dict[str, Any]:
    return {
        "name": settings.name,
        "total_a": settings.total_a,
        "power_distribution": settings.power_distribution.value,
        "master_charge_point_id": settings.master_charge_point_id,
        "meter_id": settings.meter_id,
        "placement": settings.placement.value,
        "dynamic_buffer_a": settings.dynamic_buffer_a,
        "fail_safe_a": settings.fail_safe_a,
        "meter_timeout_s": settings.meter_timeout_s,
    }


class SqlGroups:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _select(self) -> Select[GroupRow, int, int]:
        return (
            select(GroupRow, SiteRow.team_id, TeamRow.operator_id)
            .join(SiteRow, GroupRow.site_id == SiteRow.id)
            .join(TeamRow, SiteRow.team_id == TeamRow.id)
        )

    async def _layouts(self, group_ids: Sequence[int]) -> dict[int, GroupLayout]:
        if not group_ids:
            return {}
        sub_rows = list(
            await self._session.scalars(
                select(SubGroupRow)
                .where(SubGroupRow.group_id.in_(group_ids))
                .order_by(SubGroupRow.id)
            )
        )
        members = list(
            await self._session.scalars(
                select(GroupMemberRow)
                .where(GroupMemberRow.group_id.in_(group_ids))
                .order_by(GroupMemberRow.charge_point_id)
            )
        )
        by_subgroup: dict[int | None, list[int]] = {}
        direct: dict[int, list[int]] = {group_id: [] for group_id in group_ids}
        for member in members:
            if member.subgroup_id is None:
                direct[member.group_id].append(member.charge_point_id)
            else:
                by_subgroup.setdefault(member.subgroup_id, []).append(member.charge_point_id)
        children: dict[int | None, list[SubGroupRow]] = {}
        for sub in sub_rows:
            children.setdefault(sub.parent_id, []).append(sub)

        def build(sub: SubGroupRow) -> SubGroupSpec:
            return SubGroupSpec(
                name=sub.name,
                limit_a=sub.limit_a,
                children=tuple(build(child) for child in children.get(sub.id, [])),
                charge_point_ids=tuple(by_subgroup.get(sub.id, [])),
            )

        return {
            group_id: GroupLayout(
                charge_point_ids=tuple(direct[group_id]),
                sub_groups=tuple(
                    build(sub) for sub in children.get(None, []) if sub.group_id == group_id
                ),
            )
            for group_id in group_ids
        }

    async def _build(self, found: Sequence[Any]) -> list[StoredGroup]:
        layouts = await self._layouts([row.id for row, _, _ in found])
        return [
            StoredGroup(
                id=row.id,
                site_id=row.site_id,
                team_id=team_id,
                operator_id=operator_id,
                identifier=row.identifier,
                settings=_settings(row),
                layout=layouts[row.id],
                created_at=row.created_at,
            )
            for row, team_id, operator_id in found
        ]

    async def add(
        self, site_id: int, identifier: str, settings: GroupSettingsSpec, created_at: datetime
    ) -> StoredGroup:
        row = GroupRow(
            site_id=site_id,
            identifier=identifier,
            created_at=created_at,
            **_settings_values(settings),
        )
        self._session.add(row)
        await self._session.flush()
        created = await self.get(row.id)
        assert created is not None
        return created

    async def get(self, group_id: int) -> StoredGroup | None:
        result = await self._session.execute(self._select().where(GroupRow.id == group_id))
        built = await self._build(result.all())
        return built[0] if built else None

    async def list_for_sites(self, site_ids: Sequence[int]) -> list[StoredGroup]:
        result = await self._session.execute(
            self._select().where(GroupRow.site_id.in_(site_ids)).order_by(GroupRow.id)
        )
        return await self._build(result.all())

    async def list_visible(self, visibility: Visibility, page: Page) -> list[StoredGroup]:
        result = await self._session.execute(
            self._select()
            .where(visible_teams(visibility), GroupRow.id > page.after_id)
            .order_by(GroupRow.id)
            .limit(page.limit)
        )
        return await self._build(result.all())

    async def update_settings(self, group_id: int, settings: GroupSettingsSpec) -> None:
        await self._session.execute(
            update(GroupRow).where(GroupRow.id == group_id).values(**_settings_values(settings))
        )

    async def set_layout(self, group_id: int, layout: GroupLayout) -> None:
        """Replace the group's members and sub-group tree."""
        await self._session.execute(
            delete(GroupMemberRow).where(GroupMemberRow.group_id == group_id)
        )
        await self._session.execute(delete(SubGroupRow).where(SubGroupRow.group_id == group_id))
        for charge_point_id in layout.charge_point_ids:
            self._session.add(GroupMemberRow(charge_point_id=charge_point_id, group_id=group_id))

        async def add_sub(spec: SubGroupSpec, parent_id: int | None) -> None:
            row = SubGroupRow(
                group_id=group_id, parent_id=parent_id, name=spec.name, limit_a=spec.limit_a
            )
            self._session.add(row)
            await self._session.flush()
            for charge_point_id in spec.charge_point_ids:
                self._session.add(
                    GroupMemberRow(
                        charge_point_id=charge_point_id, group_id=group_id, subgroup_id=row.id
                    )
                )
            for child in spec.children:
                await add_sub(child, row.id)

        for sub_group in layout.sub_groups:
            await add_sub(sub_group, None)
        await self._session.flush()

    async def groups_of(self, charge_point_ids: Sequence[int]) -> dict[int, tuple[int, str]]:
        if not charge_point_ids:
            return {}
        result = await self._session.execute(
            select(GroupMemberRow.charge_point_id, GroupRow.id, GroupRow.name)
            .join(GroupRow, GroupMemberRow.group_id == GroupRow.id)
            .where(GroupMemberRow.charge_point_id.in_(charge_point_ids))
        )
        return {cp_id: (group_id, name) for cp_id, group_id, name in result}

    async def delete(self, group_id: int) -> None:
        await self._session.execute(delete(GroupRow).where(GroupRow.id == group_id))
