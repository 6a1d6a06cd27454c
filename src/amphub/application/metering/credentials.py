"""A meter's serial number and PIN (seed 002): generated here, typed in by the installer.

The PIN is shown once and only its hash is kept. Serials carry 80 random bits, so a clash
is astronomically unlikely; the store's unique constraint is the final word.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from amphub.application.metering.ports import SecretHasher
from amphub.domain.metering import PIN_LENGTH, validate_serial
from amphub.domain.metering.meter import SERIAL_PREFIX

_SERIAL_RANDOM_BYTES = 10  # 80 bits → 16 base32 characters, no padding


def generate_serial() -> str:
    """A fresh serial number such as ``AMH-7QKX-M2DA-Z4PE-JN3B``."""
    text = base64.b32encode(secrets.token_bytes(_SERIAL_RANDOM_BYTES)).decode("ascii")
    groups = [text[i : i + 4] for i in range(0, len(text), 4)]
    return validate_serial("-".join([SERIAL_PREFIX, *groups]))


def generate_pin() -> str:
    """Eight random digits, leading zeros included (10⁸ possibilities; wrong PINs are
    rate-limited at the door)."""
    return f"{secrets.randbelow(10**PIN_LENGTH):0{PIN_LENGTH}d}"


@dataclass(frozen=True, slots=True)
class IssuedCredentials:
    """``pin`` is for showing once; store ``serial`` and ``pin_hash``."""

    serial: str
    pin: str
    pin_hash: str

    def __repr__(self) -> str:  # keep the PIN out of logs and tracebacks
        return f"IssuedCredentials(serial={self.serial!r}, pin='********')"


def issue_credentials(hasher: SecretHasher, *, serial: str | None = None) -> IssuedCredentials:
    """New credentials; pass the existing ``serial`` to regenerate only the PIN."""
    pin = generate_pin()
    chosen = generate_serial() if serial is None else validate_serial(serial)
    return IssuedCredentials(serial=chosen, pin=pin, pin_hash=hasher.hash(pin))
