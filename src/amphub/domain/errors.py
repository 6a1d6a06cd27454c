"""Errors the domain raises. Entry points turn them into 4xx answers naming the field."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused an input."""


class InvalidValue(DomainError):
    """A value is not acceptable; ``field`` names it the way the API does."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it does."""

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} not found")
        self.kind = kind
        self.ident = ident


class Conflict(DomainError):
    """The change clashes with what is stored (a duplicate, an object still in use)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Forbidden(DomainError):
    """The caller can see the object but may not do this to it."""
