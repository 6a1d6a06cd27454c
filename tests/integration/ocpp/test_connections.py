"""Exactly one route per charger: a new connection replaces the old one. A half-open
socket (the peer stopped reading) is dropped by ping within two ping intervals."""

from __future__ import annotations

import asyncio
import json

import pytest

from amphub.application.charging.ports import TriggerableMessage

from .chargers import raw, reply
from .conftest import Harness
from .test_v16 import until


async def test_a_second_connection_replaces_the_first(harness: Harness) -> None:
    cp, password = await harness.add_charge_point("CP-R")
    gateway = harness.current
    url = harness.url("CP-R")
    async with raw(url, "CP-R", password) as first:
        await first.send('[2,"h1","Heartbeat",{}]')
        assert (await reply(first))[:2] == [3, "h1"]
        async with raw(url, "CP-R", password) as second:
            await first.wait_closed()
            assert first.close_code == 1000
            assert first.close_reason == "replaced by a newer connection"
            await until(lambda: gateway.gateway.open_sockets == 1)
            point = gateway.live.charge_point(cp)
            assert point is not None
            assert point.connected
            assert len(gateway.gateway.registry) == 1
            command = asyncio.create_task(
                gateway.commands.trigger_message(cp, TriggerableMessage.HEARTBEAT)
            )
            frame = json.loads(await second.recv())
            assert frame[2] == "TriggerMessage"
            await second.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
            await command
        await until(lambda: not gateway.live.charge_point(cp).connected)  # type: ignore[union-attr]
    states = await gateway.store.charge_point_states([cp])
    assert states[cp].last_disconnected_at is not None


@pytest.mark.ocpp_options(ping_interval_s=0.3, close_timeout_s=0.2)
async def test_a_half_open_socket_is_dropped_within_two_ping_intervals(harness: Harness) -> None:
    cp, password = await harness.add_charge_point("CP-H")
    gateway = harness.current
    async with raw(harness.url("CP-H"), "CP-H", password, ping_interval=None) as socket:
        await until(lambda: gateway.live.charge_point(cp) is not None)
        loop = asyncio.get_running_loop()
        socket.transport.pause_reading()  # the peer is gone: pings go unanswered
        paused_at = loop.time()
        await until(lambda: not gateway.live.charge_point(cp).connected, timeout_s=3)  # type: ignore[union-attr]
        elapsed = loop.time() - paused_at
        socket.transport.resume_reading()
    # Detected within two ping intervals, then the close handshake gets close_timeout_s;
    # the rest is slack for a loaded machine.
    assert elapsed <= 2 * 0.3 + 0.2 + 0.6, elapsed
