"""The tunnel through the real gateway: keys, encryption both ways, replay, Date, concealment, rotation."""

from __future__ import annotations

import email.utils
import time
from pathlib import Path

import aiohttp
import orjson
import pytest

from sealgate.secrets.resolve import SecretRef
from sealgate.tunnel import bhttp, ohttp
from sealgate.tunnel.keys import KeySet
from tests.support.servers import make_config, run_gateway


def _config(upstream: str, tmp_path: Path, extra: str = "") -> str:
    return (
        f'upstream: {{urls: ["{upstream}"]}}\n'
        f'audit: {{backend: jsonl, path: "{tmp_path / "audit.jsonl"}"}}\n'
        f'secrets: {{store_path: "{tmp_path / "secrets.json"}"}}\n'
        "admin: {enabled: false}\n"
        f"tunnel: {{enabled: true, replay: {{backend: memory}}{extra}}}\n"
    )


class Client:
    """A minimal Python OHTTP client (the browser client is tested in tests/browser)."""

    def __init__(self, base: str, session: aiohttp.ClientSession) -> None:
        self.base = base
        self.session = session
        self.config: ohttp.KeyConfig | None = None

    async def keys(self) -> ohttp.KeyConfig:
        async with self.session.get(f"{self.base}/.well-known/ohttp-gateway") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "application/ohttp-keys"
            assert resp.headers["Cache-Control"] == "max-age=3600"
            self.config = ohttp.decode_key_configs(await resp.read())[0]
        return self.config

    def seal(self, method: str, target: str, headers: list[tuple[bytes, bytes]] | None = None,
             body: bytes = b"", date: str | None = "now") -> tuple[bytes, ohttp.ClientContext]:
        assert self.config is not None
        fields = list(headers or [])
        if date == "now":
            fields.append((b"date", email.utils.formatdate(usegmt=True).encode()))
        elif date is not None:
            fields.append((b"date", date.encode()))
        request = bhttp.BhttpRequest(method, "https", "api.example.com", target, fields, body)
        return ohttp.encapsulate_request(self.config, bhttp.encode_request(request))

    async def post(self, message: bytes) -> aiohttp.ClientResponse:
        resp = await self.session.post(f"{self.base}/.sealgate/tunnel", data=message,
                                       headers={"Content-Type": "message/ohttp-req"})
        await resp.read()
        return resp

    async def send(self, *args: object, **kwargs: object) -> bhttp.BhttpResponse:
        message, context = self.seal(*args, **kwargs)  # type: ignore[arg-type]
        resp = await self.post(message)
        assert resp.status == 200 and resp.headers["Content-Type"] == "message/ohttp-res"
        return bhttp.decode_response(ohttp.decapsulate_response(context, await resp.read()))


async def test_a_request_goes_through_the_tunnel_and_the_pipeline(upstream: str, tmp_path: Path) -> None:
    config = make_config(_config(upstream, tmp_path))
    async with run_gateway(config) as (base, gateway), aiohttp.ClientSession() as session:
        client = Client(base, session)
        await client.keys()
        answer = await client.send("POST", "/api/v1/notes?tag=x", [(b"content-type", b"application/json")],
                                   b'{"note": "hello"}')
        assert answer.status == 200
        echoed = orjson.loads(answer.body)
        assert echoed["method"] == "POST" and echoed["raw_path"] == "/api/v1/notes?tag=x"
        assert echoed["body"] == '{"note": "hello"}'
        assert any(k.lower() == "x-request-id" for k, _ in echoed["headers"])
        # an injection inside the tunnel is blocked exactly as in plaintext
        blocked = await client.send("GET", "/api/v1/legacy/articles?articleId=1;%20DROP%20TABLE%20articles;%20--")
        assert blocked.status == 403
        assert orjson.loads(blocked.body)["status"] == 403
        await gateway.audit_sink.flush()
    events = [orjson.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()]
    inner = [e for e in events if e["tunneled"]]
    assert [e["status"] for e in inner] == [200, 403]
    assert inner[0]["path"] == "/api/v1/notes" and inner[1]["protection"] == "injection"
    assert not any(e["path"] == "/.sealgate/tunnel" and e["verdict"] == "allow" for e in events)


