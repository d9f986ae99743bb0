"""Micro benchmark of request validation: a typical request (3 query parameters, 1 KB JSON body).

Prints the in-process cost of the request-validation protection's two hooks, split into the
parameter check (headers phase) and the body check (body phase), against two baselines measured
alongside on the same machine: ``orjson.loads`` of the same body (what parsing it costs once,
shared with the detectors) and a bare jsonschema-rs ``is_valid`` of the same body, plus
``sum(range(1000))`` to scale the figures to another machine (≈ 8 µs on a current desktop CPU).
Parsing the query and the body is the exchange's (cached, shared) work and is done before timing.

    .venv/bin/python bench/validation_micro.py [--number 2000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import timeit
from typing import Any

import jsonschema_rs
import orjson

from sealgate.openapi.document import OpenAPIDocument
from sealgate.pipeline.exchange import Exchange
from sealgate.protections.request_validation import RequestValidationProtection, ValidationConfig
from sealgate.protections.routing import RoutingConfig, RoutingProtection
from sealgate.testing import make_exchange

ARTICLE: dict[str, Any] = {
    "type": "object",
    "required": ["title", "body", "items"],
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 120},
        "body": {"type": "string", "maxLength": 4000},
        "author": {"type": "string", "format": "email"},
        "id": {"type": "string", "format": "uuid"},
        "published": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": ["draft", "published", "archived"]},
        "tags": {"type": "array", "maxItems": 10, "items": {"type": "string", "pattern": "^[a-z0-9-]{1,30}$"}},
        "items": {"type": "array", "maxItems": 50, "items": {
            "type": "object", "required": ["sku", "qty"],
            "properties": {"sku": {"type": "string", "pattern": "^[A-Z0-9]{4,12}$"},
                           "qty": {"type": "integer", "minimum": 1, "maximum": 1000},
                           "price": {"type": "number", "minimum": 0}}}},
    },
}
SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "bench", "version": "1"},
    "paths": {"/api/v1/articles": {"post": {
        "parameters": [
            {"name": "draft", "in": "query", "schema": {"type": "boolean"}},
            {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["en", "de", "fr"]}},
            {"name": "source", "in": "query", "schema": {"type": "string", "maxLength": 40}},
        ],
        "requestBody": {"required": True, "content": {"application/json": {"schema": ARTICLE}}},
        "responses": {"201": {"description": "created"}},
    }}},
}
BODY = orjson.dumps({
    "title": "Hello world, this is an article",
    "body": "Lorem ipsum dolor sit amet " * 15,
    "author": "a@example.com",
    "id": "123e4567-e89b-12d3-a456-426614174000",
    "published": "2024-05-01T10:00:00Z",
    "status": "draft",
    "tags": ["news", "tech", "python"],
    "items": [{"sku": f"ABCD{i:04d}", "qty": i + 1, "price": 9.99} for i in range(10)],
})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="calls per timing")
    parser.add_argument("--rounds", type=int, default=20, help="interleaved timings per function (best kept)")
    args = parser.parse_args()
    document = OpenAPIDocument(SPEC)
    validation = RequestValidationProtection(ValidationConfig(), document)
    routing = RoutingProtection(RoutingConfig(), document)

    def fresh() -> Exchange:
        exchange = make_exchange("POST", "/api/v1/articles", query="draft=true&lang=en&source=newsletter",
                                 headers=[("content-type", "application/json")], body=BODY)
        asyncio.run(routing.on_request_headers(exchange))
        exchange.parsed_body()
        _ = exchange.query
        return exchange

    exchange = fresh()
    headers_hook = validation.on_request_headers
    body_hook = validation.on_request_body

    def run_hook(hook: Any) -> None:
        coro = hook(exchange)
        try:
            coro.send(None)  # the hooks never await: drive the coroutine without the event loop's overhead
        except StopIteration as stop:
            assert stop.value is None

    def both() -> None:
        run_hook(headers_hook)
        run_hook(body_hook)

    both()
    assert exchange.findings == [], exchange.findings
    parsed = exchange.parsed_body()
    bare = jsonschema_rs.Draft202012Validator(ARTICLE, validate_formats=True)
    n = args.number
    timings = {
        "params (3 query)": lambda: run_hook(headers_hook),
        "body (1 KB JSON)": lambda: run_hook(body_hook),
        "total validation": both,
        "baseline: orjson.loads(body)": lambda: orjson.loads(BODY),
        "baseline: bare jsonschema-rs is_valid": lambda: bare.is_valid(parsed),
        "machine: sum(range(1000))": lambda: sum(range(1000)),
    }
    # Interleaved rounds, best of each: on a shared machine every function gets its quiet moment.
    results = dict.fromkeys(timings, float("inf"))
    for _ in range(args.rounds):
        for name, fn in timings.items():
            results[name] = min(results[name], timeit.timeit(fn, number=n) / n * 1e6)
    print(f"body: {len(BODY)} bytes; typed locations: {len(exchange.state['validation']['typed'])}")
    for name, micros in results.items():
        print(f"{name:40s} {micros:8.2f} µs")
    total = results["total validation"]
    print(f"total / orjson.loads: {total / results['baseline: orjson.loads(body)']:.1f}x; "
          f"total / bare is_valid: {total / results['baseline: bare jsonschema-rs is_valid']:.2f}x")


if __name__ == "__main__":
    main()
