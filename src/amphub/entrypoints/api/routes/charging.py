"""Charge points at work: connection status and last boot, connectors, sessions with their
meter values, and commands (remote start/stop, reset, trigger, configuration)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from amphub.application.charging.live import ConnectorLive
from amphub.application.charging.ports import (
    ConfigChange,
    ConfigKey,
    ResetKind,
    ResetOutcome,
    TriggerableMessage,
)
from amphub.application.charging.queries import (
    ChargePointStatus,
    QuarantinedStop,
    TransactionRecord,
)
from amphub.domain.charging import MeterReading
from amphub.domain.units import PhaseCurrents
from amphub.entrypoints.api.deps import ActorDep, ContainerDep
from amphub.entrypoints.api.schemas import Strict

router = APIRouter(tags=["charging"])


class PhaseValues(BaseModel):
    l1: float
    l2: float
    l3: float

    @classmethod
    def of(cls, currents: PhaseCurrents | None) -> PhaseValues | None:
        return (
            None if currents is None else cls(l1=currents.l1_a, l2=currents.l2_a, l3=currents.l3_a)
        )


class ConnectorStateOut(BaseModel):
    connector_id: int
    status: str | None
    status_at: datetime | None
    current_a: PhaseValues | None = Field(None, description="measured, on the charger's phases")
    offered_a: float | None
    power_w: float | None
    energy_wh: float | None
    measured_at: datetime | None
    transaction_id: int | None

    @classmethod
    def of(cls, c: ConnectorLive) -> ConnectorStateOut:
        return cls(
            connector_id=c.connector_id,
            status=None if c.status is None else c.status.value,
            status_at=c.status_at,
            current_a=PhaseValues.of(c.current_a),
            offered_a=c.offered_a,
            power_w=c.power_w,
            energy_wh=c.energy_wh,
            measured_at=c.measured_at,
            transaction_id=c.transaction_id,
        )


class BootOut(BaseModel):
    vendor: str
    model: str
    serial_number: str
    firmware_version: str
    status: str
    at: datetime


class ChargePointStatusOut(BaseModel):
    charge_point_id: int
    connected: bool
    ocpp_version: str | None
    last_boot: BootOut | None
    last_heartbeat_at: datetime | None
    last_connected_at: datetime | None
    last_disconnected_at: datetime | None
    max_stack_level: int | None
    rate_units: list[str]
    connectors: list[ConnectorStateOut]

    @classmethod
    def of(cls, status: ChargePointStatus) -> ChargePointStatusOut:
        stored, live = status.stored, status.live
        boot = stored.last_boot if stored else None
        capabilities = live.capabilities if live else None
        return cls(
            charge_point_id=status.charge_point_id,
            connected=status.connected,
            ocpp_version=(live.ocpp_version if live else None)
            or (stored.ocpp_version if stored else None),
            last_boot=None
            if boot is None
            else BootOut(
                vendor=boot.vendor,
                model=boot.model,
                serial_number=boot.serial_number,
                firmware_version=boot.firmware_version,
                status=boot.status.value,
                at=boot.at,
            ),
            last_heartbeat_at=stored.last_heartbeat_at if stored else None,
            last_connected_at=stored.last_connected_at if stored else None,
            last_disconnected_at=stored.last_disconnected_at if stored else None,
            max_stack_level=capabilities.max_stack_level if capabilities else None,
            rate_units=sorted(u.value for u in capabilities.rate_units) if capabilities else [],
            connectors=[ConnectorStateOut.of(c) for c in live.connectors] if live else [],
        )


class TransactionOut(BaseModel):
    id: int
    charge_point_id: int
    connector_id: int
    id_tag: str | None
    started_at: datetime
    stopped_at: datetime | None
    meter_start_wh: float | None
    meter_stop_wh: float | None
    energy_wh: float | None
    stop_reason: str

    @classmethod
    def of(cls, t: TransactionRecord) -> TransactionOut:
        return cls(
            id=t.transaction_id,
            charge_point_id=t.charge_point_id,
            connector_id=t.connector_id,
            id_tag=t.id_tag,
            started_at=t.started_at,
            stopped_at=t.stopped_at,
            meter_start_wh=t.meter_start_wh,
            meter_stop_wh=t.meter_stop_wh,
            energy_wh=t.energy_wh,
            stop_reason=t.stop_reason,
        )


class QuarantinedStopOut(BaseModel):
    id: int
    charge_point_id: int
    transaction_id: str = Field(description="the id the charger sent, unknown to amphub")
    stopped_at: datetime
    meter_stop_wh: float
    reason: str
    id_tag: str | None
    received_at: datetime
    resolved_at: datetime | None
    note: str

    @classmethod
    def of(cls, stop: QuarantinedStop) -> QuarantinedStopOut:
        return cls(
            id=stop.stop_id,
            charge_point_id=stop.charge_point_id,
            transaction_id=stop.transaction_ref,
            stopped_at=stop.stopped_at,
            meter_stop_wh=stop.meter_stop_wh,
            reason=stop.reason,
            id_tag=stop.id_tag,
            received_at=stop.received_at,
            resolved_at=stop.resolved_at,
            note=stop.note,
        )


class ResolveIn(Strict):
    note: str = Field(min_length=1, max_length=500, description="how it was reconciled")


class MeterValueOut(BaseModel):
    at: datetime
    connector_id: int
    current_a: PhaseValues | None
    power_w: float | None
    energy_wh: float | None
    soc_percent: float | None

    @classmethod
    def of(cls, connector_id: int, r: MeterReading) -> MeterValueOut:
        return cls(
            at=r.at,
            connector_id=connector_id,
            current_a=PhaseValues.of(r.current_a),
            power_w=r.power_w,
            energy_wh=r.energy_wh,
            soc_percent=r.soc_percent,
        )


class TransactionDetailOut(TransactionOut):
    meter_values: list[MeterValueOut]


class RemoteStartIn(Strict):
    id_tag: str = Field(min_length=1, max_length=36)
    connector_id: int | None = Field(None, ge=1, le=100)


class RemoteStopIn(Strict):
    transaction_id: int = Field(ge=1)


class ResetIn(Strict):
    kind: ResetKind = ResetKind.SOFT


class ResetOut(BaseModel):
    outcome: ResetOutcome


class TriggerIn(Strict):
    message: TriggerableMessage
    connector_id: int | None = Field(None, ge=1, le=100)


class ConfigKeyModel(Strict):
    key: str = Field(min_length=1, max_length=50, description="1.6 key (and 2.0.1 variable)")
    component: str | None = Field(None, max_length=50, description="2.0.1 component")
    variable: str | None = Field(None, max_length=50, description="2.0.1 variable, if not key")

    def to_key(self) -> ConfigKey:
        return ConfigKey(self.key, self.component, self.variable)


class ConfigValueOut(BaseModel):
    key: str
    component: str | None
    value: str | None
    readonly: bool


class ConfigChangeIn(ConfigKeyModel):
    value: str = Field(max_length=500)


class ConfigChangeOut(BaseModel):
    outcome: ConfigChange


class ScheduleOut(BaseModel):
    connector_id: int
    rate_unit: str
    start_at: datetime | None
    duration_s: int | None
    periods: list[dict[str, float | int | None]]


@router.get("/charge-points/{charge_point_id}/status", response_model=ChargePointStatusOut)
async def status(
    charge_point_id: int, actor: ActorDep, container: ContainerDep
) -> ChargePointStatusOut:
    """Connected or not, OCPP version, last boot, connectors' live state, smart charging."""
    return ChargePointStatusOut.of(await container.operations.status(actor, charge_point_id))