async def test_replays_and_stale_dates_are_refused(upstream: str, tmp_path: Path) -> None:
    config = make_config(_config(upstream, tmp_path))
    async with run_gateway(config) as (base, _), aiohttp.ClientSession() as session:
        client = Client(base, session)
        await client.keys()
        message, context = client.seal("GET", "/api/v1/x")
        first = await client.post(message)
        assert bhttp.decode_response(ohttp.decapsulate_response(context, await first.read())).status == 200
        replayed = await client.post(message)
        inner = bhttp.decode_response(ohttp.decapsulate_response(context, await replayed.read()))
        assert inner.status == 400
        assert orjson.loads(inner.body)["type"].endswith("/replay")
        for date in (None, "yesterday", email.utils.formatdate(time.time() - 600, usegmt=True)):
            stale = await client.send("GET", "/api/v1/x", date=date)
            assert stale.status == 400
            assert orjson.loads(stale.body)["type"].endswith("/date")
        skewed = await client.send("GET", "/api/v1/x", date=email.utils.formatdate(time.time() - 600, usegmt=True))
        assert any(k == b"date" for k, _ in skewed.headers)  # so the client can correct its clock


async def test_bad_messages_get_clear_400s_never_500(upstream: str, tmp_path: Path) -> None:
    config = make_config(_config(upstream, tmp_path))
    async with run_gateway(config) as (base, _), aiohttp.ClientSession() as session:
        client = Client(base, session)
        key = await client.keys()
        message, _ = client.seal("GET", "/api/v1/x")
        wrong_key = bytes([(key.key_id + 1) % 256]) + message[1:]
        resp = await client.post(wrong_key)
        assert resp.status == 400
        assert (await resp.json(content_type=None))["type"] == ohttp.PROBLEM_TYPE_KEY
        for bad in (b"", message[:20], message[:-1], message[:-1] + bytes([message[-1] ^ 1]), b"\x00" * 200):
            resp = await client.post(bad)
            assert resp.status == 400, bad[:10]
            assert resp.headers["Content-Type"] == "application/problem+json"
        async with session.get(f"{base}/.sealgate/tunnel") as resp:
            assert resp.status == 405
        async with session.post(f"{base}/.sealgate/tunnel", data=message,
                                headers={"Content-Type": "application/json"}) as resp:
            assert resp.status == 415
        # an inner message that is not Binary HTTP is an encapsulated 400
        garbage, context = ohttp.encapsulate_request(key, b"\x00\x03GET")
        resp = await client.post(garbage)
        assert bhttp.decode_response(ohttp.decapsulate_response(context, await resp.read())).status == 400


async def test_browsers_must_use_the_tunnel_when_required(upstream: str, tmp_path: Path) -> None:
    config = make_config(_config(upstream, tmp_path, ", require_for_browsers: true"))
    async with run_gateway(config) as (base, _), aiohttp.ClientSession() as session:
        async with session.get(f"{base}/api/v1/x", headers={"Sec-Fetch-Mode": "cors"}) as resp:
            assert resp.status == 403
            assert (await resp.json(content_type=None))["type"].endswith("tunnel-required")
        async with session.get(f"{base}/api/v1/x", headers={"Origin": "https://app.example.com"}) as resp:
            assert resp.status == 403
        async with session.get(f"{base}/api/v1/x") as resp:  # server-to-server
            assert resp.status == 200
        async with session.get(f"{base}/index.html", headers={"Sec-Fetch-Mode": "navigate"}) as resp:
            assert resp.status == 200  # only the API prefixes are concealed
        client = Client(base, session)
        await client.keys()
        inner = await client.send("GET", "/api/v1/x", [(b"sec-fetch-mode", b"cors")])
        assert inner.status == 200


async def test_rotation_keeps_the_old_key_during_the_overlap(upstream: str, tmp_path: Path) -> None:
    config = make_config(_config(upstream, tmp_path, ", key_reload_seconds: 0.01"))
    async with run_gateway(config) as (base, _), aiohttp.ClientSession() as session:
        client = Client(base, session)
        old = await client.keys()
        ref = SecretRef("store:tunnel-keys", tmp_path / "secrets.json")
        rotated = KeySet.from_json(ref.read() or "").rotate(overlap_seconds=3600)
        ref.write(rotated.to_json())
        time.sleep(0.02)
        assert (await client.send("GET", "/api/v1/x")).status == 200  # cached old config still works
        new = await client.keys()
        assert new.key_id != old.key_id
        async with session.get(f"{base}/.well-known/ohttp-gateway") as resp:
            assert len(ohttp.decode_key_configs(await resp.read())) == 2
        assert (await client.send("GET", "/api/v1/x")).status == 200
        expired = KeySet.from_json(ref.read() or "").rotate(overlap_seconds=0)
        ref.write(expired.to_json())
        time.sleep(0.02)
        message, _ = client.seal("GET", "/api/v1/x")  # still the previous config
        resp = await client.post(message)
        assert resp.status == 400
        assert (await resp.json(content_type=None))["type"] == ohttp.PROBLEM_TYPE_KEY


