"""The inline bootloader in Chromium under a strict CSP: signed manifest, verified code and keys, tamper reports."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.browser._server import STATIC, GatewayState, Plain

pytestmark = pytest.mark.browser

BOOTLOADER = (STATIC / "bootloader.js").read_text(encoding="utf-8")
CLIENT = (STATIC / "sealgate-client.js").read_bytes()

SCRIPTS = {
    "/app/a.js": (b"window.__order = ['a'];"
                  b"document.addEventListener('DOMContentLoaded', () => { window.__dcl = true; });"),
    "/app/b.js": (b"window.__order.push('b');"
                  b"fetch('/api/from-b', {method: 'POST', body: 'hi'})"
                  b".then((r) => r.json()).then((j) => { window.__bFetch = j; });"),
    "/app/c.mjs": b"window.__order.push('c'); window.__moduleUrl = import.meta.url;",
    "/app/d.js": b"window.__order.push('d'); window.__done = true;",
}


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sha384(data: bytes) -> str:
    return base64.b64encode(hashlib.sha384(data).digest()).decode()


def csp_for(inline_script: str) -> str:
    """The CSP documented in docs/tunnel-csp.md, with the hash of this page's inline bootloader."""
    digest = base64.b64encode(hashlib.sha256(inline_script.encode()).digest()).decode()
    return (f"default-src 'none'; script-src 'sha256-{digest}' blob:; connect-src 'self'; style-src 'self'; "
            "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@dataclass
class App:
    """A protected app: what the gateway would publish for it. Tests tamper with it before publish()."""

    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    scripts: dict[str, bytes] = field(default_factory=lambda: dict(SCRIPTS))
    served_scripts: dict[str, bytes] = field(default_factory=dict)  # what the tunnel actually serves
    client: bytes = CLIENT
    boot: dict[str, Any] = field(default_factory=dict)
    before_boot: str = ""

    def payload(self, state: GatewayState) -> dict[str, Any]:
        return {
            "scripts": [{"url": u, "sha384": sha384(b), **({"type": "module"} if u.endswith(".mjs") else {})}
                        for u, b in self.scripts.items()],
            "client": {"url": "/app/sealgate-client.js", "sha384": sha384(CLIENT)},
            "keyConfigSha384": sha384(state.key_list()),
            "issuedAt": int(time.time()),
        }

    def manifest(self, payload: dict[str, Any], signer: Ed25519PrivateKey | None = None) -> bytes:
        raw = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()  # canonical JSON
        return json.dumps({"payload": b64u(raw), "signature": b64u((signer or self.key).sign(raw))}).encode()

    def publish(self, state: GatewayState, manifest: bytes | None = None) -> None:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        boot = {"manifestUrl": "/app/manifest.json", "clientUrl": "/app/sealgate-client.js", "reportUrl": "/report",
                "appName": "Demo Shop",
                "publicKey": b64u(self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)), **self.boot}
        # The server must escape "<" in the inlined JSON so that no value can close the script element.
        boot_json = json.dumps(boot).replace("<", "\\u003c")
        html = (f'<!doctype html><html><head><meta charset="utf-8"><title>Demo</title>{self.before_boot}'
                f'<script type="application/json" id="sealgate-boot">{boot_json}</script>'
                f"<script>{BOOTLOADER}</script></head><body><h1>Demo shop</h1><div id=root></div></body></html>")
        state.pages["/app/index.html"] = Plain(html.encode(), "text/html",
                                               {"Content-Security-Policy": csp_for(BOOTLOADER)})
        state.pages["/app/manifest.json"] = Plain(manifest or self.manifest(self.payload(state)), "application/json")
        state.pages["/app/sealgate-client.js"] = Plain(self.client, "text/javascript")
        state.tunneled_files.update(self.scripts | self.served_scripts)


@pytest.fixture
def app_page(context: Any, gateway: Any) -> Callable[[], Any]:
    context.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )

    def open_page() -> Any:
        pg = context.new_page()
        pg.errors = []
        pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
        pg.goto(f"{gateway.base}/app/index.html")
        return pg

    return open_page


def wait_until(pg: Any, expr: str, timeout: float = 10.0) -> None:
    """Poll ``expr`` in the page. (Playwright's wait_for_function polls with eval, which the CSP forbids.)"""
    end = time.monotonic() + timeout
    while not pg.evaluate(expr):
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {expr}")
        time.sleep(0.05)


