"""Tests of the bundled sample API (sealgate.demo) against a real server on a free loopback port.

Every JSON response is also checked against demo/openapi.yaml, so the contract and the
implementation cannot drift apart -- except where the sample API breaks the contract on purpose
(segment summary exposure, legacy SQL injection), which is asserted explicitly.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate as validate_openapi

import sealgate
from sealgate.demo import SPEC_PATH, STATIC_DIR
from sealgate.demo.data import CATEGORIES, CUSTOMERS, ITEMS, SEED_ARTICLES, SEGMENTS
from sealgate.demo.sample_api import (
    SampleAPIServer,
    SampleAPIThread,
    create_app,
    is_loopback_host,
    start_sample_api,
)
from sealgate.demo.store import KnowledgeBase, NewArticle
from sealgate.errors import ConfigError

# The ~1 KB body the load benchmarks POST (bench/wrk/article.json, a copy of
# shared/tools/modsec-reference/bench/article.json); embedded so these tests depend on neither folder,
# and compared with both when they are present.
BENCH_ARTICLE_FILES = (
    Path(__file__).resolve().parents[2] / "bench/wrk/article.json",
    Path(__file__).resolve().parents[3] / "shared/tools/modsec-reference/bench/article.json",
)
BENCH_ARTICLE_RAW = (
    "{\"title\": \"Understanding gradient descent for machine learning beginners\", \"slug\": \"understandin"
    "g-gradient-descent\", \"lang\": \"en\", \"status\": \"draft\", \"author\": {\"id\": 1042, \"name\": \"Jane Doe\","
    " \"email\": \"jane.doe@example.com\"}, \"tags\": [\"machine learning\", \"optimization\", \"tutorial\", \"pyt"
    "hon\"], \"category_id\": 7, \"summary\": \"A practical introduction to gradient descent, learning rate"
    "s and convergence, with small examples in Python.\", \"body\": \"Gradient descent is an iterative me"
    "thod for finding the minimum of a function. At every step we compute the gradient of the loss wi"
    "th respect to the model parameters and move a small step in the opposite direction. The size of "
    "that step is the learning rate. If it is too large the loss oscillates or diverges; if it is too"
    " small training takes a very long time. In practice we use mini batches of a few hundred example"
    "s, which gives a noisy but cheap estimate of the true gradient.\", \"reading_time_minutes\": 6, \"al"
    "low_comments\": true, \"published_at\": null, \"metadata\": {\"source\": \"editor\", \"client_version\": \"4"
    ".2.1\", \"request_id\": \"5f0c2a8e9b7d4e13\"}}"
)
BENCH_GET = "/api/v1/articles?articleId=42&lang=en&q=machine%20learning"
DROP = "1; DROP TABLE articles; --"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


# -- helpers -----------------------------------------------------------------------------------------


def schema_validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator whose local $refs resolve inside the OpenAPI document."""
    return Draft202012Validator({**schema, "components": SPEC["components"]}, format_checker=FormatChecker())


def component(name: str) -> Draft202012Validator:
    return schema_validator({"$ref": f"#/components/schemas/{name}"})


def response_schema(path: str, method: str, status: int, content_type: str) -> dict[str, Any]:
    response = SPEC["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = SPEC["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema: dict[str, Any] = response["content"][content_type]["schema"]
    return schema


def contract_errors(path: str, method: str, status: int, content_type: str, body: Any) -> list[str]:
    validator = schema_validator(response_schema(path, method, status, content_type))
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    template: str,
    expected_status: int,
    *,
    json_body: Any = None,
    data: str | None = None,
    conforms: bool = True,
) -> Any:
    """Call the API, assert the status and (by default) that the JSON body matches the contract."""
    headers = {"Content-Type": "application/json"} if data is not None else None
    async with http.request(method, url, json=json_body, data=data, headers=headers) as response:
        text = await response.text()
        assert response.status == expected_status, text
        content_type = response.content_type
        body = json.loads(text)
    if conforms:
        assert contract_errors(template, method.lower(), expected_status, content_type, body) == []
    return body


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[SampleAPIServer]:
    server = await start_sample_api("127.0.0.1", 0, tmp_path / "demo.sqlite3")
    yield server
    await server.close()


