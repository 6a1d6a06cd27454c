"""The meters' push (POST /api/v1/meter-readings) on a lean path past FastAPI's router.

Every meter pushes about once a second, so this one route carries most of the API's
requests. Through FastAPI each push paid for matching the path against every API route and
for the router's and the route's dependencies (two of them synchronous, so two trips to the
thread pool): about 1.7 ms of CPU per push in process, against 0.2 ms on this path, of which
amphub's own work on the reading is the larger part. This ASGI middleware answers the push
itself, with the same code as the FastAPI route (``answer_push``), which stays declared for
the OpenAPI document and answers whenever this path does not apply.

It sits inside the body size limit and the server-error middleware, so a body over the
limit still gets 413 and an unexpected error still a 500. A request with a query string goes
the slow way: the API refuses ids out of range in any query (``ids_in_range``), and a meter
sends none.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from amphub.bootstrap import Container
from amphub.entrypoints.api.routes.meters import PUSH_PATH, answer_push


class _Disconnected(Exception):
    """The meter went away before its body arrived: nobody to answer."""


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class MeterPushFastPath:
    def __init__(self, app: ASGIApp, *, prefix: str) -> None:
        self.app = app
        self.path = prefix + PUSH_PATH

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != self.path
            or scope["method"] != "POST"
            or scope.get("query_string")
        ):
            await self.app(scope, receive, send)
            return
        container: Container = scope["app"].state.container
        authorization = next(
            (
                value.decode("latin-1")
                for name, value in scope["headers"]
                if name == b"authorization"
            ),
            None,
        )
        client = scope.get("client")
        try:
            response = await answer_push(
                container, authorization, client[0] if client else "unknown",
                lambda: _read_body(receive),
            )  # fmt: skip
        except _Disconnected:
            return
        await response(scope, receive, send)


class _SuccessfulPushes(logging.Filter):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn's access line: (client, method, path with query, HTTP version, status)
        args = record.args
        return not (
            isinstance(args, tuple)
            and len(args) == 5
            and args[4] == 200
            and args[2] == self.path
            and args[1] == "POST"
        )


def unlog_successful_pushes(prefix: str) -> None:
    """Keep the pushes answered with 200 out of uvicorn's access log (refused ones stay).

    One line per meter and second would drown everything else in the log, and writing it
    cost about 40 % of the pushes one process takes per second (bench/RESULTS.md). Whether
    a meter is sending shows in its status and last reading, and in the ingestion counters.
    Idempotent: every server started in the process calls it.
    """
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, _SuccessfulPushes) for existing in access_log.filters):
        access_log.addFilter(_SuccessfulPushes(prefix + PUSH_PATH))
