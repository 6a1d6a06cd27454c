"""The official OCPP schemas compiled into plain Python predicates: the fast path.

``jsonschema`` walks a schema anew for every message (≈0.5 ms for a four-value 1.6
MeterValues on this machine); the predicates built here answer "valid or not" in a few
microseconds. They cover exactly the keywords the OCPP 1.6 and 2.0.1 schemas use (type,
properties, required, additionalProperties: false, enum of strings, maxLength, items,
minItems/maxItems, minimum/maximum and local ``$ref``) with ``jsonschema``'s semantics for
draft-04 and draft-06. A schema with anything else compiles to None and is left to
``jsonschema``; so is every invalid message, which ``jsonschema`` then explains (the error
code depends on *which* keyword failed). A property-based test checks both agree.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

Predicate = Callable[[Any], bool]

_IGNORED = frozenset(
    {"$schema", "$id", "id", "title", "description", "comment", "javaType", "default", "format",
     "definitions", "additionalItems", "tsEnumNames"}
)  # fmt: skip


class _Unsupported(Exception):
    """The schema uses a keyword the fast path does not model."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _type_check(name: str, draft6: bool) -> Predicate:
    if name == "string":
        return lambda v: isinstance(v, str)
    if name == "object":
        return lambda v: isinstance(v, dict)
    if name == "array":
        return lambda v: isinstance(v, list)
    if name == "boolean":
        return lambda v: isinstance(v, bool)
    if name == "number":
        return _is_number
    if name == "integer":
        if draft6:  # draft-06: 1.0 is an integer
            return lambda v: (
                (isinstance(v, int) and not isinstance(v, bool))
                or (isinstance(v, float) and v.is_integer())
            )
        return lambda v: isinstance(v, int) and not isinstance(v, bool)
    raise _Unsupported(f"type {name}")


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self._root = root
        self._draft6 = "draft-06" in str(root.get("$schema", ""))
        self._refs: dict[str, Predicate] = {}

    def ref(self, pointer: str) -> Predicate:
        if not pointer.startswith("#/definitions/"):
            raise _Unsupported(pointer)
        name = pointer.removeprefix("#/definitions/")
        if name not in self._refs:
            target: list[Predicate] = []
            self._refs[name] = lambda v: target[0](v)  # resolved below; allows recursion
            target.append(self.node(self._root["definitions"][name]))
        return self._refs[name]

    def node(self, schema: dict[str, Any]) -> Predicate:
        checks: list[Predicate] = []
        for keyword, value in schema.items():
            if keyword in _IGNORED:
                continue
            check = self._keyword(keyword, value, schema)
            if check is not None:
                checks.append(check)
        if not checks:
            return lambda v: True
        if len(checks) == 1:
            return checks[0]
        return lambda v: all(check(v) for check in checks)

    def _keyword(self, keyword: str, value: Any, schema: dict[str, Any]) -> Predicate | None:
        if keyword == "$ref":
            return self.ref(value)
        if keyword == "type":
            if not isinstance(value, str):
                raise _Unsupported("a list of types")
            return _type_check(value, self._draft6)
        if keyword == "properties":
            compiled = {name: self.node(sub) for name, sub in value.items()}
            return lambda v: (
                not isinstance(v, dict)
                or all(compiled[k](item) for k, item in v.items() if k in compiled)
            )
        if keyword == "required":
            needed = tuple(value)
            return lambda v: not isinstance(v, dict) or all(k in v for k in needed)
        if keyword == "additionalProperties":
            if value is True:
                return None
            if value is not False:
                raise _Unsupported("additionalProperties as a schema")
            known = frozenset(schema.get("properties", {}))
            return lambda v: not isinstance(v, dict) or known.issuperset(v)
        if keyword == "enum":
            if not all(isinstance(item, str) for item in value):
                raise _Unsupported("an enum of non-strings")
            allowed = frozenset(value)
            return lambda v: isinstance(v, str) and v in allowed
        if keyword == "maxLength":
            return lambda v: not isinstance(v, str) or len(v) <= value
        if keyword == "items":
            if not isinstance(value, dict):
                raise _Unsupported("items as a list")
            each = self.node(value)
            return lambda v: not isinstance(v, list) or all(each(item) for item in v)
        if keyword == "minItems":
            return lambda v: not isinstance(v, list) or len(v) >= value
        if keyword == "maxItems":
            return lambda v: not isinstance(v, list) or len(v) <= value
        if keyword == "minimum":
            return lambda v: not _is_number(v) or v >= value
        if keyword == "maximum":
            return lambda v: not _is_number(v) or v <= value
        if keyword == "multipleOf":
            return _multiple_of(Decimal(str(value)))
        raise _Unsupported(keyword)


def _multiple_of(step: Decimal) -> Predicate:
    """An exact decimal multiple, as the schemas mean it (``limit`` in steps of 0.1 A): a
    float is taken at its shortest decimal form, which is what goes on the wire. Binary
    floating point would refuse 0.3 as a multiple of 0.1."""

    def check(v: Any) -> bool:
        if not _is_number(v):
            return True
        exact = v if isinstance(v, Decimal) else Decimal(repr(v))
        try:
            return bool(exact % step == 0)
        except InvalidOperation:  # infinities: leave the verdict to jsonschema
            return False

    return check


def compile_schema(schema: dict[str, Any]) -> Predicate | None:
    """A predicate that is True exactly when ``jsonschema`` finds no error, or None."""
    try:
        return _Compiler(schema).node(schema)
    except _Unsupported:
        return None
