"""The system under test of ``bench/dispatch_latency.py``: amphub in its own process
(``amphub serve`` on a temp SQLite file, AMPHUB_* settings), provisioned over its REST API;
an HTTP meter that notes when each reading was sent; py-spy sampling of the amphub process.
"""

from __future__ import annotations

import collections
import datetime as dt
import math
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

SECRET = "bench-secret-key-0123456789abcdef-0123456789"
EMAIL, PASSWORD = "bench@example.com", "bench password 0123456789"
OWN_CODE = ("amphub/application/", "amphub/adapters/", "amphub/domain/", "websockets/")
"""Frames worth a line in the profile summary (not the entry points every sample shares)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Amphub:
    workdir: Path
    cycle_s: float
    http_port: int = field(default_factory=free_port)
    ocpp_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AMPHUB_")}
        return env | {
            "AMPHUB_DATABASE_URL": f"sqlite+aiosqlite:///{self.workdir / 'amphub.sqlite3'}",
            "AMPHUB_SECRET_KEY": SECRET,
            "AMPHUB_FAST_HASHING": "1",
            "AMPHUB_LOG_LEVEL": "WARNING",
            "AMPHUB_HTTP_PORT": str(self.http_port),
            "AMPHUB_OCPP_PORT": str(self.ocpp_port),
            "AMPHUB_BALANCING_CYCLE_S": str(self.cycle_s),
            "AMPHUB_NEW_PASSWORD": PASSWORD,
        }

    def cli(self, *args: str) -> None:
        cli = [sys.executable, "-m", "amphub.entrypoints.cli_main"]
        subprocess.run([*cli, *args], env=self.env, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self.cli("migrate")
        self.cli("admin", "create-user", EMAIL, "--name", "Bench")
        command = [sys.executable, "-m", "amphub.entrypoints.cli_main", "serve"]
        with (self.workdir / "amphub.log").open("wb") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=log)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # a clean shutdown, as Ctrl-C
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def log_tail(self) -> str:
        path = self.workdir / "amphub.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"


def provision(
    hub: Amphub, charge_points: int, connectors: int, total_a: float, buffer_a: float,
    fail_safe_a: float,
) -> dict[str, Any]:  # fmt: skip
    """Over the REST API, as an operator would: a site, its charge points, an HTTP meter and
    one group of them all. Returns the chargers' and the meter's secrets."""
    http = httpx.Client(base_url=f"http://127.0.0.1:{hub.http_port}/api/v1", timeout=30)
    deadline = time.monotonic() + 30
    while True:
        try:
            token = http.post("/auth/token", json={"email": EMAIL, "password": PASSWORD})
            if token.status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or (hub.process and hub.process.poll() is not None):
            raise RuntimeError("amphub did not start")
        time.sleep(0.2)
    http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def post(path: str, body: dict[str, Any], method: str = "POST") -> dict[str, Any]:
        response = http.request(method, path, json=body)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        result: dict[str, Any] = response.json()
        return result

    operator = post("/operators", {"name": "Bench operator"})["id"]
    team = post(f"/operators/{operator}/teams", {"name": "Bench team"})["id"]
    address = {"street": "Benchvej 1", "postal_code": "2300", "city": "København"}
    place = {"country": "DK", "bidding_zone": "DK2", "time_zone": "Europe/Copenhagen"}
    site = post(f"/teams/{team}/sites", {"name": "Garage", "address": address, **place})["id"]
    wired = [
        {"connector_id": n, "phases": 3, "max_current_a": 32} for n in range(1, connectors + 1)
    ]
    creds, ids = [], []
    for n in range(charge_points):
        identity = f"CP{n:03d}"
        body = {"ocpp_identity": identity, "serial_number": f"SN{n:03d}", "connectors": wired}
        created = post(f"/sites/{site}/charge-points", body)
        creds.append((identity, created["ocpp_password"]))
        ids.append(created["id"])
    meter = post(f"/sites/{site}/meters", {"name": "Main", "main_fuse_a": total_a})
    group = post(
        f"/sites/{site}/groups",
        {
            "name": "Garage",
            "total_a": total_a,
            "meter_id": meter["id"],
            "placement": "BUILDING_ONLY",
            "dynamic_buffer_a": buffer_a,
            "meter_timeout_s": 30,
            "fail_safe_a": fail_safe_a,
        },
    )
    post(f"/groups/{group['id']}/layout", {"charge_point_ids": ids}, "PUT")
    http.close()
    return {"creds": creds, "serial": meter["serial"], "pin": meter["pin"]}


class Meter:
    """An HTTP meter: each push notes when it was sent (``time.time_ns``) and its round trip."""

    def __init__(self, port: int, serial: str, pin: str) -> None:
        base = f"http://127.0.0.1:{port}/api/v1"
        self._http = httpx.Client(base_url=base, auth=(serial, pin), timeout=10)
        self._tick = 0

    def push(self, load_a: float) -> tuple[int, float]:
        # Hundredths below the figure: never the same values twice (a frozen meter is
        # refused), and never enough to change a limit.
        load_a -= 0.01 * (self._tick % 4)
        self._tick += 1
        body = {
            "measured_at": dt.datetime.now(dt.UTC).isoformat(),
            "currents_a": {"l1": load_a, "l2": load_a, "l3": load_a},
        }
        request = self._http.build_request("POST", "/meter-readings", json=body)
        sent, start = time.time_ns(), time.perf_counter_ns()
        response = self._http.send(request)
        rtt_ms = (time.perf_counter_ns() - start) / 1e6
        if response.status_code != 200 or response.json().get("accepted") != 1:
            raise RuntimeError(f"reading refused: {response.status_code} {response.text}")
        return sent, rtt_ms


def py_spy(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes] | None:
    """Sample amphub with py-spy (if installed) while the steps run."""
    binary = Path(sys.executable).with_name("py-spy")
    if not binary.exists():
        print("py-spy is not installed in this environment: no profile", file=sys.stderr)
        return None
    command = [str(binary), "record", "--nonblocking", "--format", "raw", "--rate", "200"]
    command += ["--duration", str(math.ceil(seconds)), "--pid", str(pid), "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def hot_spots(raw: Path, top: int = 25) -> str:
    """The amphub functions with the most samples (inclusive), from py-spy's raw output."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        total += int(samples)
        for frame in {f for f in stack.split(";") if any(p in f for p in OWN_CODE)}:
            counts[frame] += int(samples)
    lines = [
        f"{n:6d} {100 * n / max(total, 1):5.1f}%  {frame}" for frame, n in counts.most_common(top)
    ]
    return f"py-spy: {total} samples of amphub, inclusive:\n" + "\n".join(lines)
