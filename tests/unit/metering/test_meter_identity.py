"""Serial number and PIN formats, and the meter's configuration bounds."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from amphub.domain.errors import InvalidValue
from amphub.domain.metering import (
    MeterConfig,
    MeterTransport,
    validate_pin,
    validate_serial,
)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("AMH-ABCD-EFGH-2345-67QZ", "AMH-ABCD-EFGH-2345-67QZ"),
        ("  amh-abcd-efgh-2345-67qz ", "AMH-ABCD-EFGH-2345-67QZ"),
    ],
)
def test_valid_serials_are_canonicalised(text: str, canonical: str) -> None:
    assert validate_serial(text) == canonical


@pytest.mark.parametrize(
    "text",
    [
        "",
        "AMH-ABCD-EFGH-2345",  # too short
        "AMH-ABCD-EFGH-2345-67QZ-AAAA",  # too long
        "AMH-ABCD-EFGH-2345-67Q1",  # 1 is not base32
        "AMH-ABCD-EFGH-2345-67Q0",  # nor is 0
        "XYZ-ABCD-EFGH-2345-67QZ",
        "AMH-ABCD/EFGH-2345-67QZ",
        "AMH-ABCD-EFGH-2345-67Q+",
        "AMH-ABCD-EFGH-2345-67Q#",
        "AMHABCDEFGH234567QZ",
    ],
)
def test_invalid_serials_are_refused(text: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        validate_serial(text)
    assert raised.value.field == "serial"


@pytest.mark.parametrize("pin", ["00000000", "12345678", "99999999"])
def test_eight_digit_pins_pass(pin: str) -> None:
    assert validate_pin(pin) == pin


@pytest.mark.parametrize(
    "pin",
    [
        "",
        "1234567",
        "123456789",
        "1234567a",
        " 12345678",
        "１２３４５６７８",
        "1234²678",
        "-1234567",
    ],
)
def test_other_pins_are_refused(pin: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        validate_pin(pin)
    assert raised.value.field == "pin"


def _config(**changes: object) -> MeterConfig:
    fields: dict[str, object] = {
        "meter_id": 1,
        "site_id": 2,
        "serial": "amh-abcd-efgh-2345-67qz",
        "main_fuse_a": 25.0,
        "transport": MeterTransport.HTTP,
    }
    fields.update(changes)
    return MeterConfig(**fields)  # type: ignore[arg-type]


def test_config_defaults_and_canonical_serial() -> None:
    config = _config()
    assert config.serial == "AMH-ABCD-EFGH-2345-67QZ"
    assert config.timeout == timedelta(seconds=30)
    assert config.frozen_after_n == 30


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"main_fuse_a": 0.0}, "main_fuse_a"),
        ({"main_fuse_a": -16.0}, "main_fuse_a"),
        ({"main_fuse_a": math.nan}, "main_fuse_a"),
        ({"main_fuse_a": 10_000.0}, "main_fuse_a"),
        ({"timeout": timedelta(seconds=1)}, "timeout_s"),
        ({"timeout": timedelta(hours=2)}, "timeout_s"),
        ({"frozen_after_n": 1}, "frozen_after_n"),
        ({"serial": "nope"}, "serial"),
    ],
)
def test_config_bounds(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        _config(**changes)
    assert raised.value.field == field


def test_frozen_rule_may_be_switched_off() -> None:
    assert _config(frozen_after_n=None).frozen_after_n is None
