"""Schema dialects (3.0 vs 3.1), formats, strict translation, the typed-value analysis, excerpts."""

from __future__ import annotations

from typing import Any

import pytest

from sealgate.errors import SpecError
from sealgate.openapi.document import OpenAPIDocument
from sealgate.validation.schema import SchemaCompiler, depth_bound
from sealgate.validation.typed import is_typed, safe_pattern
from sealgate.validation.violations import excerpt
from tests.validation.helpers import Harness, locations, problem, typed


def spec(version: str, schema: dict[str, Any]) -> OpenAPIDocument:
    return OpenAPIDocument({
        "openapi": version,
        "info": {"title": "t", "version": "1"},
        "paths": {"/things": {"post": {
            "requestBody": {"content": {"application/json": {"schema": schema}}},
            "responses": {"200": {"description": "ok"}},
        }}},
    })


THING_30 = {
    "type": "object",
    "properties": {
        "nickname": {"type": "string", "nullable": True, "maxLength": 5},
        "plain": {"type": "string"},
        "count": {"type": "integer", "minimum": 0, "exclusiveMinimum": True, "maximum": 10, "exclusiveMaximum": False},
        "kind": {"type": "string", "enum": ["a", "b"], "nullable": True},
        "ref": {"allOf": [{"type": "string"}], "nullable": True},
    },
}


@pytest.mark.parametrize(
    ("body", "ok"),
    [
        ({"nickname": None}, True),
        ({"nickname": "ann"}, True),
        ({"nickname": "annabel"}, False),
        ({"plain": None}, False),
        ({"count": 0}, False),  # 3.0 exclusiveMinimum: true
        ({"count": 1}, True),
        ({"count": 10}, True),  # exclusiveMaximum: false keeps maximum inclusive
        ({"kind": None}, True),
        ({"kind": "c"}, False),
        ({"ref": None}, True),
        ({"ref": 5}, False),
    ],
)
async def test_openapi_30_nullable_and_boolean_exclusive_bounds(body: dict[str, Any], ok: bool) -> None:
    response, _ = await Harness(spec("3.0.3", THING_30)).send("POST", "/things", json=body)
    assert response.status == (200 if ok else 400)


async def test_openapi_31_type_arrays_and_ignored_nullable(harness: Harness) -> None:
    response, _ = await harness.send("POST", "/formats", json={"nickname": None})
    assert response.status == 200
    response, _ = await harness.send("POST", "/formats", json={"nickname": 5})
    assert locations(response) == ["body.$.nickname"]
    # nullable is not a keyword in 3.1: null is not a string
    response, _ = await harness.send("POST", "/formats", json={"legacy": None})
    assert locations(response) == ["body.$.legacy"]
    response, _ = await Harness(spec("3.1.0", {"type": "object", "properties": {"n": {
        "type": "number", "exclusiveMinimum": 0}}})).send("POST", "/things", json={"n": 0})
    assert problem(response)["violations"][0]["keyword"] == "exclusiveMinimum"


FORMAT_CASES = [
    ("email", "ann@example.com", "ann at example"),
    ("website", "https://example.com/a?b=1", "not a uri"),
    ("v4", "192.0.2.1", "256.1.1.1"),
    ("v6", "2001:db8::1", "2001:db8::g"),
    ("uid", "123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-42661417400'"),
    ("day", "2024-02-29", "2023-02-29"),
    ("at", "2024-05-01T10:00:00+02:00", "2024-05-01 10:00"),
    ("small", 2**31 - 1, 2**31),
    ("small", -(2**31), -(2**31) - 1),
    ("big", 2**63 - 1, 2**63),
]


@pytest.fixture(scope="module")
def harness() -> Harness:
    return Harness()


@pytest.mark.parametrize(("field", "good", "bad"), FORMAT_CASES)
async def test_formats(harness: Harness, field: str, good: Any, bad: Any) -> None:
    response, _ = await harness.send("POST", "/formats", json={field: good})
    assert response.status == 200, good
    response, _ = await harness.send("POST", "/formats", json={field: bad})
    assert locations(response) == [f"body.$.{field}"], bad


async def test_formats_can_be_switched_off_and_then_prove_nothing() -> None:
    harness = Harness(formats=False)
    response, exchange = await harness.send("POST", "/formats", json={"email": "nope", "uid": "x' OR 1=1"})
    assert response.status == 200
    assert "body.$.uid" not in typed(exchange)
    response, exchange = await Harness().send("POST", "/formats", json={"uid": "123e4567-e89b-12d3-a456-426614174000",
                                                                       "email": "a@b.example"})
    assert typed(exchange) == {"body.$.uid"}  # an email can hold quotes: never typed


def compiler(strict: bool = True, version: str = "3.1.0") -> SchemaCompiler:
    return SchemaCompiler({"openapi": version}, version, strict=strict, formats=True)


