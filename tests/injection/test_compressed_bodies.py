"""Compressed request bodies are inspected decoded, or refused: never forwarded unread.

An upstream that decompresses request bodies itself (many frameworks can) would otherwise act on
an injection the detectors only saw as gzip bytes.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import aiohttp
import orjson
import pytest

from sealgate.config.load import parse_config_text
from sealgate.testing import build_pipeline, make_exchange
from tests.support.servers import make_config, run_gateway

ATTACK = orjson.dumps({"articleId": "1; DROP TABLE articles; --"})
BENIGN = orjson.dumps({"comment": "It's 1 o'clock, or so; select a table by the window"})


async def _handle(body: bytes, encoding: str, config: str = "") -> tuple[int, bytes | None, list[str]]:
    pipeline = build_pipeline(parse_config_text(config, env={}))
    headers = [("content-type", "application/json"), ("content-encoding", encoding)]
    exchange = make_exchange("POST", "/api/v1/articles", headers=headers, body=body)
    response = await pipeline.handle(exchange)
    return response.status, exchange.body, [f.rule_id for f in exchange.findings]


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [("gzip", gzip.compress), ("x-gzip", gzip.compress), ("deflate", zlib.compress),
     ("deflate", lambda b: zlib.compress(b, wbits=-15)), ("GZip", gzip.compress)],
    ids=["gzip", "x-gzip", "deflate-zlib", "deflate-raw", "case"],
)
async def test_compressed_injection_is_decoded_and_blocked(encoding: str, encode: object) -> None:
    assert callable(encode)
    status, _, rules = await _handle(encode(ATTACK), encoding)
    assert status == 403
    assert any(rule.startswith("sqli") for rule in rules)


async def test_compressed_benign_body_is_forwarded_decoded() -> None:
    status, body, rules = await _handle(gzip.compress(BENIGN), "gzip")
    assert status == 200, rules
    assert body == BENIGN


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, gzip", "rot13"])
async def test_encodings_that_cannot_be_inspected_are_refused(encoding: str) -> None:
    status, _, _ = await _handle(b"\x00\x01opaque", encoding)
    assert status == 415


async def test_corrupt_or_truncated_gzip_is_a_400() -> None:
    whole = gzip.compress(ATTACK)
    for bad in (b"not gzip at all", whole[:-6], whole + b"trailing"):
        status, _, _ = await _handle(bad, "gzip")
        assert status == 400


async def test_decompression_bomb_is_refused_without_expanding() -> None:
    bomb = gzip.compress(b"0" * 5_000_000)  # ~5 KB on the wire
    status, _, _ = await _handle(bomb, "gzip", "limits: {max_body_bytes: 1000000}\n")
    assert status == 413


async def test_identity_and_absent_encodings_are_untouched() -> None:
    status, body, _ = await _handle(BENIGN, "identity")
    assert status == 200 and body == BENIGN


async def test_through_the_real_gateway_the_upstream_gets_what_was_inspected(upstream: str, tmp_path: Path) -> None:
    config = make_config(
        f'upstream: {{urls: ["{upstream}"]}}\naudit: {{backend: "off"}}\nadmin: {{enabled: false}}\n'
    )
    async with run_gateway(config) as (base, _), aiohttp.ClientSession(auto_decompress=False) as client:
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        async with client.post(f"{base}/comments", data=gzip.compress(ATTACK), headers=headers) as resp:
            assert resp.status == 403
        async with client.post(f"{base}/comments", data=gzip.compress(BENIGN), headers=headers) as resp:
            assert resp.status == 200
            echoed = await resp.json()
    forwarded = {k.lower(): v for k, v in echoed["headers"]}
    assert echoed["body"].encode("latin-1") == BENIGN
    assert "content-encoding" not in forwarded
    assert forwarded["content-length"] == str(len(BENIGN))
