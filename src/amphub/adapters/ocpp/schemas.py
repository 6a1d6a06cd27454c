"""The official OCPP JSON schemas (as shipped in the ``ocpp`` library), compiled once.

Differences from the library's own validation, on purpose:

- the validator class follows each schema's ``$schema`` (2.0.1 schemas are draft-06; the
  library validates everything as draft-04);
- validation runs inline, on predicates compiled from the same schemas
  (:mod:`.fastschema`): a few microseconds per message where ``jsonschema`` takes about
  half a millisecond, and no hop to a thread pool as in the library; ``jsonschema`` runs
  only to explain an invalid message;
- a violation maps to the error code the specification defines for it, per version:
  a wrong type or an overlong string → TypeConstraintViolation, a missing field or a wrong
  number of items → Occurence/OccurrenceConstraintViolation, a value outside its enum or
  range → PropertyConstraintViolation, an unknown property → Formation/FormatViolation;
- the 1.6 schemas that use ``multipleOf: 0.1`` are validated on Decimal numbers (the
  library does this too, but caches whichever parsing came first).
"""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from importlib import resources
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from amphub.adapters.ocpp.fastschema import Predicate, compile_schema
from amphub.adapters.ocpp.rpc import ErrorKind, RpcError, Version

_KINDS = {
    "type": ErrorKind.TYPE_CONSTRAINT,
    "maxLength": ErrorKind.TYPE_CONSTRAINT,
    "minLength": ErrorKind.TYPE_CONSTRAINT,
    "required": ErrorKind.OCCURRENCE_CONSTRAINT,
    "minItems": ErrorKind.OCCURRENCE_CONSTRAINT,
    "maxItems": ErrorKind.OCCURRENCE_CONSTRAINT,
    "minProperties": ErrorKind.OCCURRENCE_CONSTRAINT,
    "enum": ErrorKind.PROPERTY_CONSTRAINT,
    "minimum": ErrorKind.PROPERTY_CONSTRAINT,
    "maximum": ErrorKind.PROPERTY_CONSTRAINT,
    "exclusiveMinimum": ErrorKind.PROPERTY_CONSTRAINT,
    "exclusiveMaximum": ErrorKind.PROPERTY_CONSTRAINT,
    "multipleOf": ErrorKind.PROPERTY_CONSTRAINT,
    "pattern": ErrorKind.PROPERTY_CONSTRAINT,
    "format": ErrorKind.PROPERTY_CONSTRAINT,
    "additionalProperties": ErrorKind.FORMAT,
}


class _Compiled:
    __slots__ = ("decimal", "fast", "validator")

    def __init__(self, validator: Validator, decimal: bool, fast: Predicate | None) -> None:
        self.validator = validator
        self.decimal = decimal
        self.fast = fast


class Schemas:
    """Request and response schemas of one OCPP version."""

    def __init__(self, version: Version) -> None:
        self.version = version
        folder = "v16" if version is Version.V16 else "v201"
        self._directory = resources.files("ocpp").joinpath(folder, "schemas")
        self._request_suffix = "" if version is Version.V16 else "Request"
        self._cache: dict[str, _Compiled | None] = {}
        names = (entry.name for entry in self._directory.iterdir())
        self.actions = frozenset(
            name.removesuffix(".json").removesuffix("Request")
            for name in names
            if name.endswith(".json") and not name.endswith("Response.json")
        )

    def _compiled(self, name: str) -> _Compiled | None:
        if name not in self._cache:
            entry = self._directory.joinpath(f"{name}.json")
            if not entry.is_file():
                self._cache[name] = None
            else:
                text = entry.read_text(encoding="utf-8-sig")
                decimal = "multipleOf" in text
                schema = json.loads(text, parse_float=Decimal if decimal else float)
                validator = validator_for(schema)(schema)
                self._cache[name] = _Compiled(validator, decimal, compile_schema(schema))
        return self._cache[name]

    def check_request(self, action: str, payload: dict[str, Any], unique_id: str) -> None:
        """Raise :class:`RpcError` if ``payload`` is not a valid ``action`` request."""
        self._check(f"{action}{self._request_suffix}", payload, unique_id)

    def check_response(self, action: str, payload: dict[str, Any], unique_id: str) -> None:
        self._check(f"{action}Response", payload, unique_id)

    def _check(self, name: str, payload: dict[str, Any], unique_id: str) -> None:
        compiled = self._compiled(name)
        if compiled is None:
            raise RpcError(ErrorKind.NOT_IMPLEMENTED, f"no schema {name}", unique_id)
        if compiled.fast is not None and compiled.fast(payload):
            return
        instance: Any = payload
        if compiled.decimal:
            instance = json.loads(json.dumps(payload), parse_float=Decimal)
        errors = compiled.validator.iter_errors(instance)
        first = next(errors, None)
        if first is None:
            return
        error = best_match(itertools.chain([first], errors))
        kind = _KINDS.get(str(error.validator), ErrorKind.FORMAT)
        where = "/".join(str(part) for part in error.absolute_path) or "payload"
        raise RpcError(kind, f"{where}: {error.message}"[:300], unique_id)