def test_strict_translation_closes_declared_objects_only() -> None:
    out = compiler().translate({"type": "object", "properties": {"a": {"type": "object"}}})
    assert out["additionalProperties"] is False
    assert "additionalProperties" not in out["properties"]["a"]  # a free-form map stays free
    assert "additionalProperties" not in compiler(strict=False).translate({"properties": {"a": {}}})
    assert compiler().translate({"properties": {"a": {}}, "additionalProperties": True})["additionalProperties"] is True


def test_composition_uses_unevaluated_properties() -> None:
    out = compiler().translate({"allOf": [{"properties": {"a": {}}}, {"properties": {"b": {}}}]})
    assert out["unevaluatedProperties"] is False
    assert all("additionalProperties" not in branch for branch in out["allOf"])
    out = compiler().translate({"oneOf": [{"properties": {"a": {}}}, {"properties": {"b": {}}}]})
    assert "unevaluatedProperties" not in out
    assert all(branch["additionalProperties"] is False for branch in out["oneOf"])


def test_read_only_and_openapi_annotations() -> None:
    out = compiler().translate({
        "type": "object", "required": ["id", "name"], "x-internal": True, "example": {"id": 1},
        "properties": {"id": {"type": "integer", "readOnly": True}, "name": {"type": "string", "xml": {}}},
    })
    assert out["required"] == ["name"]
    assert out["properties"]["id"] is False
    assert "x-internal" not in out and "example" not in out and "xml" not in out["properties"]["name"]
    relaxed = compiler(strict=False).translate({"properties": {"id": {"type": "integer", "readOnly": True}}})
    assert relaxed["properties"]["id"] == {"type": "integer"}


def test_int_formats_keep_tighter_bounds() -> None:
    out = compiler().translate({"type": "integer", "format": "int32", "minimum": 5})
    assert (out["minimum"], out["maximum"]) == (5, 2**31 - 1)


def test_broken_schema_is_a_spec_error() -> None:
    document = spec("3.1.0", {"type": "object", "properties": {"a": {"type": "strnig"}}})
    with pytest.raises(SpecError, match="POST /things"):
        Harness(document)


def test_depth_bound() -> None:
    assert depth_bound({"type": "integer"}) == 0
    closed = compiler().translate({"type": "object", "properties": {"a": {"type": "array", "items": {}}}})
    assert depth_bound(closed) is None  # items: {} may hold anything
    ints = {"type": "array", "items": {"type": "integer"}}
    closed = compiler().translate({"type": "object", "properties": {"a": ints}})
    assert depth_bound(closed) == 2
    assert depth_bound({"type": "object"}) is None
    assert depth_bound({"$ref": "#/x"}) is None


@pytest.mark.parametrize(
    ("pattern", "safe"),
    [
        ("^[a-z0-9-]{1,20}$", True),
        ("^[A-Z]{2}-\\d{4}$", True),
        ("^(draft|published)$", True),
        ("^[\\w.-]+@[\\w-]+\\.[a-z]{2,}$", True),
        ("[0-9]+", False),  # not anchored: "1' OR 1=1" contains digits
        ("^[0-9]+", False),
        ("^a|b$", False),  # (^a)|(b$)
        ("^.+$", False),
        ("^[^<>]+$", False),
        ("^[a-z ]+$", False),
        ("^[!-~]+$", False),
        ("^[a-z/]+$", False),  # path traversal
        ("^[a-z%]+$", False),  # double encoding
        ("^\\s*$", False),
        ("^(?=x)x$", False),
        ("^\\x27$", False),
        ("^[a-z]+\\$", False),
        (5, False),
    ],
)
def test_safe_pattern(pattern: Any, safe: bool) -> None:
    assert safe_pattern(pattern) is safe


@pytest.mark.parametrize(
    ("schema", "result"),
    [
        ({"type": "integer"}, True),
        ({"type": ["integer", "null"]}, True),
        ({"type": "string"}, False),
        ({"type": "string", "maxLength": 3}, False),
        ({"type": "string", "format": "email"}, False),
        ({"type": "string", "format": "uuid"}, True),
        ({"enum": ["a", "b c'"]}, True),
        ({"type": ["string", "integer"]}, False),
        ({"anyOf": [{"type": "integer"}, {"type": "string", "format": "date"}]}, True),
        ({"anyOf": [{"type": "integer"}, {"type": "string"}]}, False),
        ({"type": "object"}, False),
    ],
)
def test_is_typed(schema: dict[str, Any], result: bool) -> None:
    assert is_typed(schema) is result


def test_excerpt_escapes_and_truncates() -> None:
    assert excerpt("a\x00b\nc\u202ed\\") == "a\\x00b\\nc\\u202ed\\\\"
    long = excerpt("x" * 100)
    assert len(long) == 40 and long.endswith("…")
    assert len(excerpt("\x01" * 100)) <= 40
    cut = excerpt("abc" + "\x01" * 20)
    assert cut.endswith("…") and "\\x0…" not in cut  # never half an escape
    assert excerpt({"a": [1, 2]}) == '{"a":[1,2]}' and excerpt(None) == "null" and excerpt(True) == "true"
