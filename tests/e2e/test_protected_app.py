"""The demo's web app in Chromium behind the real gateway: verified scripts, encrypted API calls, refusals.

The stack is what ``sealgate demo`` runs: the sample API, and sealgate in front of it with the OHTTP
tunnel, the signed-code bootloader on ``/`` and ``require_for_browsers``. Network traffic is captured
through the Chrome DevTools Protocol, below anything page scripts could influence.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest

from sealgate.demo import STATIC_DIR
from sealgate.tunnel.bootloader import CLIENT_PATH, REPORT_PATH, manifest_url
from sealgate.tunnel.keys import KeySet
from sealgate.tunnel.manifest import verify_manifest
from tests.e2e._stack import Stack, copy_static
from tests.e2e.conftest import wait_until

pytestmark = pytest.mark.browser

MANIFEST = manifest_url("/")
KEYS = "/.well-known/ohttp-gateway"
TUNNEL = "/.sealgate/tunnel"
APP_JS = (STATIC_DIR / "app.js").read_bytes()


def sha384(data: bytes) -> str:
    return base64.b64encode(hashlib.sha384(data).digest()).decode()


class NetworkLog:
    """Every request and response of one page as Chromium's network stack saw them (CDP ``Network``)."""

    def __init__(self, context: Any, page: Any) -> None:
        self.cdp = context.new_cdp_session(page)
        self.requests: dict[str, dict[str, Any]] = {}
        self.responses: dict[str, dict[str, Any]] = {}
        self.finished: set[str] = set()
        self.cdp.on("Network.requestWillBeSent", self._request)
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", lambda e: self.finished.add(e["requestId"]))
        self.cdp.send("Network.enable", {"maxPostDataSize": 1 << 20})

    # blob: URLs (the verified bytes the bootloader runs) are memory inside the page, not network traffic.
    def _request(self, event: dict[str, Any]) -> None:
        if not event["request"]["url"].startswith("blob:"):
            self.requests[event["requestId"]] = event

    def _response(self, event: dict[str, Any]) -> None:
        if event["requestId"] in self.requests:
            self.responses[event["requestId"]] = event

    def url(self, request_id: str) -> str:
        return str(self.requests[request_id]["request"]["url"])

    def method(self, request_id: str) -> str:
        return str(self.requests[request_id]["request"]["method"])

    def post_data(self, request_id: str) -> bytes:
        request = self.requests[request_id]["request"]
        entries = request.get("postDataEntries") or []
        data = b"".join(base64.b64decode(entry.get("bytes", "")) for entry in entries)
        if not data and request.get("postData"):
            data = str(request["postData"]).encode("utf-8", "surrogateescape")
        if not data and request.get("hasPostData"):
            found = self.cdp.send("Network.getRequestPostData", {"requestId": request_id})
            data = str(found["postData"]).encode("utf-8", "surrogateescape")
        return data

    def body(self, request_id: str) -> bytes:
        found = self.cdp.send("Network.getResponseBody", {"requestId": request_id})
        return base64.b64decode(found["body"]) if found["base64Encoded"] else str(found["body"]).encode()

    def paths(self) -> list[str]:
        return [urlsplit(self.url(rid)).path for rid in self.requests]


def open_app(context: Any, stack: Stack) -> tuple[Any, NetworkLog]:
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    network = NetworkLog(context, page)
    page.goto(stack.base + "/")
    return page, network


def wait_app_ready(page: Any) -> None:
    """The app's scripts ran: greeting shown, recommendations and article search loaded, health checked."""
    page.wait_for_selector("#chat-log li.msg.bot", timeout=15_000)
    page.wait_for_selector("#rec-list li", timeout=15_000)
    page.wait_for_selector("#kb-results li", timeout=15_000)
    page.wait_for_selector("#health.ok", timeout=15_000)


def chat(page: Any, message: str) -> str:
    """Type ``message`` into the assistant and return the answer once it is shown."""
    before = page.locator("#chat-log li.msg.bot").count()
    page.fill("#chat-input", message)
    page.click("#chat-form button[type=submit]")
    wait_until(lambda: page.locator("#chat-log li.msg.bot").count() > before, 15, "the chat answer")
    answer = page.locator("#chat-log li.msg.bot").nth(before)
    assert "error" not in (answer.get_attribute("class") or ""), answer.inner_text()
    return str(answer.locator("p").first.inner_text())


