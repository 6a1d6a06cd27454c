"""Generated serial numbers and PINs."""

from __future__ import annotations

from amphub.adapters.security.hashing import Argon2Hasher
from amphub.application.metering import generate_pin, generate_serial, issue_credentials
from amphub.domain.metering import is_valid_serial, validate_pin


def test_serials_are_valid_and_distinct() -> None:
    serials = {generate_serial() for _ in range(2000)}
    assert len(serials) == 2000
    assert all(is_valid_serial(serial) for serial in serials)


def test_pins_are_eight_digits_and_spread() -> None:
    pins = [generate_pin() for _ in range(2000)]
    assert all(validate_pin(pin) == pin for pin in pins)
    assert len(set(pins)) > 1990
    assert {pin[0] for pin in pins} == set("0123456789")  # leading zeros happen


def test_issue_and_regenerate() -> None:
    hasher = Argon2Hasher(fast=True)
    issued = issue_credentials(hasher)
    assert hasher.verify(issued.pin_hash, issued.pin)
    assert issued.pin not in repr(issued)
    again = issue_credentials(hasher, serial=issued.serial.lower())
    assert again.serial == issued.serial
    assert not hasher.verify(again.pin_hash, issued.pin) or issued.pin == again.pin
