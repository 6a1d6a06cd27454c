"""The OCPP endpoint: ``ws(s)://HOST:PORT/ocpp/{charge_point_id}``, 1.6J and 2.0.1.

The handshake is decided before the upgrade (websockets' ``process_request``): a path that
is not ``/ocpp/<identity>`` or an unknown identity → 404, missing or wrong HTTP Basic
credentials → 401, a source address past its budget of refusals → 429, no ``ocpp1.6`` or
``ocpp2.0.1`` offered → 400, the store unreachable → 503. Nothing is written for a refused
handshake. The subprotocol is the first one the charger offers that amphub speaks.

Limits: frames above ``max_frame_bytes`` close the socket with 1009; a peer that does not
answer a ping within ``ping_interval_s`` is dropped, so a half-open socket is gone within
two ping intervals; permessage-deflate is off (it would cost ~64 KiB per connection).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import http
import logging
import math
import ssl
import weakref
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from amphub.adapters.ocpp.commander import OcppCommander
from amphub.adapters.ocpp.connection import ChargerConnection, Handlers
from amphub.adapters.ocpp.registry import ConnectionRegistry
from amphub.adapters.ocpp.rpc import SUBPROTOCOLS, Version
from amphub.adapters.ocpp.schemas import Schemas
from amphub.adapters.ocpp.v16 import Handlers16
from amphub.adapters.ocpp.v201 import Handlers201
from amphub.application.charging.commands import refresh_capabilities
from amphub.application.charging.errors import (
    AdmissionRefused,
    CommandError,
    RefusalReason,
    StoreUnavailable,
)
from amphub.application.charging.live import LiveChargerState
from amphub.application.charging.ports import ChargePointRecord
from amphub.application.charging.service import ChargingService

LOGGER = logging.getLogger(__name__)

MAX_IDENTITY_LENGTH = 48
_REFUSALS = {
    RefusalReason.UNKNOWN_IDENTITY: (http.HTTPStatus.NOT_FOUND, "Unknown charge point\n"),
    RefusalReason.BAD_CREDENTIALS: (http.HTTPStatus.UNAUTHORIZED, "Wrong or missing credentials\n"),
    RefusalReason.TOO_MANY_ATTEMPTS: (
        http.HTTPStatus.TOO_MANY_REQUESTS,
        "Too many refused attempts\n",
    ),
}


@dataclass(frozen=True, slots=True)
class OcppServerConfig:
    host: str = "127.0.0.1"
    port: int = 9000
    """0 picks a free port (see :attr:`OcppGateway.port`)."""
    path_prefix: str = "/ocpp/"
    max_frame_bytes: int = 64 * 1024
    ping_interval_s: float | None = 30.0
    call_timeout_s: float = 30.0
    open_timeout_s: float = 10.0
    close_timeout_s: float = 5.0
    ssl_cert: Path | None = None
    ssl_key: Path | None = None
    validate_replies: bool = False
    """Check amphub's own replies against the schemas (tests; costs CPU)."""