def test_the_web_app_works_and_its_api_traffic_is_encrypted(stack: Stack, context: Any) -> None:
    page, network = open_app(context, stack)
    wait_app_ready(page)
    message = "How do I rotate an API key? zebra-4471"
    answer = chat(page, message)
    assert len(answer) > 20
    assert page.query_selector("#sealgate-blocked") is None
    assert page.evaluate("typeof window.sealgate.fetch") == "function"  # the bootloader installed the client
    assert page.errors == []
    wait_until(lambda: all(rid in network.finished for rid in network.responses), 5, "all responses")

    # What crossed the network in the clear: the page, its stylesheet, the manifest, the client, the key
    # configuration -- and POSTs of encrypted messages to the tunnel. No API path, no query, no payload.
    plain_paths = set(network.paths())
    assert plain_paths <= {"/", "/static/app.css", MANIFEST, CLIENT_PATH, KEYS, TUNNEL}, plain_paths
    assert {"/", MANIFEST, CLIENT_PATH, KEYS, TUNNEL} <= plain_paths
    tunnel_posts = [rid for rid in network.requests if network.url(rid).endswith(TUNNEL)]
    # app.js, /healthz, recommendations, article search, the chat message: each one tunnel round trip
    assert len(tunnel_posts) >= 5
    for rid in network.requests:
        url = network.url(rid)
        assert "/api/" not in url and "healthz" not in url and urlsplit(url).query == "", url
        if network.method(rid) != "GET":
            assert network.method(rid) == "POST" and url.endswith(TUNNEL), url
            headers = {k.lower(): v for k, v in network.requests[rid]["request"]["headers"].items()}
            assert headers["content-type"] == "message/ohttp-req"
            data = network.post_data(rid)
            assert len(data) > 40
            assert b"zebra-4471" not in data and b"/api/" not in data and b"rotate" not in data
    for rid in tunnel_posts:
        response = network.responses[rid]["response"]
        assert response["status"] == 200 and response["mimeType"] == "message/ohttp-res"
    # Nothing readable came back in the clear either: not the answer, not the app's code.
    for rid in network.finished & set(network.requests):
        body = network.body(rid)
        assert answer[:40].encode() not in body
        assert b"zebra-4471" not in body
        assert b"addChatMessage" not in body  # an identifier of app.js, which only travels encrypted

    # The gateway saw (and logged) the inner requests, each through the whole pipeline.
    events = stack.audit()
    inner = {(e["method"], e["path"]) for e in events if e["tunneled"] and e["verdict"] == "allow"}
    assert {("GET", "/static/app.js"), ("GET", "/healthz"), ("GET", "/api/v1/recommendations"),
            ("GET", "/api/v1/articles"), ("POST", "/api/v1/chat")} <= inner
    assert stack.chat_turns(message) == 1


def test_a_replayed_tunnel_request_is_refused(stack: Stack, context: Any) -> None:
    page, network = open_app(context, stack)
    wait_app_ready(page)
    posts: list[Any] = []
    page.on("request", lambda r: posts.append(r) if r.url.endswith(TUNNEL) else None)
    message = "What are the rate limits? replay-check-9310"
    chat(page, message)
    assert len(posts) == 1  # the chat call
    captured = posts[0]
    raw = captured.post_data_buffer
    original = captured.response().body()
    assert raw and original
    chats_before = [e for e in stack.audit() if e["path"] == "/api/v1/chat"]

    status, headers, replayed = stack.request("POST", TUNNEL, data=raw, headers={"content-type": "message/ohttp-req"})
    # Refused inside the encryption (only the client could read the /replay problem), so the gateway's
    # answer looks like any other: a fresh encrypted response, not the recorded one.
    assert status == 200 and headers["content-type"] == "message/ohttp-res"
    assert replayed != original

    events = stack.audit()
    refused = [e for e in events if e["path"] == TUNNEL and "replay" in e["rule_ids"]]
    assert len(refused) == 1 and refused[0]["verdict"] == "block" and refused[0]["protection"] == "tunnel"
    assert [e for e in events if e["path"] == "/api/v1/chat"] == chats_before  # never reached the pipeline again
    assert stack.chat_turns(message) == 1  # ... nor the upstream


def test_an_injection_inside_the_tunnel_is_refused_like_in_plaintext(stack: Stack, context: Any) -> None:
    page, network = open_app(context, stack)
    wait_app_ready(page)
    tunneled = page.evaluate(
        "() => fetch('/api/v1/legacy/articles?articleId=1;DROP TABLE articles;--')"
        ".then(async (r) => ({status: r.status, type: r.headers.get('content-type'), body: await r.json()}))"
    )
    plain_status, _, plain_body = stack.request("GET", "/api/v1/legacy/articles?articleId=1;DROP%20TABLE%20articles;--")
    assert tunneled["status"] in (400, 403)
    assert tunneled["status"] == plain_status
    assert tunneled["type"] == "application/problem+json"
    assert tunneled["body"]["type"] == orjson.loads(plain_body)["type"]
    assert stack.articles_table_exists()
    status, _, health = stack.request("GET", "/healthz", base=stack.api_url)
    assert status == 200 and orjson.loads(health)["status"] == "ok"
    blocked = [e for e in stack.audit() if e["path"] == "/api/v1/legacy/articles"]
    assert [(e["tunneled"], e["verdict"]) for e in blocked] == [(True, "block"), (False, "block")]
    # The call went through the shim: nothing of it in the clear.
    assert not any("legacy" in network.url(rid) for rid in network.requests)
    # Benign look-alike through the same path: a real article id is answered.
    ok = page.evaluate("() => fetch('/api/v1/articles/1').then((r) => r.status)")
    assert ok == 200


