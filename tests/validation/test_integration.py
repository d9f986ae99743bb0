"""Request validation and sanitization through the real gateway (uvicorn + aiohttp echo upstream)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import orjson
import yarl

from tests.support.servers import make_config, run_gateway
from tests.validation.helpers import SPEC


def _config(upstream: str, tmp_path: Path) -> str:
    return (
        f'upstream: {{urls: ["{upstream}"], read_timeout: 2.0, connect_timeout: 1.0}}\n'
        f'audit: {{backend: jsonl, path: "{tmp_path / "audit.jsonl"}"}}\n'
        "admin: {enabled: false}\n"
        f'routing: {{spec: "{SPEC}"}}\n'
        'sanitize: {fields: {"POST /articles": {"body.$.title": [strip-html]}}}\n'
    )


async def test_validation_and_sanitize_end_to_end(upstream: str, tmp_path: Path) -> None:
    config = make_config(_config(upstream, tmp_path))
    async with run_gateway(config) as (base, gateway), aiohttp.ClientSession() as client:
        injection = yarl.URL(f"{base}/legacy/articles?articleId=1;%20DROP%20TABLE%20articles;%20--", encoded=True)
        async with client.get(injection) as resp:
            assert resp.status == 400
            assert resp.content_type == "application/problem+json"
            problem = await resp.json(content_type=None)
        assert problem["violations"][0]["location"] == "query.articleId"
        assert problem["violations"][0]["excerpt"] == "1; DROP TABLE articles; --"
        assert problem["request_id"] == resp.headers["X-Request-ID"]

        async with client.get(f"{base}/legacy/articles?articleId=42&sort=asc") as resp:
            assert resp.status == 200
            assert (await resp.json())["query_string"] == "articleId=42&sort=asc"

        article = {"title": "<h1>Launch</h1>", "body": "text", "items": [{"sku": "ABCD0001", "qty": 1}]}
        async with client.post(f"{base}/articles", json=article) as resp:
            assert resp.status == 200
            echoed = await resp.json()
        forwarded = orjson.loads(echoed["body"])
        assert forwarded["title"] == "Launch"
        assert echoed["body_len"] == len(echoed["body"].encode("latin-1"))

        async with client.post(f"{base}/articles", json={**article, "admin": True}) as resp:
            assert resp.status == 400
            assert (await resp.json(content_type=None))["violations"][0]["location"] == "body.$.admin"

        async with client.post(f"{base}/articles", data=b"<x/>", headers={"Content-Type": "text/html"}) as resp:
            assert resp.status == 415

        json_type = {"Content-Type": "application/json"}
        async with client.post(f"{base}/articles", data=b'{"title":', headers=json_type) as resp:
            assert resp.status == 400
            assert "not valid JSON" in (await resp.json(content_type=None))["violations"][0]["message"]
        await gateway.audit_sink.flush()
    events = [orjson.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    first = next(e for e in events if e["status"] == 400)
    assert first["verdict"] == "block" and first["protection"] == "request_validation"
    assert first["findings"][0]["location"] == "query.articleId"
    assert first["rule_ids"] == ["schema-type", "request-validation"]
    assert first["reason"] == "query.articleId: expected integer"
