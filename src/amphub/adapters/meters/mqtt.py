"""Meter readings over MQTT (aiomqtt 2.x): one topic per meter,
``amphub/meters/{serial}/readings``, carrying the JSON payload of docs/meters.md.

The broker authenticates meters (username = serial, password = PIN) and its ACL lets each
meter publish only to its own topic (docs/meters.md); amphub subscribes to all of them,
takes the serial from the topic and ingests. Bad messages are logged (throttled) and
counted; nothing a meter sends can stop the listener. When the broker goes away the
listener reconnects with capped exponential back-off, for ever, until cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass, field

import aiomqtt

from amphub.adapters.meters._backoff import Backoff, ThrottledLog
from amphub.application.metering import (
    MeterReadingSink,
    PayloadError,
    UnknownMeter,
    WrongTransport,
)
from amphub.domain.metering import MeterTransport, is_valid_serial

_log = logging.getLogger(__name__)

TOPIC_PREFIX = "amphub/meters"


@dataclass(frozen=True, slots=True)
class MqttSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca_file: str | None = None
    """CA bundle for the broker's certificate; ``None`` uses the system's."""
    topic_prefix: str = TOPIC_PREFIX
    client_id: str | None = None
    keepalive_s: int = 30
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 30.0

    def subscription(self) -> str:
        return f"{self.topic_prefix}/+/readings"


@dataclass(slots=True)
class MqttListenerStats:
    connects: int = 0
    connection_losses: int = 0
    messages: int = 0
    readings_accepted: int = 0
    bad_topics: int = 0
    payload_errors: int = 0
    unknown_meters: int = 0
    failures: int = 0
    """Messages whose handling failed unexpectedly (a bug); logged with a traceback."""


class MqttMeterListener:
    """Run with ``await listener.run()`` in an owned task; cancel the task to stop."""

    def __init__(self, settings: MqttSettings, sink: MeterReadingSink) -> None:
        self._settings = settings
        self._sink = sink
        self.stats = MqttListenerStats()
        self.connected = asyncio.Event()
        """Set while subscribed to the broker (tests and health checks wait on it)."""
        self._throttled = ThrottledLog(_log)
        self._prefix_levels = settings.topic_prefix.split("/")

    async def run(self) -> None:
        settings = self._settings
        backoff = Backoff(settings.reconnect_initial_s, settings.reconnect_max_s)
        while True:
            try:
                async with self._client() as client:
                    await client.subscribe(settings.subscription(), qos=1)
                    self.stats.connects += 1
                    backoff.reset()
                    self.connected.set()
                    _log.info(
                        "subscribed to %s on %s:%d",
                        settings.subscription(),
                        settings.host,
                        settings.port,
                    )
                    async for message in client.messages:
                        await self._handle(str(message.topic), message.payload)
            except aiomqtt.MqttError as error:
                was_connected = self.connected.is_set()
                self.connected.clear()
                self.stats.connection_losses += 1
                delay = backoff.next_delay()
                _log.warning(
                    "MQTT broker %s:%d %s (%s); reconnecting in %.1f s",
                    settings.host,
                    settings.port,
                    "connection lost" if was_connected else "unreachable",
                    error,
                    delay,
                )
                await asyncio.sleep(delay)

    def _client(self) -> aiomqtt.Client:
        settings = self._settings
        tls_context = ssl.create_default_context(cafile=settings.ca_file) if settings.tls else None
        return aiomqtt.Client(
            settings.host,
            settings.port,
            username=settings.username,
            password=settings.password,
            identifier=settings.client_id,
            keepalive=settings.keepalive_s,
            tls_context=tls_context,
            # stale readings queued while we were away are worth nothing to the balancer
            clean_session=True,
        )

    def serial_from_topic(self, topic: str) -> str | None:
        """``amphub/meters/AMH-…/readings`` → ``AMH-…``; ``None`` for any other topic."""
        levels = topic.split("/")
        prefix = self._prefix_levels
        if (
            len(levels) != len(prefix) + 2
            or levels[: len(prefix)] != prefix
            or levels[-1] != "readings"
        ):
            return None
        serial = levels[len(prefix)]
        return serial if is_valid_serial(serial) else None

    async def _handle(self, topic: str, payload: object) -> None:
        self.stats.messages += 1
        serial = self.serial_from_topic(topic)
        if serial is None:
            self.stats.bad_topics += 1
            self._throttled.warning(
                ("topic", topic), "MQTT message on unexpected topic %r ignored", topic
            )
            return
        raw = bytes(payload) if isinstance(payload, bytes | bytearray) else str(payload or "")
        try:
            result = await self._sink.ingest_payload(serial, raw, transport=MeterTransport.MQTT)
        except PayloadError as error:
            self.stats.payload_errors += 1
            self._throttled.warning(
                (serial, "payload"), "MQTT meter %s sent a bad payload: %s", serial, error
            )
        except (UnknownMeter, WrongTransport) as error:
            self.stats.unknown_meters += 1
            self._throttled.warning((serial, "unknown"), "MQTT message refused: %s", error)
        except Exception:
            self.stats.failures += 1
            _log.exception("handling an MQTT message from meter %s failed", serial)
        else:
            self.stats.readings_accepted += result.accepted