@pytest.fixture
async def http(api: SampleAPIServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=api.url) as session:
        yield session


async def articles_table_exists(http: aiohttp.ClientSession) -> bool:
    async with http.get("/healthz") as response:
        body = await response.json()
        return response.status == 200 and body["status"] == "ok"


# -- the OpenAPI document ----------------------------------------------------------------------------


def test_spec_is_valid_openapi_3_1() -> None:
    assert SPEC["openapi"].startswith("3.1.")
    validate_openapi(SPEC)


def test_spec_and_routes_match_one_to_one() -> None:
    app = create_app(None)
    routes: set[tuple[str, str]] = set()
    for route in app.router.routes():
        if route.method == "HEAD":
            continue
        canonical = route.resource.canonical if route.resource is not None else ""
        routes.add((route.method.lower(), "/static/{file}" if canonical == "/static" else canonical))
    documented = {(method, path) for path, item in SPEC["paths"].items() for method in item}
    assert routes == documented


def test_spec_operation_ids_unique_and_schemas_closed() -> None:
    ids = [op["operationId"] for item in SPEC["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    for name, schema in SPEC["components"]["schemas"].items():
        if schema.get("type") == "object":
            assert schema.get("additionalProperties") is False, name


def test_spec_enums_match_the_data() -> None:
    schemas = SPEC["components"]["schemas"]
    assert tuple(schemas["Category"]["enum"]) == CATEGORIES
    assert tuple(schemas["Segment"]["enum"]) == SEGMENTS


def test_bench_article_body_conforms_to_create_schema() -> None:
    body = json.loads(BENCH_ARTICLE_RAW)
    assert list(component("ArticleCreate").iter_errors(body)) == []
    # ...and the schema is not vacuous: an unknown field and a wrong type are both rejected.
    assert list(component("ArticleCreate").iter_errors({**body, "is_admin": True}))
    assert list(component("ArticleCreate").iter_errors({**body, "category_id": "7"}))


@pytest.mark.parametrize("path", BENCH_ARTICLE_FILES, ids=["bench", "shared"])
def test_embedded_bench_body_matches_the_benchmark_file(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is not there")
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(BENCH_ARTICLE_RAW)


def test_legacy_article_id_is_declared_integer_so_validation_rejects_injection() -> None:
    (param,) = SPEC["paths"]["/api/v1/legacy/articles"]["get"]["parameters"]
    assert param["required"] is True
    validator = schema_validator(param["schema"])
    assert validator.is_valid(1)
    for payload in (DROP, "1 OR 1=1", "0 UNION SELECT 1,2,3,4", 0, -1, 1.5):
        assert not validator.is_valid(payload), payload


# -- seed data -----------------------------------------------------------------------------------------


def test_seed_data_shape() -> None:
    assert len(SEED_ARTICLES) == 20
    assert len(ITEMS) == 36
    emails = [c.email for c in CUSTOMERS.values()]
    assert len(set(emails)) == len(emails)
    assert all(e.endswith("@example.com") for e in emails)
    assert all(c.phone.startswith("+1-555-01") for c in CUSTOMERS.values())
    assert all(c.transactions for c in CUSTOMERS.values())
    assert {c.segment for c in CUSTOMERS.values()} == set(SEGMENTS)


def test_store_seeds_once_and_reseeds_after_drop(tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite3"
    kb = KnowledgeBase(db)
    kb.open()
    kb.create_article(NewArticle(title="t", body="b", slug="t"))
    kb.close()
    kb.open()  # the existing table is kept, not reseeded
    assert kb.count_articles() == 21
    kb.conn.execute("DROP TABLE articles")
    kb.close()
    kb.open()  # a missing table is recreated and seeded
    assert kb.count_articles() == 20
    kb.close()


# -- health and web app --------------------------------------------------------------------------------


async def test_healthz(http: aiohttp.ClientSession) -> None:
    body = await call(http, "GET", "/healthz", "/healthz", 200)
    assert body["status"] == "ok"
    assert body["articles"] == 20


async def test_web_app_is_served(http: aiohttp.ClientSession) -> None:
    async with http.get("/") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        assert 'src="/static/app.js"' in await response.text()
    for name, kind in (("app.js", "javascript"), ("app.css", "text/css"), ("index.html", "text/html")):
        async with http.get(f"/static/{name}") as response:
            assert response.status == 200, name
            assert kind in response.content_type
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert await response.read() == (STATIC_DIR / name).read_bytes()


@pytest.mark.parametrize("path", ["/static/../store.py", "/static/%2e%2e/store.py", "/static/..%2fstore.py",
                                  "/static/", "/static/missing.js"])
async def test_static_does_not_escape_its_folder(http: aiohttp.ClientSession, path: str) -> None:
    async with http.get(path) as response:
        assert response.status in (403, 404)
        assert "KnowledgeBase" not in await response.text()


async def test_unknown_route_and_method_are_problems(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/v1/nope") as response:
        assert response.status == 404
        assert response.content_type == "application/problem+json"
        assert (await response.json())["status"] == 404
    async with http.delete("/api/v1/chat") as response:
        assert response.status == 405
        assert response.headers["Allow"] == "POST"


# -- recommendations -----------------------------------------------------------------------------------


async def test_recommendations_rank_unseen_items_by_similarity(http: aiohttp.ClientSession) -> None:
    t = "/api/v1/recommendations"
    body = await call(http, "GET", f"{t}?userId=3&limit=7", t, 200)
    assert body["strategy"] == "cosine"
    assert body["userId"] == 3
    scores = [i["score"] for i in body["items"]]
    assert len(scores) == 7
    assert scores == sorted(scores, reverse=True)
    bought = {tx.item_id for tx in CUSTOMERS[3].transactions}
    assert not bought & {i["itemId"] for i in body["items"]}
    assert body == await call(http, "GET", f"{t}?userId=3&limit=7", t, 200)  # deterministic


async def test_recommendations_category_default_limit_and_cold_start(http: aiohttp.ClientSession) -> None:
    t = "/api/v1/recommendations"
    body = await call(http, "GET", f"{t}?userId=5&category=music", t, 200)
    assert body["items"] and {i["category"] for i in body["items"]} == {"music"}
    body = await call(http, "GET", f"{t}?userId=2", t, 200)
    assert len(body["items"]) == 10
    cold = await call(http, "GET", f"{t}?userId=12345&limit=50", t, 200)
    assert cold["strategy"] == "popular"
    assert len(cold["items"]) == len(ITEMS)
    assert cold["items"][0]["score"] == 1.0


@pytest.mark.parametrize("query", ["", "userId=abc", "userId=0", "userId=-1", "userId=1.5", "userId=%201",
                                   "userId=1&limit=0", "userId=1&limit=51", "userId=1&category=weapons"])
async def test_recommendations_reject_bad_parameters(http: aiohttp.ClientSession, query: str) -> None:
    t = "/api/v1/recommendations"
    body = await call(http, "GET", f"{t}?{query}", t, 400)
    assert body["status"] == 400


async def test_feedback_changes_recommendations(http: aiohttp.ClientSession) -> None:
    rec, fb = "/api/v1/recommendations", "/api/v1/recommendations/feedback"
    before = await call(http, "GET", f"{rec}?userId=7&limit=5", rec, 200)
    top = before["items"][0]["itemId"]
    receipt = await call(http, "POST", fb, fb, 201,
                         json_body={"userId": 7, "itemId": top, "rating": 1, "comment": "not for me"})
    assert receipt == {"feedbackId": 1, "status": "recorded"}
    after = await call(http, "GET", f"{rec}?userId=7&limit=5", rec, 200)
    assert top not in {i["itemId"] for i in after["items"]}
    # A 5-star rating of a music item pulls music up for a user without any history.
    await call(http, "POST", fb, fb, 201, json_body={"userId": 999, "itemId": 125, "rating": 5})
    liked = await call(http, "GET", f"{rec}?userId=999&limit=3", rec, 200)
    assert liked["strategy"] == "cosine"
    assert {i["category"] for i in liked["items"]} == {"music"}


@pytest.mark.parametrize("body", [
    {"userId": 1, "itemId": 101, "rating": 6},
    {"userId": 1, "itemId": 101, "rating": 0},
    {"userId": 1, "itemId": 101, "rating": "5"},
    {"userId": 1, "itemId": 101, "rating": True},
    {"userId": 1, "itemId": 101},
    {"itemId": 101, "rating": 3},
    {"userId": 1, "itemId": 101, "rating": 3, "comment": 42},
    [1, 2, 3],
])
async def test_feedback_rejects_invalid_bodies(http: aiohttp.ClientSession, body: Any) -> None:
    fb = "/api/v1/recommendations/feedback"
    await call(http, "POST", fb, fb, 400, json_body=body)


async def test_feedback_rejects_broken_json_and_unknown_items(http: aiohttp.ClientSession) -> None:
    fb = "/api/v1/recommendations/feedback"
    await call(http, "POST", fb, fb, 400, data='{"userId": 1,')
    await call(http, "POST", fb, fb, 404, json_body={"userId": 1, "itemId": 99999, "rating": 4})


# -- analytics -------------------------------------------------------------------------------------------


async def test_customer_insights_have_no_contact_data(http: aiohttp.ClientSession) -> None:
    t = "/api/v1/analytics/customers/{customerId}"
    body = await call(http, "GET", "/api/v1/analytics/customers/1", t, 200)
    customer = CUSTOMERS[1]
    assert body["customerId"] == 1
    assert body["orderCount"] == len(customer.transactions)
    assert body["displayName"] == f"{customer.first_name} {customer.last_name[0]}."
    text = json.dumps(body)
    assert customer.email not in text and customer.phone not in text and customer.card_last4 not in text
    await call(http, "GET", "/api/v1/analytics/customers/999", t, 404)
    await call(http, "GET", "/api/v1/analytics/customers/abc", t, 400)
    await call(http, "GET", "/api/v1/analytics/customers/1%20OR%201=1", t, 400)


async def test_churn_risk_levels_follow_segments(http: aiohttp.ClientSession) -> None:
    t = "/api/v1/analytics/customers/{customerId}"
    levels: dict[str, set[str]] = {}
    for cid, customer in CUSTOMERS.items():
        body = await call(http, "GET", f"/api/v1/analytics/customers/{cid}", t, 200)
        levels.setdefault(customer.segment, set()).add(body["churnRisk"]["level"])
    assert levels["loyal"] == {"low"}
    assert levels["dormant"] == {"high"}


async def test_segment_summary_leaks_customer_records_beyond_the_contract(http: aiohttp.ClientSession) -> None:
    """The deliberate excessive-data-exposure flaw: it must stay there for the demo to show anything."""
    t = "/api/v1/analytics/segments/{segment}/summary"
    body = await call(http, "GET", "/api/v1/analytics/segments/at-risk/summary", t, 200, conforms=False)
    members = [c for c in CUSTOMERS.values() if c.segment == "at-risk"]
    # The aggregates the client needs...
    assert body["customerCount"] == len(members)
    revenue = round(sum(tx.amount for c in members for tx in c.transactions), 2)
    assert body["totalRevenue"] == revenue
    orders = sum(len(c.transactions) for c in members)
    assert body["avgOrderValue"] == round(revenue / orders, 2)
    assert 0 <= body["churnRisk"]["average"] <= 1
    # ...and, beyond the contract, every customer's personal data.
    leaked = body["customers"]
    assert {c["email"] for c in leaked} == {c.email for c in members}
    assert {c["phone"] for c in leaked} == {c.phone for c in members}
    assert all(c["address"]["street"] and len(c["paymentMethod"]["last4"]) == 4 for c in leaked)
    assert all(c["transactions"] for c in leaked)
    errors = contract_errors(t, "get", 200, "application/json", body)
    assert len(errors) == 1 and "'customers' was unexpected" in errors[0]
    # Cutting the response down to the declared fields (what sealgate's filter does) makes it conform.
    assert contract_errors(t, "get", 200, "application/json", {k: v for k, v in body.items()
                                                                 if k != "customers"}) == []


async def test_segment_summary_unknown_segment(http: aiohttp.ClientSession) -> None:
    t = "/api/v1/analytics/segments/{segment}/summary"
    await call(http, "GET", "/api/v1/analytics/segments/vip/summary", t, 404)


# -- chat --------------------------------------------------------------------------------------------------


async def test_chat_answers_from_matching_articles(http: aiohttp.ClientSession) -> None:
    t = "/api/v1/chat"
    body = await call(http, "POST", t, t, 200,
                      json_body={"message": "How do rate limits work?", "sessionId": "session-0001"})
    assert body["sources"][0]["title"] == "Rate limits and quotas"
    assert "600 requests per minute" in body["answer"]
    assert body["turn"] == 1
    body = await call(http, "POST", t, t, 200,
                      json_body={"message": "What is the churn risk score?", "sessionId": "session-0001"})
    assert body["sources"][0]["title"] == "Understanding the churn risk score"
    assert body["turn"] == 2
    other = await call(http, "POST", t, t, 200, json_body={"message": "api keys", "sessionId": "session-0002"})
    assert other["turn"] == 1
    assert other["sources"][0]["title"] == "Authenticating with API keys"


def test_chat_contract_limits() -> None:
    request = component("ChatRequest")
    assert request.is_valid({"message": "How do I rotate an API key?", "sessionId": "demo"})
    for bad in ({"message": "", "sessionId": "demo"}, {"message": "x" * 2001, "sessionId": "demo"},
                {"message": "hi", "sessionId": "a b"}, {"message": "hi", "sessionId": "x" * 65},
                {"message": "hi", "sessionId": "demo", "role": "admin"}, {"message": "hi"}):
        assert not request.is_valid(bad), bad


async def test_chat_falls_back_when_nothing_matches(http: aiohttp.ClientSession) -> None:
    t = "/api/v1/chat"
    body = await call(http, "POST", t, t, 200, json_body={"message": "zzzz qqqq", "sessionId": "session-0003"})
    assert body["sources"] == []
    assert body["answer"].startswith("I could not find")


@pytest.mark.parametrize("body", [
    {"message": "hi"}, {"sessionId": "session-0001"}, {"message": "", "sessionId": "session-0001"},
    {"message": 5, "sessionId": "session-0001"}, {"message": "hi", "sessionId": 12345678},
])
async def test_chat_rejects_invalid_bodies(http: aiohttp.ClientSession, body: dict[str, Any]) -> None:
    await call(http, "POST", "/api/v1/chat", "/api/v1/chat", 400, json_body=body)


# -- articles: search, create, safe lookup ------------------------------------------------------------------


async def test_bench_get_shape_returns_200(http: aiohttp.ClientSession) -> None:
    t = "/api/v1/articles"
    body = await call(http, "GET", BENCH_GET, t, 200)
    titles = [a["title"] for a in body["items"]]
    assert body["total"] == len(titles) >= 3
    assert titles[0] == "An introduction to machine learning"  # title matches rank first
    assert all(a["lang"] == "en" for a in body["items"])


async def test_search_filters(http: aiohttp.ClientSession) -> None:
    t = "/api/v1/articles"
    everything = await call(http, "GET", f"{t}?limit=50", t, 200)
    assert everything["total"] == 20
    german = await call(http, "GET", f"{t}?lang=de", t, 200)
    assert [a["slug"] for a in german["items"]] == ["einfuehrung-maschinelles-lernen"]
    tagged = await call(http, "GET", f"{t}?tag=billing", t, 200)
    assert {a["slug"] for a in tagged["items"]} == {"billing", "change-plan"}
    related = await call(http, "GET", f"{t}?q=embeddings&articleId=7", t, 200)
    assert 7 not in {a["id"] for a in related["items"]} and related["items"]
    page = await call(http, "GET", f"{t}?limit=5&offset=18", t, 200)
    assert [a["id"] for a in page["items"]] == [19, 20] and page["offset"] == 18


@pytest.mark.parametrize("q", ["%", "_", "' OR 1=1 --", "\" OR \"\"=\"", "1; DROP TABLE articles; --"])
async def test_search_binds_the_query_literally(http: aiohttp.ClientSession, q: str) -> None:
    t = "/api/v1/articles"
    async with http.get(t, params={"q": q}) as response:
        assert response.status == 200
        assert (await response.json())["total"] == 0
    assert await articles_table_exists(http)


@pytest.mark.parametrize("query", ["lang=xx", "limit=0", "limit=51", "offset=-1", "articleId=abc"])
async def test_search_rejects_bad_parameters(http: aiohttp.ClientSession, query: str) -> None:
    await call(http, "GET", f"/api/v1/articles?{query}", "/api/v1/articles", 400)


async def test_create_the_bench_article(http: aiohttp.ClientSession) -> None:
    t = "/api/v1/articles"
    raw = BENCH_ARTICLE_RAW
    async with http.post(t, data=raw, headers={"Content-Type": "application/json"}) as response:
        assert response.status == 201
        location = response.headers["Location"]
        created = await response.json()
    assert contract_errors(t, "post", 201, "application/json", created) == []
    source = json.loads(raw)
    assert location == f"/api/v1/articles/{created['id']}"
    assert created["id"] == 21
    assert created["tags"] == source["tags"]
    assert created["author"] == {"id": 1042, "name": "Jane Doe"}  # the author's e-mail is not echoed
    fetched = await call(http, "GET", location, "/api/v1/articles/{articleId}", 200)
    assert fetched == created
    # A draft is not searchable; a published article is.
    drafts = await call(http, "GET", f"{t}?q=mini%20batches", t, 200)
    assert drafts["total"] == 0
    await call(http, "POST", t, t, 201, json_body={**source, "status": "published"})
    published = await call(http, "GET", f"{t}?q=mini%20batches", t, 200)
    assert published["total"] == 1


async def test_create_minimal_article_gets_defaults(http: aiohttp.ClientSession) -> None:
    t = "/api/v1/articles"
    body = await call(http, "POST", t, t, 201, json_body={"title": "Hello, World!", "body": "Some text."})
    assert body["slug"] == "hello-world"
    assert body["status"] == "draft" and body["lang"] == "en" and body["tags"] == []
    assert body["author"] is None and body["published_at"] is None


@pytest.mark.parametrize("body", [
    {"body": "x"}, {"title": "x"}, {"title": "", "body": "x"}, {"title": "x", "body": "y", "tags": "a,b"},
    {"title": "x", "body": "y", "tags": [1]}, {"title": "x", "body": "y", "lang": "xx"},
    {"title": "x", "body": "y", "status": "deleted"}, {"title": "x", "body": "y", "author": "me"},
    {"title": "x", "body": "y", "allow_comments": "yes"}, {"title": "x", "body": "y", "category_id": "7"},
])
async def test_create_rejects_invalid_bodies(http: aiohttp.ClientSession, body: dict[str, Any]) -> None:
    await call(http, "POST", "/api/v1/articles", "/api/v1/articles", 400, json_body=body)


async def test_get_article(http: aiohttp.ClientSession) -> None:
    t = "/api/v1/articles/{articleId}"
    body = await call(http, "GET", "/api/v1/articles/1", t, 200)
    assert body["title"] == SEED_ARTICLES[0].title
    assert body["author"] == {"id": 1, "name": "Nimbus Docs Team"}
    await call(http, "GET", "/api/v1/articles/9999", t, 404)


@pytest.mark.parametrize("payload", [DROP, "1 OR 1=1", "1' OR '1'='1", "0 UNION SELECT 1,2,3,4", "1--"])
async def test_safe_lookup_is_not_injectable(http: aiohttp.ClientSession, payload: str) -> None:
    from urllib.parse import quote

    t = "/api/v1/articles/{articleId}"
    await call(http, "GET", f"/api/v1/articles/{quote(payload, safe='')}", t, 404)
    assert await articles_table_exists(http)
    assert (await call(http, "GET", "/api/v1/articles/1", t, 200))["id"] == 1


# -- the deliberately vulnerable legacy endpoint, and reset ---------------------------------------------------


async def test_legacy_lookup_benign(http: aiohttp.ClientSession) -> None:
    t = "/api/v1/legacy/articles"
    body = await call(http, "GET", f"{t}?articleId=3", t, 200)
    assert [a["title"] for a in body["articles"]] == ["Rate limits and quotas"]
    await call(http, "GET", f"{t}?articleId=9999", t, 404)
    await call(http, "GET", t, t, 400)


async def test_legacy_lookup_is_really_injectable(http: aiohttp.ClientSession) -> None:
    t = "/api/v1/legacy/articles"
    # Tautology: every article comes back (and the response breaks the contract's maxItems: 1).
    everything = await call(http, "GET", t + "?articleId=1%20OR%201=1", t, 200, conforms=False)
    assert len(everything["articles"]) == 20
    # UNION: read the schema of the database.
    union = "0 UNION SELECT 1, name, sql, type FROM sqlite_master WHERE name = 'articles'"
    async with http.get(t, params={"articleId": union}) as response:
        leaked = await response.json()
    assert "CREATE TABLE articles" in leaked["articles"][0]["summary"]
    # Error-based: the database error text is echoed.
    async with http.get(t, params={"articleId": "1'"}) as response:
        assert response.status == 500
        assert "unrecognized token" in (await response.json())["detail"]


@pytest.mark.parametrize("statement", ["ATTACH DATABASE '{file}' AS x", "VACUUM INTO '{file}'",
                                       "PRAGMA writable_schema = 1", "SELECT load_extension('{file}')"])
async def test_legacy_injection_stays_inside_the_database(
    http: aiohttp.ClientSession, tmp_path: Path, statement: str
) -> None:
    target = tmp_path / "written-by-injection.db"
    payload = f"1; {statement.format(file=target)}; --"
    async with http.get("/api/v1/legacy/articles", params={"articleId": payload}) as response:
        assert response.status == 500
    assert not target.exists()
    assert await articles_table_exists(http)


async def test_deeply_nested_json_is_a_bad_request(http: aiohttp.ClientSession) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    await call(http, "POST", "/api/v1/chat", "/api/v1/chat", 400, data=nested)


async def test_legacy_stacked_query_drops_the_table_and_reset_restores_it(http: aiohttp.ClientSession) -> None:
    t = "/api/v1/legacy/articles"
    assert await articles_table_exists(http)
    async with http.get(t, params={"articleId": DROP}) as response:
        assert response.status == 200  # the first statement still returned article 1
        assert (await response.json())["articles"][0]["id"] == 1
    # The table is really gone.
    assert not await articles_table_exists(http)
    health = await call(http, "GET", "/healthz", "/healthz", 503)
    assert health["status"] == "degraded"
    body = await call(http, "GET", "/api/v1/articles/1", "/api/v1/articles/{articleId}", 500, conforms=False)
    assert body["detail"] == "database error"  # the safe endpoint does not leak the error text
    # Reset restores the seeded data.
    reset = await call(http, "POST", "/api/v1/admin/reset", "/api/v1/admin/reset", 200)
    assert reset == {"status": "reset", "articles": 20}
    assert await articles_table_exists(http)
    await call(http, "GET", "/api/v1/articles/1", "/api/v1/articles/{articleId}", 200)


async def test_reset_clears_feedback_chat_and_created_articles(http: aiohttp.ClientSession) -> None:
    await call(http, "POST", "/api/v1/articles", "/api/v1/articles", 201, json_body={"title": "t", "body": "b"})
    chat = {"message": "billing", "sessionId": "session-0009"}
    await call(http, "POST", "/api/v1/chat", "/api/v1/chat", 200, json_body=chat)
    fb = "/api/v1/recommendations/feedback"
    await call(http, "POST", fb, fb, 201, json_body={"userId": 1, "itemId": 101, "rating": 2})
    await call(http, "POST", "/api/v1/admin/reset", "/api/v1/admin/reset", 200)
    assert (await call(http, "GET", "/healthz", "/healthz", 200))["articles"] == 20
    assert (await call(http, "POST", "/api/v1/chat", "/api/v1/chat", 200, json_body=chat))["turn"] == 1
    receipt = await call(http, "POST", fb, fb, 201, json_body={"userId": 1, "itemId": 101, "rating": 2})
    assert receipt["feedbackId"] == 1


async def test_database_persists_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "persist.sqlite3"
    first = await start_sample_api("127.0.0.1", 0, db)
    async with aiohttp.ClientSession(base_url=first.url) as http:
        await call(http, "POST", "/api/v1/articles", "/api/v1/articles", 201, json_body={"title": "t", "body": "b"})
    await first.close()
    second = await start_sample_api("127.0.0.1", 0, db)
    async with aiohttp.ClientSession(base_url=second.url) as http:
        assert (await call(http, "GET", "/healthz", "/healthz", 200))["articles"] == 21
    await second.close()


# -- loopback only -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "expected"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("LOCALHOST", True), ("0.0.0.0", False), ("::", False), ("192.0.2.10", False), ("10.0.0.1", False),
    ("localhost.example.com", False), ("127.0.0.1.nip.io", False), ("", False), (None, False),
])
def test_is_loopback_host(host: str | None, expected: bool) -> None:
    assert is_loopback_host(host) is expected


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.com"])
async def test_refuses_to_listen_on_non_loopback(host: str) -> None:
    with pytest.raises(ConfigError, match="loopback"):
        await start_sample_api(host, 0, None)
    with pytest.raises(ConfigError, match="loopback"):
        SampleAPIThread(host)


async def test_listens_on_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        server = await start_sample_api("::1", 0, None)
    except OSError:
        pytest.skip("::1 not configured")
    try:
        assert server.url.startswith("http://[::1]:")
        async with aiohttp.ClientSession() as http, http.get(server.url + "/healthz") as response:
            assert response.status == 200
    finally:
        await server.close()


# -- the thread helper and the command line ------------------------------------------------------------------


def test_thread_helper_serves_and_stops() -> None:
    with SampleAPIThread() as api:
        with urllib.request.urlopen(api.url + "/healthz", timeout=5) as response:
            assert json.load(response)["status"] == "ok"
        url = api.url
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/healthz", timeout=2)


def _module_env() -> dict[str, str]:
    src = str(Path(sealgate.__file__).resolve().parent.parent)
    pythonpath = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": src + (os.pathsep + pythonpath if pythonpath else "")}


def test_module_entry_point_refuses_public_host() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sealgate.demo.sample_api", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True, text=True, timeout=30, env=_module_env(), check=False,
    )
    assert result.returncode == 2
    assert "loopback" in result.stderr


def test_module_entry_point_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sealgate.demo.sample_api", "--port", str(port), "--db",
         str(tmp_path / "cli.sqlite3")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_module_env(),
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    assert json.load(response)["articles"] == 20
                    break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "the sample API did not start"
                time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert f"http://127.0.0.1:{port}" in stderr
    assert "Warning" not in stderr  # e.g. runpy's "found in sys.modules" RuntimeWarning
    assert (tmp_path / "cli.sqlite3").exists()


# -- the web app in a real browser -------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
async def test_web_app_in_chromium(api: SampleAPIServer, http: aiohttp.ClientSession) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian chromium is not installed")
    from playwright.async_api import async_playwright

    # An article whose title is markup: the app must show it as text, never run it.
    xss = "<img src=x onerror=\"window.__pwned=1\"> Injected title"
    await call(http, "POST", "/api/v1/articles", "/api/v1/articles", 201,
               json_body={"title": xss, "body": "xss probe", "status": "published"})
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = await browser.new_page()
            await page.goto(api.url + "/")
            await page.wait_for_selector("#rec-list li")
            assert await page.locator("#rec-list li").count() == 6
            assert "API ok" in await page.locator("#health").inner_text()
            await page.fill("#chat-input", "How do rate limits work?")
            await page.click("#chat-form button")
            await page.wait_for_selector(".msg.bot >> nth=1")
            assert "600 requests per minute" in await page.locator(".msg.bot").nth(1).inner_text()
            await page.fill("#kb-query", "embeddings")
            await page.click("#kb-form button")
            await page.locator("#kb-results button", has_text="Embeddings explained").click()
            await page.wait_for_selector("#kb-article h3")
            assert await page.locator("#kb-article h3").inner_text() == "Embeddings explained"
            await page.fill("#kb-query", "xss probe")
            await page.click("#kb-form button")
            await page.wait_for_selector("#kb-results button:has-text('Injected title')")
            assert await page.locator("#kb-results button").first.inner_text() == xss
            assert await page.evaluate("window.__pwned") is None
            assert await page.locator("#kb-results img").count() == 0
        finally:
            await browser.close()
