"""Text the spec fixes (literal path segments, declared query names) is not inspected; the rest is.

Validation hands the injection detectors the locations whose text comes from the spec rather than
the client: ``exchange.state["validation"]["literal"]``. These tests pin down what goes in there and
that an attack anywhere the client chooses the text is still found.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sealgate.config.load import parse_config_text
from sealgate.pipeline.chain import Pipeline
from sealgate.pipeline.exchange import Exchange
from sealgate.testing import build_pipeline, make_exchange

SPEC = """\
openapi: 3.1.0
info: {title: literals, version: "1"}
paths:
  /api/v1/articles:
    get:
      parameters:
        - {name: articleId, in: query, schema: {type: integer}}
        - {name: q, in: query, schema: {type: string}}
        - name: filter
          in: query
          style: deepObject
          schema: {type: object, additionalProperties: {type: string}}
      responses: {"200": {description: ok}}
  /api/v1/articles/{articleId}:
    get:
      parameters:
        - {name: articleId, in: path, required: true, schema: {type: integer}}
      responses: {"200": {description: ok}}
  /api/v1/files/{name}:
    get:
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}}
      responses: {"200": {description: ok}}
"""

SQLI = "1%27%20or%20%271%27%3D%271"


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "openapi.yaml"
    path.write_text(SPEC)
    return path


def _pipeline(spec: Path, unknown_query: str = "true") -> Pipeline:
    config = (
        f"routing: {{spec: {spec}}}\n"
        f"validation: {{reject_unknown_query: {unknown_query}}}\n"
        "injection: {enabled: true}\n"
    )
    return build_pipeline(parse_config_text(config, env={}))


async def _send(pipeline: Pipeline, path: str, query: str = "") -> tuple[int, Exchange]:
    exchange = make_exchange("GET", path, query=query)
    response = await pipeline.handle(exchange)
    return response.status, exchange


async def test_literal_segments_and_declared_names_are_fixed_by_the_spec(spec: Path) -> None:
    status, exchange = await _send(_pipeline(spec), "/api/v1/articles", "articleId=4&q=hello")
    assert status == 200
    literal = exchange.state["validation"]["literal"]
    assert {"path[0]", "path[1]", "path[2]", "path", "query.articleId:name", "query.q:name"} <= literal
    # deepObject names carry client-chosen keys (filter[anything]): never fixed
    assert not any(location.startswith("query.filter") for location in literal)


async def test_whole_path_is_fixed_only_when_every_parameter_is_typed_and_valid(spec: Path) -> None:
    pipeline = _pipeline(spec)
    _, typed_param = await _send(pipeline, "/api/v1/articles/42")
    assert "path" in typed_param.state["validation"]["literal"]
    _, free_param = await _send(pipeline, "/api/v1/files/report.pdf")
    literal = free_param.state["validation"]["literal"]
    assert "path" not in literal and "path[3]" not in literal and "path[2]" in literal


async def test_attack_in_a_free_text_path_parameter_is_still_blocked(spec: Path) -> None:
    status, exchange = await _send(_pipeline(spec), "/api/v1/files/..%2F..%2F..%2Fetc%2Fpasswd")
    assert status == 403, [f.rule_id for f in exchange.findings]


async def test_attack_in_a_declared_value_is_still_blocked(spec: Path) -> None:
    status, _ = await _send(_pipeline(spec), "/api/v1/articles", f"q={SQLI}")
    assert status == 403


async def test_attack_in_a_deep_object_key_is_still_blocked(spec: Path) -> None:
    # the key inside filter[...] is the client's text
    status, exchange = await _send(_pipeline(spec), "/api/v1/articles", f"filter%5B{SQLI}%5D=x")
    assert status in (400, 403), status
    assert exchange.findings


async def test_attack_in_an_undeclared_name_is_still_blocked(spec: Path) -> None:
    # with unknown query parameters allowed through, their names are the client's text
    status, exchange = await _send(_pipeline(spec, unknown_query="false"), "/api/v1/articles", f"{SQLI}=1")
    assert status == 403, [f.rule_id for f in exchange.findings]


async def test_an_encoded_declared_name_still_has_its_value_inspected(spec: Path) -> None:
    # "%71" is "q": the name decodes to the declared one, the value is still the client's
    status, _ = await _send(_pipeline(spec), "/api/v1/articles", f"%71={SQLI}")
    assert status == 403
