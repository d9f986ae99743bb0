"""The injection protection through the pipeline: block, detect, exclusions, explanations."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import orjson
import pytest
import yarl

from sealgate.config.load import parse_config_text
from sealgate.testing import build_pipeline, make_exchange
from tests.support.servers import make_config, run_gateway

DROP = "articleId=1;%20DROP%20TABLE%20articles;%20--"


async def _status(config_text: str, method: str, path: str, query: str = "", body: bytes | None = None,
                  content_type: str = "application/json") -> tuple[int, list[str]]:
    pipeline = build_pipeline(parse_config_text(config_text, env={}))
    headers = [("content-type", content_type)] if body is not None else []
    exchange = make_exchange(method, path, query=query, headers=headers, body=body)
    response = await pipeline.handle(exchange)
    return response.status, [f.rule_id for f in exchange.findings]


async def test_seed_injection_is_blocked_without_a_spec() -> None:
    status, rules = await _status("", "GET", "/api/v1/legacy/articles", DROP)
    assert status == 403
    assert any(rule.startswith("sqli") for rule in rules)


@pytest.mark.parametrize(
    "query",
    ["q=O%27Reilly", "q=select%20a%20union%20of%20colors", "q=drop%20the%20table%20by%20the%20window",
     "q=1%2B1%3D2", "q=don%27t%20panic", "articleId=42&lang=en&q=machine%20learning"],
)
async def test_benign_look_alikes_pass(query: str) -> None:
    status, rules = await _status("", "GET", "/search", query)
    assert status == 200, rules


async def test_json_body_values_and_keys_are_inspected() -> None:
    attack = orjson.dumps({"comment": {"nested": ["fine", "1' OR '1'='1"]}})
    status, _ = await _status("", "POST", "/comments", body=attack)
    assert status == 403
    benign = orjson.dumps({"comment": {"nested": ["fine", "It's 1 o'clock, or so"]}})
    status, _ = await _status("", "POST", "/comments", body=benign)
    assert status == 200


async def test_detect_mode_records_but_forwards() -> None:
    status, rules = await _status("injection: {mode: detect}\n", "GET", "/x", DROP)
    assert status == 200 and rules


async def test_per_route_mode_and_disable() -> None:
    config = 'routes: {"* /*": {injection: {mode: detect}}}\n'
    status, rules = await _status(config, "GET", "/x", DROP)
    assert status == 200 and rules
    config = 'routes: {"* /*": {injection: {enabled: false}}}\n'
    status, rules = await _status(config, "GET", "/x", DROP)
    assert status == 200 and not rules


async def test_exclusions_by_location_and_rule() -> None:
    by_location = "injection: {exclusions: [{locations: ['query.articleId']}]}\n"
    assert (await _status(by_location, "GET", "/x", DROP))[0] == 200
    other_location = "injection: {exclusions: [{locations: ['query.q*']}]}\n"
    assert (await _status(other_location, "GET", "/x", DROP))[0] == 403
    by_rule = "injection: {exclusions: [{rules: ['sqli']}]}\n"
    assert (await _status(by_rule, "GET", "/x", DROP))[0] == 200
    other_route = "injection: {exclusions: [{route: 'POST /x', rules: ['sqli']}]}\n"
    assert (await _status(other_route, "GET", "/x", DROP))[0] == 403


def test_bad_route_settings_fail_at_startup() -> None:
    with pytest.raises(Exception, match="routes"):
        build_pipeline(parse_config_text('routes: {"* /*": {injection: {paranoia: 9}}}\n', env={}))


async def test_block_through_the_real_gateway_is_explained_in_the_audit(upstream: str, tmp_path: Path) -> None:
    config = make_config(
        f'upstream: {{urls: ["{upstream}"]}}\naudit: {{backend: jsonl, path: "{tmp_path / "a.jsonl"}"}}\n'
        "admin: {enabled: false}\n"
    )
    async with run_gateway(config) as (base, gateway), aiohttp.ClientSession() as client:
        url = yarl.URL(f"{base}/api/v1/legacy/articles?{DROP}", encoded=True)
        async with client.get(url, headers={"X-Request-ID": "inj-1"}) as resp:
            assert resp.status == 403
            problem = await resp.json(content_type=None)
            assert problem["request_id"] == "inj-1" and problem["status"] == 403
            assert "DROP" not in orjson.dumps(problem).decode()  # no payload echoed to the client
        async with client.get(f"{base}/api/v1/articles?q=O%27Reilly") as resp:
            assert resp.status == 200
        await gateway.audit_sink.flush()
    event = next(e for e in map(orjson.loads, (tmp_path / "a.jsonl").read_text().splitlines())
                 if e["request_id"] == "inj-1")
    assert event["verdict"] == "block" and event["protection"] == "injection"
    assert event["anomaly_score"] >= 5
    finding = event["findings"][0]
    assert finding["detector"] == "sqli" and finding["location"] == "query.articleId"
    assert "DROP TABLE" in finding["excerpt"].upper()


@pytest.mark.parametrize("encoding", ["UTF-7", "x-no-such-encoding"])
async def test_xml_in_an_encoding_the_parser_cannot_read_is_still_judged(encoding: str) -> None:
    """expat refuses UTF-7 (a published XXE bypass) and unknown encodings with exceptions of
    its own: the body must then be judged raw, never end in a 500."""
    head = f'<?xml version="1.0" encoding="{encoding}"?>'
    # <!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>, UTF-7 encoded
    xxe = head + "+ADw-+ACE-DOCTYPE r +AFs-+ADw-+ACE-ENTITY x SYSTEM +ACI-file:///etc/passwd+ACI-+AD4-+AF0-+AD4-+ADw-r+AD4-+ACY-x;+ADw-/r+AD4-"
    status, rules = await _status("", "POST", "/orders", body=xxe.encode(), content_type="application/xml")
    assert status == 403 and any(rule.startswith("xxe") for rule in rules), (status, rules)
    benign = head + "<order><item>tea</item><qty>2</qty></order>"
    status, rules = await _status("", "POST", "/orders", body=benign.encode(), content_type="application/xml")
    assert status == 200, rules
