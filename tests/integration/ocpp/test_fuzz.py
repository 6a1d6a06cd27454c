"""Fuzzing the endpoint: arbitrary frame shapes and raw bytes on one charger's socket, while
a well-behaved charger on the same server keeps sending heartbeats and meter values.

Every answerable frame gets exactly one well-formed reply with a code its version defines
(never InternalError, which would be a crash), the fuzzed socket stays open, and the good
charger never sees a failure. The server runs on its own loop in a thread so that
hypothesis can drive it example by example.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ocpp.v16 import call
from websockets.asyncio.client import ClientConnection

from amphub.adapters.ocpp.rpc import ErrorKind, Version
from amphub.adapters.store.database import create_engine, session_factory
from amphub.application.charging.service import ChargingSettings

from .chargers import charger_16, raw
from .conftest import Gateway, Harness, empty, fast_config

COMMON_ACTIONS = ["BootNotification", "Heartbeat", "StatusNotification", "Authorize", "Reset"]
ACTIONS_16 = [*COMMON_ACTIONS, "StartTransaction", "StopTransaction", "MeterValues", "DataTransfer"]
ACTIONS_201 = [*COMMON_ACTIONS, "TransactionEvent", "MeterValues", "NotifyEvent"]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    ["connectorId", "idTag", "status", "errorCode", "timestamp", "meterValue", "sampledValue",
     "value", "transactionId", "meterStart", "meterStop", "chargePointVendor", "chargePointModel",
     "evseId", "eventType", "seqNo", "triggerReason", "transactionInfo", "idToken", "reason",
     "chargingStation", "vendorId", "connectorStatus"]
) | st.text(max_size=10)  # fmt: skip
payloads = st.dictionaries(field_names, json_values, max_size=6)


def frames(actions: list[str]) -> st.SearchStrategy[str | bytes]:
    calls = st.tuples(
        st.sampled_from([2, 2, 2, 3, 4, 0, 5, "2", None, 2.0, True]),
        st.text(max_size=40) | st.integers() | st.none(),
        st.sampled_from(actions) | st.text(max_size=20),
        payloads | json_values,
    ).map(lambda parts: json.dumps(list(parts)))
    truncated = (
        st.tuples(st.sampled_from(actions), payloads)
        .map(lambda parts: json.dumps([2, "t", parts[0], parts[1]]))
        .flatmap(lambda text: st.integers(0, len(text)).map(lambda n: text[:n]))
    )
    shapes = st.lists(json_values, max_size=6).map(json.dumps)
    return calls | truncated | shapes | st.text(max_size=80) | st.binary(max_size=80)


def allowed_codes(version: Version) -> set[str]:
    return {kind.code(version) for kind in ErrorKind if kind is not ErrorKind.INTERNAL}


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="ocpp-fuzz", daemon=True)
        self.thread.start()

    def run(self, work: Coroutine[Any, Any, Any], timeout_s: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout_s)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@dataclass
class Fuzzing:
    gateway: Gateway
    sockets: dict[Version, ClientConnection] = field(default_factory=dict)
    good_calls: int = 0
    good_failures: list[str] = field(default_factory=list)
    served: asyncio.Event = field(default_factory=asyncio.Event)
    probes: int = 0
    stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    task: asyncio.Task[None] | None = None

    async def good_charger(self, url: str, password: str) -> None:
        async with charger_16(url, "GOOD", password, ping_interval=None) as charger:
            await charger.call(
                call.BootNotification(charge_point_model="M", charge_point_vendor="V"),
                suppress=False,
            )
            n = 0
            while True:
                n += 1
                stamp = datetime.now(UTC).isoformat()
                try:
                    await charger.call(call.Heartbeat(), suppress=False)
                    await charger.call(
                        call.MeterValues(
                            connector_id=1,
                            meter_value=[
                                {
                                    "timestamp": stamp,
                                    "sampledValue": [{"value": str(n), "unit": "Wh"}],
                                }
                            ],
                        ),
                        suppress=False,
                    )
                    self.good_calls += 2
                    if self.good_calls >= 20:
                        self.served.set()
                except Exception as error:  # any failure of the good charger fails the test
                    self.good_failures.append(repr(error))
                await asyncio.sleep(0.005)

    async def exchange(self, version: Version, frame: str | bytes) -> list[list[Any]]:
        """Send the frame, then a probe; return every reply that came before the probe's."""
        socket = self.sockets[version]
        await socket.send(frame)
        self.probes += 1
        probe = f"probe-{self.probes}"
        await socket.send(json.dumps([2, probe, "Heartbeat", {}]))
        replies = []
        while True:
            reply = json.loads(await asyncio.wait_for(socket.recv(), 5))
            if reply[0] == 2:  # amphub reading capabilities: refuse politely
                await socket.send(json.dumps([4, reply[1], "NotImplemented", "", {}]))
                continue
            if reply[1] == probe:
                assert reply[0] == 3, reply
                return replies
            replies.append(reply)


@pytest.fixture(scope="module")
def fuzzing(sqlite_url: str) -> Iterator[tuple[LoopThread, Fuzzing]]:
    thread = LoopThread()
    engine = create_engine(sqlite_url)

    async def setup() -> Fuzzing:
        await empty(engine)
        # No keepalive pings: websockets draws their payload from `random`, which hypothesis
        # (drawing examples in the other thread) would report as nondeterminism.
        config = fast_config(ping_interval_s=None)
        harness = Harness(engine, session_factory(engine), config, ChargingSettings())
        gateway = await harness.start()
        _, good = await harness.add_charge_point("GOOD")
        fuzz = Fuzzing(gateway)
        for version in Version:
            identity = f"FUZZ-{version.name}"
            _, password = await harness.add_charge_point(identity)
            fuzz.sockets[version] = await fuzz.stack.enter_async_context(
                raw(gateway.url(identity), identity, password, version.value, ping_interval=None)
            )
        fuzz.task = asyncio.create_task(fuzz.good_charger(gateway.url("GOOD"), good))
        return fuzz

    fuzz = thread.run(setup())

    async def teardown() -> None:
        assert fuzz.task is not None
        fuzz.task.cancel()
        await asyncio.gather(fuzz.task, return_exceptions=True)
        await fuzz.stack.aclose()
        await fuzz.gateway.gateway.stop()
        await fuzz.gateway.store.close()
        await engine.dispose()

    try:
        yield thread, fuzz
    finally:
        thread.run(teardown())
        thread.close()


@pytest.mark.parametrize("version", list(Version))
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_fuzzed_frames_get_well_formed_answers(
    fuzzing: tuple[LoopThread, Fuzzing], version: Version, data: st.DataObject
) -> None:
    thread, fuzz = fuzzing
    frame = data.draw(frames(ACTIONS_16 if version is Version.V16 else ACTIONS_201))
    replies = thread.run(fuzz.exchange(version, frame))
    assert len(replies) <= 1, replies
    for reply in replies:
        if reply[0] == 4:
            assert len(reply) == 5, reply
            assert reply[2] in allowed_codes(version), reply
            assert isinstance(reply[3], str)
            assert isinstance(reply[4], dict)
        else:
            assert reply[0] == 3, reply
    assert not fuzz.good_failures, fuzz.good_failures


def test_the_good_charger_was_served_throughout(fuzzing: tuple[LoopThread, Fuzzing]) -> None:
    thread, fuzz = fuzzing

    thread.run(asyncio.wait_for(fuzz.served.wait(), 10))
    assert not fuzz.good_failures
