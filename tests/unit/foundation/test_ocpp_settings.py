"""The gateway's limits come from the settings (AMPHUB_OCPP_*), with the issue's defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from amphub.bootstrap import build
from tests.support.live import make_settings


async def test_defaults_are_64_kib_frames_30_s_pings_and_30_s_calls(tmp_path: Path) -> None:
    container = build(make_settings(tmp_path / "a.sqlite3"))
    try:
        config = container.gateway.config
        assert (config.max_frame_bytes, config.ping_interval_s, config.call_timeout_s) == (
            65536,
            30.0,
            30.0,
        )
    finally:
        await container.close()


async def test_environment_sets_the_gateway_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMPHUB_OCPP_MAX_FRAME_BYTES", "8192")
    monkeypatch.setenv("AMPHUB_OCPP_PING_INTERVAL_S", "0")
    monkeypatch.setenv("AMPHUB_OCPP_CALL_TIMEOUT_S", "2.5")
    container = build(make_settings(tmp_path / "a.sqlite3"))
    try:
        config = container.gateway.config
        assert config.max_frame_bytes == 8192
        assert config.ping_interval_s is None  # 0 turns pings off
        assert config.call_timeout_s == 2.5
    finally:
        await container.close()


@pytest.mark.parametrize(
    "field",
    [{"ocpp_max_frame_bytes": 100}, {"ocpp_call_timeout_s": 0}, {"ocpp_ping_interval_s": -1}],
)
def test_absurd_limits_are_refused(tmp_path: Path, field: dict[str, float]) -> None:
    with pytest.raises(ValidationError) as refused:
        make_settings(tmp_path / "a.sqlite3", **field)
    assert next(iter(field)) in str(refused.value)
