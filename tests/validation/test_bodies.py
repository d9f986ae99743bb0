"""Bodies: JSON, mass assignment, media types, malformed input, forms, multipart, XML, text, depth."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.validation.helpers import Harness, locations, problem, typed


@pytest.fixture(scope="module")
def harness() -> Harness:
    return Harness()


def article(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "Hello",
        "body": "It's a <b>fine</b> day; SELECT is a word too.",
        "status": "draft",
        "id": "123e4567-e89b-12d3-a456-426614174000",
        "tags": ["news", "tech-2024"],
        "items": [{"sku": "ABCD0001", "qty": 2, "note": "gift wrap, please"}],
        "metadata": {"source": "web"},
    }
    base.update(changes)
    return base


async def test_valid_json_body_passes_with_typed_locations(harness: Harness) -> None:
    response, exchange = await harness.send("POST", "/articles", json=article())
    assert response.status == 200
    found = typed(exchange)
    assert found == {"body.$.status", "body.$.id", "body.$.tags[0]", "body.$.tags[1]", "body.$.items[0].sku"}
    # JSON numbers are not listed: the detectors never inspect them (they carry no text)


async def test_mass_assignment_is_rejected(harness: Harness) -> None:
    response, exchange = await harness.send("POST", "/articles", json=article(admin=True, role="owner"))
    assert response.status == 400
    violations = problem(response)["violations"]
    assert {v["location"] for v in violations} == {"body.$.admin", "body.$.role"}
    assert all(v["keyword"] == "additionalProperties" for v in violations)
    assert {v["excerpt"] for v in violations} == {"true", "owner"}
    assert not any(loc.startswith("body.") for loc in typed(exchange))


async def test_nested_unknown_field_and_declared_open_map(harness: Harness) -> None:
    items = [{"sku": "ABCD0001", "qty": 1}] * 3 + [{"sku": "ABCD0002", "qty": 1, "price": 0}]
    response, _ = await harness.send("POST", "/articles", json=article(items=items))
    assert locations(response) == ["body.$.items[3].price"]
    # metadata declares additionalProperties with a schema: any key is fine, values are checked
    response, _ = await harness.send("POST", "/articles", json=article(metadata={"admin": "true", "x": "y"}))
    assert response.status == 200
    too_many = {"a": "1", "b": "2", "c": "3", "d": "4"}
    response, _ = await harness.send("POST", "/articles", json=article(metadata=too_many))
    assert problem(response)["violations"][0]["keyword"] == "maxProperties"


async def test_item_level_violations_name_the_index(harness: Harness) -> None:
    items = [{"sku": "ABCD0001", "qty": 1}] * 3 + [{"sku": "abc' OR 1=1", "qty": "1"}]
    response, _ = await harness.send("POST", "/articles", json=article(items=items))
    assert {(v["location"], v["keyword"]) for v in problem(response)["violations"]} == {
        ("body.$.items[3].sku", "pattern"), ("body.$.items[3].qty", "type")}


@pytest.mark.parametrize(
    ("changes", "location", "keyword"),
    [
        ({"title": ""}, "body.$.title", "minLength"),
        ({"title": "x" * 121}, "body.$.title", "maxLength"),
        ({"status": "deleted"}, "body.$.status", "enum"),
        ({"id": "1 OR 1=1"}, "body.$.id", "format"),
        ({"tags": ["a", "a"]}, "body.$.tags", "uniqueItems"),
        ({"tags": ["a"] * 6}, "body.$.tags", "maxItems"),
        ({"items": []}, "body.$.items", "minItems"),
        ({"items": [{"sku": "ABCD0001", "qty": 0}]}, "body.$.items[0].qty", "minimum"),
        ({"items": [{"sku": "ABCD0001"}]}, "body.$.items[0].qty", "required"),
        ({"title": None}, "body.$.title", "type"),
    ],
)
async def test_schema_keywords(harness: Harness, changes: dict[str, Any], location: str, keyword: str) -> None:
    response, _ = await harness.send("POST", "/articles", json=article(**changes))
    violation = problem(response)["violations"][0]
    assert (violation["location"], violation["keyword"]) == (location, keyword)


async def test_structured_json_suffix_media_type(harness: Harness) -> None:
    response, _ = await harness.send("POST", "/articles", json=article(),
                                     headers=[("content-type", "application/vnd.sealgate.article+json")])
    assert response.status == 200
    response, _ = await harness.send("POST", "/articles", json=article(admin=1),
                                     headers=[("content-type", "application/vnd.sealgate.article+json")])
    assert response.status == 400


async def test_read_only_fields_are_mass_assignment(harness: Harness) -> None:
    response, _ = await harness.send("POST", "/users", json={"name": "ann"})  # id is required, but readOnly
    assert response.status == 200
    response, _ = await harness.send("POST", "/users", json={"name": "ann", "id": 1})
    assert problem(response)["violations"] == [
        {"location": "body.$.id", "message": "is not allowed in a request", "keyword": "falseSchema", "excerpt": "1"}]
    response, _ = await harness.send("POST", "/users", json={"name": "ann", "profile": {"bio": "hi", "isAdmin": True}})
    assert locations(response) == ["body.$.profile.isAdmin"]
    # explicitly open objects stay open
    response, _ = await harness.send("POST", "/users", json={"name": "ann", "settings": {"theme": "dark", "x": 1}})
    assert response.status == 200


async def test_strict_off_globally_per_route_and_by_extension() -> None:
    body = article(admin=True)
    response, _ = await Harness(strict=False).send("POST", "/articles", json=body)
    assert response.status == 200
    settings = {"POST /articles": {"validation": {"strict": False}}}
    response, _ = await Harness(route_settings=settings).send("POST", "/articles", json=body)
    assert response.status == 200
    strict = Harness()
    response, _ = await strict.send("PUT", "/articles/1", json=body)  # x-sealgate: {validation: {strict: false}}
    assert response.status == 200
    response, _ = await strict.send("PUT", "/articles/1", json=article(title=5))  # still typed
    assert locations(response) == ["body.$.title"]
    response, _ = await Harness(strict=False).send("POST", "/users", json={"name": "ann", "id": 1})
    assert response.status == 200


async def test_undeclared_content_type_is_415(harness: Harness) -> None:
    response, _ = await harness.send("POST", "/articles", body=b"title=x", headers=[("content-type", "text/plain")])
    assert response.status == 415
    body = problem(response)
    assert body["type"].endswith("/unsupported-media-type")
    violation = body["violations"][0]
    assert violation["location"] == "header.content-type" and violation["excerpt"] == "text/plain"
    assert "application/json" in violation["message"]
    response, _ = await harness.send("POST", "/articles", body=orjson.dumps(article()))  # no Content-Type
    assert response.status == 415
    response, _ = await harness.send("POST", "/articles", body=orjson.dumps(article()),
                                     headers=[("content-type", "Application/JSON; charset=utf-8")])
    assert response.status == 200


async def test_body_on_an_operation_without_one(harness: Harness) -> None:
    response, _ = await harness.send("POST", "/ping", json={"admin": True})
    assert response.status == 415
    assert problem(response)["violations"][0]["message"] == "this operation takes no request body"
    response, _ = await harness.send("POST", "/ping")
    assert response.status == 200
    response, _ = await Harness(strict=False).send("POST", "/ping", json={"admin": True})
    assert response.status == 200


async def test_malformed_json_is_400_with_the_reason(harness: Harness) -> None:
    response, _ = await harness.send("POST", "/articles", body=b'{"title": "x",',
                                     headers=[("content-type", "application/json")])
    assert response.status == 400
    violation = problem(response)["violations"][0]
    assert violation["location"] == "body" and violation["keyword"] == "syntax"
    assert violation["message"].startswith("the body is not valid JSON")


async def test_required_body(harness: Harness) -> None:
    response, _ = await harness.send("POST", "/articles", headers=[("content-type", "application/json")])
    assert problem(response)["violations"][0] == {
        "location": "body", "message": "a request body is required", "keyword": "required"}
    response, _ = await harness.send("POST", "/tree")
    assert response.status == 200


async def test_form_body(harness: Harness) -> None:
    form = [("content-type", "application/x-www-form-urlencoded")]
    payload = b"title=Hi+there&qty=2&tags=a&tags=b&publish=true"
    response, exchange = await harness.send("POST", "/articles", body=payload, headers=form)
    assert response.status == 200
    assert {"body.qty", "form.qty", "body.publish", "form.publish"} <= typed(exchange)
    assert "body.title" not in typed(exchange)
    cases = {
        b"title=x&qty=abc": ("body.qty", "type"),
        b"title=x&qty=0": ("body.qty", "minimum"),
        b"title=x&admin=1": ("body.admin", "additionalProperties"),
        b"title=x&title=y": ("body.title", "repeated"),
        b"qty=1": ("body.title", "required"),
    }
    for payload, expected in cases.items():
        response, _ = await harness.send("POST", "/articles", body=payload, headers=form)
        violation = problem(response)["violations"][0]
        assert (violation["location"], violation["keyword"]) == expected, payload


def multipart(*parts: tuple[str, str | None, bytes]) -> tuple[bytes, list[tuple[str, str]]]:
    chunks = []
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        chunks.append(f"--XyZ\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(chunks) + b"--XyZ--\r\n", [("content-type", "multipart/form-data; boundary=XyZ")]


async def test_multipart_body(harness: Harness) -> None:
    body, headers = multipart(("title", None, b"Report"), ("count", None, b"3"), ("file", "a.pdf", b"%PDF\x00\xff"))
    response, exchange = await harness.send("POST", "/articles", body=body, headers=headers)
    assert response.status == 200
    assert "multipart.count" in typed(exchange)
    body, headers = multipart(("title", None, b"Report"), ("count", None, b"three"), ("role", None, b"admin"))
    response, _ = await harness.send("POST", "/articles", body=body, headers=headers)
    assert sorted(locations(response)) == ["body.count", "body.file", "body.role"]
    body, headers = multipart(("title", None, b"\xff\xfe"), ("file", "a", b""))
    response, _ = await harness.send("POST", "/articles", body=body, headers=headers)
    assert problem(response)["violations"][0]["keyword"] == "encoding"


async def test_xml_body(harness: Harness) -> None:
    xml = [("content-type", "application/xml")]
    good = b'<article id="5"><title>Hi</title><qty> 2 </qty><tags><tag>a</tag><tag>b</tag></tags></article>'
    response, _ = await harness.send("POST", "/articles", body=good, headers=xml)
    assert response.status == 200
    cases = {
        b"<article><title>Hi</title><qty>x</qty></article>": ("body.$.qty", "type"),
        b"<article><title>Hi</title><qty>1</qty><admin>1</admin></article>": ("body.$.admin", "additionalProperties"),
        b'<article role="admin"><title>Hi</title><qty>1</qty></article>': ("body.$['@role']", "additionalProperties"),
        b'<article id="x"><title>Hi</title><qty>1</qty></article>': ("body.$.id", "type"),
        b"<article><title>Hi</title></article>": ("body.$.qty", "required"),
        b"<article><title>a</title><title>b</title><qty>1</qty></article>": ("body.$.title", "type"),
        b"<user><title>Hi</title><qty>1</qty></user>": ("body", "xml"),
    }
    for payload, expected in cases.items():
        response, _ = await harness.send("POST", "/articles", body=payload, headers=xml)
        violation = problem(response)["violations"][0]
        assert (violation["location"], violation["keyword"]) == expected, payload
    xxe = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><article>&x;</article>'
    response, _ = await harness.send("POST", "/articles", body=xxe, headers=xml)
    assert response.status == 400 and problem(response)["violations"][0]["keyword"] == "syntax"


async def test_text_body(harness: Harness) -> None:
    text = [("content-type", "text/plain; charset=utf-8")]
    response, _ = await harness.send("POST", "/notes", body=b"remember the milk", headers=text)
    assert response.status == 200
    response, _ = await harness.send("POST", "/notes", body=b"x" * 21, headers=text)
    assert problem(response)["violations"][0] == {
        "location": "body", "message": "must be at most 20 characters long", "keyword": "maxLength",
        "excerpt": "x" * 21}


def nested(depth: int) -> Any:
    value: Any = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


async def test_depth_limit_on_free_form_json() -> None:
    harness = Harness(max_depth=8)
    response, _ = await harness.send("POST", "/free", json=nested(8))
    assert response.status == 200
    response, _ = await harness.send("POST", "/free", json=nested(9))
    assert problem(response)["violations"] == [
        {"location": "body", "message": "nests deeper than 8 levels", "keyword": "maxDepth"}]
    response, _ = await Harness().send("POST", "/free", json=nested(33))  # default 32
    assert response.status == 400


async def test_depth_limit_on_bounded_and_recursive_schemas() -> None:
    harness = Harness(max_depth=6)
    deep: Any = "x"
    for _ in range(10):
        deep = [deep]
    response, _ = await harness.send("POST", "/articles", json=article(title=deep))
    assert problem(response)["violations"][0]["keyword"] == "maxDepth"
    tree: dict[str, Any] = {"name": "leaf"}
    for _ in range(2):
        tree = {"name": "n", "children": [tree]}
    response, _ = await harness.send("POST", "/tree", json=tree)
    assert response.status == 200
    for _ in range(2):
        tree = {"name": "n", "children": [tree]}
    response, _ = await harness.send("POST", "/tree", json=tree)
    assert problem(response)["violations"][0]["keyword"] == "maxDepth"


async def test_recursive_schema_is_validated_all_the_way_down(harness: Harness) -> None:
    tree = {"name": "root", "children": [{"name": "a", "children": [{"name": 5, "admin": True}]}]}
    response, _ = await harness.send("POST", "/tree", json=tree)
    assert sorted(locations(response)) == ["body.$.children[0].children[0].admin",
                                           "body.$.children[0].children[0].name"]


async def test_composition_allof_and_oneof(harness: Harness) -> None:
    response, _ = await harness.send("POST", "/shapes", json={"kind": "circle", "label": "c", "radius": 2})
    assert response.status == 200
    response, _ = await harness.send("POST", "/shapes", json={"kind": "circle", "radius": 2, "admin": True})
    assert problem(response)["violations"][0]["location"] == "body.$.admin"
    response, _ = await harness.send("POST", "/pets", json={"meow": True})
    assert response.status == 200
    for bad in ({"meow": True, "admin": 1}, {"meow": True, "bark": 1}):
        response, _ = await harness.send("POST", "/pets", json=bad)
        assert response.status == 400, bad
