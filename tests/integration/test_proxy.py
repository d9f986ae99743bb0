"""The reverse proxy end to end: real uvicorn, real aiohttp upstream, real sockets."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import orjson
import pytest
import yarl

from tests.support.servers import free_port, make_config, run_gateway

SPEC = Path(__file__).parent.parent / "data" / "petstore.yaml"


def _config(upstream: str, tmp_path: Path, extra: str = "") -> str:
    return (
        f'upstream: {{urls: ["{upstream}"], read_timeout: 1.0, connect_timeout: 1.0}}\n'
        f'audit: {{backend: jsonl, path: "{tmp_path / "audit.jsonl"}"}}\n'
        f"admin: {{enabled: false}}\n{extra}"
    )


async def _events(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "audit.jsonl"
    return [orjson.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_forwards_method_path_query_headers_and_body(upstream: str, tmp_path: Path) -> None:
    config = make_config(_config(upstream, tmp_path))
    async with run_gateway(config) as (base, _), aiohttp.ClientSession() as client, client.patch(
        yarl.URL(f"{base}/v1/items/a%20b?x=1&y=%27two%27&x=3", encoded=True),
        data=b'{"name": "caf\xc3\xa9"}',
        headers={"Content-Type": "application/json", "X-Custom": "kept", "Connection": "keep-alive, X-Drop",
                 "X-Drop": "hop", "TE": "trailers", "X-Forwarded-For": "203.0.113.9"},
    ) as resp:
        assert resp.status == 200
        echoed = await resp.json()
        request_id = resp.headers["X-Request-ID"]
    assert echoed["method"] == "PATCH"
    assert echoed["raw_path"] == "/v1/items/a%20b?x=1&y=%27two%27&x=3"
    assert echoed["body"].encode("latin-1") == b'{"name": "caf\xc3\xa9"}'
    headers = {k.lower(): v for k, v in echoed["headers"]}
    assert headers["x-custom"] == "kept"
    assert "x-drop" not in headers and "te" not in headers
    assert headers["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-request-id"] == request_id and len(request_id) == 32
    assert headers["host"].startswith("127.0.0.1:")  # the client's Host passes through


async def test_body_framing_is_forwarded_as_the_client_sent_it(upstream: str, tmp_path: Path) -> None:
    """No body stays no body, a sized body keeps its length, a chunked body arrives whole."""
    config = make_config(_config(upstream, tmp_path))
    async with run_gateway(config) as (base, _), aiohttp.ClientSession() as client:
        async with client.get(f"{base}/plain?q=1") as resp:
            get_headers = {k.lower(): v for k, v in (await resp.json())["headers"]}
        async with client.post(f"{base}/sized", data=b"x" * 300) as resp:
            posted = await resp.json()

        async def chunks() -> AsyncIterator[bytes]:
            yield b"ab"
            yield b"cd"

        async with client.post(f"{base}/chunked", data=chunks()) as resp:
            streamed = await resp.json()
    assert "transfer-encoding" not in get_headers
    assert get_headers.get("content-length", "0") == "0"
    post_headers = {k.lower(): v for k, v in posted["headers"]}
    assert post_headers["content-length"] == "300" and posted["body_len"] == 300
    assert streamed["body"] == "abcd"


async def test_options_asterisk_is_answered_by_the_gateway(upstream: str, tmp_path: Path) -> None:
    """``OPTIONS *`` cannot become an upstream URL; it gets a 204 with Allow, never a 500."""
    config = make_config(_config(upstream, tmp_path))
    async with run_gateway(config) as (base, _):
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        await writer.drain()
        answer = (await asyncio.wait_for(reader.read(), 5)).decode("latin-1")
        writer.close()
    status_line, _, rest = answer.partition("\r\n")
    assert status_line == "HTTP/1.1 204 No Content"
    assert "\r\nallow: get, head, post, put, patch, delete, options\r\n" in "\r\n" + rest.lower()


async def test_request_id_is_kept_when_safe_and_replaced_when_not(upstream: str, tmp_path: Path) -> None:
    config = make_config(_config(upstream, tmp_path))
    async with run_gateway(config) as (base, _), aiohttp.ClientSession() as client:
        async with client.get(f"{base}/x", headers={"X-Request-ID": "abc-123"}) as resp:
            assert resp.headers["X-Request-ID"] == "abc-123"
        async with client.get(f"{base}/x", headers={"X-Request-ID": "bad id\u00e9<script>"}) as resp:
            assert resp.headers["X-Request-ID"] != "bad id\u00e9<script>"
            assert len(resp.headers["X-Request-ID"]) == 32


async def test_response_hop_by_hop_headers_removed(upstream: str, tmp_path: Path) -> None:
    config = make_config(_config(upstream, tmp_path))
    async with run_gateway(config) as (base, _), aiohttp.ClientSession() as client:
        async with client.get(f"{base}/x") as resp:
            assert resp.headers["X-Upstream"] == "echo"
            assert "timeout=5" not in resp.headers.get("Keep-Alive", "")


async def test_large_body_streams_through_intact(upstream: str, tmp_path: Path) -> None:
    # injection off: this test is about streaming, which a body-inspecting protection turns off
    extra = "limits: {max_body_bytes: 5000000}\ninjection: {enabled: false}\n"
    config = make_config(_config(upstream, tmp_path, extra))
    payload = bytes(range(256)) * 12000  # ~3 MB, above the buffering threshold
    async with run_gateway(config) as (base, _), aiohttp.ClientSession() as client:
        async with client.post(f"{base}/upload", data=io.BytesIO(payload)) as resp:
            echoed = await resp.json()
    assert echoed["body_len"] == len(payload)
    assert echoed["body"].encode("latin-1") == payload


async def test_body_over_limit_gets_413_problem(upstream: str, tmp_path: Path) -> None:
    config = make_config(_config(upstream, tmp_path, "limits: {max_body_bytes: 1000}\n"))

    async def chunks() -> object:
        for _ in range(10):
            yield b"y" * 500

    async with run_gateway(config) as (base, _), aiohttp.ClientSession() as client:
        async with client.post(f"{base}/upload", data=b"z" * 1001) as resp:
            assert resp.status == 413
            assert resp.content_type == "application/problem+json"
            problem = await resp.json(content_type=None)
            assert problem["status"] == 413 and problem["request_id"] == resp.headers["X-Request-ID"]
        async with client.post(f"{base}/upload", data=chunks()) as resp:  # chunked, no length
            assert resp.status == 413


async def test_oversized_headers_get_431(upstream: str, tmp_path: Path) -> None:
    config = make_config(_config(upstream, tmp_path, "limits: {max_header_bytes: 4096}\n"))
    async with run_gateway(config) as (base, _), aiohttp.ClientSession() as client:
        async with client.get(f"{base}/x", headers={"X-Big": "a" * 5000}) as resp:
            assert resp.status == 431
            problem = await resp.json(content_type=None)
            assert "4096" in problem["detail"]
        async with client.get(f"{base}/x", headers={"X-Small": "a" * 100}) as resp:
            assert resp.status == 200


async def test_upstream_down_gives_502_problem(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    config = make_config(_config(dead, tmp_path))
    async with run_gateway(config) as (base, gateway), aiohttp.ClientSession() as client:
        async with client.get(f"{base}/x") as resp:
            assert resp.status == 502
            problem = await resp.json(content_type=None)
            assert problem["type"].endswith("upstream-unavailable")
            assert problem["request_id"] == resp.headers["X-Request-ID"]
            assert "Traceback" not in await resp.text()
        await gateway.audit_sink.flush()
    events = await _events(tmp_path)
    assert events[-1]["status"] == 502 and events[-1]["verdict"] == "error"


async def test_upstream_that_hangs_gives_504(upstream: str, tmp_path: Path) -> None:
    config = make_config(_config(upstream, tmp_path))
    async with run_gateway(config) as (base, _), aiohttp.ClientSession() as client:
        async with client.get(f"{base}/slow?s=3") as resp:
            assert resp.status == 504
            assert (await resp.json(content_type=None))["type"].endswith("upstream-timeout")


async def test_upstream_response_over_limit_is_refused(upstream: str, tmp_path: Path) -> None:
    config = make_config(_config(upstream, tmp_path, "limits: {max_response_bytes: 100000}\n"))
    async with run_gateway(config) as (base, _), aiohttp.ClientSession() as client:
        async with client.get(f"{base}/big?n=200000") as resp:
            assert resp.status == 502
        async with client.get(f"{base}/big?n=50000") as resp:
            assert resp.status == 200 and len(await resp.read()) == 50000
        with pytest.raises(aiohttp.ClientPayloadError):
            async with client.get(f"{base}/big?n=300000&chunked=1") as resp:
                await resp.read()  # cut mid-stream: never a silently truncated "complete" body


async def test_client_disconnect_mid_body_is_survived_and_logged(upstream: str, tmp_path: Path) -> None:
    config = make_config(_config(upstream, tmp_path))
    async with run_gateway(config) as (base, gateway):
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                     b"X-Request-ID: gone-client\r\n\r\n" + b"a" * 1000)
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.close()
        await asyncio.sleep(0.2)
        async with aiohttp.ClientSession() as client, client.get(f"{base}/after") as resp:
            assert resp.status == 200  # the gateway is fine
        await gateway.audit_sink.flush()
    events = {e["request_id"]: e for e in await _events(tmp_path)}
    assert events["gone-client"]["status"] == 499


async def test_every_request_gets_one_audit_event(upstream: str, tmp_path: Path) -> None:
    config = make_config(_config(upstream, tmp_path, f'routing: {{spec: "{SPEC}"}}\n'))
    async with run_gateway(config) as (base, gateway), aiohttp.ClientSession() as client:
        for path in ("/pets", "/pets/7", "/nope"):
            async with client.get(f"{base}{path}", headers={"X-Request-ID": f"rid{path.replace('/', '-')}"}):
                pass
        await gateway.audit_sink.flush()
    events = {e["request_id"]: e for e in await _events(tmp_path)}
    assert events["rid-pets-7"]["route"] == "/pets/{petId}"
    assert events["rid-pets-7"]["operation_id"] == "getPet"
    assert events["rid-pets-7"]["verdict"] == "allow" and events["rid-pets-7"]["status"] == 200
    assert isinstance(events["rid-pets-7"]["upstream_ms"], float)
    assert events["rid-nope"]["verdict"] == "block" and events["rid-nope"]["status"] == 404
    assert events["rid-nope"]["rule_ids"] == ["unknown-route"]


async def test_unknown_routes_blocked_or_passed(upstream: str, tmp_path: Path) -> None:
    blocking = make_config(_config(upstream, tmp_path, f'routing: {{spec: "{SPEC}"}}\n'))
    async with run_gateway(blocking) as (base, _), aiohttp.ClientSession() as client:
        async with client.get(f"{base}/admin") as resp:
            assert resp.status == 404
            assert resp.content_type == "application/problem+json"
        async with client.delete(f"{base}/pets") as resp:
            assert resp.status == 405
            assert resp.headers["Allow"] == "GET, POST"
        async with client.get(f"{base}/pets/42") as resp:
            assert resp.status == 200
    passing = make_config(_config(upstream, tmp_path, f'routing: {{spec: "{SPEC}", unknown_routes: pass}}\n'))
    async with run_gateway(passing) as (base, _), aiohttp.ClientSession() as client:
        async with client.get(f"{base}/admin") as resp:
            assert resp.status == 200
