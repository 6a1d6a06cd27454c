"""`amphub serve` in its own process, as deployed: a clean shutdown stores every reading
amphub accepted (pushed over HTTP while the database is locked, so that they wait in the
writer's queue, then SIGTERM — as systemd and docker stop a service), and the access log
leaves out the pushes answered with 200 but keeps the refused ones."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from typer.testing import CliRunner

from amphub.entrypoints.cli import app
from tests.support.live import TEST_SECRET

runner = CliRunner()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def provision(env: dict[str, str]) -> tuple[str, str]:
    for args in (
        ["migrate"],
        ["admin", "create-operator", "Op"],
        ["admin", "create-team", "T", "--operator", "1"],
        ["admin", "create-site", "S", "--team", "1", "--country", "DK",
         "--bidding-zone", "DK2", "--time-zone", "Europe/Copenhagen"],
    ):  # fmt: skip
        assert runner.invoke(app, args, env=env).exit_code == 0, args
    added = runner.invoke(app, ["meter", "add", "--site", "1", "--main-fuse", "63"], env=env)
    serial = re.search(r"serial number: (\S+)", added.output)
    pin = re.search(r"PIN: (\d{8})", added.output)
    assert serial and pin, added.output
    return serial.group(1), pin.group(1)


def stored(database: Path) -> tuple[int, int]:
    with sqlite3.connect(database) as connection:
        raw = connection.execute("SELECT count(*) FROM meter_readings").fetchone()[0]
        minutes = connection.execute("SELECT coalesce(sum(count), 0) FROM meter_minutes")
        return int(raw), int(minutes.fetchone()[0])


def test_sigterm_stores_the_readings_still_queued(tmp_path: Path) -> None:
    database = tmp_path / "shutdown.sqlite3"
    port = free_port()
    env = {
        **os.environ,
        "AMPHUB_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "AMPHUB_SECRET_KEY": TEST_SECRET,
        "AMPHUB_FAST_HASHING": "1",
        "AMPHUB_HTTP_PORT": str(port),
        "AMPHUB_OCPP_PORT": "0",
        "AMPHUB_FETCH_PRICES": "0",
        "AMPHUB_LOG_LEVEL": "INFO",
    }
    serial, pin = provision(env)
    server = subprocess.Popen(
        [sys.executable, "-m", "amphub.entrypoints.cli_main", "serve"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lock = sqlite3.connect(database, isolation_level=None)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "amphub did not start"
            time.sleep(0.1)
        start = datetime.now(UTC) - timedelta(seconds=5)
        with httpx.Client(base_url=base, auth=(serial, pin)) as client:
            # the first push makes the meter ACTIVE; its status event is stored as well
            first = client.post("/api/v1/meter-readings", json=_reading(start, 0))
            assert first.status_code == 200, first.text
            wrong = client.post(
                "/api/v1/meter-readings", json=_reading(start, 1), auth=(serial, "x")
            )
            assert wrong.status_code == 401
            lock.execute("BEGIN IMMEDIATE")  # the writer waits for this (busy timeout 5 s)
            accepted = 1
            for second in range(1, 4):
                batch = {"readings": [_reading(start, second * 1000 + i * 10) for i in range(50)]}
                response = client.post("/api/v1/meter-readings", json=batch)
                assert response.status_code == 200, response.text
                accepted += response.json()["accepted"]
        assert accepted == 151
        assert stored(database)[0] < accepted  # the rest is in the queue
        server.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # amphub is closing now, waiting for the lock
        lock.execute("ROLLBACK")
        assert server.wait(30) == -signal.SIGTERM  # ended by the signal, as before, but later
    finally:
        lock.close()
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.stderr is not None and server.stdout is not None
    log = server.stderr.read()
    access = server.stdout.read()
    assert stored(database) == (accepted, accepted), log
    with sqlite3.connect(database) as connection:
        status = connection.execute("SELECT status FROM meters").fetchone()[0]
    assert status == "ACTIVE"
    assert '"POST /api/v1/meter-readings HTTP/1.1" 401' in access, access
    assert '"GET /login HTTP/1.1" 200' in access
    assert '"POST /api/v1/meter-readings HTTP/1.1" 200' not in access


def _reading(start: datetime, offset_ms: int) -> dict[str, object]:
    at = start + timedelta(milliseconds=offset_ms)
    return {
        "measured_at": at.isoformat().replace("+00:00", "Z"),
        "currents_a": {"l1": offset_ms % 40 + 0.5, "l2": 1.0, "l3": 2.0},
    }
