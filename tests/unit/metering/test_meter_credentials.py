"""Generated serial numbers and PINs."""

from __future__ import annotations

import hashlib
import hmac

from amphub.application.metering import generate_pin, generate_serial, issue_credentials
from amphub.domain.metering import is_valid_serial, validate_pin


class Sha256Hasher:
    """Stands in for the argon2 hasher: the contract is hash/verify, nothing more."""

    def hash(self, secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    def verify(self, secret: str, hashed: str) -> bool:
        return hmac.compare_digest(self.hash(secret), hashed)


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
    hasher = Sha256Hasher()
    issued = issue_credentials(hasher)
    assert hasher.verify(issued.pin, issued.pin_hash)
    assert issued.pin not in repr(issued)
    again = issue_credentials(hasher, serial=issued.serial.lower())
    assert again.serial == issued.serial
    assert not hasher.verify(issued.pin, again.pin_hash) or issued.pin == again.pin
