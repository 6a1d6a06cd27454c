"""What people do to charge points through the API and portal: read their connection and
sessions, and send them commands — always after checking the caller's right on *that* charge
point, so that another tenant's charger answers 404 and nothing goes on the wire."""

from __future__ import annotations

from collections.abc import Sequence

from amphub.application.access import Actor, require, require_visible
from amphub.application.audit import record_change
from amphub.application.charging.commands import CommandService
from amphub.application.charging.ports import (
    ConfigChange,
    ConfigKey,
    ConfigValue,
    ResetKind,
    ResetOutcome,
    TriggerableMessage,
)
from amphub.application.charging.queries import (
    ChargePointStatus,
    ChargingQueries,
    QuarantinedStop,
    TransactionDetail,
    TransactionRecord,
)
from amphub.application.ports import Clock
from amphub.application.uow import UnitOfWorkFactory
from amphub.domain.errors import Conflict, InvalidValue, NotFound
from amphub.domain.roles import Action, Scope
from amphub.domain.smart_charging import CompositeSchedule
from amphub.domain.tenancy import ChargePoint


class ChargePointOperations:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        queries: ChargingQueries,
        commands: CommandService,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self._queries = queries
        self._commands = commands
        self._clock = clock

    async def _allowed(self, actor: Actor, charge_point_id: int, action: Action) -> ChargePoint:
        async with self._uow() as uow:
            charge_point = await uow.charge_points.get(charge_point_id)
        if charge_point is None:
            raise NotFound("charge point", charge_point_id)
        scope = Scope(charge_point.operator_id, charge_point.team_id)
        require(actor, action, scope, "charge point", charge_point_id)
        return charge_point

    async def _audit_command(
        self, actor: Actor, charge_point: ChargePoint, command: str, detail: dict[str, object]
    ) -> None:
        async with self._uow() as uow:
            await record_change(
                uow, self._clock.now(), actor,
                scope=Scope(charge_point.operator_id, charge_point.team_id),
                action=f"charge_point.{command}", object_type="charge_point",
                object_id=charge_point.id, old=None, new=dict(detail),
            )  # fmt: skip
            await uow.commit()

    # -- reading ----------------------------------------------------------------------------

    async def status(self, actor: Actor, charge_point_id: int) -> ChargePointStatus:
        await self._allowed(actor, charge_point_id, Action.VIEW)
        (status,) = await self._queries.charge_points([charge_point_id])
        return status

    async def statuses(self, charge_point_ids: Sequence[int]) -> dict[int, ChargePointStatus]:
        """For a listing already filtered by the caller's visibility."""
        return {s.charge_point_id: s for s in await self._queries.charge_points(charge_point_ids)}

    async def transactions(
        self, actor: Actor, charge_point_id: int, limit: int, after_id: int
    ) -> list[TransactionRecord]:
        await self._allowed(actor, charge_point_id, Action.VIEW)
        return await self._queries.transactions([charge_point_id], limit, after_id)

    async def transaction(self, actor: Actor, transaction_id: int) -> TransactionDetail:
        detail = await self._queries.transaction(transaction_id)
        if detail is None:
            raise NotFound("transaction", transaction_id)
        async with self._uow() as uow:
            charge_point = await uow.charge_points.get(detail.transaction.charge_point_id)
        if charge_point is None:
            raise NotFound("transaction", transaction_id)
        scope = Scope(charge_point.operator_id, charge_point.team_id)
        require_visible(actor, scope, "transaction", transaction_id)
        return detail

    async def quarantined_stops(
        self, actor: Actor, charge_point_id: int, include_resolved: bool
    ) -> list[QuarantinedStop]:
        await self._allowed(actor, charge_point_id, Action.VIEW)
        return await self._queries.quarantined_stops(charge_point_id, include_resolved)

    async def resolve_quarantined_stop(
        self, actor: Actor, charge_point_id: int, stop_id: int, note: str
    ) -> QuarantinedStop:
        """Close a quarantined stop once someone has reconciled it; the note says how."""
        charge_point = await self._allowed(actor, charge_point_id, Action.OPERATE_CHARGE_POINTS)
        stop = await self._queries.quarantined_stop(stop_id)
        if stop is None or stop.charge_point_id != charge_point_id:
            raise NotFound("quarantined stop", stop_id)
        note = note.strip()
        if not note:
            raise InvalidValue("note", "say how the stop was reconciled")
        resolved = await self._queries.resolve_quarantined_stop(stop_id, note, self._clock.now())
        if resolved is None:
            raise Conflict("stop_id", f"quarantined stop {stop_id} is resolved already")
        await self._audit_command(
            actor, charge_point, "resolve_quarantined_stop",
            {"stop_id": stop_id, "transaction_ref": stop.transaction_ref, "note": note},
        )  # fmt: skip
        return resolved

    # -- commands ---------------------------------------------------------------------------

    async def remote_start(
        self, actor: Actor, charge_point_id: int, id_tag: str, connector_id: int | None
    ) -> None:
        charge_point = await self._allowed(actor, charge_point_id, Action.OPERATE_CHARGE_POINTS)
        await self._commands.remote_start(charge_point_id, id_tag, connector_id)
        await self._audit_command(
            actor, charge_point, "remote_start", {"id_tag": id_tag, "connector_id": connector_id}
        )

    async def remote_stop(self, actor: Actor, charge_point_id: int, transaction_id: int) -> None:
        charge_point = await self._allowed(actor, charge_point_id, Action.OPERATE_CHARGE_POINTS)
        await self._commands.remote_stop(charge_point_id, transaction_id)
        await self._audit_command(
            actor, charge_point, "remote_stop", {"transaction_id": transaction_id}
        )

    async def reset(self, actor: Actor, charge_point_id: int, kind: ResetKind) -> ResetOutcome:
        charge_point = await self._allowed(actor, charge_point_id, Action.OPERATE_CHARGE_POINTS)
        outcome = await self._commands.reset(charge_point_id, kind)
        await self._audit_command(actor, charge_point, "reset", {"kind": kind.value})
        return outcome

    async def trigger(
        self,
        actor: Actor,
        charge_point_id: int,
        message: TriggerableMessage,
        connector_id: int | None,
    ) -> None:
        await self._allowed(actor, charge_point_id, Action.OPERATE_CHARGE_POINTS)
        await self._commands.trigger_message(charge_point_id, message, connector_id)

    async def configuration(
        self, actor: Actor, charge_point_id: int, keys: Sequence[ConfigKey]
    ) -> list[ConfigValue]:
        await self._allowed(actor, charge_point_id, Action.VIEW)
        return await self._commands.get_configuration(charge_point_id, keys)

    async def change_configuration(
        self, actor: Actor, charge_point_id: int, key: ConfigKey, value: str
    ) -> ConfigChange:
        charge_point = await self._allowed(actor, charge_point_id, Action.CONFIGURE_CHARGE_POINTS)
        outcome = await self._commands.change_configuration(charge_point_id, key, value)
        await self._audit_command(
            actor, charge_point, "change_configuration", {"key": key.key, "value": value}
        )
        return outcome

    async def composite_schedule(
        self, actor: Actor, charge_point_id: int, connector_id: int, duration_s: int
    ) -> CompositeSchedule | None:
        await self._allowed(actor, charge_point_id, Action.VIEW)
        return await self._commands.get_composite_schedule(
            charge_point_id, connector_id, duration_s
        )
