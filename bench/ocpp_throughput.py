"""How many OCPP 1.6 MeterValues one amphub gateway process answers per second, how fast,
and what a connection costs — next to two baselines measured in the same run:

* ``echo``: a raw ``websockets`` server that sends every frame back (the ceiling);
* ``bare``: a server built only on the ``ocpp`` library (its ChargePoint, ``@on``
  MeterValues, schema validation as the library does it, no persistence);
* ``amphub``: the gateway with everything: handshake with HTTP Basic, parsing, schema
  validation, conversion to base units, live state, and the write to SQLite committed
  before the reply.

Each server runs in its own process; the chargers are simulated by ``--processes`` load
processes that speak raw OCPP-J over real sockets to 127.0.0.1. Two modes per size:
``back-to-back`` (each charger sends its next MeterValues as soon as the previous one is
answered: the throughput) and ``interval`` (each charger sends every ``--interval`` s, as
real chargers do: the latency). We report messages/s, round-trip p50/p99, the server's CPU
(share of one core over the window) and RSS per connection (RSS with all chargers
connected minus RSS before, divided by their number).

Run: ``python bench/ocpp_throughput.py`` (defaults: 1,000 and 10,000 chargers, all three
servers); ``--chargers 1000 --servers amphub`` for one case. Exits non-zero if a case
could not be measured.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import websockets

from amphub.entrypoints.server import event_loop_runner, tune_gc

PASSWORD = "bench-password-0123456789"
SUBPROTOCOL = "ocpp1.6"
CONNECT_CONCURRENCY = 100
"""Handshakes in flight per load process; a refused or timed-out one is retried after a
second, as chargers do (this benchmark measures the steady state, not reconnect storms)."""
WS_OPTIONS: dict[str, Any] = {"compression": None, "max_size": 65536}


# -- servers (each in its own process) --------------------------------------------------------


async def _serve_until_stdin_closes(server: Any) -> None:
    print(f"PORT {next(iter(server.sockets)).getsockname()[1]}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


async def serve_echo() -> None:
    async def echo(connection: Any) -> None:
        async for message in connection:
            await connection.send(message)

    async with websockets.serve(
        echo, "127.0.0.1", 0, subprotocols=[SUBPROTOCOL], **WS_OPTIONS
    ) as server:
        await _serve_until_stdin_closes(server)


async def serve_bare() -> None:
    from ocpp.routing import on
    from ocpp.v16 import ChargePoint, call_result
    from ocpp.v16.enums import Action

    class Bare(ChargePoint):  # type: ignore[misc]
        @on(Action.meter_values)
        def on_meter_values(self, **_: Any) -> call_result.MeterValues:
            return call_result.MeterValues()

    async def handler(connection: Any) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await Bare(connection.request.path.rsplit("/", 1)[-1], connection).start()

    async with websockets.serve(
        handler, "127.0.0.1", 0, subprotocols=[SUBPROTOCOL], **WS_OPTIONS
    ) as server:
        await _serve_until_stdin_closes(server)


async def serve_amphub(chargers: int, database: Path, jsonschema_only: bool) -> None:
    import logging

    from sqlalchemy import insert

    from amphub.adapters.ocpp.server import OcppGateway, OcppServerConfig
    from amphub.adapters.store.charging import SqlChargingStore
    from amphub.adapters.store.database import create_engine, migrate, session_factory
    from amphub.adapters.store.tables import (
        ChargePointRow,
        ConnectorRow,
        OperatorRow,
        SiteRow,
        TeamRow,
    )
    from amphub.application.charging.credentials import ChargePointPasswordHasher
    from amphub.application.charging.live import LiveChargerState
    from amphub.application.charging.service import ChargingService
    from amphub.application.ports import SystemClock

    logging.basicConfig(level=logging.ERROR)
    url = f"sqlite+aiosqlite:///{database}"
    await asyncio.get_running_loop().run_in_executor(None, migrate, url)
    engine = create_engine(url)
    now = datetime.now(UTC)
    hashed = ChargePointPasswordHasher().hash(PASSWORD)
    async with engine.begin() as connection:
        await connection.execute(
            insert(OperatorRow), [{"id": 1, "name": "bench", "created_at": now}]
        )
        await connection.execute(
            insert(TeamRow), [{"id": 1, "operator_id": 1, "name": "t", "created_at": now}]
        )
        site = {
            "id": 1,
            "team_id": 1,
            "name": "s",
            "country": "DK",
            "bidding_zone": "DK2",
            "time_zone": "Europe/Copenhagen",
            "created_at": now,
        }
        await connection.execute(insert(SiteRow), [site])
        await connection.execute(
            insert(ChargePointRow),
            [
                {
                    "id": n,
                    "site_id": 1,
                    "ocpp_identity": f"CP{n}",
                    "serial_number": f"S{n}",
                    "ocpp_password_hash": hashed,
                    "created_at": now,
                }
                for n in range(1, chargers + 1)
            ],
        )
        await connection.execute(
            insert(ConnectorRow),
            [
                {
                    "charge_point_id": n,
                    "connector_id": 1,
                    "phases": 3,
                    "phase_rotation": "L1L2L3",
                    "min_current_a": 6.0,
                    "max_current_a": 32.0,
                }
                for n in range(1, chargers + 1)
            ],
        )
    store = SqlChargingStore(session_factory(engine))
    live = LiveChargerState()
    service = ChargingService(store, store, live, ChargePointPasswordHasher(), SystemClock())
    gateway = OcppGateway(OcppServerConfig(port=0), service, live)
    if jsonschema_only:  # the "before" of the compiled schemas
        for schemas in gateway._schemas.values():
            compiled = schemas._compiled(f"MeterValues{schemas._request_suffix}")
            assert compiled is not None
            compiled.fast = None
    await gateway.start()
    try:
        print(f"PORT {gateway.port}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await gateway.stop()
        await store.close()
        await engine.dispose()


# -- load (each process simulates a share of the chargers) -------------------------------------


def frame(n: int, at: datetime) -> str:
    stamp = at.isoformat().replace("+00:00", "Z")
    values = ",".join(
        f'{{"value":"{v}","measurand":"{m}","unit":"{u}"{p}}}'
        for v, m, u, p in (
            ("16.0", "Current.Import", "A", ',"phase":"L1"'),
            ("15.8", "Current.Import", "A", ',"phase":"L2"'),
            ("16.1", "Current.Import", "A", ',"phase":"L3"'),
            (str(1000 + n), "Energy.Active.Import.Register", "Wh", ""),
        )
    )
    meter = f'[{{"timestamp":"{stamp}","sampledValue":[{values}]}}]'
    return f'[2,"{n}","MeterValues",{{"connectorId":1,"meterValue":{meter}}}]'


class Charger:
    """One simulated charger on a raw socket: the WebSocket handshake and frames written
    here rather than through ``websockets``, so that a load process costs a few µs per
    message and the server, not the load, is what saturates. Client frames are masked with
    an all-zero key (valid framing: the server unmasks by XOR, which leaves them as they
    are); the server's own CALLs are refused with NotImplemented and its pings answered."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.sent = 0
        self.start = datetime.now(UTC)
        self.reply: asyncio.Future[None] | None = None
        self.listening = asyncio.create_task(self._listen())

    @classmethod
    async def connect(cls, host: str, port: int, identity: str) -> Charger:
        reader, writer = await asyncio.open_connection(host, port)
        token = base64.b64encode(f"{identity}:{PASSWORD}".encode()).decode()
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /ocpp/{identity} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Sec-WebSocket-Protocol: {SUBPROTOCOL}\r\n"
                f"Authorization: Basic {token}\r\n\r\n"
            ).encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
        if not head.startswith(b"HTTP/1.1 101"):
            writer.close()
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode())
        return cls(reader, writer)

    def _send(self, payload: bytes, opcode: int = 0x1) -> None:
        size = len(payload)
        if size < 126:
            header = bytes((0x80 | opcode, 0x80 | size))
        else:
            header = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
        self.writer.write(header + b"\0\0\0\0" + payload)

    async def _listen(self) -> None:
        """Reads every frame, as a charger's WebSocket stack does: pings are answered and
        the server's CALLs refused even while the charger has nothing to send."""
        try:
            while True:
                first, second = await self.reader.readexactly(2)
                size = second & 0x7F
                if size == 126:
                    size = int.from_bytes(await self.reader.readexactly(2), "big")
                elif size == 127:
                    size = int.from_bytes(await self.reader.readexactly(8), "big")
                opcode, payload = first & 0x0F, await self.reader.readexactly(size)
                if opcode == 0x9:  # ping
                    self._send(payload, opcode=0xA)
                elif opcode == 0x8:
                    raise ConnectionError("closed by the server")
                elif payload.startswith(b"[2,"):
                    unique_id = json.loads(payload)[1]
                    self._send(json.dumps([4, unique_id, "NotImplemented", "", {}]).encode())
                elif self.reply is not None and not self.reply.done():
                    self.reply.set_result(None)
        except (ConnectionError, asyncio.IncompleteReadError) as error:
            if self.reply is not None and not self.reply.done():
                self.reply.set_exception(ConnectionError(str(error)))

    async def exchange(self) -> float:
        """One MeterValues and its reply."""
        if self.listening.done():
            raise ConnectionError("the connection is gone")
        self.sent += 1
        self.reply = asyncio.get_running_loop().create_future()
        began = time.perf_counter()
        self._send(frame(self.sent, self.start + timedelta(seconds=self.sent)).encode())
        await self.reply
        return time.perf_counter() - began

    def close(self) -> None:
        self._send(b"\x03\xe8", opcode=0x8)
        self.listening.cancel()
        self.writer.close()


