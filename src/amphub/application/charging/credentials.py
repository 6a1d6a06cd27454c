"""Charge point passwords (OCPP security profiles 1 and 2: HTTP Basic at the handshake).

The password is generated here, never chosen by a person: 24 characters from 62 symbols
(about 143 bits) out of the operating system's CSPRNG. Against a secret like that a slow
hash buys nothing — nobody can enumerate 2^143 candidates whatever each one costs — while it
would cost the server dearly: argon2 at user-password settings spends ~50 ms of CPU per
check, so 10,000 chargers reconnecting after a restart would queue for minutes. So the
stored form is a salted SHA-256 (constant-time comparison), microseconds per check.
User passwords and meter PINs, which people choose or type, keep the slow hasher.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from typing import Protocol

from amphub.application.access import Actor
from amphub.application.charging.ports import ChargePointDirectory
from amphub.domain.errors import InvalidValue, NotFound
from amphub.domain.tenancy import ChargePoint, ChargePointSpec, ConnectorSpec

PASSWORD_ALPHABET = string.ascii_letters + string.digits
MIN_PASSWORD_LENGTH = 16
MAX_PASSWORD_LENGTH = 40
"""OCPP 2.0.1 BasicAuthPassword and the 1.6 security whitepaper: 16 to 40 characters."""
DEFAULT_PASSWORD_LENGTH = 24

_SCHEME = "sha256"


def generate_charge_point_password(length: int = DEFAULT_PASSWORD_LENGTH) -> str:
    if not MIN_PASSWORD_LENGTH <= length <= MAX_PASSWORD_LENGTH:
        raise InvalidValue(
            "length", f"must lie between {MIN_PASSWORD_LENGTH} and {MAX_PASSWORD_LENGTH}"
        )
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


class ChargePointPasswordHasher:
    """A :class:`~amphub.application.ports.SecretHasher` for generated, high-entropy
    secrets only: ``sha256$<salt hex>$<digest hex>``."""

    def hash(self, secret: str) -> str:
        salt = secrets.token_bytes(16)
        digest = hashlib.sha256(salt + secret.encode()).hexdigest()
        return f"{_SCHEME}${salt.hex()}${digest}"

    def verify(self, stored_hash: str, secret: str) -> bool:
        scheme, _, rest = stored_hash.partition("$")
        salt_hex, _, digest = rest.partition("$")
        if scheme != _SCHEME or not digest:
            return False
        try:
            salt = bytes.fromhex(salt_hex)
        except ValueError:
            return False
        candidate = hashlib.sha256(salt + secret.encode()).hexdigest()
        return hmac.compare_digest(candidate, digest)


class ChargePointAdmin(Protocol):
    """What the credential use cases need from the tenancy service (which checks the
    actor's rights and writes the audit entry)."""

    async def create_charge_point(
        self, actor: Actor, site_id: int, spec: ChargePointSpec, password_hash: str | None = None
    ) -> ChargePoint: ...

    async def set_charge_point_password_hash(
        self, actor: Actor, charge_point_id: int, password_hash: str
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class NewChargePoint:
    charge_point: ChargePoint
    password: str
    """Shown once; only its hash is stored."""


async def add_charge_point(
    admin: ChargePointAdmin,
    hasher: ChargePointPasswordHasher,
    actor: Actor,
    *,
    identity: str,
    site_id: int,
    connectors: int = 1,
    phases: int = 3,
    max_current_a: float = 32.0,
    serial_number: str | None = None,
) -> NewChargePoint:
    """Register a charge point with ``connectors`` identical connectors and a fresh
    password (``amphub charge-point add``). The serial number defaults to the identity."""
    if not 1 <= connectors <= 32:
        raise InvalidValue("connectors", "must lie between 1 and 32")
    spec = ChargePointSpec(
        ocpp_identity=identity,
        serial_number=serial_number or identity,
        connectors=tuple(
            ConnectorSpec(connector_id=n, phases=phases, max_current_a=max_current_a)
            for n in range(1, connectors + 1)
        ),
    )
    password = generate_charge_point_password()
    charge_point = await admin.create_charge_point(actor, site_id, spec, hasher.hash(password))
    return NewChargePoint(charge_point, password)


async def set_charge_point_password(
    admin: ChargePointAdmin,
    directory: ChargePointDirectory,
    hasher: ChargePointPasswordHasher,
    actor: Actor,
    identity: str,
) -> str:
    """Replace the password of the charge point ``identity`` with a fresh one and return it
    (``amphub charge-point set-password``). The charger must be given it (1.6:
    ChangeConfiguration AuthorizationKey; 2.0.1: SetVariables BasicAuthPassword)."""
    record = await directory.find_by_identity(identity)
    if record is None:
        raise NotFound("charge point", identity)
    password = generate_charge_point_password()
    await admin.set_charge_point_password_hash(actor, record.charge_point_id, hasher.hash(password))
    return password