@router.get("/charge-points/{charge_point_id}/transactions", response_model=list[TransactionOut])
async def transactions(
    charge_point_id: int,
    actor: ActorDep,
    container: ContainerDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after_id: Annotated[int, Query(ge=0)] = 0,
) -> list[TransactionOut]:
    found = await container.operations.transactions(actor, charge_point_id, limit, after_id)
    return [TransactionOut.of(t) for t in found]


@router.get("/transactions/{transaction_id}", response_model=TransactionDetailOut)
async def transaction(
    transaction_id: int, actor: ActorDep, container: ContainerDep
) -> TransactionDetailOut:
    """A session with its meter values, in the order of their own timestamps."""
    detail = await container.operations.transaction(actor, transaction_id)
    return TransactionDetailOut(
        **TransactionOut.of(detail.transaction).model_dump(),
        meter_values=[MeterValueOut.of(r.connector_id, r.reading) for r in detail.readings],
    )


@router.get(
    "/charge-points/{charge_point_id}/quarantined-stops", response_model=list[QuarantinedStopOut]
)
async def quarantined_stops(
    charge_point_id: int,
    actor: ActorDep,
    container: ContainerDep,
    include_resolved: bool = False,
) -> list[QuarantinedStopOut]:
    """StopTransactions (1.6) for transactions amphub did not know: answered to the
    charger, kept for reconciliation. Open ones only unless ``include_resolved``."""
    found = await container.operations.quarantined_stops(actor, charge_point_id, include_resolved)
    return [QuarantinedStopOut.of(stop) for stop in found]


