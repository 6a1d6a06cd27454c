"""How many MQTT meter readings one amphub process takes in per second, and how long a
reading takes from receipt to being available to the balancer.

Two receivers get the same load from a publisher running in its own process:

* baseline: a bare aiomqtt receive loop that only counts (no parsing, no validation);
* amphub: ``MqttMeterListener`` → ``MeterIngestion`` (parse, validate, live state, queue
  for the in-memory recorder; the SQL store is not part of this figure).

Throughput: the publisher sends as fast as it can (QoS 0); the receiver's rate is counted
from its first to its last reading. Latency: the publisher paces itself (``--rate``) and
stamps each reading with the wall clock; we report receipt → live (from the listener
handing the message to ingestion until the reading is in ``LiveMeterState``) and publish →
live (including the broker), next to the baseline's publish → received.

Run: ``python bench/meters.py`` (starts a throwaway mosquitto on a free port; ``--broker
127.0.0.1:1883`` uses a running one). Exits non-zero if it could not measure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt

from amphub.adapters.meters.mqtt import MqttMeterListener, MqttSettings
from amphub.application.metering import IngestResult, LiveReading, MeterIngestion, generate_serial
from amphub.application.metering.memory import InMemoryMeterDirectory, InMemoryReadingRecorder
from amphub.domain.metering import MeterConfig, MeterTransport

IDLE_TIMEOUT_S = 5.0


# -- publisher (its own process) ------------------------------------------------------------


def publish(
    host: str, port: int, prefix: str, serials: Sequence[str], count: int, rate: float
) -> None:
    """Send ``count`` readings round-robin over the meters; ``rate`` 0 means flat out."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{os.getpid()}")
    client.max_queued_messages_set(0)
    client.connect(host, port)
    client.loop_start()
    topics = [f"{prefix}/{serial}/readings" for serial in serials]

    def payload(i: int, at: datetime) -> str:
        meter, k = i % len(serials), i // len(serials)
        return json.dumps(
            {
                "measured_at": at.isoformat(),
                "currents_a": {"l1": 10 + (k % 97) / 10, "l2": 5.0 + meter / 10, "l3": -1.5},
                "voltages_v": {"l1": 230.0 + (k % 7) / 10, "l2": 231.0, "l3": 229.5},
                "energy_import_wh": 1_000_000 + k,
            }
        )

    # flat out: build the payloads first (1 µs apart) so that JSON encoding does not
    # limit the publisher; paced: stamp each one when it is sent, for the latency figure
    base = datetime.now(UTC)
    prepared = (
        [payload(i, base + timedelta(microseconds=i)) for i in range(count)] if not rate else []
    )
    started = time.perf_counter()
    for i in range(count):
        client.publish(
            topics[i % len(serials)], prepared[i] if prepared else payload(i, datetime.now(UTC))
        )
        if rate:
            ahead = started + (i + 1) / rate - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)
    client.loop_stop()
    client.disconnect()


async def start_publisher(
    host: str, port: int, prefix: str, serials: Sequence[str], count: int, rate: float
) -> asyncio.subprocess.Process:
    args = ["--publish", f"{host}:{port}", "--prefix", prefix, "--serials", ",".join(serials)]
    args += ["--count", str(count), "--rate", str(rate)]
    return await asyncio.create_subprocess_exec(sys.executable, __file__, *args)


# -- receivers -----------------------------------------------------------------------------


@dataclass
class Run:
    sent: int
    received: int = 0
    first: float = 0.0
    last: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    """publish → received (baseline) or publish → live (amphub)."""
    receipt_ms: list[float] = field(default_factory=list)
    """receipt → live (amphub only)."""

    def mark(self) -> None:
        now = time.perf_counter()
        if not self.received:
            self.first = now
        self.last = now
        self.received += 1

    @property
    def rate(self) -> float:
        return (self.received - 1) / (self.last - self.first) if self.received > 1 else 0.0


def _age_ms(payload: bytes | str) -> float:
    stamp = json.loads(payload)["measured_at"]
    return (time.time() - datetime.fromisoformat(stamp).timestamp()) * 1000