async def load(
    url: str, first: int, count: int, mode: str, interval_s: float, duration_s: float
) -> None:
    host, port = url.removeprefix("ws://").rsplit(":", 1)
    semaphore = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def connect(n: int) -> Charger:
        for attempt in range(10):
            try:
                async with semaphore:
                    return await Charger.connect(host, int(port), f"CP{n}")
            except (OSError, ConnectionError, TimeoutError, asyncio.IncompleteReadError):
                if attempt == 9:
                    raise
                await asyncio.sleep(1.0)
        raise AssertionError("unreachable")

    chargers = await asyncio.gather(*(connect(n) for n in range(first, first + count)))
    # Warm up: amphub reads each charger's capabilities after its first message.
    await asyncio.gather(*(charger.exchange() for charger in chargers))
    print("CONNECTED", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration_s

    async def run(index: int, charger: Charger) -> None:
        nonlocal errors
        if mode == "interval":
            await asyncio.sleep(interval_s * index / count)
        while time.perf_counter() < deadline:
            try:
                latencies.append(await charger.exchange())
            except Exception:
                errors += 1
                return
            if mode == "interval":
                await asyncio.sleep(interval_s)

    began, cpu_began = time.perf_counter(), time.process_time()
    await asyncio.gather(*(run(i, c) for i, c in enumerate(chargers)))
    elapsed = time.perf_counter() - began
    result = {
        "count": len(latencies),
        "elapsed": elapsed,
        "cpu_s": time.process_time() - cpu_began,
        "errors": errors,
        "latencies_ms": [round(x * 1000, 3) for x in latencies],
    }
    print(json.dumps(result), flush=True)
    for charger in chargers:
        charger.close()


# -- orchestration ------------------------------------------------------------------------------


def process_stats(pid: int) -> tuple[float, int]:
    """(CPU seconds used, RSS bytes) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss_kib = next(
        int(line.split()[1])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmRSS:")
    )
    return cpu, rss_kib * 1024


@dataclass
class Result:
    server: str
    chargers: int
    mode: str
    rate: float
    p50_ms: float
    p99_ms: float
    cpu_share: float
    load_cpu_share: float
    server_cpu_us_per_msg: float
    rss_per_connection_kib: float
    errors: int


async def _line(process: asyncio.subprocess.Process, timeout_s: float) -> str:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout_s)
    if not line:
        raise RuntimeError(f"process {process.pid} ended early")
    return line.decode().strip()


async def spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=2**28,
    )


async def run_case(server: str, chargers: int, mode: str, args: argparse.Namespace) -> Result:
    with tempfile.TemporaryDirectory() as folder:
        serving = await spawn(
            "--serve", server, "--size", str(chargers), "--db", f"{folder}/bench.sqlite3"
        )
        try:
            port = int((await _line(serving, 120)).split()[1])
            _, rss_before = process_stats(serving.pid)
            shares = [
                chargers // args.processes + (i < chargers % args.processes)
                for i in range(args.processes)
            ]
            loads, first = [], 1
            for share in shares:
                loads.append(
                    await spawn(
                        "--load",
                        f"ws://127.0.0.1:{port}",
                        "--first",
                        str(first),
                        "--size",
                        str(share),
                        "--mode",
                        mode,
                        "--interval",
                        str(args.interval),
                        "--duration",
                        str(args.duration),
                    )
                )
                first += share
            for process in loads:
                assert await _line(process, 300) == "CONNECTED"
            cpu_before, rss_connected = process_stats(serving.pid)
            wall_before = time.perf_counter()
            for process in loads:
                assert process.stdin is not None
                process.stdin.write(b"GO\n")
                await process.stdin.drain()
            reports = [json.loads(await _line(p, args.duration + 120)) for p in loads]
            cpu_after, _ = process_stats(serving.pid)
            wall = time.perf_counter() - wall_before
            for process in loads:
                await process.wait()
        finally:
            if serving.stdin is not None:
                serving.stdin.close()
            await serving.wait()
    latencies = sorted(x for report in reports for x in report["latencies_ms"])
    if not latencies:
        raise RuntimeError(f"{server}: no message was answered")
    count = len(latencies)
    elapsed = max(report["elapsed"] for report in reports)
    return Result(
        server=server,
        chargers=chargers,
        mode=mode,
        rate=count / elapsed,
        p50_ms=latencies[count // 2],
        p99_ms=latencies[min(count - 1, int(count * 0.99))],
        cpu_share=(cpu_after - cpu_before) / wall,
        server_cpu_us_per_msg=(cpu_after - cpu_before) / count * 1e6,
        load_cpu_share=sum(r["cpu_s"] for r in reports) / elapsed,
        errors=sum(r["errors"] for r in reports),
        rss_per_connection_kib=(rss_connected - rss_before) / chargers / 1024,
    )


async def measure(args: argparse.Namespace) -> int:
    results: list[Result] = []
    failed = False
    for chargers in args.chargers:
        for mode in ("back-to-back", "interval"):
            for server in args.servers:
                rates = []
                for _ in range(args.repeat):
                    try:
                        result = await run_case(server, chargers, mode, args)
                    except Exception as error:
                        print(f"{server} {chargers} {mode}: {error!r}", file=sys.stderr)
                        failed = True
                        continue
                    rates.append(result.rate)
                    results.append(result)
                if len(rates) > 1:
                    print(
                        f"{server} {chargers} {mode}: msgs/s median "
                        f"{statistics.median(rates):,.0f} "
                        f"(min {min(rates):,.0f}, max {max(rates):,.0f})",
                        file=sys.stderr,
                    )
    print(
        "| server | chargers | mode | msgs/s | p50 ms | p99 ms | server CPU "
        "| server CPU µs/msg | load CPU "
        "| RSS/conn KiB | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.server} | {r.chargers:,} | {r.mode} | {r.rate:,.0f} "
            f"| {r.p50_ms:.2f} | {r.p99_ms:.2f} "
            f"| {r.cpu_share:.0%} | {r.server_cpu_us_per_msg:,.0f} | {r.load_cpu_share:.0%} "
            f"| {r.rss_per_connection_kib:.1f} | {r.errors} |"
        )
    return 1 if failed or not results or any(r.errors for r in results) else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chargers", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument(
        "--servers",
        nargs="+",
        default=["echo", "bare", "amphub"],
        choices=["echo", "bare", "amphub", "amphub-jsonschema"],
    )
    parser.add_argument("--processes", type=int, default=2, help="load processes")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per case")
    parser.add_argument(
        "--interval", type=float, default=10.0, help="seconds between messages (interval mode)"
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        tune_gc()  # every server (and the baselines) with amphub serve's collector settings
    with event_loop_runner() as runner:  # uvloop, as `amphub serve` runs
        if args.serve == "echo":
            runner.run(serve_echo())
        elif args.serve == "bare":
            runner.run(serve_bare())
        elif args.serve in ("amphub", "amphub-jsonschema"):
            runner.run(serve_amphub(args.size, Path(args.db), args.serve == "amphub-jsonschema"))
        elif args.load:
            runner.run(
                load(args.load, args.first, args.size, args.mode, args.interval, args.duration)
            )
        else:
            return runner.run(measure(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
