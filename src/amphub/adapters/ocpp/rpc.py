"""OCPP-J framing: CALL / CALLRESULT / CALLERROR, and the error codes of each version.

The ``ocpp`` library's own parser answers nothing to a frame it cannot parse, names the
1.6 error ``FormatViolation`` (1.6 says ``FormationViolation``), uses the 2.1 spelling
``OccurrenceConstraintViolation`` for 1.6, and swaps NotImplemented/NotSupported. amphub
parses frames here instead and answers every CALL with the code its version defines.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

MAX_MESSAGE_ID_LENGTH = 36
"""Both versions: the messageId is a string of at most 36 characters."""
UNREADABLE_ID = "-1"
"""The messageId of a CALLERROR answering a frame whose own id could not be read."""


class Version(StrEnum):
    V16 = "1.6"
    V201 = "2.0.1"

    @property
    def subprotocol(self) -> str:
        return f"ocpp{self.value}"


SUBPROTOCOLS: dict[str, Version] = {version.subprotocol: version for version in Version}


class ErrorKind(Enum):
    """What went wrong, with the code each version gives it and the spec's description."""

    FORMAT = (
        "FormationViolation",
        "FormatViolation",
        "Payload for Action is syntactically incorrect or not conform the PDU structure",
    )
    RPC_FRAMEWORK = (
        "ProtocolError",
        "RpcFrameworkError",
        "Content of the message is not a valid RPC request",
    )
    MESSAGE_TYPE = (
        "ProtocolError",
        "MessageTypeNotSupported",
        "A message with an unknown MessageTypeId was received",
    )
    NOT_IMPLEMENTED = (
        "NotImplemented",
        "NotImplemented",
        "Requested Action is not known by receiver",
    )
    NOT_SUPPORTED = (
        "NotSupported",
        "NotSupported",
        "Requested Action is recognized but not supported by the receiver",
    )
    TYPE_CONSTRAINT = (
        "TypeConstraintViolation",
        "TypeConstraintViolation",
        "At least one of the fields violates data type constraints",
    )
    PROPERTY_CONSTRAINT = (
        "PropertyConstraintViolation",
        "PropertyConstraintViolation",
        "At least one field contains an invalid value",
    )
    OCCURRENCE_CONSTRAINT = (
        "OccurenceConstraintViolation",
        "OccurrenceConstraintViolation",
        "At least one of the fields violates occurrence constraints",
    )
    SECURITY = (
        "SecurityError",
        "SecurityError",
        "A security issue prevented the receiver from completing the Action",
    )
    INTERNAL = (
        "InternalError",
        "InternalError",
        "An internal error occurred and the receiver could not process the Action",
    )

    def code(self, version: Version) -> str:
        return self.value[0] if version is Version.V16 else self.value[1]

    @property
    def description(self) -> str:
        return self.value[2]


class RpcError(Exception):
    """A frame or a CALL that gets a CALLERROR (if ``answerable``: a broken reply from the
    charger is logged and dropped, never answered)."""

    def __init__(
        self,
        kind: ErrorKind,
        cause: str,
        unique_id: str = UNREADABLE_ID,
        *,
        answerable: bool = True,
    ) -> None:
        super().__init__(f"{kind.name}: {cause}")
        self.kind = kind
        self.cause = cause
        self.unique_id = unique_id
        self.answerable = answerable

    def frame(self, version: Version) -> str:
        return call_error_frame(version, self.unique_id, self.kind, self.cause)


@dataclass(frozen=True, slots=True)
class Call:
    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    unique_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallError:
    unique_id: str
    code: str
    description: str
    details: dict[str, Any]


Frame = Call | CallResult | CallError

_CALL, _RESULT, _ERROR = 2, 3, 4
_LENGTHS = {_CALL: 4, _RESULT: 3, _ERROR: 5}


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} does not fit a double")
    return value


def parse_frame(message: str | bytes) -> Frame:
    """Parse one WebSocket message; raises :class:`RpcError` saying how to answer."""
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError as error:
            raise RpcError(ErrorKind.FORMAT, "the message is not UTF-8 text") from error
    try:
        data = json.loads(message, parse_constant=_no_constants, parse_float=_finite)
    except (ValueError, RecursionError) as error:
        raise RpcError(ErrorKind.FORMAT, "the message is not valid JSON") from error
    if not isinstance(data, list) or not data:
        raise RpcError(ErrorKind.RPC_FRAMEWORK, "an OCPP-J message is a non-empty JSON array")
    type_id = data[0]
    unique_id = data[1] if len(data) > 1 and isinstance(data[1], str) else None
    if type(type_id) is not int or type_id not in _LENGTHS:
        raise RpcError(
            ErrorKind.MESSAGE_TYPE,
            f"MessageTypeId {type_id!r} is not 2, 3 or 4",
            unique_id
            if unique_id is not None and len(unique_id) <= MAX_MESSAGE_ID_LENGTH
            else UNREADABLE_ID,
        )
    answerable = type_id == _CALL
    if unique_id is None:
        raise RpcError(
            ErrorKind.RPC_FRAMEWORK, "the MessageId is not a string", answerable=answerable
        )
    if len(unique_id) > MAX_MESSAGE_ID_LENGTH:
        raise RpcError(
            ErrorKind.RPC_FRAMEWORK,
            f"the MessageId is longer than {MAX_MESSAGE_ID_LENGTH} characters",
            unique_id,
            answerable=answerable,
        )
    if len(data) != _LENGTHS[type_id]:
        raise RpcError(
            ErrorKind.RPC_FRAMEWORK,
            f"a message of type {type_id} has {_LENGTHS[type_id]} elements, not {len(data)}",
            unique_id,
            answerable=answerable,
        )
    if type_id == _CALL:
        action, payload = data[2], data[3]
        if not isinstance(action, str) or not action:
            raise RpcError(ErrorKind.RPC_FRAMEWORK, "the Action is not a string", unique_id)
        if not isinstance(payload, dict):
            raise RpcError(ErrorKind.FORMAT, "the payload is not a JSON object", unique_id)
        return Call(unique_id, action, payload)
    if type_id == _RESULT:
        if not isinstance(data[2], dict):
            raise RpcError(
                ErrorKind.FORMAT, "the payload is not a JSON object", unique_id, answerable=False
            )
        return CallResult(unique_id, data[2])
    code, description, details = data[2], data[3], data[4]
    if (
        not isinstance(code, str)
        or not isinstance(description, str)
        or not isinstance(details, dict)
    ):
        raise RpcError(ErrorKind.FORMAT, "malformed CALLERROR", unique_id, answerable=False)
    return CallError(unique_id, code, description, details)


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def payload_text(payload: dict[str, Any]) -> str:
    """A CALL's payload as JSON, to go into :func:`call_frame`."""
    return _dump(payload)


def call_frame(unique_id: str, action: str, payload_text: str) -> str:
    """A CALL around a payload already written by :func:`payload_text` (outgoing payloads
    are written once: the text is also what tells a payload validated before)."""
    return f"[{_CALL},{_dump(unique_id)},{_dump(action)},{payload_text}]"


def call_result_frame(unique_id: str, payload: dict[str, Any]) -> str:
    return _dump([_RESULT, unique_id, payload])


def call_error_frame(version: Version, unique_id: str, kind: ErrorKind, cause: str = "") -> str:
    details = {"cause": cause} if cause else {}
    return _dump([_ERROR, unique_id, kind.code(version), kind.description, details])