async def _until_done(run: Run, publisher: asyncio.subprocess.Process) -> None:
    """Wait until every reading arrived, or the publisher is done and nothing more came
    for ``IDLE_TIMEOUT_S`` (QoS 0 readings the broker dropped never come)."""
    await publisher.wait()
    seen, idle_since = -1, time.perf_counter()
    while run.received < run.sent and time.perf_counter() - idle_since < IDLE_TIMEOUT_S:
        if run.received != seen:
            seen, idle_since = run.received, time.perf_counter()
        await asyncio.sleep(0.05)


async def baseline(args: argparse.Namespace, count: int, rate: float, latency: bool) -> Run:
    prefix = f"bench-{uuid.uuid4().hex}/meters"
    serials = [generate_serial() for _ in range(args.meters)]
    run = Run(count)
    async with aiomqtt.Client(args.host, args.port) as client:
        await client.subscribe(f"{prefix}/+/readings")
        publisher = await start_publisher(args.host, args.port, prefix, serials, count, rate)

        async def receive() -> None:
            async for message in client.messages:
                run.mark()
                if latency:
                    run.latencies_ms.append(_age_ms(message.payload))  # type: ignore[arg-type]

        receiver = asyncio.create_task(receive())
        try:
            await _until_done(run, publisher)
        finally:
            receiver.cancel()
            await asyncio.wait({receiver})
    return run


class TimedSink:
    """Notes when the listener hands a message over, so the live-state listener can
    measure receipt → live for the same message (the listener handles one at a time)."""

    def __init__(self, ingestion: MeterIngestion) -> None:
        self._ingestion = ingestion
        self.handed_over_at = 0.0

    async def ingest_payload(
        self, serial: str, raw: bytes | str, *, transport: MeterTransport
    ) -> IngestResult:
        self.handed_over_at = time.perf_counter()
        return await self._ingestion.ingest_payload(serial, raw, transport=transport)

    async def ingest(
        self, serial: str, readings: Sequence[object], *, transport: MeterTransport
    ) -> IngestResult:
        raise NotImplementedError("MQTT only hands over payloads")


async def amphub(args: argparse.Namespace, count: int, rate: float, latency: bool) -> Run:
    prefix = f"bench-{uuid.uuid4().hex}/meters"
    serials = [generate_serial() for _ in range(args.meters)]
    configs = [
        MeterConfig(i + 1, 1, serial, 63.0, MeterTransport.MQTT) for i, serial in enumerate(serials)
    ]
    run = Run(count)
    ingestion = MeterIngestion(InMemoryMeterDirectory(configs), InMemoryReadingRecorder())
    sink = TimedSink(ingestion)

    def on_live(live: LiveReading) -> None:
        run.mark()
        if latency:
            run.receipt_ms.append((time.perf_counter() - sink.handed_over_at) * 1000)
            run.latencies_ms.append((time.time() - live.reading.measured_at.timestamp()) * 1000)

    ingestion.live.add_listener(on_live)
    listener = MqttMeterListener(MqttSettings(args.host, args.port, topic_prefix=prefix), sink)  # type: ignore[arg-type]
    async with ingestion:
        task = asyncio.create_task(listener.run())
        try:
            async with asyncio.timeout(10):
                await listener.connected.wait()
            publisher = await start_publisher(args.host, args.port, prefix, serials, count, rate)
            await _until_done(run, publisher)
        finally:
            task.cancel()
            await asyncio.wait({task})
    rejected = sum(ingestion.counters.rejected.values())
    if rejected:
        print(
            f"warning: {rejected} readings rejected: {dict(ingestion.counters.rejected)}",
            file=sys.stderr,
        )
    return run


# -- reporting ------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def spread(values: Sequence[float]) -> str:
    return f"{statistics.median(values):>9,.0f}  ({min(values):,.0f}–{max(values):,.0f})"


