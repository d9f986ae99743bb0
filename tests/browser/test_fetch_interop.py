"""sealgate.fetch in Chromium against the Python gateway side (sealgate.tunnel.ohttp / bhttp) on loopback."""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

import pytest
from aiohttp import web

from sealgate.tunnel import ohttp
from tests.browser._server import REPLAY_PROBLEM, GatewayState, problem

pytestmark = pytest.mark.browser

FETCH = """async ([url, init]) => {
  const {fetch} = await import('/static/sealgate-client.js');
  try {
    const r = await fetch(url, init);
    return {status: r.status, ok: r.ok, url: r.url, type: r.headers.get('content-type'),
            xinner: r.headers.get('x-inner'), cookie: r.headers.get('set-cookie'), text: await r.text()};
  } catch (e) { return {error: e.name + ': ' + e.message}; }
}"""


def _fetch(page: Any, url: str, init: dict[str, Any] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(FETCH, [url, init or {}])
    return result


def test_post_json_round_trip(page: Any, state: GatewayState, gateway: Any) -> None:
    body = json.dumps({"name": "Zoë", "qty": 3})
    out = _fetch(page, "/api/orders?x=1&y=%20", {"method": "POST", "body": body,
                                                  "headers": {"Content-Type": "application/json", "X-Trace": "t1"}})
    assert out["status"] == 200 and out["ok"]
    assert out["url"] == f"{gateway.base}/api/orders?x=1&y=%20"
    assert out["type"] == "application/json"
    assert out["xinner"] == "tunnel"
    assert out["cookie"] is None  # the Response API drops Set-Cookie; documented limitation
    echoed = json.loads(out["text"])
    assert echoed["method"] == "POST"
    assert echoed["path"] == "/api/orders?x=1&y=%20"
    assert echoed["scheme"] == "http"
    assert echoed["authority"] == gateway.base.removeprefix("http://")
    assert echoed["body"].encode("latin-1").decode("utf-8") == body
    headers = dict(echoed["headers"])
    assert headers["content-type"] == "application/json"
    assert headers["x-trace"] == "t1"
    # The gateway's replay protection needs a fresh Date inside the encrypted request.
    sent = email.utils.parsedate_to_datetime(headers["date"]).timestamp()
    assert abs(sent - time.time()) < 60
    # Nothing travelled in the clear: one tunnel POST, the plaintext is not in it.
    assert len(state.tunnel_posts) == 1
    assert b"Zo" not in state.tunnel_posts[0] and b"orders" not in state.tunnel_posts[0]
    assert state.plain_paths == []
    assert state.key_fetches == 1


def test_statuses_and_bodies(page: Any, state: GatewayState) -> None:
    assert _fetch(page, "/api/x?status=404")["status"] == 404
    created = _fetch(page, "/api/x?status=201", {"method": "PUT", "body": "abc"})
    assert created["status"] == 201 and json.loads(created["text"])["body"] == "abc"
    empty = _fetch(page, "/api/empty", {"method": "DELETE"})
    assert empty["status"] == 204 and empty["text"] == ""
    assert [r.method for r in state.inner] == ["GET", "PUT", "DELETE"]
    assert state.key_fetches == 1  # the key configuration is fetched once and reused


def test_binary_and_form_bodies(page: Any, state: GatewayState) -> None:
    out = page.evaluate(
        """async () => {
          const {fetch} = await import('/static/sealgate-client.js');
          const fd = new URLSearchParams({a: '1', b: 'x y'});
          const r1 = await (await fetch('/api/form', {method: 'POST', body: fd})).json();
          const bin = new Uint8Array(256).map((_, i) => i);
          const r2 = await (await fetch(new Request('/api/bin', {method: 'POST', body: bin}))).json();
          return [r1, r2];
        }"""
    )
    form, binary = out
    assert form["body"] == "a=1&b=x+y"
    assert dict(form["headers"])["content-type"].startswith("application/x-www-form-urlencoded")
    assert binary["body"].encode("latin-1") == bytes(range(256))


def test_key_rotation_refetches_once(page: Any, state: GatewayState) -> None:
    assert _fetch(page, "/api/one")["status"] == 200
    state.rotate(2)  # the client still holds key 1; the gateway now only knows key 2
    out = _fetch(page, "/api/two")
    assert out["status"] == 200
    assert state.key_fetches == 2
    assert [p[0] for p in state.tunnel_posts] == [1, 1, 2]  # key ids: ok, rejected, retried with the new key


def test_key_rotation_retries_only_once(page: Any, state: GatewayState) -> None:
    assert _fetch(page, "/api/one")["status"] == 200
    state.accepting = {}  # the gateway rejects every key, even the refetched one
    out = _fetch(page, "/api/two")
    assert out["status"] == 400
    assert json.loads(out["text"])["type"] == ohttp.PROBLEM_TYPE_KEY
    assert len(state.tunnel_posts) == 3  # first request, then exactly one retry


def test_replay_rejection_retries_with_fresh_encapsulation(page: Any, state: GatewayState) -> None:
    state.reject_replays = 1
    out = _fetch(page, "/api/once", {"method": "POST", "body": "pay"})
    assert out["status"] == 200
    first, second = state.tunnel_posts
    assert first[7:39] != second[7:39]  # a new ephemeral key (enc), not the same bytes again
    assert len(state.inner) == 1
    state.reject_replays = 2
    out = _fetch(page, "/api/twice")
    assert out["status"] == 400  # one retry only
    assert json.loads(out["text"])["type"] == REPLAY_PROBLEM


def test_unencrypted_gateway_errors_reach_the_app(page: Any, state: GatewayState) -> None:
    state.tunnel_answers.append(problem(429, "about:blank", "slow down"))
    out = _fetch(page, "/api/x")
    assert out["status"] == 429
    assert json.loads(out["text"])["title"] == "slow down"


@pytest.mark.parametrize(
    "answer",
    [
        web.Response(status=200, body=b"<html>not encrypted</html>", content_type="text/html"),
        web.Response(status=200, body=b"\x00" * 40, content_type=ohttp.RESPONSE_MEDIA_TYPE),  # forged ciphertext
        web.Response(status=200, body=b"\x00" * 10, content_type=ohttp.RESPONSE_MEDIA_TYPE),  # truncated
    ],
    ids=["plaintext-200", "forged", "truncated"],
)
def test_unauthenticated_success_is_a_network_error(page: Any, state: GatewayState, answer: web.Response) -> None:
    # A 2xx that is not a valid encrypted response must never reach the app as if it came from the API.
    state.tunnel_answers.append(answer)
    out = _fetch(page, "/api/x")
    assert "error" in out
    assert out["error"].startswith(("TypeError", "OperationError"))


def test_garbled_key_list_fails_cleanly_then_recovers(page: Any, state: GatewayState) -> None:
    state.keys_override = b"\x00\x05\x01"
    out = _fetch(page, "/api/x")
    assert out["error"].startswith("TypeError")
    assert state.tunnel_posts == []
    state.keys_override = None
    assert _fetch(page, "/api/x")["status"] == 200  # a failed key load is not cached


def test_abort_signal(page: Any, state: GatewayState) -> None:
    out = page.evaluate(
        """async () => {
          const {fetch} = await import('/static/sealgate-client.js');
          const ctl = new AbortController(); ctl.abort();
          try { await fetch('/api/x', {signal: ctl.signal}); return 'resolved'; } catch (e) { return e.name; }
        }"""
    )
    assert out == "AbortError"
