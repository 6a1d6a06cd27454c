"""Registered meters and load balancing groups of a site: what the store keeps of them and
the repositories the unit of work offers for them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from amphub.application.uow import Page, Visibility
from amphub.domain.group_config import GroupLayout, GroupSettingsSpec
from amphub.domain.metering import MeterConfig, MeterStatus, MeterTransport, StatusTransition


@dataclass(frozen=True, slots=True)
class MeterSpec:
    """What an installer registers: everything but the serial and PIN, which amphub makes."""

    name: str
    main_fuse_a: float
    transport: MeterTransport
    timeout_s: float = 30.0
    frozen_after_n: int | None = 30
    transport_settings: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class RegisteredMeter:
    id: int
    site_id: int
    team_id: int
    operator_id: int
    serial: str
    spec: MeterSpec
    status: MeterStatus
    status_since: datetime | None
    created_at: datetime

    def config(self) -> MeterConfig:
        """What ingestion judges its readings by."""
        return MeterConfig(
            meter_id=self.id,
            site_id=self.site_id,
            serial=self.serial,
            main_fuse_a=self.spec.main_fuse_a,
            transport=self.spec.transport,
            timeout=timedelta(seconds=self.spec.timeout_s),
            frozen_after_n=self.spec.frozen_after_n,
            status=self.status,
        )


@dataclass(frozen=True, slots=True)
class StoredGroup:
    id: int
    site_id: int
    team_id: int
    operator_id: int
    identifier: str
    settings: GroupSettingsSpec
    layout: GroupLayout
    created_at: datetime


class MeterRepository(Protocol):
    async def add(
        self, site_id: int, serial: str, pin_hash: str, spec: MeterSpec, created_at: datetime
    ) -> RegisteredMeter: ...
    async def get(self, meter_id: int) -> RegisteredMeter | None: ...
    async def list_visible(
        self, visibility: Visibility, site_id: int | None, page: Page
    ) -> list[RegisteredMeter]: ...
    async def set_pin_hash(self, meter_id: int, pin_hash: str) -> None: ...
    async def update(self, meter_id: int, spec: MeterSpec) -> None: ...
    async def delete(self, meter_id: int) -> None: ...
    async def groups_using(self, meter_id: int) -> list[str]: ...
    async def status_events(self, meter_id: int, limit: int) -> list[StatusTransition]: ...


class GroupRepository(Protocol):
    async def add(
        self, site_id: int, identifier: str, settings: GroupSettingsSpec, created_at: datetime
    ) -> StoredGroup: ...
    async def get(self, group_id: int) -> StoredGroup | None: ...
    async def list_for_sites(self, site_ids: Sequence[int]) -> list[StoredGroup]: ...
    async def list_visible(self, visibility: Visibility, page: Page) -> list[StoredGroup]: ...
    async def update_settings(self, group_id: int, settings: GroupSettingsSpec) -> None: ...
    async def set_layout(self, group_id: int, layout: GroupLayout) -> None: ...
    async def groups_of(self, charge_point_ids: Sequence[int]) -> dict[int, tuple[int, str]]:
        """For each charge point in a group: (group id, group name)."""
        ...

    async def delete(self, group_id: int) -> None: ...
