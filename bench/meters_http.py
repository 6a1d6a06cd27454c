"""How many meter readings one amphub process accepts per second over HTTP, through the real
server: uvicorn, the PIN check (argon2 once, then a cached HMAC), parsing, validation, the
live state the balancer reads, and the SQL store (raw rows and per-minute aggregates).

amphub runs as ``amphub serve`` in its own process on a fresh SQLite file. The load comes
from ``wrk`` (Debian's package, C, its own process), so that the client is not what is
measured: each wrk thread owns a disjoint set of meters and posts their readings round-robin
with strictly increasing timestamps (a meter's readings must arrive in order; with several
times more meters than connections they nearly always do — a push overtaken by the meter's
next one on another connection is refused as out of order, and counted as refused). Two
kinds of push: one reading per POST, and batches of ``--batch`` readings per POST (a meter
that buffers). Same-run baselines on the same server and connections: a small static file,
and the login page (uvicorn + FastAPI + a template).

After the runs the server is stopped with SIGTERM and the stored rows are counted: every
reading answered with 200 must be in the database (more may be: wrk does not count the
requests still in flight when a run ends).

Latency: wrk's round trip is an upper bound of "receipt → available to the balancer" (the
reading is live before the answer is written); ``bench/meters.py`` measures that span inside
the process for MQTT.

Run: ``python bench/meters_http.py`` (a few minutes; needs ``apt-get install wrk``).
Exits non-zero if it could not measure or if an accepted reading was not stored.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

SECRET = "bench-secret-key-0123456789abcdef-0123456789"
STEP_MS = 5
"""Between a meter's timestamps: small enough that even the batched path stays behind the
clock (a reading more than 5 s ahead is refused), large enough to stay distinct in ms."""

LUA = """
local meters = {%(meters)s}
local threads = {}
local base_ms = %(base_ms)d

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local mine = {}
local counter = 0

function init(args)
  local n = %(threads)d
  for i, auth in ipairs(meters) do
    if (i - 1) %% n == id - 1 then table.insert(mine, {auth = auth, seq = 0}) end
  end
end

local function iso(ms)
  local whole = os.date("!%%Y-%%m-%%dT%%H:%%M:%%S", math.floor(ms / 1000))
  return whole .. string.format(".%%03dZ", ms %% 1000)
end

