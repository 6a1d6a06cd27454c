"""Operators own teams, teams own sites, sites hold charge points with connectors (SPEC §1)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from amphub.domain.errors import InvalidValue
from amphub.domain.geography import validate_bidding_zone, validate_country, validate_time_zone
from amphub.domain.units import PhaseRotation

IEC_61851_MIN_CURRENT_A = 6.0
"""The lowest current a charger may offer an EV under IEC 61851-1 (PWM duty cycle 10 %)."""

_OCPP_IDENTITY = re.compile(r"^[A-Za-z0-9*\-_=:+|@.]{1,48}$")
"""OCPP-J 1.6 §3.1 / 2.0.1 Part 4 §3.1.1: the identity is a URL path segment of at most 48
characters from the unreserved set; we allow the characters the specs list."""


def _required_text(field_name: str, value: str, max_length: int = 200) -> str:
    text = value.strip()
    if not text:
        raise InvalidValue(field_name, "must not be empty")
    if len(text) > max_length:
        raise InvalidValue(field_name, f"must be at most {max_length} characters")
    return text


@dataclass(frozen=True, slots=True)
class Operator:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Team:
    id: int
    operator_id: int
    name: str


@dataclass(frozen=True, slots=True)
class Address:
    street: str = ""
    postal_code: str = ""
    city: str = ""

    def one_line(self) -> str:
        return ", ".join(
            part for part in (self.street, f"{self.postal_code} {self.city}".strip()) if part
        )


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """What a user asks for when creating or editing a site, validated on construction."""

    name: str
    country: str
    bidding_zone: str
    time_zone: str
    address: Address = field(default_factory=Address)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _required_text("name", self.name))
        country = validate_country(self.country)
        object.__setattr__(self, "country", country)
        object.__setattr__(self, "bidding_zone", validate_bidding_zone(self.bidding_zone, country))
        object.__setattr__(self, "time_zone", validate_time_zone(self.time_zone))


@dataclass(frozen=True, slots=True)
class Site:
    id: int
    team_id: int
    operator_id: int
    spec: SiteSpec


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """A connector as wired: its phases, their rotation and the currents it may be given."""

    connector_id: int
    phases: int = 3
    phase_rotation: PhaseRotation = PhaseRotation.L1L2L3
    min_current_a: float = IEC_61851_MIN_CURRENT_A
    max_current_a: float = 32.0
    priority: int = 0

    def __post_init__(self) -> None:
        if self.connector_id < 1:
            raise InvalidValue("connector_id", "connectors are numbered from 1")
        if self.phases not in (1, 3):
            raise InvalidValue("phases", "a connector is wired on 1 or 3 phases")
        if self.min_current_a < IEC_61851_MIN_CURRENT_A:
            raise InvalidValue(
                "min_current_a", f"must be at least {IEC_61851_MIN_CURRENT_A} A (IEC 61851-1)"
            )
        if not self.min_current_a <= self.max_current_a <= 80.0:
            raise InvalidValue("max_current_a", "must lie between min_current_a and 80 A")


@dataclass(frozen=True, slots=True)
class ChargePointSpec:
    """A charge point as registered. Brand, model and firmware are overwritten by what the
    charger reports at boot."""

    ocpp_identity: str
    serial_number: str
    connectors: tuple[ConnectorSpec, ...]
    brand: str = ""
    model: str = ""
    firmware_version: str = ""
    address: Address = field(default_factory=Address)

    def __post_init__(self) -> None:
        if not _OCPP_IDENTITY.match(self.ocpp_identity):
            raise InvalidValue(
                "ocpp_identity",
                "1–48 characters of letters, digits and * - _ = : + | @ . (OCPP-J identity)",
            )
        object.__setattr__(
            self, "serial_number", _required_text("serial_number", self.serial_number, 64)
        )
        if not self.connectors:
            raise InvalidValue("connectors", "a charge point has at least one connector")
        ids = [connector.connector_id for connector in self.connectors]
        if len(set(ids)) != len(ids):
            raise InvalidValue("connectors", "connector ids must be unique")


@dataclass(frozen=True, slots=True)
class ChargePoint:
    id: int
    site_id: int
    team_id: int
    operator_id: int
    spec: ChargePointSpec
    created_at: datetime


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    name: str


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def validate_email(email: str) -> str:
    normalised = email.strip().lower()
    if not _EMAIL.match(normalised) or len(normalised) > 254:
        raise InvalidValue("email", f"{email!r} is not an e-mail address")
    return normalised


MIN_PASSWORD_LENGTH = 10


def validate_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 256:
        raise InvalidValue("password", "must be at most 256 characters")
    return password
