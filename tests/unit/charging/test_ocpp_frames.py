"""The OCPP-J frame parser, HTTP Basic parsing, and the compiled schemas, which must agree
with ``jsonschema`` on every payload (they are a fast path over the same official schemas)."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema.validators import validator_for
from websockets.datastructures import Headers

from amphub.adapters.ocpp.fastschema import compile_schema
from amphub.adapters.ocpp.rpc import (
    Call,
    CallError,
    CallResult,
    ErrorKind,
    RpcError,
    Version,
    call_error_frame,
    call_frame,
    parse_frame,
    payload_text,
)
from amphub.adapters.ocpp.schemas import Schemas
from amphub.adapters.ocpp.server import basic_credentials

SCHEMAS = {version: Schemas(version) for version in Version}


def test_frames_parse_into_their_kinds() -> None:
    assert parse_frame('[2,"1","Heartbeat",{}]') == Call("1", "Heartbeat", {})
    assert parse_frame(b'[3,"1",{"a":1}]') == CallResult("1", {"a": 1})
    assert parse_frame('[4,"1","GenericError","x",{}]') == CallError("1", "GenericError", "x", {})


@pytest.mark.parametrize(
    ("text", "kind", "unique_id", "answerable"),
    [
        ('[2,"1","Heartbeat",{"a":1e999999}]', ErrorKind.FORMAT, "-1", True),
        ('[3,"1",[]]', ErrorKind.FORMAT, "1", False),
        ('[4,"1","E","d"]', ErrorKind.RPC_FRAMEWORK, "1", False),
        ('[4,"1",5,"d",{}]', ErrorKind.FORMAT, "1", False),
        ('[true,"1","Heartbeat",{}]', ErrorKind.MESSAGE_TYPE, "1", True),
        ("[" * 100_000, ErrorKind.FORMAT, "-1", True),
    ],
)
def test_bad_frames(text: str, kind: ErrorKind, unique_id: str, answerable: bool) -> None:
    with pytest.raises(RpcError) as caught:
        parse_frame(text)
    assert (caught.value.kind, caught.value.unique_id, caught.value.answerable) == (
        kind,
        unique_id,
        answerable,
    )


def test_error_frames_use_each_versions_spelling() -> None:
    kind = ErrorKind.OCCURRENCE_CONSTRAINT
    assert json.loads(call_error_frame(Version.V16, "9", kind))[2] == "OccurenceConstraintViolation"
    assert (
        json.loads(call_error_frame(Version.V201, "9", kind))[2] == "OccurrenceConstraintViolation"
    )
    assert json.loads(call_error_frame(Version.V16, "9", ErrorKind.FORMAT, "why")) == [
        4, "9", "FormationViolation", ErrorKind.FORMAT.description, {"cause": "why"}
    ]  # fmt: skip


def _basic(text: str) -> Headers:
    return Headers({"Authorization": "Basic " + base64.b64encode(text.encode()).decode()})


def test_basic_credentials_allow_a_colon_in_the_identity() -> None:
    assert basic_credentials(_basic("CP:1:secret"), "CP:1") == ("CP:1", "secret")
    assert basic_credentials(_basic("other:pw:x"), "CP:1") == ("other", "pw:x")
    assert basic_credentials(_basic("nocolon"), "CP") == (None, None)
    assert basic_credentials(Headers({"Authorization": "Bearer x"}), "CP") == (None, None)
    assert basic_credentials(Headers(), "CP") == (None, None)


# -- the compiled schemas agree with jsonschema ---------------------------------------------

json_scalars = (
    st.none() | st.booleans() | st.integers(-5, 300) | st.floats(-10, 1e4) | st.text(max_size=8)
)
junk = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def near(node: dict[str, Any], root: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Instances shaped by the schema: mostly valid with every size and bound at its edge,
    and about one node in 25 broken by exactly one rule, or replaced by junk."""
    if "$ref" in node:
        node = root["definitions"][node["$ref"].removeprefix("#/definitions/")]
    if depth > 6:
        return junk
    valid, broken = _shapes(node, root, depth)
    return st.one_of(*([valid] * 24), broken | junk)


def _sized(sizes: list[int], make: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(sorted(set(sizes))).flatmap(make)


def _shapes(
    node: dict[str, Any], root: dict[str, Any], depth: int
) -> tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]:
    kind = node.get("type")
    if "enum" in node:
        return st.sampled_from(node["enum"]), st.just("NotInTheEnum")
    if kind == "object":
        properties = node.get("properties", {})
        required = node.get("required", [])
        fixed = {name: near(properties.get(name, {}), root, depth + 1) for name in required}
        optional = {
            name: near(sub, root, depth + 1)
            for name, sub in properties.items()
            if name not in required
        }
        valid = st.fixed_dictionaries(fixed, optional=optional)
        extra = valid.map(lambda d: {**d, "unexpected": 1})
        missing = valid.map(lambda d: dict(list(d.items())[1:]))
        return valid, extra | missing
    if kind == "array":
        items = near(node.get("items", {}), root, depth + 1)
        low, high = node.get("minItems", 0), min(node.get("maxItems", 3), 4)

        def lists(n: int) -> st.SearchStrategy[list[Any]]:
            return st.lists(items, min_size=n, max_size=n)

        too_few = [low - 1] if low > 0 else []
        too_many = [high + 1] if "maxItems" in node and node["maxItems"] <= 4 else []
        return _sized([low, high], lists), _sized(too_few + too_many or [low], lists)
    if kind == "string":
        length = node.get("maxLength")

        def texts(n: int) -> st.SearchStrategy[str]:
            return st.text(min_size=n, max_size=n)

        if length is None or length > 60:
            return _sized([0, 1, 5], texts), st.integers()
        return _sized([0, length], texts), _sized([length + 1], texts) | st.integers()
    if kind == "integer":
        low, high = node.get("minimum", -3), node.get("maximum", 50)
        valid = st.sampled_from([low, high]) | st.integers(low, high)
        return valid, st.sampled_from([low - 1, high + 1, 2.5, 2.0, "1", True])
    if kind == "number":
        return st.floats(-5, 1e4) | st.integers(-5, 50), st.sampled_from(["1", None, True])
    if kind == "boolean":
        return st.booleans(), st.sampled_from([0, 1, "true"])
    return junk, junk