request = function()
  counter = counter + 1
  local m = mine[(counter %% #mine) + 1]
  local parts = {}
  for k = 1, %(batch)d do
    m.seq = m.seq + 1
    parts[k] = string.format(
      '{"measured_at":"%%s","currents_a":{"l1":%%.2f,"l2":%%.2f,"l3":%%.2f}}',
      iso(base_ms + m.seq * %(step_ms)d), math.random() * 40, math.random() * 40,
      math.random() * 40)
  end
  local body = parts[1]
  if %(batch)d > 1 then body = '{"readings":[' .. table.concat(parts, ",") .. ']}' end
  return wrk.format("POST", "/api/v1/meter-readings",
    {["Authorization"] = m.auth, ["Content-Type"] = "application/json"}, body)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-m", "amphub.entrypoints.cli_main", *args]
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True, timeout=60)
    return done.stdout


def provision(env: dict[str, str], meters: int) -> list[tuple[str, str]]:
    cli(env, "migrate")
    cli(env, "admin", "create-operator", "Bench")
    cli(env, "admin", "create-team", "Bench", "--operator", "1")
    cli(
        env, "admin", "create-site", "Bench", "--team", "1", "--country", "DK",
        "--bidding-zone", "DK2", "--time-zone", "Europe/Copenhagen",
    )  # fmt: skip
    # one process for all meters: a CLI call each took a few seconds of start-up apiece
    script = (
        "import asyncio, json\n"
        "from amphub.application.access import Actor\n"
        "from amphub.application.site_equipment import MeterSpec\n"
        "from amphub.bootstrap import build\n"
        "from amphub.domain.metering import MeterTransport\n"
        "from amphub.settings import load_settings\n"
        "async def main():\n"
        "    container = build(load_settings())\n"
        "    out = []\n"
        "    try:\n"
        f"        for _ in range({meters}):\n"
        "            created = await container.meters.register(\n"
        "                Actor.system('bench'), 1, MeterSpec('', 63.0, MeterTransport.HTTP))\n"
        "            out.append((created.meter.serial, created.pin))\n"
        "    finally:\n"
        "        await container.close()\n"
        "    print(json.dumps(out))\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    return [(serial, pin) for serial, pin in json.loads(done.stdout)]


def stored_readings(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute("SELECT count(*) FROM meter_readings").fetchone()[0])


def wrk(url: str, args: argparse.Namespace, script: Path | None) -> dict[str, float]:
    command = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s", "--latency",
        "--timeout", "10s",
    ]  # fmt: skip
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run(
        [*command, url], check=True, capture_output=True, text=True, timeout=args.seconds + 60
    ).stdout
    requests = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if requests is None:
        raise RuntimeError(out)
    seconds = float(requests.group(2)) / (1000 if requests.group(3) == "ms" else 1)
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)

    def latency(label: str) -> float:
        found = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        if found is None:
            return float("nan")
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
        return float(found.group(1)) * scale

    total = int(requests.group(1))
    bad = int(refused.group(1)) if refused else 0
    return {
        "seconds": seconds,
        "ok_per_s": (total - bad) / seconds,
        "refused": bad,
        "errors": sum(int(x) for x in errors.groups()) if errors else 0,
        "p50": latency("50"),
        "p99": latency("99"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meters", type=int, default=128, help="meters (≥ 4 × connections)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured run")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each kind")
    parser.add_argument("--batch", type=int, default=10, help="readings per POST, batched path")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install -y wrk", file=sys.stderr)
        return 1

    folder = Path(tempfile.mkdtemp(prefix="amphub-bench-http-"))
    database = folder / "bench.sqlite3"
    port = free_port()
    env = {
        **os.environ,
        "AMPHUB_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "AMPHUB_SECRET_KEY": SECRET,
        "AMPHUB_FAST_HASHING": "1",
        "AMPHUB_HTTP_PORT": str(port),
        "AMPHUB_OCPP_PORT": str(free_port()),
        "AMPHUB_FETCH_PRICES": "0",
        "AMPHUB_LOG_LEVEL": "WARNING",
    }
    credentials = provision(env, args.meters)
    auths = ", ".join(
        '"Basic ' + base64.b64encode(f"{s}:{p}".encode()).decode() + '"' for s, p in credentials
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "amphub.entrypoints.cli_main", "serve"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    readings_per_post = {"static": 0, "page": 0, "single": 1, "batch": args.batch}
    rows: dict[str, list[dict[str, float]]] = {kind: [] for kind in readings_per_post}
    answered = 0  # readings in pushes answered with 200, warm-up included
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            print("amphub did not start", file=sys.stderr)
            return 1
        for round_ in range(args.repeats + 1):  # the first round warms up (PIN checks, caches)
            results = {
                "static": wrk(f"{base}/static/amphub.css", args, None),
                "page": wrk(f"{base}/login", args, None),
            }
            for kind in ("single", "batch"):
                script = folder / f"readings-{round_}-{kind}.lua"
                script.write_text(
                    LUA
                    % {
                        "meters": auths, "base_ms": int(time.time() * 1000),
                        "threads": args.threads, "batch": readings_per_post[kind],
                        "step_ms": STEP_MS,
                    }
                )  # fmt: skip
                results[kind] = wrk(f"{base}/api/v1/meter-readings", args, script)
                answered += (
                    round(results[kind]["ok_per_s"] * results[kind]["seconds"])
                    * (readings_per_post[kind])
                )
            if round_:
                for kind, result in results.items():
                    rows[kind].append(result)
    finally:
        server.send_signal(signal.SIGTERM)  # a clean shutdown: what was accepted gets stored
        server.wait(60)
    stored = stored_readings(database)

    print(
        f"\n{args.meters} meters over {args.connections} connections ({args.threads} wrk "
        f"threads), {args.repeats} × {args.seconds} s each, one amphub process\n"
    )
    print(
        f"| {'path':<44} | {'requests/s median (min–max)':>27} | {'readings/s':>10} "
        f"| {'p50 ms':>7} | {'p99 ms':>7} | refused |"
    )
    print(f"|{'-' * 46}|{'-' * 28}:|{'-' * 11}:|{'-' * 8}:|{'-' * 8}:|--------:|")
    labels = {
        "static": "baseline: GET a static file",
        "page": "baseline: GET /login (FastAPI + template)",
        "single": "amphub: POST /api/v1/meter-readings, 1 each",
        "batch": f"amphub: POST /api/v1/meter-readings, {args.batch} each",
    }
    for kind, label in labels.items():
        rates = [r["ok_per_s"] for r in rows[kind]]
        spread = f"{statistics.median(rates):,.0f} ({min(rates):,.0f}–{max(rates):,.0f})"
        readings = (
            f"{statistics.median(rates) * readings_per_post[kind]:,.0f}"
            if readings_per_post[kind]
            else "–"
        )
        p50 = statistics.median(r["p50"] for r in rows[kind])
        p99 = statistics.median(r["p99"] for r in rows[kind])
        refused = int(sum(r["refused"] + r["errors"] for r in rows[kind]))
        print(
            f"| {label:<44} | {spread:>27} | {readings:>10} | {p50:>7.2f} | {p99:>7.2f} "
            f"| {refused:>7} |"
        )
    single = statistics.median(r["ok_per_s"] for r in rows["single"])
    page = statistics.median(r["ok_per_s"] for r in rows["page"])
    print(f"\namphub single readings / login page: {single / page:.2f}")
    print(
        f"stored after SIGTERM: {stored:,} readings; answered with 200 (as wrk counted): "
        f"{answered:,} — {'all stored' if stored >= answered else 'SOME LOST'}"
    )
    return 0 if single > 0 and stored >= answered else 1


if __name__ == "__main__":
    sys.exit(main())
