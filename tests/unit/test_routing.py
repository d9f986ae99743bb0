"""Routing: OpenAPI operation matching, $ref resolution, unknown routes."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealgate.errors import SpecError
from sealgate.openapi.document import OpenAPIDocument, load_document
from sealgate.pipeline.route import CATCH_ALL
from sealgate.protections.routing import RoutingConfig, RoutingProtection
from sealgate.testing import make_exchange

SPEC = Path(__file__).parent.parent / "data" / "petstore.yaml"


@pytest.fixture
def routing() -> RoutingProtection:
    return RoutingProtection(RoutingConfig(spec=SPEC), route_settings={"GET /pets": {"mode": "detect"}})


async def test_templated_path_matches_with_params(routing: RoutingProtection) -> None:
    exchange = make_exchange("GET", "/pets/42")
    assert await routing.on_request_headers(exchange) is None
    assert exchange.route.operation_id == "getPet"
    assert exchange.path_params == {"petId": "42"}
    # path-item parameters are merged in, with their $ref resolved
    assert exchange.route.parameters[0]["schema"] == {"type": "integer"}


async def test_literal_path_wins_over_template(routing: RoutingProtection) -> None:
    exchange = make_exchange("GET", "/pets/mine")
    await routing.on_request_headers(exchange)
    assert exchange.route.operation_id == "myPets"


async def test_route_settings_are_merged(routing: RoutingProtection) -> None:
    exchange = make_exchange("GET", "/pets")
    await routing.on_request_headers(exchange)
    assert exchange.route.settings == {"mode": "detect"}


async def test_unknown_path_and_method(routing: RoutingProtection) -> None:
    verdict = await routing.on_request_headers(make_exchange("GET", "/owners"))
    assert verdict is not None and verdict.status == 404
    verdict = await routing.on_request_headers(make_exchange("PUT", "/pets/1"))
    assert verdict is not None and verdict.status == 405 and ("allow", "GET") in verdict.headers
    verdict = await routing.on_request_headers(make_exchange("GET", "/pets/1/extra"))
    assert verdict is not None and verdict.status == 404


async def test_head_uses_get_and_trailing_slash_is_tolerated(routing: RoutingProtection) -> None:
    exchange = make_exchange("HEAD", "/pets/")
    assert await routing.on_request_headers(exchange) is None
    assert exchange.route.operation_id == "listPets"


async def test_pass_mode_and_no_spec() -> None:
    passing = RoutingProtection(RoutingConfig(spec=SPEC, unknown_routes="pass"))
    exchange = make_exchange("GET", "/owners")
    assert await passing.on_request_headers(exchange) is None
    assert exchange.route.key == CATCH_ALL.key
    no_spec = RoutingProtection(RoutingConfig())
    exchange = make_exchange("DELETE", "/anything/at/all")
    assert await no_spec.on_request_headers(exchange) is None
    assert exchange.route.path_template == "/*"


def test_recursive_schema_keeps_its_ref() -> None:
    document = load_document(SPEC)
    create = next(r for r in document.routes if r.operation_id == "createPet")
    schema = create.operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["name"] == {"type": "string", "maxLength": 50}
    assert schema["properties"]["parent"] == {"$ref": "#/components/schemas/NewPet"}


def test_servers_base_path_prefixes_templates() -> None:
    raw = {"openapi": "3.0.3", "servers": [{"url": "https://api.example.com/v2/"}],
           "paths": {"/items": {"get": {"operationId": "items"}}}}
    assert OpenAPIDocument(raw).routes[0].path_template == "/v2/items"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"openapi": "2.0", "paths": {}}, "must be 3.0.x or 3.1.x"),
        ({"openapi": "3.1.0", "paths": {"items": {}}}, "must start with '/'"),
        ({"openapi": "3.1.0", "paths": {"/a": {"$ref": "#/nope"}}}, "points to nothing"),
        ({"openapi": "3.1.0", "paths": {"/a": {"$ref": "other.yaml#/x"}}}, "only local"),
    ],
)
def test_bad_specs_are_clear_errors(raw: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        OpenAPIDocument(raw)


def test_unreadable_spec(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read"):
        load_document(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: [3.1\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_document(bad)
