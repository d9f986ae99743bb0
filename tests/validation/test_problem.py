"""The problem response, violation caps and excerpts, detect mode, findings and configuration."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from sealgate.config.model import SealgateConfig
from sealgate.errors import ConfigError
from sealgate.protections import build_protections
from sealgate.protections.request_validation import RequestValidationProtection, ValidationConfig
from sealgate.validation.violations import Violation
from tests.validation.helpers import PETSTORE, SPEC, TENANT, Harness, problem, typed


def article(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"title": "t", "body": "b", "items": [{"sku": "ABCD0001", "qty": 1}]}
    base.update(changes)
    return base


async def test_problem_body_shape() -> None:
    response, exchange = await Harness().send("GET", "/legacy/articles", "articleId=x")
    assert response.status == 400
    assert response.header("cache-control") == "no-store"
    body = problem(response)
    assert set(body) == {"type", "title", "status", "detail", "request_id", "violations"}
    assert body["status"] == 400 and body["title"] == "Request Validation Failed"
    assert body["detail"] == "the request does not match the API's schema (1 violation)"
    assert body["request_id"] == exchange.request_id
    assert exchange.verdict is not None and exchange.verdict.protection == "request_validation"
    assert exchange.verdict.detail == "query.articleId: expected integer"


async def test_excerpts_are_escaped_short_and_never_the_whole_payload() -> None:
    payload = "1\x00\n\u202e' UNION SELECT password FROM users -- " + "A" * 10_000
    response, _ = await Harness().send("POST", "/articles", json=article(title=payload))
    text = response.body.decode("utf-8")
    assert "A" * 100 not in text
    violation = problem(response)["violations"][0]
    assert violation["location"] == "body.$.title"
    shown = violation["excerpt"]
    assert len(shown) <= 40 and shown.endswith("…")
    assert shown.startswith("1\\x00\\n\\u202e' UNION")
    assert not any(ord(c) < 32 or c == "\u202e" for c in shown)


async def test_client_chosen_names_in_locations_are_escaped_and_short() -> None:
    response, exchange = await Harness().send("POST", "/articles", json=article(**{"x\u202e\n" + "k" * 5000: 1}))
    location = problem(response)["violations"][0]["location"]
    assert location.startswith("body.$['x\\u202e\\n") and location.endswith("…") and len(location) <= 120
    assert exchange.verdict is not None and len(exchange.verdict.detail) < 300
    response, _ = await Harness().send("GET", "/legacy/articles", "articleId=1&" + "q" * 3000 + "=1")
    assert len(problem(response)["violations"][0]["location"]) <= 120


async def test_violations_are_capped() -> None:
    items = [{"sku": "bad sku", "qty": 0, "extra": i} for i in range(10)]  # 30 violations
    response, _ = await Harness().send("POST", "/articles", json=article(items=items))
    body = problem(response)
    assert len(body["violations"]) == 20 and body["truncated"] is True
    assert body["detail"] == "the request does not match the API's schema (20+ violations)"
    response, _ = await Harness(max_violations=3).send("POST", "/articles", json=article(items=items))
    assert len(problem(response)["violations"]) == 3


async def test_detect_mode_per_route_forwards_and_records() -> None:
    response, exchange = await Harness().send("POST", "/detect/articles", json=article(admin=True))
    assert response.status == 200
    assert orjson.loads(response.body)["body"] == orjson.dumps(article(admin=True)).decode()
    assert exchange.audit["validation"] == {"violations": 1, "mode": "detect", "would_block": 400}
    finding = exchange.findings[0]
    assert isinstance(finding, Violation)
    assert finding.to_log()["location"] == "body.$.admin"
    assert finding.to_log()["detector"] == "request_validation"
    # an invalid body proves nothing: no body location is handed to the detectors as safe
    assert not any(loc.startswith("body") for loc in typed(exchange))


async def test_detect_mode_globally_keeps_valid_parts_typed() -> None:
    harness = Harness(mode="detect")
    response, exchange = await harness.send("GET", "/articles", "page=2&ids=1&ids=x&tags=a'%20OR%201=1",
                                            headers=[("x-tenant", TENANT)])
    assert response.status == 200
    assert exchange.audit["validation"]["violations"] == 2
    assert "query.page" in typed(exchange) and "header.x-tenant" in typed(exchange)
    assert not {"query.ids", "query.tags"} & typed(exchange)
    response, _ = await harness.send("POST", "/articles", body=b"x", headers=[("content-type", "text/csv")])
    assert response.status == 200


def test_findings_hide_values_of_headers_cookies_and_secret_fields() -> None:
    assert Violation("header.x-tenant", "m", "format", "abc").to_log()["excerpt"] == ""
    assert Violation("cookie.session", "m", "pattern", "abc").to_log()["excerpt"] == ""
    assert Violation("body.$.apiKey", "m", "type", "abc").to_log()["excerpt"] == ""
    assert Violation("body.$.title", "m", "type", "abc").to_log()["excerpt"] == "abc"


async def test_validation_can_be_switched_off_per_route() -> None:
    settings = {"GET /legacy/articles": {"validation": {"enabled": False}}}
    harness = Harness(route_settings=settings)
    response, exchange = await harness.send("GET", "/legacy/articles", "articleId=1%27")
    assert response.status == 200
    assert "validation" not in exchange.state
    assert harness.validation.operation("GET /legacy/articles") is None
    assert harness.validation.operation("GET /articles") is not None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"validation": {"strictt": True}}, "strictt"),
        ({"validation": {"mode": "warn"}}, "mode"),
        ({"validation": "off"}, "must be a mapping"),
    ],
)
def test_bad_route_settings_are_config_errors(settings: dict[str, Any], message: str) -> None:
    from sealgate.openapi.document import load_document

    with pytest.raises(ConfigError, match=message):
        RequestValidationProtection(ValidationConfig(), load_document(SPEC), {"GET /legacy/articles": settings})


def test_default_pipeline_order_and_config() -> None:
    from sealgate.openapi.document import load_document

    config = SealgateConfig.model_validate({"routing": {"spec": str(PETSTORE)}})
    assert config.validation.strict and config.validation.mode == "block" and config.validation.max_depth == 32
    names = [p.name for p in build_protections(config, load_document(PETSTORE))]
    assert names.index("routing") < names.index("request_validation")
    assert "sanitize" not in names  # nothing configured: no cost at all
    assert "request_validation" not in [p.name for p in build_protections(SealgateConfig(), None)]
    off = SealgateConfig.model_validate({"validation": {"enabled": False}})
    assert "request_validation" not in [p.name for p in build_protections(off, load_document(PETSTORE))]
    with pytest.raises(ValueError, match="extra"):
        SealgateConfig.model_validate({"validation": {"stict": True}})


async def test_petstore() -> None:
    harness = Harness(PETSTORE)
    response, exchange = await harness.send("GET", "/pets", "limit=5")
    assert response.status == 200 and typed(exchange) == {"query.limit"}
    response, _ = await harness.send("GET", "/pets", "limit=500")
    assert problem(response)["violations"][0]["message"] == "must be <= 100"
    response, _ = await harness.send("POST", "/pets", json={"name": "rex", "parent": {"name": "mum", "owner": "me"}})
    assert problem(response)["violations"][0]["location"] == "body.$.parent.owner"
    response, _ = await harness.send("GET", "/pets/mine", "limit=1")
    assert problem(response)["violations"][0]["location"] == "query.limit"
