"""`amphub demo` as a person runs it: it starts, prints a login that works, serves the login
page and the API, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.live import bound_socket


def test_demo_starts_prints_a_working_login_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "amphub.entrypoints.cli_main",
            "demo",
            "--port",
            str(port),
            "--database",
            str(tmp_path / "demo.sqlite3"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # tests talk to 127.0.0.1 only, on free ports
        env={**os.environ, "AMPHUB_FETCH_PRICES": "0", "AMPHUB_OCPP_PORT": "0"},
    )
    try:
        output = ""
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while "password" not in output and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output += line
        match = re.search(r"log in as (\S+) with password (\S+)", output)
        assert match, output
        email, password = match.groups()
        base = f"http://127.0.0.1:{port}"
        assert "Log in" in httpx.get(f"{base}/login").text
        token = httpx.post(
            f"{base}/api/v1/auth/token", json={"email": email, "password": password}
        ).json()["access_token"]
        sites = httpx.get(
            f"{base}/api/v1/sites", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert [s["bidding_zone"] for s in sites] == ["DK2"]
        process.send_signal(signal.SIGINT)
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