CASES = [
    (schemas, name, compiled)
    for schemas in SCHEMAS.values()
    for action in sorted(schemas.actions)
    for name in (f"{action}{schemas._request_suffix}", f"{action}Response")
    if (compiled := schemas._compiled(name)) is not None and compiled.fast is not None
]


DRAFT4 = "http://json-schema.org/draft-04/schema#"
DRAFT6 = "http://json-schema.org/draft-06/schema#"
KEYWORD_CASES: list[tuple[dict[str, Any], list[Any]]] = [
    ({"type": "integer"}, [1, 1.0, 1.5, True, "1", None]),
    ({"type": "number", "minimum": 0, "maximum": 10}, [-0.1, 0, 0.0, 10, 10.5, 5, False]),
    ({"type": "string", "maxLength": 3}, ["", "abc", "abcd", "äöü", 3]),
    ({"type": "string", "enum": ["A", "B"]}, ["A", "C", "a", 1]),
    ({"type": "boolean"}, [True, False, 0, 1, "true"]),
    ({"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 2},
     [[], [1], [1, 2], [1, 2, 3], [1, "x"], {}]),
    ({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"],
      "additionalProperties": False},
     [{"a": 1}, {}, {"a": 1, "b": 2}, {"a": "1"}, [], "a"]),
    ({"type": "object", "properties": {"a": {"$ref": "#/definitions/A"}},
      "definitions": {"A": {"type": "string", "maxLength": 1}}},
     [{"a": "x"}, {"a": "xy"}, {"b": 5}, {}]),
]  # fmt: skip


@pytest.mark.parametrize("draft", [DRAFT4, DRAFT6])
@pytest.mark.parametrize(("schema", "instances"), KEYWORD_CASES)
def test_each_keyword_agrees_with_jsonschema_at_its_edges(
    draft: str, schema: dict[str, Any], instances: list[Any]
) -> None:
    root = {"$schema": draft, **schema}
    fast = compile_schema(root)
    assert fast is not None
    validator = validator_for(root)(root)
    for instance in instances:
        assert fast(instance) == validator.is_valid(instance), (draft, schema, instance)


@pytest.mark.parametrize("draft", [DRAFT4, DRAFT6])
def test_multiple_of_agrees_with_jsonschema_on_decimals(draft: str) -> None:
    """As the gateway validates: the schema and the payload read with decimals, exactly."""
    root = json.loads(
        json.dumps({"$schema": draft, "type": "number", "multipleOf": 0.1}), parse_float=Decimal
    )
    fast = compile_schema(root)
    assert fast is not None
    validator = validator_for(root)(root)
    for instance in [0.3, 6.6, 7.0, 12.3, 0.25, 6.65, 5, 0, -0.1, 31.9, 1e-7, "6.6", True]:
        exact = json.loads(json.dumps(instance), parse_float=Decimal)
        assert fast(instance) == validator.is_valid(exact), (draft, instance)
    assert fast(6.6) and fast(0.3) and not fast(6.65)


def test_unmodelled_keywords_are_left_to_jsonschema() -> None:
    assert compile_schema({"type": ["string", "null"]}) is None
    assert compile_schema({"additionalProperties": {"type": "string"}}) is None


def test_all_schemas_compile() -> None:
    assert len(CASES) > 200
    for schemas in SCHEMAS.values():
        for action in schemas.actions:
            compiled = schemas._compiled(f"{action}{schemas._request_suffix}")
            assert compiled is not None and compiled.fast is not None, action


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_compiled_and_jsonschema_agree_on_the_official_schemas(data: st.DataObject) -> None:
    schemas, name, compiled = data.draw(st.sampled_from(CASES))
    root = json.loads(schemas._directory.joinpath(f"{name}.json").read_text(encoding="utf-8-sig"))
    instance = data.draw(near(root, root))
    assert compiled.fast is not None
    exact = json.loads(json.dumps(instance), parse_float=Decimal) if compiled.decimal else instance
    assert compiled.fast(instance) == compiled.validator.is_valid(exact), (name, instance)


@settings(max_examples=100, deadline=None)
@given(
    unique_id=st.text(max_size=36),
    action=st.sampled_from(["SetChargingProfile", "DataTransfer", "Ünïcode"]),
    payload=st.dictionaries(
        st.text(max_size=8),
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=8)
        | st.lists(st.integers(), max_size=3),
        max_size=5,
    ),
)
def test_an_outgoing_call_is_its_payload_text_in_a_frame(
    unique_id: str, action: str, payload: dict[str, Any]
) -> None:
    """A CALL is written around its payload's text (validated once per text): the same
    characters as the whole frame written at once, and it parses back."""
    frame = call_frame(unique_id, action, payload_text(payload))
    assert frame == json.dumps(
        [2, unique_id, action, payload], separators=(",", ":"), ensure_ascii=False
    )
    assert parse_frame(frame) == Call(unique_id, action, payload)
