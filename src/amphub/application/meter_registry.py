"""Registering measurement devices (seed 002): amphub makes the serial number and the PIN,
shows the PIN once, keeps its hash. Regenerating the PIN; deleting, refused while a group
uses the meter. Every change audited; ingestion told at once."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from amphub.application.access import Actor, require, require_visible
from amphub.application.audit import record_change, snapshot
from amphub.application.metering import issue_credentials
from amphub.application.ports import Clock, SecretHasher
from amphub.application.site_equipment import MeterSpec, RegisteredMeter
from amphub.application.uow import Page, UnitOfWork, UnitOfWorkFactory
from amphub.domain.errors import Conflict, InvalidValue, NotFound
from amphub.domain.metering import (
    MeterTransport,
    StatusTransition,
    validate_frozen_after_n,
    validate_main_fuse_a,
    validate_meter_timeout,
)
from amphub.domain.roles import Action, Scope

MeterListener = Callable[[RegisteredMeter | None, str], None]
"""Told of every change: (the meter as it is now, or None once deleted; its serial)."""

TransportCheck = Callable[[MeterTransport, dict[str, Any]], None]
"""Checks a transport's settings (the Modbus adapter knows its register maps); raises
InvalidValue naming the field."""


MAX_SECONDS = 10**9
"""Beyond any sensible timeout, and below what a timedelta can hold."""


def validate_meter_spec(
    spec: MeterSpec, transport_check: TransportCheck | None = None
) -> MeterSpec:
    name = spec.name.strip()
    if len(name) > 200:
        raise InvalidValue("name", "must be at most 200 characters")
    validate_main_fuse_a(spec.main_fuse_a)
    if not math.isfinite(spec.timeout_s) or abs(spec.timeout_s) > MAX_SECONDS:
        raise InvalidValue("timeout_s", "must be a number of seconds")
    validate_meter_timeout(timedelta(seconds=spec.timeout_s))
    validate_frozen_after_n(spec.frozen_after_n)
    settings = dict(spec.transport_settings or {})
    if spec.transport is MeterTransport.MODBUS:
        if not isinstance(settings.get("host"), str) or not settings["host"]:
            raise InvalidValue("transport_settings.host", "a Modbus TCP meter needs a host")
    elif settings:
        raise InvalidValue(
            "transport_settings", f"{spec.transport.value} meters take no transport settings"
        )
    if transport_check is not None:
        transport_check(spec.transport, settings)
    return replace(spec, name=name, transport_settings=settings)


@dataclass(frozen=True, slots=True)
class NewMeter:
    """A registration's answer: ``pin`` is shown once and never again."""

    meter: RegisteredMeter
    pin: str