def wait_reports(state: GatewayState, n: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
    end = time.monotonic() + timeout
    while len(state.reports) < n and time.monotonic() < end:
        time.sleep(0.05)
    return state.reports


def assert_blocked(pg: Any, state: GatewayState, kind: str) -> dict[str, Any]:
    """Nothing of the app ran, the message is visible, and exactly one report of ``kind`` arrived."""
    banner = pg.wait_for_selector("#sealgate-blocked", state="visible", timeout=10_000)
    text = banner.inner_text()
    assert "Demo Shop was not started" in text and "reported" in text
    assert banner.get_attribute("role") == "alert"
    assert pg.evaluate("window.__order") is None
    assert pg.evaluate("fetch.toString()") == "function fetch() { [native code] }"  # shim not installed
    assert pg.evaluate("typeof window.sealgate") == "undefined"
    (report,) = wait_reports(state)
    assert report["kind"] == kind
    assert set(report) == {"kind", "detail", "url", "expected", "actual"}
    assert pg.evaluate("window.__csp") == []
    return report


def test_good_manifest_runs_scripts_in_order(app_page: Any, state: GatewayState, gateway: Any) -> None:
    App().publish(state)
    pg = app_page()
    wait_until(pg, "window.__done === true && window.__bFetch !== undefined")
    assert pg.evaluate("window.__order") == ["a", "b", "c", "d"]
    assert pg.evaluate("window.__dcl") is True  # DOMContentLoaded listeners of late scripts still fire
    assert pg.evaluate("window.__moduleUrl").startswith("blob:")  # c.mjs ran as a module
    assert pg.evaluate("window.__bFetch") ["path"] == "/api/from-b"  # app fetch went through the installed shim
    assert pg.query_selector("#sealgate-blocked") is None
    assert pg.evaluate("window.__csp") == [] and pg.errors == []
    # App scripts and API calls came only through the tunnel; nothing of them in the clear.
    inner_paths = [r.path for r in state.inner]
    assert sorted(inner_paths[:4]) == sorted(SCRIPTS) and inner_paths[4:] == ["/api/from-b"]
    assert state.plain_paths == []
    assert state.key_fetches == 1  # the bootloader's verified download, handed to the client
    time.sleep(0.2)
    assert state.reports == []  # a clean Chromium raises no hostile-environment finding


def test_csp_forbids_eval_and_foreign_inline_scripts(app_page: Any, state: GatewayState) -> None:
    # The documented CSP needs neither 'unsafe-eval' nor 'unsafe-inline': an app script cannot eval, and a script
    # element it injects with inline text does not run.
    probe = (b"try { eval('1'); window.__eval = 'ran'; } catch (e) { window.__eval = e.name; }"
             b"const s = document.createElement('script'); s.textContent = 'window.__inline = 1';"
             b"document.head.append(s);"
             b"window.__probed = true;")
    app = App()
    app.scripts["/app/e.js"] = probe
    app.publish(state)
    pg = app_page()
    wait_until(pg, "window.__probed === true && window.__done === true")
    assert pg.evaluate("window.__eval") == "EvalError"
    assert pg.evaluate("window.__inline") is None
    assert pg.evaluate("window.__order") == ["a", "b", "c", "d"]  # the verified scripts ran despite the strict CSP
    violations = pg.evaluate("window.__csp")
    assert any(v.startswith("script-src") and v.endswith("eval") for v in violations), violations
    assert any(v.startswith("script-src") and v.endswith("inline") for v in violations), violations


def test_tampered_script_blocks_everything(app_page: Any, state: GatewayState) -> None:
    evil = b"window.__order = ['evil']; fetch('/steal?c=' + document.cookie);"
    app = App(served_scripts={"/app/b.js": evil})
    app.publish(state)
    pg = app_page()
    report = assert_blocked(pg, state, "script-hash")
    assert report["url"] == "/app/b.js"
    assert report["expected"] == sha384(SCRIPTS["/app/b.js"])
    assert report["actual"] == sha384(evil)
    assert "/steal" not in state.plain_paths


def test_bad_signature_blocks(app_page: Any, state: GatewayState) -> None:
    app = App()
    good = json.loads(app.manifest(app.payload(state)))
    sig = bytearray(base64.urlsafe_b64decode(good["signature"] + "=="))
    sig[10] ^= 1
    good["signature"] = b64u(bytes(sig))
    app.publish(state, json.dumps(good).encode())
    report = assert_blocked(app_page(), state, "signature")
    assert report["url"] == "/app/manifest.json"


def test_payload_swapped_under_a_valid_signature_blocks(app_page: Any, state: GatewayState) -> None:
    evil = b"window.__order = ['evil'];"
    app = App(served_scripts={"/app/a.js": evil})
    signed = json.loads(app.manifest(app.payload(state)))
    payload = app.payload(state)
    payload["scripts"][0]["sha384"] = sha384(evil)  # the attacker fixes the hash but cannot re-sign
    signed["payload"] = b64u(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode())
    app.publish(state, json.dumps(signed).encode())
    assert_blocked(app_page(), state, "signature")


def test_manifest_signed_by_another_key_blocks(app_page: Any, state: GatewayState) -> None:
    app = App()
    app.publish(state, app.manifest(app.payload(state), signer=Ed25519PrivateKey.generate()))
    assert_blocked(app_page(), state, "signature")


def test_garbage_signature_blocks(app_page: Any, state: GatewayState) -> None:
    app = App()
    signed = json.loads(app.manifest(app.payload(state)))
    signed["signature"] = "!!not base64!!"
    app.publish(state, json.dumps(signed).encode())
    assert_blocked(app_page(), state, "signature")


def test_tampered_client_blocks(app_page: Any, state: GatewayState) -> None:
    evil = CLIENT + b"\nfetch('/exfiltrate');"
    App(client=evil).publish(state)
    report = assert_blocked(app_page(), state, "client-hash")
    assert report["actual"] == sha384(evil) and report["expected"] == sha384(CLIENT)
    assert "/exfiltrate" not in state.plain_paths


def test_key_config_not_in_manifest_blocks(app_page: Any, state: GatewayState) -> None:
    app = App()
    manifest = app.manifest(app.payload(state))
    state.rotate(2)  # an attacker-chosen (or simply unsigned) key: the manifest vouches for the old one
    app.publish(state, manifest)
    report = assert_blocked(app_page(), state, "key-config-hash")
    assert report["url"] == "/.well-known/ohttp-gateway"
    assert state.tunnel_posts == []  # nothing was encrypted to the unvouched key


def test_injected_second_boot_block_blocks(app_page: Any, state: GatewayState) -> None:
    attacker = Ed25519PrivateKey.generate()
    evil = {"manifestUrl": "/evil.json", "publicKey": b64u(attacker.public_key().public_bytes_raw()),
            "clientUrl": "/app/sealgate-client.js", "reportUrl": "/evil-report", "appName": "Evil"}
    app = App(before_boot=f'<script type="application/json" id="sealgate-boot">{json.dumps(evil)}</script>')
    app.publish(state)
    report = assert_blocked(app_page(), state, "boot")
    assert report["detail"] == "the boot parameters are duplicated"
    assert "/evil.json" not in state.plain_paths and "/evil-report" not in state.plain_paths


def test_hostile_environment_is_reported(app_page: Any, context: Any, state: GatewayState) -> None:
    context.add_init_script("const f = window.fetch; window.fetch = function (...a) { return f(...a); };"
                            "SubtleCrypto.prototype.digest = new Proxy(SubtleCrypto.prototype.digest, {});")
    App().publish(state)
    pg = app_page()
    wait_until(pg, "window.__done === true")  # report-only by default: the app still runs
    (report,) = wait_reports(state)
    assert report["kind"] == "hostile-environment"
    assert "window.fetch is not native" in report["detail"]
    assert "crypto.subtle.digest is not native" in report["detail"]


@pytest.mark.parametrize(
    ("patch", "finding"),
    [
        ("window.fetch = window.fetch.bind(window);", "window.fetch is not native"),
        ("crypto.subtle.encrypt = () => 0;", "crypto.subtle.encrypt is overridden"),
        ("XMLHttpRequest.prototype.send = function send() {};", "XMLHttpRequest.prototype.send is not native"),
        ("Object.defineProperty(Crypto.prototype, 'subtle', {get() { return 1; }});", "crypto.subtle is not native"),
    ],
    ids=["bound-fetch", "own-property-shadow", "xhr-send", "subtle-getter"],
)
def test_hostile_block_mode(app_page: Any, context: Any, state: GatewayState, patch: str, finding: str) -> None:
    context.add_init_script(patch)
    App(boot={"hostile": "block"}).publish(state)
    pg = app_page()
    banner = pg.wait_for_selector("#sealgate-blocked", timeout=10_000)
    assert banner.is_visible()
    assert pg.evaluate("window.__order") is None
    (report,) = wait_reports(state)
    assert report["kind"] == "hostile-environment"
    assert finding in report["detail"]
    assert state.inner == []


def test_key_rotation_after_boot_needs_a_newly_signed_manifest(app_page: Any, state: GatewayState) -> None:
    app = App()
    app.publish(state)
    pg = app_page()
    wait_until(pg, "window.__done === true && window.__bFetch !== undefined")
    fetch_js = ("async () => { try { return (await (await fetch('/api/after')).json()).path; }"
                " catch (e) { return e.name; } }")

    # Rotation without a new manifest: the refetched keys are not vouched for, so nothing is sent to them.
    state.rotate(2)
    posts = len(state.tunnel_posts)
    assert pg.evaluate(fetch_js) == "TypeError"
    assert [p[0] for p in state.tunnel_posts[posts:]] == [1]  # the old key was tried and refused; no retry
    (report,) = wait_reports(state)
    assert report["kind"] == "key-config-hash" and report["url"] == "/.well-known/ohttp-gateway"
    assert report["actual"] == sha384(state.key_list())

    # The gateway re-signs the manifest for the new key: the same app call now succeeds.
    state.pages["/app/manifest.json"] = Plain(app.manifest(app.payload(state)), "application/json")
    assert pg.evaluate(fetch_js) == "/api/after"
    assert state.tunnel_posts[-1][0] == 2
    assert len(state.reports) == 1  # a vouched-for rotation is not reported


def test_urlsafe_unpadded_hashes_are_accepted(app_page: Any, state: GatewayState) -> None:
    # Benign look-alike: the same digest written in base64url without padding must not be taken for tampering.
    app = App()
    payload = app.payload(state)
    for entry in payload["scripts"]:
        entry["sha384"] = entry["sha384"].replace("+", "-").replace("/", "_").rstrip("=")
    app.publish(state, app.manifest(payload))
    pg = app_page()
    wait_until(pg, "window.__done === true")
    assert pg.evaluate("window.__order") == ["a", "b", "c", "d"]
    assert pg.query_selector("#sealgate-blocked") is None


@pytest.mark.parametrize(
    ("manifest", "kind"),
    [(b"<html>login page</html>", "manifest"), (b'{"payload": "e30", "signature": ""}', "signature")],
    ids=["not-json", "empty-signature"],
)
def test_broken_manifest_blocks(app_page: Any, state: GatewayState, manifest: bytes, kind: str) -> None:
    App().publish(state, manifest)
    assert_blocked(app_page(), state, kind)


def test_missing_manifest_blocks(app_page: Any, state: GatewayState) -> None:
    App().publish(state)
    state.pages["/app/manifest.json"] = Plain(b"not found", "text/plain", status=404)
    report = assert_blocked(app_page(), state, "unavailable")
    assert report["url"] == "/app/manifest.json" and report["detail"] == "HTTP 404"


# -- rollback protection ---------------------------------------------------------------------------------------------


def _signed_at(app: App, state: GatewayState, issued_at: int, scripts: dict[str, bytes] | None = None) -> bytes:
    payload = App(key=app.key, scripts=scripts or app.scripts).payload(state)
    payload["issuedAt"] = issued_at
    return app.manifest(payload)


def test_an_older_manifest_with_other_code_is_refused_as_a_rollback(app_page: Any, state: GatewayState) -> None:
    old_scripts = dict(SCRIPTS, **{"/app/b.js": b"window.__order.push('old b');"})
    app = App()
    now = int(time.time())
    app.publish(state, _signed_at(app, state, now))
    pg = app_page()
    wait_until(pg, "window.__done === true")
    assert pg.evaluate("window.__order") == ["a", "b", "c", "d"]
    pg.close()
    # An attacker replays last week's validly signed manifest (and serves its scripts): the same browser refuses it.
    stale = App(key=app.key, scripts=old_scripts)
    stale.publish(state, _signed_at(app, state, now - 7 * 86400, old_scripts))
    report = assert_blocked(app_page(), state, "rollback")
    assert report["url"] == "/app/manifest.json"
    assert report["expected"] == f"issuedAt >= {now}" and report["actual"] == f"issuedAt {now - 7 * 86400}"


def test_an_older_manifest_of_the_same_code_still_runs(app_page: Any, state: GatewayState) -> None:
    # Gateway workers started at different times sign the same pins with different issuedAt values.
    app = App()
    now = int(time.time())
    app.publish(state, _signed_at(app, state, now))
    pg = app_page()
    wait_until(pg, "window.__done === true")
    pg.close()
    app.publish(state, _signed_at(app, state, now - 3600))
    pg = app_page()
    wait_until(pg, "window.__done === true")
    assert pg.query_selector("#sealgate-blocked") is None and state.reports == []
    # A newer manifest (a deploy) raises the bar: the first one's code is now refused if it comes back older.
    pg.close()
    new_scripts = dict(SCRIPTS, **{"/app/d.js": b"window.__order.push('d2'); window.__done = true;"})
    App(key=app.key, scripts=new_scripts).publish(state, _signed_at(app, state, now + 60, new_scripts))
    pg = app_page()
    wait_until(pg, "window.__done === true")
    assert pg.evaluate("window.__order") == ["a", "b", "c", "d2"]
    pg.close()
    app.publish(state, _signed_at(app, state, now))
    assert_blocked(app_page(), state, "rollback")


def test_a_manifest_without_issued_at_is_refused(app_page: Any, state: GatewayState) -> None:
    app = App()
    payload = app.payload(state)
    del payload["issuedAt"]
    app.publish(state, app.manifest(payload))
    assert_blocked(app_page(), state, "manifest")
