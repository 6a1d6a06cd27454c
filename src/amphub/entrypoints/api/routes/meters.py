"""Measurement devices: register (serial number and PIN shown once), status, readings in."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from amphub.application.meter_auth import MeterAuthenticationFailed, MeterAuthRateLimited
from amphub.application.metering import PayloadError, UnknownMeter, WrongTransport
from amphub.application.site_equipment import MeterSpec, RegisteredMeter
from amphub.bootstrap import Container
from amphub.domain.metering import MeterStatus, MeterTransport
from amphub.entrypoints.api.deps import ActorDep, ContainerDep, PageDep
from amphub.entrypoints.api.errors import too_many_attempts
from amphub.entrypoints.api.routes.auth import client_address
from amphub.entrypoints.api.schemas import Strict

router = APIRouter(tags=["meters"])


class MeterIn(Strict):
    name: str = Field("", max_length=200)
    main_fuse_a: float = Field(description="main fuse size per phase (A)")
    transport: MeterTransport = MeterTransport.HTTP
    timeout_s: float = Field(30.0, description="silent longer than this → INACTIVE (s)")
    frozen_after_n: int | None = Field(
        30, description="identical readings in a row before the meter counts as frozen"
    )
    transport_settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Modbus: host, port, unit_id, register_map, interval_s, timeout_s",
    )

    def to_spec(self) -> MeterSpec:
        return MeterSpec(
            name=self.name,
            main_fuse_a=self.main_fuse_a,
            transport=self.transport,
            timeout_s=self.timeout_s,
            frozen_after_n=self.frozen_after_n,
            transport_settings=self.transport_settings,
        )


class LastReading(BaseModel):
    measured_at: datetime
    received_at: datetime
    age_s: float
    currents_a: dict[str, float]


class MeterOut(BaseModel):
    id: int
    site_id: int
    serial: str
    name: str
    main_fuse_a: float
    transport: MeterTransport
    timeout_s: float
    frozen_after_n: int | None
    transport_settings: dict[str, Any]
    status: MeterStatus
    status_since: datetime | None
    last_reading: LastReading | None = None


class NewMeterOut(MeterOut):
    pin: str = Field(description="shown once: type it into the meter with the serial number")
    instructions: str


class StatusEventOut(BaseModel):
    from_status: MeterStatus
    to_status: MeterStatus
    at: datetime


def meter_out(meter: RegisteredMeter, container: Any) -> MeterOut:
    live = container.ingestion.live.latest_live(meter.id)
    status = container.ingestion.live.status(meter.id) if live else meter.status
    last = None
    if live is not None:
        age = (container.clock.now() - live.received_at).total_seconds()
        c = live.reading.currents_a
        last = LastReading(
            measured_at=live.reading.measured_at, received_at=live.received_at, age_s=round(age, 3),
            currents_a={"l1": c.l1_a, "l2": c.l2_a, "l3": c.l3_a},
        )  # fmt: skip
    spec = meter.spec
    return MeterOut(
        id=meter.id, site_id=meter.site_id, serial=meter.serial, name=spec.name,
        main_fuse_a=spec.main_fuse_a, transport=spec.transport, timeout_s=spec.timeout_s,
        frozen_after_n=spec.frozen_after_n, transport_settings=dict(spec.transport_settings or {}),
        status=status, status_since=meter.status_since, last_reading=last,
    )  # fmt: skip


def instructions(meter: RegisteredMeter, pin: str) -> str:
    if meter.spec.transport is MeterTransport.MQTT:
        return (
            f"Configure the meter to publish JSON readings to topic amphub/meters/{meter.serial}"
            f"/readings with MQTT username {meter.serial} and password {pin}."
        )
    if meter.spec.transport is MeterTransport.MODBUS:
        return "amphub polls this meter over Modbus TCP; no set-up on the meter is needed."
    return (
        "Configure the meter (reporter) to POST JSON readings to /api/v1/meter-readings with "
        f"HTTP Basic authentication: user {meter.serial}, password {pin}. "
        "The status turns ACTIVE with the first valid reading."
    )


@router.post("/sites/{site_id}/meters", response_model=NewMeterOut, status_code=201)
async def register_meter(
    site_id: int, body: MeterIn, actor: ActorDep, container: ContainerDep
) -> NewMeterOut:
    """Register a meter; amphub generates its serial number and 8-digit PIN (shown once)."""
    created = await container.meters.register(actor, site_id, body.to_spec())
    out = meter_out(created.meter, container)
    return NewMeterOut(
        **out.model_dump(), pin=created.pin, instructions=instructions(created.meter, created.pin)
    )


@router.get("/sites/{site_id}/meters", response_model=list[MeterOut])
async def list_site_meters(
    site_id: int, actor: ActorDep, container: ContainerDep, page: PageDep
) -> list[MeterOut]:
    meters = await container.meters.list_meters(actor, site_id, page)
    return [meter_out(m, container) for m in meters]


@router.get("/meters", response_model=list[MeterOut])
async def list_meters(actor: ActorDep, container: ContainerDep, page: PageDep) -> list[MeterOut]:
    return [meter_out(m, container) for m in await container.meters.list_meters(actor, None, page)]


@router.get("/meters/{meter_id}", response_model=MeterOut)
async def get_meter(meter_id: int, actor: ActorDep, container: ContainerDep) -> MeterOut:
    return meter_out(await container.meters.get(actor, meter_id), container)


@router.put("/meters/{meter_id}", response_model=MeterOut)
async def update_meter(
    meter_id: int, body: MeterIn, actor: ActorDep, container: ContainerDep
) -> MeterOut:
    return meter_out(await container.meters.update(actor, meter_id, body.to_spec()), container)


@router.post("/meters/{meter_id}/pin", response_model=NewMeterOut)
async def regenerate_pin(meter_id: int, actor: ActorDep, container: ContainerDep) -> NewMeterOut:
    """A new PIN (the old one stops working at once), shown once."""
    created = await container.meters.regenerate_pin(actor, meter_id)
    out = meter_out(created.meter, container)
    return NewMeterOut(
        **out.model_dump(), pin=created.pin, instructions=instructions(created.meter, created.pin)
    )


@router.delete("/meters/{meter_id}", status_code=204)
async def delete_meter(meter_id: int, actor: ActorDep, container: ContainerDep) -> Response:
    """Refused (409) while a load balancing group uses the meter."""
    await container.meters.delete(actor, meter_id)
    return Response(status_code=204)


@router.get("/meters/{meter_id}/status-events", response_model=list[StatusEventOut])
async def status_events(
    meter_id: int,
    actor: ActorDep,
    container: ContainerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[StatusEventOut]:
    events = await container.meters.status_events(actor, meter_id, limit)
    return [
        StatusEventOut(from_status=e.from_status, to_status=e.to_status, at=e.at) for e in events
    ]


PUSH_PATH = "/meter-readings"
"""Under the API prefix; ``amphub.entrypoints.api.meter_push`` serves it on a lean path."""


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    serial, sep, pin = decoded.partition(":")
    return (serial, pin) if sep else None


def _unauthorised(message: str) -> JSONResponse:
    return JSONResponse(
        status_code=401,
        content={"detail": message},
        headers={"WWW-Authenticate": 'Basic realm="amphub meters"'},
    )


async def answer_push(
    container: Container,
    authorization: str | None,
    source: str,
    read_body: Callable[[], Awaitable[bytes]],
) -> JSONResponse:
    """The whole answer to a meter's push, whichever path the request came in by: the
    credentials are checked before the body is read."""
    credentials = _basic(authorization)
    if credentials is None:
        return _unauthorised("HTTP Basic authentication with serial number and PIN required")
    try:
        serial = await container.meter_auth.authenticate(*credentials, source)
    except MeterAuthenticationFailed as error:
        return _unauthorised(str(error))
    except MeterAuthRateLimited as error:
        return too_many_attempts(error)
    raw = await read_body()
    try:
        result = await container.ingestion.ingest_payload(
            serial, raw, transport=MeterTransport.HTTP
        )
    except PayloadError as error:
        loc = ["body", *[part for part in error.field.split(".") if part]]
        return JSONResponse(
            status_code=422,
            content={
                "accepted": 0,
                "detail": [{"loc": loc, "msg": error.message, "type": "payload"}],
            },
        )
    except UnknownMeter:
        return _unauthorised("wrong serial number or PIN")
    except WrongTransport as error:
        return JSONResponse(status_code=409, content={"accepted": 0, "detail": str(error)})
    body: dict[str, Any] = {"accepted": result.accepted, "status": result.status.value}
    if not result.rejected:
        return JSONResponse(status_code=200, content=body)
    body["detail"] = [
        {
            "loc": ["body", *r.path.split(".")],
            "msg": r.rejection.message,
            "type": r.rejection.reason.value,
        }
        for r in result.rejected
    ]
    return JSONResponse(status_code=422, content=body)


@router.post(
    PUSH_PATH,
    summary="A meter pushes one reading or a batch (HTTP Basic: serial number and PIN)",
    responses={
        200: {"description": "all readings accepted"},
        401: {"description": "wrong serial number or PIN"},
        422: {"description": "a reading or field refused; `detail` names each one"},
        429: {"description": "too many wrong PINs"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def push_readings(
    request: Request,
    container: ContainerDep,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Body: `{"measured_at": "…Z", "currents_a": {"l1": …, "l2": …, "l3": …}, …}` or
    `{"readings": [ … ]}` (docs/meters.md). Accepted readings of a batch are kept even when
    others are refused."""
    return await answer_push(container, authorization, client_address(request), request.body)
