"""The compatibility list: which brands and models (and firmware versions) may join."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from amphub.domain.errors import InvalidValue

# -- firmware versions ----------------------------------------------------------------------

_RELEASE = re.compile(r"\d+(?:\.\d+)*")


def parse_version(text: str) -> tuple[int, ...] | None:
    """The release numbers of a firmware version, comparable as a tuple.

    The first run of dot-separated numbers counts ('v4.1.0-rc2' → (4, 1), 'EVB_1.10.5' →
    (1, 10, 5)); trailing zeros are dropped so that '4.1' equals '4.1.0'; each part compares
    as a number, so 4.10 is newer than 4.9. Pre-release suffixes are ignored. None when the
    text holds no number at all.
    """
    found = _RELEASE.search(text)
    if found is None:
        return None
    parts = [int(part) for part in found.group().split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _version_field(field_name: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) > 50:
        raise InvalidValue(field_name, "must be at most 50 characters")
    if parse_version(text) is None:
        raise InvalidValue(field_name, f"{value!r} is not a version number such as 4.1.0")
    return text


@dataclass(frozen=True, slots=True)
class CompatibilityRule:
    """A brand and model that may join, optionally only with firmware in
    [``firmware_min``, ``firmware_below``): the lower bound included, the upper excluded, so
    that "below 5.0" covers every 4.x release."""

    brand: str
    model: str
    firmware_min: str | None = None
    firmware_below: str | None = None

    def __post_init__(self) -> None:
        for name in ("brand", "model"):
            text = " ".join(str(getattr(self, name)).split())
            if not text:
                raise InvalidValue(name, "must not be empty")
            if len(text) > 50:
                raise InvalidValue(name, "must be at most 50 characters")
            object.__setattr__(self, name, text)
        low = _version_field("firmware_min", self.firmware_min)
        high = _version_field("firmware_below", self.firmware_below)
        object.__setattr__(self, "firmware_min", low)
        object.__setattr__(self, "firmware_below", high)
        if low is not None and high is not None and _key(low) >= _key(high):
            raise InvalidValue("firmware_below", f"must be a later version than {low}")

    def same_model(self, brand: str, model: str) -> bool:
        """Brand and model compare case- and spacing-blind: chargers report 'EASEE' too."""
        return _norm(self.brand) == _norm(brand) and _norm(self.model) == _norm(model)

    @property
    def any_firmware(self) -> bool:
        return self.firmware_min is None and self.firmware_below is None

    def admits(self, version: tuple[int, ...]) -> bool:
        if self.firmware_min is not None and version < _key(self.firmware_min):
            return False
        return self.firmware_below is None or version < _key(self.firmware_below)

    def describe_range(self) -> str:
        if self.firmware_min is not None and self.firmware_below is not None:
            return f"{self.firmware_min} up to (not including) {self.firmware_below}"
        if self.firmware_min is not None:
            return f"{self.firmware_min} or later"
        if self.firmware_below is not None:
            return f"below {self.firmware_below}"
        return "any"


def _key(version: str) -> tuple[int, ...]:
    parsed = parse_version(version)
    assert parsed is not None, "rule versions are checked on construction"
    return parsed


@dataclass(frozen=True, slots=True)
class CompatibilityEntry:
    id: int
    operator_id: int
    rule: CompatibilityRule
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Compatibility:
    compatible: bool
    reason: str


def check_compatibility(
    brand: str, model: str, firmware_version: str, rules: Iterable[CompatibilityRule]
) -> Compatibility:
    """Is this charger on the list, and why (or why not), in words for the sign-up flow."""
    if not brand.strip() or not model.strip():
        return Compatibility(
            False, "brand and model are unknown until the charger reports them when it boots"
        )
    name = f"{brand.strip()} {model.strip()}"
    matching = [rule for rule in rules if rule.same_model(brand, model)]
    if not matching:
        return Compatibility(False, f"{name} is not on the PowerBank compatibility list")
    if any(rule.any_firmware for rule in matching):
        return Compatibility(True, f"{name} is on the PowerBank compatibility list")
    ranges = " or ".join(rule.describe_range() for rule in matching)
    version = parse_version(firmware_version)
    if version is None:
        shown = repr(firmware_version.strip()) if firmware_version.strip() else "unknown"
        return Compatibility(
            False, f"{name} is compatible with firmware {ranges}; this one's firmware is {shown}"
        )
    if any(rule.admits(version) for rule in matching):
        return Compatibility(
            True, f"{name} with firmware {firmware_version.strip()} is on the compatibility list"
        )
    return Compatibility(
        False,
        f"firmware {firmware_version.strip()} of {name} is outside the compatible versions "
        f"({ranges})",
    )
