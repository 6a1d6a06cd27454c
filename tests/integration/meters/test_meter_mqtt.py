"""MQTT ingestion through a real Mosquitto: the shared one on 127.0.0.1:1883, and a
throwaway one on an ephemeral port that the reconnect test stops and starts again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiomqtt
import pytest

from amphub.adapters.meters.mqtt import MqttMeterListener, MqttSettings
from amphub.application.metering import MeterIngestion, generate_serial
from amphub.application.metering.memory import InMemoryMeterDirectory, InMemoryReadingRecorder
from amphub.domain.metering import MeterConfig, MeterStatus, MeterTransport, RejectionReason
from amphub.domain.units import PhaseCurrents
from tests.support.waiting import eventually

BROKER = ("127.0.0.1", 1883)
MOSQUITTO = shutil.which("mosquitto", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


def reading_payload(l1: float, **extra: Any) -> bytes:
    return json.dumps(
        {
            "measured_at": datetime.now(UTC).isoformat(),
            "currents_a": {"l1": l1, "l2": 1.5, "l3": -2.0},
            "voltages_v": {"l1": 230.1, "l2": 229.9, "l3": 231.0},
            **extra,
        }
    ).encode()


class Harness:
    def __init__(self, host: str, port: int) -> None:
        self.serial = generate_serial()
        self.prefix = f"amphub-test-{uuid.uuid4().hex}/meters"
        self.directory = InMemoryMeterDirectory(
            [MeterConfig(7, 70, self.serial, 25.0, MeterTransport.MQTT)]
        )
        self.recorder = InMemoryReadingRecorder()
        self.ingestion = MeterIngestion(self.directory, self.recorder)
        self.settings = MqttSettings(
            host=host,
            port=port,
            topic_prefix=self.prefix,
            reconnect_initial_s=0.05,
            reconnect_max_s=0.5,
        )
        self.listener = MqttMeterListener(self.settings, self.ingestion)

    def topic(self, serial: str | None = None) -> str:
        return f"{self.prefix}/{serial or self.serial}/readings"

    async def publish(self, payload: bytes, *, topic: str | None = None) -> None:
        host, port = self.settings.host, self.settings.port
        async with aiomqtt.Client(host, port) as client:
            await client.publish(topic or self.topic(), payload, qos=1)


@contextlib.asynccontextmanager
async def running(harness: Harness) -> AsyncIterator[Harness]:
    async with harness.ingestion:
        task = asyncio.create_task(harness.listener.run())
        try:
            yield harness
        finally:
            task.cancel()
            await asyncio.wait({task})


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    async with running(Harness(*BROKER)) as started:
        async with asyncio.timeout(10):
            await started.listener.connected.wait()
        yield started


async def test_reading_goes_from_broker_to_live_state(harness: Harness) -> None:
    with harness.ingestion.live.subscribe(7) as subscription:
        await harness.publish(reading_payload(12.25))
        async with asyncio.timeout(10):
            live = await subscription.get()
    assert live.reading.currents_a == PhaseCurrents(12.25, 1.5, -2.0)
    assert harness.ingestion.live.status(7) is MeterStatus.ACTIVE
    await harness.ingestion.flush()
    assert [r.transport for r in harness.recorder.readings] == [MeterTransport.MQTT]


async def test_bad_messages_are_counted_and_the_listener_carries_on(harness: Harness) -> None:
    stranger = generate_serial()
    with harness.ingestion.live.subscribe(7) as subscription:
        await harness.publish(b"\x00 not json")
        await harness.publish(reading_payload(1.0, serial=stranger))  # payload/topic mismatch
        await harness.publish(reading_payload(60.0))  # above 2 x 25 A: refused
        await harness.publish(reading_payload(1.0), topic=harness.topic(stranger))  # unregistered
        await harness.publish(reading_payload(1.0), topic=harness.topic("not-a-serial"))
        await harness.publish(reading_payload(3.0))
        async with asyncio.timeout(10):
            live = await subscription.get()
    assert live.reading.currents_a.l1_a == 3.0  # the refused 60 A never became live
    stats = harness.listener.stats
    await eventually(lambda: stats.messages == 6)
    assert (stats.payload_errors, stats.unknown_meters, stats.bad_topics) == (2, 1, 1)
    assert stats.readings_accepted == 1
    assert harness.ingestion.counters.rejected_for(7) == {RejectionReason.CURRENT_OUT_OF_RANGE: 1}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayBroker:
    def __init__(self, port: int) -> None:
        self.port = port
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        assert MOSQUITTO is not None
        self.process = await asyncio.create_subprocess_exec(
            MOSQUITTO, "-p", str(self.port),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        async with asyncio.timeout(10):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                except OSError:
                    await asyncio.sleep(0.02)
                    continue
                writer.close()
                await writer.wait_closed()
                return

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()
        self.process = None


@pytest.mark.skipif(MOSQUITTO is None, reason="needs the mosquitto binary")
async def test_listener_reconnects_when_the_broker_comes_back() -> None:
    broker = ThrowawayBroker(_free_port())
    await broker.start()
    try:
        harness = Harness("127.0.0.1", broker.port)
        async with running(harness):
            listener = harness.listener
            with harness.ingestion.live.subscribe(7) as subscription:
                async with asyncio.timeout(10):
                    await listener.connected.wait()
                await harness.publish(reading_payload(5.0))
                async with asyncio.timeout(10):
                    assert (await subscription.get()).reading.currents_a.l1_a == 5.0

                await broker.stop()
                await eventually(lambda: not listener.connected.is_set())
                losses = listener.stats.connection_losses
                await eventually(lambda: listener.stats.connection_losses >= losses + 2)  # retrying

                await broker.start()
                async with asyncio.timeout(10):
                    await listener.connected.wait()
                await harness.publish(reading_payload(6.0))
                async with asyncio.timeout(10):
                    assert (await subscription.get()).reading.currents_a.l1_a == 6.0
            assert listener.stats.connects == 2
    finally:
        await broker.stop()