def ssl_context(cert: Path, key: Path) -> ssl.SSLContext:
    """Security profile 2: TLS 1.2 or newer (OCPP's minimum) with the server's certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def basic_credentials(headers: Headers, identity: str) -> tuple[str | None, str | None]:
    """(username, password) of an HTTP Basic Authorization header. An OCPP identity may
    contain ':', so a username equal to the identity is recognised before splitting."""
    header = headers.get("Authorization")
    if header is None:
        return None, None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    if decoded.startswith(f"{identity}:"):
        return identity, decoded[len(identity) + 1 :]
    username, separator, password = decoded.partition(":")
    return (username, password) if separator else (None, None)


def offered_subprotocols(headers: Headers) -> list[str]:
    return [
        protocol.strip()
        for header in headers.get_all("Sec-WebSocket-Protocol")
        for protocol in header.split(",")
        if protocol.strip()
    ]


class OcppGateway:
    """Owns the WebSocket server, the live connections and the tasks they start."""

    def __init__(
        self, config: OcppServerConfig, service: ChargingService, live: LiveChargerState
    ) -> None:
        self.config = config
        self._service = service
        self._live = live
        self.registry = ConnectionRegistry()
        self.commander = OcppCommander(self.registry)
        self._handlers: dict[Version, Handlers] = {
            Version.V16: Handlers16(service),
            Version.V201: Handlers201(service),
        }
        self._schemas = {version: Schemas(version) for version in Version}
        self._admitted: weakref.WeakKeyDictionary[
            ServerConnection, tuple[str, ChargePointRecord | None]
        ] = weakref.WeakKeyDictionary()
        self._server: Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the gateway first"
        port: int = next(iter(self._server.sockets)).getsockname()[1]
        return port

    @property
    def open_sockets(self) -> int:
        """WebSockets whose handler is still running (replaced ones included until closed)."""
        return 0 if self._server is None else len(self._server.connections)

    async def start(self) -> None:
        config = self.config
        tls = None
        if config.ssl_cert is not None and config.ssl_key is not None:
            tls = ssl_context(config.ssl_cert, config.ssl_key)
        self._server = await serve(
            self._serve_connection,
            config.host,
            config.port,
            process_request=self._process_request,
            subprotocols=[Subprotocol(version.subprotocol) for version in Version],
            select_subprotocol=self._select_subprotocol,
            max_size=config.max_frame_bytes,
            ping_interval=config.ping_interval_s,
            ping_timeout=config.ping_interval_s,
            open_timeout=config.open_timeout_s,
            close_timeout=config.close_timeout_s,
            compression=None,
            ssl=tls,
        )
        scheme = "wss" if tls else "ws"
        LOGGER.info(
            "OCPP endpoint %s://%s:%d%s{id}", scheme, config.host, self.port, config.path_prefix
        )

    async def stop(self) -> None:
        """Close every connection (1001, going away), wait for their handlers, then for
        the tasks the gateway started."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                LOGGER.error("%s failed", name, exc_info=finished.exception())

        task.add_done_callback(done)

    # -- handshake ---------------------------------------------------------------------------

    def _select_subprotocol(
        self, _: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        """The charger's first choice among the versions amphub speaks."""
        return next((protocol for protocol in offered if protocol in SUBPROTOCOLS), None)

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        path = urlsplit(request.path).path
        prefix = self.config.path_prefix
        identity = unquote(path[len(prefix) :]) if path.startswith(prefix) else ""
        if not identity or "/" in identity or len(identity) > MAX_IDENTITY_LENGTH:
            return connection.respond(http.HTTPStatus.NOT_FOUND, "Not found\n")
        if not any(p in SUBPROTOCOLS for p in offered_subprotocols(request.headers)):
            return connection.respond(
                http.HTTPStatus.BAD_REQUEST, "Offer the subprotocol ocpp1.6 or ocpp2.0.1\n"
            )
        username, password = basic_credentials(request.headers, identity)
        remote = connection.remote_address
        source = str(remote[0]) if remote else "unknown"
        try:
            record = await self._service.admit(identity, username, password, source)
        except AdmissionRefused as refusal:
            status, text = _REFUSALS[refusal.reason]
            LOGGER.warning(
                "OCPP handshake of %r from %s refused: %s", identity, source, refusal.reason
            )
            response = connection.respond(status, text)
            if refusal.reason is RefusalReason.BAD_CREDENTIALS:
                response.headers["WWW-Authenticate"] = 'Basic realm="amphub OCPP", charset="UTF-8"'
            if refusal.reason is RefusalReason.TOO_MANY_ATTEMPTS:
                response.headers["Retry-After"] = str(max(1, math.ceil(refusal.retry_after_s)))
            return response
        except StoreUnavailable as error:
            LOGGER.error("OCPP handshake of %r: store unavailable: %s", identity, error)
            return connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "Try again later\n")
        self._admitted[connection] = (identity, record)
        return None

    # -- connections -------------------------------------------------------------------------

    async def _serve_connection(self, websocket: ServerConnection) -> None:
        admitted = self._admitted.pop(websocket, None)
        version = SUBPROTOCOLS.get(websocket.subprotocol or "")
        if admitted is None or version is None:
            await websocket.close(1002, "no OCPP subprotocol negotiated")
            return
        identity, record = admitted
        session = self._service.open_session(identity, record, version.value)
        connection = ChargerConnection(
            websocket,
            session,
            version,
            self._handlers[version],
            self._schemas[version],
            call_timeout_s=self.config.call_timeout_s,
            validate_replies=self.config.validate_replies,
            on_ready=self._on_ready,
        )
        previous = self.registry.add(connection)
        if previous is not None:
            LOGGER.info("%s reconnected: the previous connection is closed", identity)
            self._spawn(
                previous.close(1000, "replaced by a newer connection"), f"{identity}: close"
            )
        LOGGER.info("%s connected (OCPP %s)", identity, version.value)
        try:
            await self._service.record_opened(session)
            await connection.run()
        finally:
            self.registry.remove(connection)
            await self._service.close_session(session)
            LOGGER.info("%s disconnected", identity)

    async def _on_ready(self, connection: ChargerConnection) -> None:
        """After the first accepted message of a connection: read what the charger says
        about its smart charging, for the balancer's dispatch."""
        charge_point_id = connection.charge_point_id
        if charge_point_id is None:
            return
        try:
            await refresh_capabilities(self.commander, self._live, charge_point_id)
        except CommandError as error:
            LOGGER.warning(
                "%s: smart charging capabilities not read: %s", connection.identity, error
            )