@router.post(
    "/charge-points/{charge_point_id}/quarantined-stops/{stop_id}/resolve",
    response_model=QuarantinedStopOut,
)
async def resolve_quarantined_stop(
    charge_point_id: int, stop_id: int, body: ResolveIn, actor: ActorDep, container: ContainerDep
) -> QuarantinedStopOut:
    """Mark a quarantined stop reconciled, with a note saying how (audited); 409 if it is
    resolved already."""
    resolved = await container.operations.resolve_quarantined_stop(
        actor, charge_point_id, stop_id, body.note
    )
    return QuarantinedStopOut.of(resolved)


@router.post("/charge-points/{charge_point_id}/commands/remote-start", status_code=202)
async def remote_start(
    charge_point_id: int, body: RemoteStartIn, actor: ActorDep, container: ContainerDep
) -> Response:
    """Ask the charger to start a session for ``id_tag`` (the charger answered Accepted)."""
    await container.operations.remote_start(actor, charge_point_id, body.id_tag, body.connector_id)
    return Response(status_code=202)


@router.post("/charge-points/{charge_point_id}/commands/remote-stop", status_code=202)
async def remote_stop(
    charge_point_id: int, body: RemoteStopIn, actor: ActorDep, container: ContainerDep
) -> Response:
    await container.operations.remote_stop(actor, charge_point_id, body.transaction_id)
    return Response(status_code=202)


@router.post("/charge-points/{charge_point_id}/commands/reset", response_model=ResetOut)
async def reset(
    charge_point_id: int, body: ResetIn, actor: ActorDep, container: ContainerDep
) -> ResetOut:
    return ResetOut(outcome=await container.operations.reset(actor, charge_point_id, body.kind))


@router.post("/charge-points/{charge_point_id}/commands/trigger", status_code=202)
async def trigger(
    charge_point_id: int, body: TriggerIn, actor: ActorDep, container: ContainerDep
) -> Response:
    await container.operations.trigger(actor, charge_point_id, body.message, body.connector_id)
    return Response(status_code=202)


@router.post(
    "/charge-points/{charge_point_id}/configuration/read", response_model=list[ConfigValueOut]
)
async def read_configuration(
    charge_point_id: int,
    body: list[ConfigKeyModel],
    actor: ActorDep,
    container: ContainerDep,
) -> list[ConfigValueOut]:
    """Read settings (an empty list reads every key a 1.6 charger reports)."""
    values = await container.operations.configuration(
        actor, charge_point_id, [k.to_key() for k in body[:50]]
    )
    return [
        ConfigValueOut(key=v.key.key, component=v.key.component, value=v.value, readonly=v.readonly)
        for v in values
    ]


@router.put("/charge-points/{charge_point_id}/configuration", response_model=ConfigChangeOut)
async def change_configuration(
    charge_point_id: int, body: ConfigChangeIn, actor: ActorDep, container: ContainerDep
) -> ConfigChangeOut:
    outcome = await container.operations.change_configuration(
        actor, charge_point_id, body.to_key(), body.value
    )
    return ConfigChangeOut(outcome=outcome)


@router.get(
    "/charge-points/{charge_point_id}/composite-schedule", response_model=ScheduleOut | None
)
async def composite_schedule(
    charge_point_id: int,
    actor: ActorDep,
    container: ContainerDep,
    connector_id: Annotated[int, Query(ge=0, le=100)] = 1,
    duration_s: Annotated[int, Query(ge=1, le=86_400)] = 3600,
) -> ScheduleOut | None:
    """What the charger says it will do on a connector (GetCompositeSchedule)."""
    found = await container.operations.composite_schedule(
        actor, charge_point_id, connector_id, duration_s
    )
    if found is None:
        return None
    s = found.schedule
    return ScheduleOut(
        connector_id=found.connector_id,
        rate_unit=s.rate_unit.value,
        start_at=s.start_at,
        duration_s=s.duration_s,
        periods=[
            {"start_s": p.start_s, "limit": p.limit, "number_phases": p.number_phases}
            for p in s.periods
        ],
    )
