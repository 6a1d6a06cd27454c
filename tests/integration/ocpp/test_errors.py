"""Bad input gets the exact OCPP-J error of the charger's version, frame for frame, from a
raw WebSocket; the connection stays usable. Frames over the limit close with 1009. A
Pending charger gets SecurityError; a store outage gets InternalError and nothing else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosedError

from amphub.adapters.ocpp.rpc import ErrorKind, Version
from amphub.adapters.store.charging import SqlChargingStore
from amphub.adapters.store.charging_tables import ChargePointStateRow, TransactionRow
from amphub.adapters.store.database import create_engine, session_factory

from .chargers import raw, reply
from .conftest import Harness

K = ErrorKind
NOW = "2026-11-21T12:00:00Z"

# (frame, reply id, kind) for both versions; payloads that differ by version are below.
COMMON: list[tuple[str | bytes, str, ErrorKind]] = [
    ("not json", "-1", K.FORMAT),
    ('[2,"a1","Heartbeat",{', "-1", K.FORMAT),
    ('[2,"a1","Heartbeat",NaN]', "-1", K.FORMAT),
    (b"\xff\xfe\x00", "-1", K.FORMAT),
    ('{"a":1}', "-1", K.RPC_FRAMEWORK),
    ("[]", "-1", K.RPC_FRAMEWORK),
    ('["2","a1","Heartbeat",{}]', "a1", K.MESSAGE_TYPE),
    ('[7,"a1","Heartbeat",{}]', "a1", K.MESSAGE_TYPE),
    ('[2,17,"Heartbeat",{}]', "-1", K.RPC_FRAMEWORK),
    (f'[2,"{"x" * 37}","Heartbeat",{{}}]', "x" * 37, K.RPC_FRAMEWORK),
    ('[2,"a1","Heartbeat"]', "a1", K.RPC_FRAMEWORK),
    ('[2,"a1",5,{}]', "a1", K.RPC_FRAMEWORK),
    ('[2,"a1","Heartbeat",[]]', "a1", K.FORMAT),
    ('[2,"a1","FlyToTheMoon",{}]', "a1", K.NOT_IMPLEMENTED),
    ('[2,"a1","Reset",{"type":"Hard"}]', "a1", K.NOT_SUPPORTED),
    ('[2,"a1","Heartbeat",{"extra":1}]', "a1", K.FORMAT),
]


def status_16(**fields: Any) -> str:
    payload = {"connectorId": 1, "errorCode": "NoError", "status": "Available"} | fields
    return json.dumps([2, "a1", "StatusNotification", payload])


def status_201(**fields: Any) -> str:
    payload = {
        "timestamp": NOW,
        "connectorStatus": "Available",
        "evseId": 1,
        "connectorId": 1,
    } | fields
    return json.dumps([2, "a1", "StatusNotification", payload])


def meter_16(value: str) -> str:
    meter = [{"timestamp": NOW, "sampledValue": [{"value": value}]}]
    return json.dumps([2, "a1", "MeterValues", {"connectorId": 1, "meterValue": meter}])


BY_VERSION: dict[Version, list[tuple[str | bytes, str, ErrorKind]]] = {
    Version.V16: [
        ('[2,"a1","BootNotification",{"chargePointModel":"M"}]', "a1", K.OCCURRENCE_CONSTRAINT),
        (status_16(connectorId="1"), "a1", K.TYPE_CONSTRAINT),
        (status_16(status="Sleeping"), "a1", K.PROPERTY_CONSTRAINT),
        (status_16(timestamp="yesterday"), "a1", K.PROPERTY_CONSTRAINT),
        ('[2,"a1","Authorize",{"idTag":"%s"}]' % ("T" * 21), "a1", K.TYPE_CONSTRAINT),
        (meter_16("NaN"), "a1", K.PROPERTY_CONSTRAINT),
        (meter_16("twelve"), "a1", K.PROPERTY_CONSTRAINT),
        ('[2,"a1","MeterValues",{"connectorId":1,"meterValue":[]}]', "a1", K.OCCURRENCE_CONSTRAINT),
    ],
    Version.V201: [
        ('[2,"a1","BootNotification",{"reason":"PowerUp"}]', "a1", K.OCCURRENCE_CONSTRAINT),
        (status_201(evseId="1"), "a1", K.TYPE_CONSTRAINT),
        (status_201(connectorStatus="Sleeping"), "a1", K.PROPERTY_CONSTRAINT),
        (status_201(timestamp="yesterday"), "a1", K.PROPERTY_CONSTRAINT),
        (
            json.dumps(
                [2, "a1", "Authorize", {"idToken": {"idToken": "T" * 37, "type": "ISO14443"}}]
            ),
            "a1",
            K.TYPE_CONSTRAINT,
        ),
    ],
}

EXPECTED_CODES = {
    Version.V16: {
        K.FORMAT: "FormationViolation",
        K.RPC_FRAMEWORK: "ProtocolError",
        K.MESSAGE_TYPE: "ProtocolError",
        K.OCCURRENCE_CONSTRAINT: "OccurenceConstraintViolation",
    },
    Version.V201: {
        K.FORMAT: "FormatViolation",
        K.RPC_FRAMEWORK: "RpcFrameworkError",
        K.MESSAGE_TYPE: "MessageTypeNotSupported",
        K.OCCURRENCE_CONSTRAINT: "OccurrenceConstraintViolation",
    },
}
SAME_IN_BOTH = {
    K.NOT_IMPLEMENTED: "NotImplemented",
    K.NOT_SUPPORTED: "NotSupported",
    K.TYPE_CONSTRAINT: "TypeConstraintViolation",
    K.PROPERTY_CONSTRAINT: "PropertyConstraintViolation",
    K.SECURITY: "SecurityError",
    K.INTERNAL: "InternalError",
}


def expected_code(version: Version, kind: ErrorKind) -> str:
    return EXPECTED_CODES[version].get(kind) or SAME_IN_BOTH[kind]


@pytest.mark.parametrize("version", list(Version))
async def test_every_bad_frame_gets_its_versions_error(harness: Harness, version: Version) -> None:
    _, password = await harness.add_charge_point("CP-X")
    async with raw(harness.url("CP-X"), "CP-X", password, version.value) as socket:
        for frame, reply_id, kind in COMMON + BY_VERSION[version]:
            await socket.send(frame)
            answer = await reply(socket)
            assert answer[:4] == [4, reply_id, expected_code(version, kind), kind.description], (
                frame
            )
            assert set(answer[4]) <= {"cause"}, frame
        # Replies to calls never made are dropped; the socket still serves.
        await socket.send('[3,"nobody-asked",{}]')
        await socket.send('[4,"nobody-asked","GenericError","",{}]')
        await socket.send('[3,"a2"]')
        await socket.send('[2,"hb","Heartbeat",{}]')
        answer = await reply(socket)
        assert answer[:2] == [3, "hb"]
        assert answer[2]["currentTime"].endswith("Z")


@pytest.mark.ocpp_options(max_frame_bytes=4096)
async def test_a_frame_over_the_limit_closes_with_1009(harness: Harness) -> None:
    _, password = await harness.add_charge_point("CP-X")
    async with raw(harness.url("CP-X"), "CP-X", password) as socket:
        await socket.send(
            json.dumps([2, "big", "DataTransfer", {"vendorId": "v", "data": "x" * 5000}])
        )
        with pytest.raises(ConnectionClosedError) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


@pytest.mark.ocpp_options(settings={"accept_unknown_as_pending": True})
async def test_an_unknown_charger_stays_pending_when_the_development_switch_is_on(
    harness: Harness,
) -> None:
    async with raw(harness.url("NEW-ONE"), "NEW-ONE", "") as socket:
        boot = {"chargePointVendor": "V", "chargePointModel": "M"}
        await socket.send(json.dumps([2, "b1", "BootNotification", boot]))
        answer = await reply(socket)
        assert answer[:2] == [3, "b1"]
        assert (answer[2]["status"], answer[2]["interval"]) == ("Pending", 60)
        for frame in ('[2,"h1","Heartbeat",{}]', status_16()):
            await socket.send(frame)
            answer = await reply(socket)
            assert answer[:4] == [4, json.loads(frame)[1], "SecurityError", K.SECURITY.description]
    async with harness.engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(ChargePointStateRow)) == 0


class Switch:
    """The real store, or a real store whose database does not answer."""

    def __init__(self, up: SqlChargingStore, down: SqlChargingStore) -> None:
        self.up, self.down, self.target = up, down, down

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)


async def test_a_store_outage_answers_internal_error_and_keeps_the_socket(harness: Harness) -> None:
    cp, password = await harness.add_charge_point("CP-X")
    gateway = harness.current
    dead = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    switch = Switch(gateway.store, SqlChargingStore(session_factory(dead)))
    gateway.service._store = switch  # type: ignore[assignment]  # the wiring under test, not a mock
    start = json.dumps(
        [
            2,
            "s1",
            "StartTransaction",
            {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": NOW},
        ]
    )
    try:
        async with raw(harness.url("CP-X"), "CP-X", password) as socket:
            await socket.send(start)
            answer = await reply(socket)
            assert answer[:4] == [4, "s1", "InternalError", K.INTERNAL.description]
            await socket.send('[2,"h1","Heartbeat",{}]')
            assert (await reply(socket))[:2] == [3, "h1"]
            switch.target = switch.up
            await socket.send(start)
            answer = await reply(socket)
            assert answer[:2] == [3, "s1"]
            assert answer[2]["transactionId"] > 0
    finally:
        await dead.dispose()
    async with harness.engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(TransactionRow)) == 1
    assert cp > 0