class MeterRegistry:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        hasher: SecretHasher,
        listeners: list[MeterListener] | None = None,
        transport_check: TransportCheck | None = None,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._hasher = hasher
        self._transport_check = transport_check
        self._listeners = listeners if listeners is not None else []

    def add_listener(self, listener: MeterListener) -> None:
        self._listeners.append(listener)

    def _notify(self, meter: RegisteredMeter | None, serial: str) -> None:
        for listener in self._listeners:
            listener(meter, serial)

    async def _meter(self, uow: UnitOfWork, actor: Actor, meter_id: int) -> RegisteredMeter:
        meter = await uow.meters.get(meter_id)
        if meter is None:
            raise NotFound("meter", meter_id)
        require_visible(actor, Scope(meter.operator_id, meter.team_id), "meter", meter_id)
        return meter

    async def register(self, actor: Actor, site_id: int, spec: MeterSpec) -> NewMeter:
        spec = validate_meter_spec(spec, self._transport_check)
        credentials = issue_credentials(self._hasher)
        async with self._uow() as uow:
            site = await uow.sites.get(site_id)
            if site is None:
                raise NotFound("site", site_id)
            scope = Scope(site.operator_id, site.team_id)
            require(actor, Action.CONFIGURE_CHARGE_POINTS, scope, "site", site_id)
            meter = await uow.meters.add(
                site_id, credentials.serial, credentials.pin_hash, spec, self._clock.now()
            )
            await record_change(
                uow, self._clock.now(), actor, scope=scope, action="meter.register",
                object_type="meter", object_id=meter.id, old=None,
                new={"serial": meter.serial, **snapshot(spec)},
            )  # fmt: skip
            await uow.commit()
        self._notify(meter, meter.serial)
        return NewMeter(meter, credentials.pin)

    async def regenerate_pin(self, actor: Actor, meter_id: int) -> NewMeter:
        async with self._uow() as uow:
            meter = await self._meter(uow, actor, meter_id)
            scope = Scope(meter.operator_id, meter.team_id)
            require(actor, Action.CONFIGURE_CHARGE_POINTS, scope, "meter", meter_id)
            credentials = issue_credentials(self._hasher, serial=meter.serial)
            await uow.meters.set_pin_hash(meter_id, credentials.pin_hash)
            await record_change(
                uow, self._clock.now(), actor, scope=scope, action="meter.regenerate_pin",
                object_type="meter", object_id=meter_id, old=None, new={"pin": "(changed)"},
            )  # fmt: skip
            await uow.commit()
        self._notify(meter, meter.serial)
        return NewMeter(meter, credentials.pin)

    async def update(self, actor: Actor, meter_id: int, spec: MeterSpec) -> RegisteredMeter:
        spec = validate_meter_spec(spec, self._transport_check)
        async with self._uow() as uow:
            meter = await self._meter(uow, actor, meter_id)
            scope = Scope(meter.operator_id, meter.team_id)
            require(actor, Action.CONFIGURE_CHARGE_POINTS, scope, "meter", meter_id)
            await uow.meters.update(meter_id, spec)
            await record_change(
                uow, self._clock.now(), actor, scope=scope, action="meter.update",
                object_type="meter", object_id=meter_id,
                old=snapshot(meter.spec), new=snapshot(spec),
            )  # fmt: skip
            await uow.commit()
        updated = replace(meter, spec=spec)
        self._notify(updated, updated.serial)
        return updated

    async def delete(self, actor: Actor, meter_id: int) -> None:
        async with self._uow() as uow:
            meter = await self._meter(uow, actor, meter_id)
            scope = Scope(meter.operator_id, meter.team_id)
            require(actor, Action.CONFIGURE_CHARGE_POINTS, scope, "meter", meter_id)
            users = await uow.meters.groups_using(meter_id)
            if users:
                raise Conflict(
                    "meter",
                    f"the meter is used by load balancing group(s) {', '.join(users)}; "
                    "choose another meter there first",
                )
            await uow.meters.delete(meter_id)
            await record_change(
                uow, self._clock.now(), actor, scope=scope, action="meter.delete",
                object_type="meter", object_id=meter_id,
                old={"serial": meter.serial, **snapshot(meter.spec)}, new=None,
            )  # fmt: skip
            await uow.commit()
        self._notify(None, meter.serial)

    async def get(self, actor: Actor, meter_id: int) -> RegisteredMeter:
        async with self._uow() as uow:
            return await self._meter(uow, actor, meter_id)

    async def list_meters(
        self, actor: Actor, site_id: int | None, page: Page
    ) -> list[RegisteredMeter]:
        async with self._uow() as uow:
            if site_id is not None:
                site = await uow.sites.get(site_id)
                if site is None:
                    raise NotFound("site", site_id)
                require_visible(actor, Scope(site.operator_id, site.team_id), "site", site_id)
            return await uow.meters.list_visible(actor.visibility(), site_id, page)

    async def status_events(
        self, actor: Actor, meter_id: int, limit: int = 50
    ) -> list[StatusTransition]:
        async with self._uow() as uow:
            await self._meter(uow, actor, meter_id)
            return await uow.meters.status_events(meter_id, limit)
