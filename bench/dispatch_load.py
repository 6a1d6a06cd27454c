"""The load generator of ``bench/dispatch_latency.py``: OCPP 1.6 chargers on the ``ocpp``
library, in processes of their own, driven over pipes (:class:`Load` is the parent's side);
and a bare ``ocpp``-library central system for the round-trip baseline.

Each charger boots, reports Charging on every connector, sends MeterValues drawing what it
is allowed, and answers SetChargingProfile at once. When a SetChargingProfile frame's bytes
come off the socket (the protocol's ``data_received``, before any parsing) the charger notes
``time.time_ns()``: the same clock as the meter pusher's send time, and none of the load
generator's own work after the arrival is counted.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import datetime as dt
import json
import multiprocessing as mp
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import ClientConnection

DYNAMIC_LEVEL = 1
"""amphub's dynamic limits; its standing fail-safe shares are at stack level 0."""
IDLE_DRAW_A = 6.0
CAPABILITIES = {
    "ChargeProfileMaxStackLevel": "3",
    "ChargingScheduleAllowedChargingRateUnit": "Current",
}

Entry = tuple[int, str, int, int, float, str | None]
"""(arrival ns, identity, connector, stack level, limit A, startSchedule) per profile."""


class StampedConnection(ClientConnection):
    """Notes when each SetChargingProfile frame arrives, as the bytes come off the socket."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: collections.deque[int] = collections.deque()

    def data_received(self, data: bytes) -> None:
        for _ in range(data.count(b'"SetChargingProfile"')):
            self.arrivals.append(time.time_ns())
        super().data_received(data)


class Charger(ChargePoint):  # type: ignore[misc]
    def __init__(self, identity: str, connection: StampedConnection, log: list[Entry]) -> None:
        super().__init__(identity, connection, response_timeout=10)
        self.limits: dict[int, float] = {}
        self.serving: asyncio.Task[None] | None = None
        self._log = log

    async def route_message(self, raw_msg: str) -> Any:
        """SetChargingProfile on a fast path (JSON in, a fixed CALLRESULT out), so that a
        hundred chargers in one Python process keep up with amphub; the rest as the library
        does it."""
        if '"SetChargingProfile"' not in raw_msg:
            return await super().route_message(raw_msg)
        arrivals = self._connection.arrivals
        arrival = arrivals.popleft() if arrivals else time.time_ns()
        _, unique_id, _, payload = json.loads(raw_msg)
        profile = payload["csChargingProfiles"]
        schedule = profile["chargingSchedule"]
        limit = float(schedule["chargingSchedulePeriod"][0]["limit"])
        connector, level = payload["connectorId"], profile["stackLevel"]
        self._log.append((arrival, self.id, connector, level, limit, schedule.get("startSchedule")))
        if level == DYNAMIC_LEVEL:
            self.limits[connector] = limit
        await self._send(json.dumps([3, unique_id, {"status": "Accepted"}]))
        return None

    @on(Action.get_configuration, skip_schema_validation=True)
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> Any:
        keys = key or list(CAPABILITIES)
        return call_result.GetConfiguration(
            configuration_key=[
                {"key": k, "readonly": True, "value": CAPABILITIES[k]}
                for k in keys
                if k in CAPABILITIES
            ],
            unknown_key=[k for k in keys if k not in CAPABILITIES],
        )


async def boot(
    url: str, identity: str, password: str, connectors: int, log: list[Entry]
) -> Charger:
    token = base64.b64encode(f"{identity}:{password}".encode()).decode()
    connection = await websockets.connect(
        f"{url}/{identity}",
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        additional_headers={"Authorization": f"Basic {token}"},
        compression=None,
        open_timeout=20,
        create_connection=StampedConnection,
    )
    charger = Charger(identity, connection, log)
    charger.serving = asyncio.create_task(charger.start())
    reply = await charger.call(
        call.BootNotification(charge_point_vendor="Bench", charge_point_model="B1")
    )
    if reply.status != "Accepted":
        raise RuntimeError(f"{identity}: boot {reply.status}")
    stamp = dt.datetime.now(dt.UTC).isoformat()
    for connector in range(1, connectors + 1):
        status = call.StatusNotification(
            connector_id=connector, error_code="NoError", status="Charging", timestamp=stamp
        )
        await charger.call(status)
    return charger


async def draw(charger: Charger, connectors: int, interval_s: float) -> None:
    """The cars take what they are allowed: MeterValues every interval, staggered, so that
    the balancer sees no under-draw and lends nothing."""
    await asyncio.sleep(random.uniform(0, interval_s))
    while True:
        stamp = dt.datetime.now(dt.UTC).isoformat()
        for connector in range(1, connectors + 1):
            amps = str(charger.limits.get(connector, IDLE_DRAW_A))
            sampled = [
                {"value": amps, "measurand": "Current.Import", "phase": phase, "unit": "A"}
                for phase in ("L1", "L2", "L3")
            ]
            values = [{"timestamp": stamp, "sampledValue": sampled}]
            meter_values = call.MeterValues(connector_id=connector, meter_value=values)
            await charger.call(meter_values, skip_schema_validation=True)
        await asyncio.sleep(interval_s)


async def round_trips(charger: ChargePoint, count: int) -> list[float]:
    """Sequential Heartbeat CALLs after five unmeasured ones: round trips in ms."""
    times = []
    for n in range(count + 5):
        start = time.perf_counter_ns()
        await charger.call(call.Heartbeat())
        if n >= 5:
            times.append((time.perf_counter_ns() - start) / 1e6)
    return times


async def bare_round_trips(url: str, count: int) -> list[float]:
    async with websockets.connect(url, subprotocols=["ocpp1.6"]) as connection:  # type: ignore[list-item]
        peer = ChargePoint("bare", connection)
        serving = asyncio.create_task(peer.start())
        try:
            return await round_trips(peer, count)
        finally:
            serving.cancel()


async def serve_commands(
    pipe: Any, url: str, creds: list[tuple[str, str]], connectors: int, interval_s: float
) -> None:
    log: list[Entry] = []
    gate = asyncio.Semaphore(20)

    async def one(identity: str, password: str) -> Charger:
        async with gate:
            return await boot(url, identity, password, connectors, log)

    chargers = await asyncio.gather(*(one(identity, password) for identity, password in creds))
    drawing = [asyncio.create_task(draw(c, connectors, interval_s)) for c in chargers]
    pipe.send("ready")
    loop = asyncio.get_running_loop()
    while True:
        command, *rest = await loop.run_in_executor(None, pipe.recv)
        if command == "limits":
            pipe.send([c.limits.get(n) for c in chargers for n in range(1, connectors + 1)])
        elif command == "rtt_amphub":
            pipe.send(await round_trips(chargers[0], rest[0]))
        elif command == "rtt_bare":
            pipe.send(await bare_round_trips(rest[0], rest[1]))
        elif command == "log":
            pipe.send(log)
        elif command == "stop":
            for task in [*drawing, *(c.serving for c in chargers)]:
                if task is not None:
                    task.cancel()
            await asyncio.gather(*(c._connection.close() for c in chargers), return_exceptions=True)
            pipe.send("stopped")
            return


def load_process(
    pipe: Any, url: str, creds: list[tuple[str, str]], connectors: int, interval_s: float
) -> None:
    """The entry point of one load process (multiprocessing, spawn)."""
    try:
        asyncio.run(serve_commands(pipe, url, creds, connectors, interval_s))
    except Exception as error:  # tell the parent instead of dying silently
        pipe.send(("error", repr(error)))


class EchoCentral(ChargePoint):  # type: ignore[misc]
    @on(Action.heartbeat)
    def on_heartbeat(self) -> Any:
        return call_result.Heartbeat(current_time=dt.datetime.now(dt.UTC).isoformat())


@contextlib.contextmanager
def echo_server() -> Iterator[str]:
    """A central system built only on the ``ocpp`` library answering Heartbeat, in a thread
    of the calling process; yields its URL."""
    state: dict[str, Any] = {}
    started = threading.Event()

    async def handler(connection: Any) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await EchoCentral("bare", connection).start()

    async def serve() -> None:
        async with websockets.serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:  # type: ignore[list-item]
            port = next(iter(server.sockets)).getsockname()[1]
            state["stop"] = asyncio.get_running_loop().create_future()
            state["loop"] = asyncio.get_running_loop()
            state["url"] = f"ws://127.0.0.1:{port}/bare"
            started.set()
            await state["stop"]

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the bare OCPP peer did not start")
    try:
        yield state["url"]
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set_result, None)
        thread.join(5)


class Load:
    """The parent's side: the chargers spread over load processes, each driven over a pipe."""

    def __init__(
        self, url: str, creds: list[tuple[str, str]], connectors: int, meter_values_s: float,
        processes: int,
    ) -> None:  # fmt: skip
        context = mp.get_context("spawn")
        self.pipes: list[Any] = []
        self.processes: list[Any] = []
        for n in range(processes):
            pipe, child = context.Pipe()
            share = creds[n::processes]
            process = context.Process(
                target=load_process, daemon=True, name=f"chargers-{n}",
                args=(child, url, share, connectors, meter_values_s),
            )  # fmt: skip
            process.start()
            self.pipes.append(pipe)
            self.processes.append(process)

    @staticmethod
    def _answer(pipe: Any, what: str, timeout: float) -> Any:
        if not pipe.poll(timeout):
            raise RuntimeError(f"the load generator did not answer {what!r}")
        reply = pipe.recv()
        if isinstance(reply, tuple) and reply and reply[0] == "error":
            raise RuntimeError(f"the load generator failed: {reply[1]}")
        return reply

    def ask(self, *message: Any, timeout: float = 60) -> list[Any]:
        """Every process's answer (all are asked first, then all answer)."""
        for pipe in self.pipes:
            pipe.send(message)
        return [self._answer(pipe, message[0], timeout) for pipe in self.pipes]

    def ask_first(self, *message: Any, timeout: float = 60) -> Any:
        self.pipes[0].send(message)
        return self._answer(self.pipes[0], message[0], timeout)

    def wait_ready(self, tick: Callable[[], object], timeout_s: float = 90) -> None:
        """``tick`` (a meter reading) every second until every charger has booted."""
        waiting = set(range(len(self.pipes)))
        deadline = time.monotonic() + timeout_s
        while waiting and time.monotonic() < deadline:
            tick()
            time.sleep(1.0)
            for n in list(waiting):
                if self.pipes[n].poll() and self._answer(self.pipes[n], "ready", 0) == "ready":
                    waiting.discard(n)
        if waiting:
            raise RuntimeError("the chargers did not connect in time")

    def settle(self, tick: Callable[[], object], limit_a: float, timeout_s: float = 60) -> None:
        """``tick`` every second until every connector holds a dynamic ``limit_a`` (a new
        connector starts low: increases are damped)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            tick()
            if all(held == limit_a for limits in self.ask("limits") for held in limits):
                return
            time.sleep(1.0)
        raise RuntimeError(f"the chargers did not all reach {limit_a} A")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.ask("stop", timeout=10)
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.terminate()
                process.join(5)
