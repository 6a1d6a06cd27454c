"""Typed, path-aware access to a parsed YAML mapping, for the scenario reader: every error
names the field the way the file spells it (``chargers[1].phases``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any


class ScenarioError(ValueError):
    pass


class Reader:
    """Typed access to one mapping of the file, remembering the path for errors."""

    def __init__(self, raw: Any, path: str) -> None:
        if not isinstance(raw, Mapping):
            raise ScenarioError(f"{path or 'scenario'}: must be a mapping")
        self.raw = dict(raw)
        self.path = path

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, message: str) -> ScenarioError:
        return ScenarioError(f"{self._name(key)}: {message}")

    def has(self, key: str) -> bool:
        return self.raw.get(key) is not None

    def get(self, key: str, default: Any = None, *, required: bool = False) -> Any:
        if key not in self.raw or self.raw[key] is None:
            if required:
                raise self.fail(key, "is required")
            return default
        return self.raw[key]

    def text(self, key: str, default: str | None = None) -> str:
        value = self.get(key, default, required=default is None)
        if isinstance(value, bool):  # the "Norway problem": YAML reads NO, no, off as false
            raise self.fail(key, "must be a text; put it in quotes (YAML reads NO as false)")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty text")
        return value.strip()

    def number(self, key: str, default: float | None = None, *, low: float = 0.0) -> float:
        value = self.get(key, default, required=default is None)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
            raise self.fail(key, f"must be a number ≥ {low:g}")
        return float(value)

    def integer(self, key: str, default: int | None = None, *, low: int = 0) -> int:
        value = self.get(key, default, required=default is None)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(key, f"must be a whole number ≥ {low}")
        return int(value)

    def choice(self, key: str, enum: type[StrEnum], default: StrEnum) -> Any:
        value = self.get(key, default.value)
        try:
            return enum(str(value))
        except ValueError:
            allowed = ", ".join(member.value for member in enum)
            raise self.fail(key, f"must be one of {allowed}") from None

    def child(self, key: str) -> Reader:
        return Reader(self.get(key, {}), self._name(key))

    def check_keys(self, *known: str) -> None:
        unknown = sorted(set(self.raw) - set(known))
        if unknown:
            raise self.fail(unknown[0], f"unknown field (known: {', '.join(known)})")


def read_datetime(reader: Reader, key: str, default: datetime | None = None) -> datetime:
    value = reader.get(key, default, required=default is None)
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise reader.fail(key, "must be an ISO 8601 date-time") from None


def read_values(reader: Reader, key: str, default: Any) -> list[Any]:
    """A single value or a list of values, cycled over the chargers."""
    value = reader.get(key, default)
    return list(value) if isinstance(value, list) else [value]
