"""Errors of the charging use cases. The OCPP adapters map them to wire answers (HTTP status
at the handshake, CALLERROR codes afterwards); the REST API maps the command errors."""

from __future__ import annotations

from enum import StrEnum


class ChargingError(Exception):
    """Base of every error raised by :mod:`amphub.application.charging`."""


class StoreUnavailable(ChargingError):
    """The store did not take the write. Nothing was answered as done: the charger keeps
    the message and retries (the OCPP adapter answers InternalError)."""


class RefusalReason(StrEnum):
    UNKNOWN_IDENTITY = "unknown_identity"
    BAD_CREDENTIALS = "bad_credentials"
    TOO_MANY_ATTEMPTS = "too_many_attempts"


class AdmissionRefused(ChargingError):
    """A charger may not connect. ``retry_after_s`` is set for TOO_MANY_ATTEMPTS."""

    def __init__(self, reason: RefusalReason, retry_after_s: float = 0.0) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.retry_after_s = retry_after_s


class NotAccepted(ChargingError):
    """The charger's boot is Pending or Rejected: it may only send BootNotification."""


class CommandError(ChargingError):
    """An outgoing call did not do what was asked."""


class ChargerOffline(CommandError):
    """The charger has no connection here (or lost it while the call was queued or in
    flight). Nothing is known to have reached it."""


class CommandTimedOut(CommandError):
    """The call went out but no answer came within the timeout: the charger may or may not
    have acted on it."""


class CommandRejected(CommandError):
    """The charger answered with a refusal status (Rejected, NotSupported, …)."""

    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"{action}: the charger answered {status}")
        self.action = action
        self.status = status


class CommandFailed(CommandError):
    """The charger answered with a CALLERROR, or with a reply that is not valid OCPP."""

    def __init__(self, action: str, error_code: str, description: str = "") -> None:
        super().__init__(f"{action}: {error_code} {description}".strip())
        self.action = action
        self.error_code = error_code
        self.description = description


class CommandNotSupported(CommandError):
    """The request cannot be sent to this charger: its OCPP version has no such call, or it
    said it cannot take this (a stack level above its maximum, a rate unit it lacks)."""
