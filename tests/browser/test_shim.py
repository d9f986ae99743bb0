"""sealgate.install(): window.fetch and XMLHttpRequest go through the tunnel for configured prefixes only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser._server import GatewayState

pytestmark = pytest.mark.browser

INSTALL = """async () => {
  const sealgate = (await import('/static/sealgate-client.js')).default;
  window.__uninstall = sealgate.install({prefixes: ['/api/'], tunnel: '/.sealgate/tunnel',
                                         keys: '/.well-known/ohttp-gateway'});
}"""


@pytest.fixture
def shimmed(page: Any) -> Any:
    page.evaluate(INSTALL)
    return page


def test_fetch_routes_by_prefix_and_origin(shimmed: Any, state: GatewayState, gateway: Any) -> None:
    out = shimmed.evaluate(
        """async (base) => {
          const j = async (p) => { try { return await (await p).json(); } catch (e) { return {error: e.name}; } };
          return {
            api: await j(fetch('/api/a?q=1')),
            absolute: await j(fetch(base + '/api/b')),
            urlObject: await j(fetch(new URL('/api/c', location.href))),
            request: await j(fetch(new Request('/api/d', {method: 'POST', body: 'r'}))),
            other: await j(fetch('/static-data/x')),
            lookalike: await j(fetch('/apix/y')),            // prefix is "/api/", not "/api"
            dotdot: await j(fetch('/api/../admin/z')),        // resolves to /admin/z: not a tunnel path
            encodedDots: await j(fetch('/api/%2e%2e/admin/w')),
          };
        }""",
        gateway.base,
    )
    assert out["api"]["path"] == "/api/a?q=1"
    assert out["absolute"]["path"] == "/api/b"
    assert out["urlObject"]["path"] == "/api/c"
    assert out["request"]["method"] == "POST" and out["request"]["body"] == "r"
    assert [r.path for r in state.inner] == ["/api/a?q=1", "/api/b", "/api/c", "/api/d"]
    assert out["other"] == {"plain": True, "path": "/static-data/x"}
    assert out["lookalike"] == {"plain": True, "path": "/apix/y"}
    assert out["dotdot"] == {"plain": True, "path": "/admin/z"}
    assert out["encodedDots"] == {"plain": True, "path": "/admin/w"}
    assert state.plain_paths == ["/static-data/x", "/apix/y", "/admin/z", "/admin/w"]


def test_cross_origin_is_untouched(shimmed: Any, state: GatewayState, gateway: Any) -> None:
    other_origin = gateway.base.replace("127.0.0.1", "localhost")
    out = shimmed.evaluate(
        "async (url) => { try { await fetch(url, {mode: 'no-cors'}); return 'sent'; } catch (e) { return e.name; } }",
        other_origin + "/api/elsewhere",
    )
    assert out == "sent"
    assert state.inner == []
    assert state.plain_paths == ["/api/elsewhere"]  # it went out natively, not through the tunnel


XHR = """async ([method, url, body, responseType]) => {
  const x = new XMLHttpRequest();
  const log = [];
  x.onreadystatechange = () => log.push('rs' + x.readyState);
  x.onload = () => log.push('onload');
  x.addEventListener('load', () => log.push('load'));
  x.addEventListener('loadend', () => log.push('loadend'));
  x.onerror = () => log.push('error');
  const done = new Promise((resolve) => x.addEventListener('loadend', resolve));
  x.open(method, url);
  if (responseType) x.responseType = responseType;
  x.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
  x.send(body);
  await done;
  return {log, readyState: x.readyState, status: x.status, statusText: x.statusText, responseURL: x.responseURL,
          text: responseType ? null : x.responseText, response: x.response,
          ctype: x.getResponseHeader('Content-Type'), all: x.getAllResponseHeaders(),
          isXhr: x instanceof XMLHttpRequest, DONE: XMLHttpRequest.DONE};
}"""


def test_xhr_through_tunnel(shimmed: Any, state: GatewayState, gateway: Any) -> None:
    out = shimmed.evaluate(XHR, ["POST", "/api/xhr", '{"k":1}', ""])
    assert out["log"] == ["rs1", "rs2", "rs3", "rs4", "onload", "load", "loadend"]
    assert out["readyState"] == 4 and out["DONE"] == 4 and out["isXhr"]
    assert out["status"] == 200
    assert out["responseURL"] == f"{gateway.base}/api/xhr"
    assert json.loads(out["text"])["body"] == '{"k":1}'
    assert out["response"] == out["text"]
    assert out["ctype"] == "application/json"
    assert "content-type: application/json\r\n" in out["all"] and "x-inner: tunnel\r\n" in out["all"]
    (req,) = state.inner
    assert req.method == "POST"
    assert (b"x-requested-with", b"XMLHttpRequest") in req.headers
    assert state.plain_paths == []


def test_xhr_json_response_type(shimmed: Any, state: GatewayState) -> None:
    out = shimmed.evaluate(XHR, ["GET", "/api/j?status=201", None, "json"])
    assert out["status"] == 201
    assert out["response"]["path"] == "/api/j?status=201"


def test_xhr_outside_prefix_is_native(shimmed: Any, state: GatewayState) -> None:
    out = shimmed.evaluate(XHR, ["GET", "/plain/x", None, ""])
    assert out["status"] == 200 and out["statusText"] == "OK"  # a native XHR over HTTP/1.1 has a reason phrase
    assert json.loads(out["text"]) == {"plain": True, "path": "/plain/x"}
    assert out["log"] == ["rs1", "rs2", "rs3", "rs4", "onload", "load", "loadend"]
    assert state.inner == [] and state.plain_paths == ["/plain/x"]


def test_xhr_network_failure_and_abort(shimmed: Any, state: GatewayState) -> None:
    from aiohttp import web

    state.tunnel_answers.append(web.Response(status=200, body=b"nope", content_type="text/plain"))
    out = shimmed.evaluate(XHR, ["GET", "/api/broken", None, ""])
    assert out["log"] == ["rs1", "rs4", "error", "loadend"]
    assert out["status"] == 0 and out["text"] == ""
    aborted = shimmed.evaluate(
        """async () => {
          const x = new XMLHttpRequest(), log = [];
          x.onabort = () => log.push('abort'); x.onload = () => log.push('load');
          x.onreadystatechange = () => log.push('rs' + x.readyState);
          x.open('GET', '/api/slow'); x.send(); x.abort();
          await new Promise((r) => setTimeout(r, 300));
          let syncError = null;
          try { x.open('GET', '/api/sync', false); } catch (e) { syncError = e.name; }
          return {log, readyState: x.readyState, status: x.status, syncError};
        }"""
    )
    assert aborted["log"] == ["rs1", "rs4", "abort"]
    assert aborted["readyState"] == 0 and aborted["status"] == 0
    assert aborted["syncError"] == "InvalidAccessError"


def test_uninstall_restores_natives(shimmed: Any, state: GatewayState) -> None:
    out = shimmed.evaluate(
        """async () => {
          const before = [fetch.toString(), XMLHttpRequest.toString().includes('[native code]')];
          window.__uninstall();
          const r = await (await fetch('/api/after')).json();
          return {before, after: [fetch.toString(), XMLHttpRequest.toString()], r};
        }"""
    )
    assert "[native code]" not in out["before"][0] and out["before"][1] is False
    assert out["after"] == ["function fetch() { [native code] }", "function XMLHttpRequest() { [native code] }"]
    assert out["r"] == {"plain": True, "path": "/api/after"}