@pytest.mark.parametrize("keys_ref", ["env:SG_TEST_NO_SUCH_KEYS"])
def test_missing_external_keys_fail_at_startup(keys_ref: str, tmp_path: Path) -> None:
    from sealgate.errors import ConfigError
    from sealgate.server.app import build_gateway

    config = make_config(f'upstream: {{urls: ["http://127.0.0.1:9"]}}\ntunnel: {{enabled: true, keys: "{keys_ref}"}}\n'
                         f'secrets: {{store_path: "{tmp_path / "s.json"}"}}\n')
    with pytest.raises(ConfigError, match="rotate-keys"):
        build_gateway(config)


@pytest.mark.parametrize("when", [0.0, 1_700_000_000.0, 951_782_400.0, 4_102_444_799.0])
def test_http_date_fast_path_matches_the_stdlib(when: float) -> None:
    from sealgate.tunnel.gateway import _http_date

    text = email.utils.formatdate(when, usegmt=True)
    assert _http_date(text.encode()) == when
    assert _http_date(b"Sunday, 06-Nov-94 08:49:37 GMT") == 784111777.0  # RFC 850, via the fallback
    for bad in (b"", b"Mon, 32 Foo 2026 99:99:99 GMT", b"\xff\xfe", b"tomorrow"):
        assert _http_date(bad) is None


async def _tunnel_through(endpoint_headers: list[tuple[str, str]], tmp_path: Path) -> bhttp.BhttpResponse:
    """One tunneled GET through a TunnelGateway (no network) whose endpoint answers with ``endpoint_headers``."""
    from sealgate.config.load import parse_config_text
    from sealgate.pipeline.chain import Pipeline
    from sealgate.pipeline.exchange import Exchange, Response
    from sealgate.storage.factory import build_replay_cache
    from sealgate.tunnel.gateway import KeyProvider, TunnelGateway, ensure_key_set

    async def endpoint(exchange: Exchange) -> Response:
        assert exchange.header("content-length") is None  # a bodiless GET, as a browser sends it
        return Response(200, list(endpoint_headers), b"ok")

    store = tmp_path / "secrets.json"
    config = parse_config_text(f'secrets: {{store_path: "{store}"}}\ntunnel: {{enabled: true}}\n', "t", env={})
    ensure_key_set(config.tunnel, store)
    keys = KeyProvider(SecretRef(config.tunnel.keys, store), 60.0)
    replay = build_replay_cache(config.tunnel.replay)
    await replay.open()
    gateway = TunnelGateway(Pipeline([], endpoint), config.tunnel, keys, replay)
    key_config = ohttp.decode_key_configs(keys.get().key_config_bytes())[0]
    fields = [(b"date", email.utils.formatdate(usegmt=True).encode())]
    inner = bhttp.encode_request(bhttp.BhttpRequest("GET", "https", "a.example", "/x", fields))
    message, context = ohttp.encapsulate_request(key_config, inner)
    outer = Exchange(method="POST", path="/.sealgate/tunnel", headers=[("content-type", "message/ohttp-req")],
                     body=message)
    response = await gateway.handle(outer)
    await gateway.finish(outer)
    await replay.close()
    assert response.status == 200
    return bhttp.decode_response(ohttp.decapsulate_response(context, response.body))


async def test_inner_response_header_names_are_lowercased(tmp_path: Path) -> None:
    # An ASGI app may answer "Content-Type"; Binary HTTP field names must be lowercase.
    inner = await _tunnel_through([("Content-Type", "text/plain"), ("X-Thing", "1")], tmp_path)
    assert inner.status == 200 and inner.body == b"ok"
    assert (b"content-type", b"text/plain") in inner.headers and (b"x-thing", b"1") in inner.headers


async def test_unencodable_inner_response_headers_become_a_sealed_502(tmp_path: Path) -> None:
    inner = await _tunnel_through([("x-bad", "a\r\nset-cookie: x=1")], tmp_path)
    assert inner.status == 502
    assert b"set-cookie" not in inner.body and b"x=1" not in inner.body
    assert orjson.loads(inner.body)["type"].endswith("/bhttp")