def test_browsers_cannot_call_the_api_in_plaintext(stack: Stack, context: Any) -> None:
    # A page without the bootloader (here: the client file itself, same origin) calls the API with the
    # browser's own fetch: Chromium adds Sec-Fetch-* headers, so require_for_browsers refuses it.
    page = context.new_page()
    page.goto(stack.base + CLIENT_PATH)
    status = page.evaluate("() => fetch('/api/v1/recommendations?userId=1&limit=2').then((r) => r.status)")
    assert status == 403
    # Server-to-server (no browser headers) keeps working, as the demo's curl examples show.
    assert stack.request("GET", "/api/v1/recommendations?userId=1&limit=2")[0] == 200


def test_a_script_changed_upstream_after_startup_is_refused_and_reported(
    new_stack: Callable[..., Stack], context: Any, tmp_path: Any
) -> None:
    static = copy_static(tmp_path / "static")
    stack = new_stack(static_copy=static)
    page, _ = open_app(context, stack)
    wait_app_ready(page)  # as pinned: the app runs
    page.close()

    evil = APP_JS + b"\nwindow.__evil = true; fetch('/api/v1/analytics/segments/at-risk/summary');\n"
    (static / "app.js").write_bytes(evil)
    page, network = open_app(context, stack)
    banner = page.wait_for_selector("#sealgate-blocked", state="visible", timeout=15_000)
    text = banner.inner_text()
    assert text.startswith("Nimbus AI · sealgate sample app was not started because a security check failed")
    assert "/static/app.js" in text and "reported" in text
    assert page.locator("#chat-log li").count() == 0  # the app's code never ran
    assert page.evaluate("window.__evil") is None
    assert page.evaluate("typeof window.sealgate") == "undefined"
    assert page.evaluate("fetch.toString()") == "function fetch() { [native code] }"

    def report() -> list[dict[str, Any]]:
        return [e for e in stack.audit() if e["path"] == REPORT_PATH]

    (event,) = wait_until(report, 10, "the tamper report in the audit log")
    assert event["status"] == 204 and event["rule_ids"] == ["tamper-report"] and event["protection"] == "bootloader"
    assert event["tamper_report"]["kind"] == "script-hash"
    assert event["tamper_report"]["url"] == "/static/app.js"
    assert event["tamper_report"]["expected"] == sha384(APP_JS)
    assert event["tamper_report"]["actual"] == sha384(evil)
    assert not any("analytics" in network.url(rid) for rid in network.requests)
    assert not any(e["path"].startswith("/api/v1/analytics") for e in stack.audit())


def test_key_rotation_re_signs_the_manifest_and_the_running_app_keeps_working(
    new_stack: Callable[..., Stack], context: Any
) -> None:
    def fast_reload(config: Any) -> Any:
        return config.model_copy(update={"tunnel": config.tunnel.model_copy(update={"key_reload_seconds": 0.05})})

    stack = new_stack(tweak=fast_reload)
    page, network = open_app(context, stack)
    wait_app_ready(page)
    status, _, first = stack.request("GET", MANIFEST)
    assert status == 200

    # Rotate with no overlap: the key the page holds stops decrypting at once, and the published key
    # configuration is a new one that the first manifest does not vouch for.
    assert stack.config is not None
    from sealgate.secrets.resolve import SecretRef

    ref = SecretRef(stack.config.tunnel.keys, stack.workdir / "secrets.json")
    ref.write(KeySet.from_json(ref.read() or "").rotate(overlap_seconds=0).to_json())
    time.sleep(0.2)

    answer = chat(page, "How do I rotate an API key? after-rotation-5521")
    assert answer  # the client refetched the keys, the bootloader fetched the re-signed manifest, retry worked
    status, _, second = stack.request("GET", MANIFEST)
    public_key = base64.urlsafe_b64decode(_boot_parameters(stack)["publicKey"] + "==")
    old, new = verify_manifest(public_key, first), verify_manifest(public_key, second)
    assert old["keyConfigSha384"] != new["keyConfigSha384"]
    assert new["keyConfigSha384"] == sha384(stack.request("GET", KEYS)[2])
    assert old["scripts"] == new["scripts"]  # re-signed, not re-pinned
    assert not [e for e in stack.audit() if e["path"] == REPORT_PATH]
    assert page.query_selector("#sealgate-blocked") is None


def _boot_parameters(stack: Stack) -> dict[str, Any]:
    html = stack.request("GET", "/")[2].decode()
    start = html.index('id="sealgate-boot">') + len('id="sealgate-boot">')
    return dict(orjson.loads(html[start:html.index("</script>", start)]))
