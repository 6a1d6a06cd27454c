"""Domain errors become HTTP answers in FastAPI's own error shape, naming the field."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from amphub.application.auth import InvalidCredentials, TooManyAttempts
from amphub.application.charging.errors import (
    ChargerOffline,
    CommandError,
    CommandFailed,
    CommandNotSupported,
    CommandRejected,
    CommandTimedOut,
)
from amphub.application.meter_auth import MeterAuthRateLimited
from amphub.domain.errors import Conflict, Forbidden, InvalidValue, NotFound

log = logging.getLogger(__name__)


def _field_error(status: int, location: str, field: str, message: str, kind: str) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"detail": [{"loc": [location, field], "msg": message, "type": kind}]},
    )


def too_many_attempts(error: TooManyAttempts | MeterAuthRateLimited) -> JSONResponse:
    seconds = int(error.retry_after.total_seconds()) + 1
    return JSONResponse(
        status_code=429, content={"detail": str(error)}, headers={"Retry-After": str(seconds)}
    )


_COMMAND_STATUS: list[tuple[type[CommandError], int]] = [
    (ChargerOffline, 409),
    (CommandTimedOut, 504),
    (CommandRejected, 409),
    (CommandNotSupported, 422),
    (CommandFailed, 502),
]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CommandError)
    async def command_failed(_: Request, error: CommandError) -> JSONResponse:
        """The charger did not do it: offline (409), no answer in time (504; it may have
        acted), refused (409), cannot (422), or answered with an error (502)."""
        status = next((code for kind, code in _COMMAND_STATUS if isinstance(error, kind)), 502)
        return JSONResponse(
            status_code=status, content={"detail": str(error), "error": type(error).__name__}
        )

    @app.exception_handler(InvalidValue)
    async def invalid(_: Request, error: InvalidValue) -> JSONResponse:
        return _field_error(422, "body", error.field, error.message, "value_error")

    @app.exception_handler(Conflict)
    async def conflict(_: Request, error: Conflict) -> JSONResponse:
        return _field_error(409, "body", error.field, error.message, "conflict")

    @app.exception_handler(NotFound)
    async def not_found(_: Request, error: NotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": f"{error.kind} not found"})

    @app.exception_handler(Forbidden)
    async def forbidden(_: Request, error: Forbidden) -> JSONResponse:
        return JSONResponse(status_code=403, content={"detail": str(error)})

    @app.exception_handler(InvalidCredentials)
    async def unauthorised(_: Request, error: InvalidCredentials) -> JSONResponse:
        return JSONResponse(
            status_code=401,
            content={"detail": str(error)},
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(TooManyAttempts)
    async def too_many(_: Request, error: TooManyAttempts) -> JSONResponse:
        return too_many_attempts(error)