@contextlib.asynccontextmanager
async def broker(args: argparse.Namespace) -> AsyncIterator[None]:
    if args.broker:
        args.host, port = args.broker.rsplit(":", 1)
        args.port = int(port)
        yield
        return
    mosquitto = shutil.which("mosquitto", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if mosquitto is None:
        raise SystemExit("no mosquitto binary; pass --broker HOST:PORT")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        args.host, args.port = "127.0.0.1", sock.getsockname()[1]
    # no per-client queue limit: the default (1000) drops QoS 0 readings under a flat-out
    # load, and we want to count what the receiver can take, not what the broker discards
    config = Path(tempfile.mkdtemp()) / "mosquitto.conf"
    config.write_text(
        f"listener {args.port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
    )
    process = await asyncio.create_subprocess_exec(
        mosquitto, "-c", str(config), stderr=asyncio.subprocess.DEVNULL
    )
    try:
        async with asyncio.timeout(10):
            while True:
                try:
                    _, writer = await asyncio.open_connection(args.host, args.port)
                    writer.close()
                    break
                except OSError:
                    await asyncio.sleep(0.05)
        yield
    finally:
        process.terminate()
        await process.wait()
        shutil.rmtree(config.parent, ignore_errors=True)


async def measure(args: argparse.Namespace) -> int:
    async with broker(args):
        await amphub(args, min(args.messages, 2000), 0, False)  # warm-up
        rates: dict[str, list[float]] = {"baseline": [], "amphub": []}
        complete = True
        for _ in range(args.repeats):
            for name, receiver in (("baseline", baseline), ("amphub", amphub)):
                run = await receiver(args, args.messages, 0, False)
                rates[name].append(run.rate)
                complete &= run.received >= 0.99 * run.sent
                if run.received < run.sent:
                    print(
                        f"note: {name} got {run.received} of {run.sent} (broker dropped QoS 0)",
                        file=sys.stderr,
                    )
        base_lat = await baseline(args, args.latency_messages, args.rate, True)
        amp_lat = await amphub(args, args.latency_messages, args.rate, True)

    cores, python = os.cpu_count(), sys.version.split()[0]
    print(f"meters bench: {args.meters} meters, {args.messages} readings x {args.repeats} runs, "
          f"broker {args.host}:{args.port}, {cores} cores, Python {python}")  # fmt: skip
    print()
    print("| receiver | readings/s median (min–max) |")
    print("|---|---|")
    print(f"| raw aiomqtt loop (baseline) | {spread(rates['baseline'])} |")
    print(f"| amphub MQTT ingestion | {spread(rates['amphub'])} |")
    ratio = statistics.median(rates["amphub"]) / statistics.median(rates["baseline"])
    print(f"| ratio amphub / baseline | {ratio:.2f} |")
    print()
    print(f"latency at {args.rate:g} readings/s ({args.latency_messages} readings), ms:")
    print()
    print("| path | p50 | p99 | max |")
    print("|---|---|---|---|")
    for label, values in (
        ("amphub receipt → live", amp_lat.receipt_ms),
        ("amphub publish → live", amp_lat.latencies_ms),
        ("baseline publish → received", base_lat.latencies_ms),
    ):
        if not values:
            print(f"| {label} | – | – | – |")
            complete = False
            continue
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(f"| {label} | {p50:.3f} | {p99:.3f} | {max(values):.3f} |")
    if not complete or not amp_lat.receipt_ms:
        print("could not measure: readings were lost", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--broker", help="HOST:PORT of a running broker (default: throwaway mosquitto)"
    )
    parser.add_argument("--meters", type=int, default=50, help="meters publishing (default 50)")
    parser.add_argument("--messages", type=int, default=20_000, help="readings per throughput run")
    parser.add_argument("--repeats", type=int, default=3, help="throughput runs per receiver")
    parser.add_argument("--rate", type=float, default=1000, help="readings/s in the latency run")
    parser.add_argument(
        "--latency-messages", type=int, default=5000, help="readings in the latency run"
    )
    parser.add_argument("--publish", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--serials", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publish:
        host, port = args.publish.rsplit(":", 1)
        publish(host, int(port), args.prefix, args.serials.split(","), args.count, args.rate)
        return 0
    return asyncio.run(measure(args))


if __name__ == "__main__":
    raise SystemExit(main())
