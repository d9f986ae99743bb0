"""The bootloader's server side through the real gateway (no browser): the rewritten page, the signed
manifest, the client, tamper reports, pinning and re-pinning. The stack is the demo's (``_stack.py``)."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sealgate.demo import STATIC_DIR
from sealgate.tunnel.bootloader import CLIENT_PATH, REPORT_PATH, bootloader_source, manifest_url
from sealgate.tunnel.bootloader import STATIC_DIR as TUNNEL_STATIC
from sealgate.tunnel.manifest import ManifestError, verify_manifest
from tests.e2e._stack import Stack, copy_static

MANIFEST = manifest_url("/")
KEYS = "/.well-known/ohttp-gateway"
INDEX = (STATIC_DIR / "index.html").read_bytes()
APP_JS = (STATIC_DIR / "app.js").read_bytes()
CLIENT_JS = (TUNNEL_STATIC / "sealgate-client.js").read_bytes()
BOOTLOADER_JS = (TUNNEL_STATIC / "bootloader.js").read_bytes()
APP_SCRIPT = b'<script type="module" src="/static/app.js"></script>'
BOOT_BLOCK = re.compile(rb'<script type="application/json" id="sealgate-boot">([^<]*)</script><script>')


def sha384(data: bytes) -> str:
    return base64.b64encode(hashlib.sha384(data).digest()).decode()


def boot_parameters(page: bytes) -> dict[str, Any]:
    found = BOOT_BLOCK.search(page)
    assert found is not None
    return dict(orjson.loads(found.group(1)))


def public_key(stack: Stack) -> bytes:
    params = boot_parameters(stack.request("GET", "/")[2])
    return base64.urlsafe_b64decode(params["publicKey"] + "==")


def manifest(stack: Stack, key: bytes | None = None) -> dict[str, Any]:
    status, headers, body = stack.request("GET", MANIFEST)
    assert status == 200 and headers["content-type"] == "application/json"
    assert headers["cache-control"] == "no-store"
    return verify_manifest(key or public_key(stack), body)


# -- the page ----------------------------------------------------------------------------------------------


def test_the_page_is_rewritten_byte_for_byte_as_documented(stack: Stack) -> None:
    status, headers, body = stack.request("GET", "/")
    assert status == 200
    source = bootloader_source()
    assert headers["content-security-policy"] == source.csp
    assert headers["content-security-policy"] == (
        f"default-src 'self'; script-src 'sha256-{source.sha256}' blob:; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
    assert source.sha256 == base64.b64encode(hashlib.sha256(BOOTLOADER_JS).digest()).decode()
    assert int(headers["content-length"]) == len(body)
    assert "etag" not in headers and "last-modified" not in headers
    # The app's script element is gone; the JSON block and the bootloader (byte for byte) sit right
    # before </head>; everything else is the upstream's document, unchanged.
    found = BOOT_BLOCK.search(body)
    assert found is not None
    insertion = found.group(0) + BOOTLOADER_JS + b"</script>"
    expected = INDEX.replace(APP_SCRIPT, b"").replace(b"</head>", insertion + b"</head>", 1)
    assert body == expected
    assert body.count(b"<script") == 2 and b"/static/app.js" not in body
    params = orjson.loads(found.group(1))
    assert params == {
        "manifestUrl": MANIFEST, "publicKey": params["publicKey"], "clientUrl": CLIENT_PATH, "reportUrl": REPORT_PATH,
        "appName": "Nimbus AI · sealgate sample app", "keys": KEYS, "tunnel": "/.sealgate/tunnel",
        "prefixes": ["/api/", "/healthz"],
    }
    assert len(base64.urlsafe_b64decode(params["publicKey"] + "==")) == 32
    assert b"\\u00b7" in found.group(1)  # non-ASCII is escaped: the block is ASCII in any page charset


def test_conditional_and_compressed_requests_still_get_the_rewritten_page(stack: Stack) -> None:
    status, direct_headers, _ = stack.request("GET", "/", base=stack.api_url)
    assert status == 200 and "etag" in direct_headers
    # A browser that cached the page before the bootloader was on must not get a 304 for that copy.
    status, headers, body = stack.request("GET", "/", headers={
        "If-None-Match": direct_headers["etag"], "If-Modified-Since": direct_headers.get("last-modified", ""),
        "Accept-Encoding": "gzip, br", "Range": "bytes=0-10"})
    assert status == 200 and BOOT_BLOCK.search(body) is not None
    assert "content-encoding" not in headers
    status, headers, body = stack.request("HEAD", "/")
    assert status == 200 and body == b"" and headers["content-security-policy"] == bootloader_source().csp


def test_other_paths_are_not_rewritten(stack: Stack) -> None:
    for path in ("/static/app.css", "/static/app.js"):
        status, headers, body = stack.request("GET", path)
        assert status == 200 and "content-security-policy" not in headers
        assert body == stack.request("GET", path, base=stack.api_url)[2]
    status, headers, _ = stack.request("GET", "/healthz")
    assert status == 200 and "content-security-policy" not in headers


# -- manifest and client ---------------------------------------------------------------------------------


def test_the_manifest_pins_the_scripts_the_client_and_the_key_configuration(stack: Stack) -> None:
    key = public_key(stack)
    payload = manifest(stack, key)
    assert payload["scripts"] == [{"url": "/static/app.js", "sha384": sha384(APP_JS), "type": "module"}]
    status, headers, client = stack.request("GET", CLIENT_PATH)
    assert status == 200 and client == CLIENT_JS
    assert payload["client"] == {"url": CLIENT_PATH, "sha384": sha384(CLIENT_JS)}
    assert payload["keyConfigSha384"] == sha384(stack.request("GET", KEYS)[2])
    assert payload["page"] == "/" and isinstance(payload["issuedAt"], int)
    # The signature binds the payload to the gateway's key and nothing else.
    document = stack.request("GET", MANIFEST)[2]
    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    with pytest.raises(ManifestError):
        verify_manifest(other, document)
    outer = orjson.loads(document)
    tampered = orjson.loads(base64.urlsafe_b64decode(outer["payload"] + "=="))
    tampered["scripts"][0]["sha384"] = sha384(b"evil()")
    outer["payload"] = base64.urlsafe_b64encode(orjson.dumps(tampered, option=orjson.OPT_SORT_KEYS)).decode()
    with pytest.raises(ManifestError):
        verify_manifest(key, orjson.dumps(outer))
    assert stack.request("POST", MANIFEST)[0] == 405
    assert stack.request("GET", "/.sealgate/manifest/0000000000000000.json")[0] == 404  # not ours: the pipeline


def test_the_client_is_served_cacheable_and_revalidates(stack: Stack) -> None:
    status, headers, body = stack.request("GET", CLIENT_PATH)
    assert status == 200 and body == CLIENT_JS
    assert headers["content-type"].startswith("application/javascript")
    assert headers["x-content-type-options"] == "nosniff" and "max-age" in headers["cache-control"]
    status, _, body = stack.request("GET", CLIENT_PATH, headers={"If-None-Match": headers["etag"]})
    assert status == 304 and body == b""
    assert stack.request("GET", CLIENT_PATH, headers={"If-None-Match": '"other"'})[0] == 200


# -- tamper reports --------------------------------------------------------------------------------------


def test_tamper_reports_are_sanitized_into_the_audit_log_and_bounded(stack: Stack) -> None:
    def post(data: bytes, ctype: str = "application/json") -> tuple[int, dict[str, str], bytes]:
        return stack.request("POST", REPORT_PATH, data=data, headers={"content-type": ctype})

    assert post(b"{}", "text/plain")[0] == 415
    assert stack.request("GET", REPORT_PATH)[0] == 405
    report = {"kind": "script-hash", "detail": "SHA-384 mismatch\r\nINJECTED log line", "expected": sha384(b"a"),
              "actual": "not base64 <script>", "url": "https://shop.example/static/app.js?token=s3cr3t#frag",
              "extra": "x" * 100}
    status, _, body = post(orjson.dumps(report))
    assert status == 204 and body == b""
    status, headers, body = post(b"{not json")
    assert status == 400 and headers["content-type"] == "application/problem+json"
    assert post(b"[1, 2]")[0] == 400
    assert post(b'{"kind": "' + b"x" * 9000 + b'"}')[0] == 413
    status, _, _ = post(orjson.dumps({"kind": 5, "detail": {"a": 1}, "url": "http://[::1", "actual": None}))
    assert status == 204  # odd but harmless values are recorded as blanks, never a 500
    status, headers, _ = post(orjson.dumps(report))
    assert status == 429 and headers["retry-after"] == "60"  # 5 per client at once, then 6 a minute

    events = [e for e in stack.audit() if e["path"] == REPORT_PATH and e["status"] == 204]
    assert len(events) == 2
    first = events[0]
    assert first["rule_ids"] == ["tamper-report"] and first["protection"] == "bootloader"
    assert first["tamper_report"] == {
        "kind": "script-hash", "known_kind": "yes", "detail": "SHA-384 mismatch  INJECTED log line",
        "url": "https://shop.example/static/app.js", "expected": sha384(b"a"), "actual": ""}
    assert "s3cr3t" not in orjson.dumps(events).decode()
    assert events[1]["tamper_report"] == {"kind": "invalid", "known_kind": "no", "detail": "", "url": "",
                                          "expected": "", "actual": ""}


# -- pinning: deploy time, drift, restart, unpinnable pages ----------------------------------------------


def test_a_script_added_to_the_page_after_startup_does_not_run_and_restarting_re_pins(
    new_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    static = copy_static(tmp_path / "static")
    stack = new_stack(static_copy=static)
    key = public_key(stack)
    pinned = manifest(stack, key)
    # The upstream now serves a page with one more script and an inline one, and a changed app.js.
    (static / "evil.js").write_bytes(b"steal()")
    (static / "index.html").write_bytes(INDEX.replace(
        b"</head>", b'<script src="/static/evil.js"></script><script>steal()</script></head>'))
    (static / "app.js").write_bytes(APP_JS + b"\n// v2\n")
    status, _, page = stack.request("GET", "/")
    assert status == 200 and b"evil.js" not in page and b"steal()" not in page
    assert manifest(stack, key)["scripts"] == pinned["scripts"]  # nothing new is vouched for

    # The documented way to accept a new version: restart the gateway (same store: same signing key).
    workdir = stack.workdir
    stack.stop()
    restarted = Stack(workdir, static_copy=static).start()
    try:
        assert public_key(restarted) == key
        repinned = manifest(restarted, key)
        assert repinned["scripts"] == [
            {"url": "/static/app.js", "sha384": sha384(APP_JS + b"\n// v2\n"), "type": "module"},
            {"url": "/static/evil.js", "sha384": sha384(b"steal()")},
        ]
    finally:
        restarted.stop()


def test_a_page_with_a_cross_origin_script_gets_no_manifest(new_stack: Callable[..., Stack], tmp_path: Path) -> None:
    static = copy_static(tmp_path / "static")
    (static / "index.html").write_bytes(INDEX.replace(
        APP_SCRIPT, APP_SCRIPT + b'<script src="https://cdn.example.com/lib.js"></script>'))
    stack = new_stack(static_copy=static)
    status, headers, body = stack.request("GET", MANIFEST)
    assert status == 503 and headers["retry-after"] == "5"
    assert orjson.loads(body)["type"].endswith("manifest-unavailable")
    status, headers, page = stack.request("GET", "/")  # still rewritten: none of its scripts can run
    assert status == 200 and b"cdn.example.com" not in page and "content-security-policy" in headers


def _fast_reload(config: Any) -> Any:
    tunnel = config.tunnel.model_copy(update={"key_reload_seconds": 0.2})
    return config.model_copy(update={"tunnel": tunnel})


def _sign_app(stack: Stack, tmp_path: Path) -> None:
    """`sealgate tunnel sign-app` against the stack's store, as an operator runs it after a deploy."""
    from sealgate.cli.main import main

    assert stack.config is not None
    config_file = tmp_path / "sign.yaml"
    config_file.write_text(f'secrets: {{store_path: "{stack.config.secrets.store_path}"}}\n'
                           "tunnel: {enabled: true, bootloader: {enabled: true}}\n")
    assert main(["tunnel", "sign-app", "--config", str(config_file)]) == 0


def test_sign_app_re_pins_running_workers_without_a_restart(
    new_stack: Callable[..., Stack], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    static = copy_static(tmp_path / "static")
    stack = new_stack(static_copy=static, tweak=_fast_reload)
    key = public_key(stack)
    before = manifest(stack, key)
    (static / "app.js").write_bytes(APP_JS + b"\n// v2\n")  # a legitimate deploy upstream
    time.sleep(0.3)
    assert manifest(stack, key) == before  # not accepted on its own: pins change only on request

    _sign_app(stack, tmp_path)
    assert "re-pin requested" in capsys.readouterr().out
    time.sleep(0.3)
    after = manifest(stack, key)  # the same worker, same signing key, no restart
    assert after["scripts"] == [{"url": "/static/app.js", "sha384": sha384(APP_JS + b"\n// v2\n"), "type": "module"}]
    assert after["issuedAt"] >= before["issuedAt"] and after["keyConfigSha384"] == before["keyConfigSha384"]


def test_a_failed_re_pin_keeps_the_previous_pins_and_is_retried(
    new_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    static = copy_static(tmp_path / "static")
    stack = new_stack(static_copy=static, tweak=_fast_reload)
    key = public_key(stack)
    before = manifest(stack, key)
    (static / "app.js").rename(static / "app.js.off")  # mid-deploy: the script is missing upstream
    _sign_app(stack, tmp_path)
    time.sleep(0.3)
    assert manifest(stack, key)["scripts"] == before["scripts"]  # still the previous, working version
    (static / "app.js.off").rename(static / "app.js")
    (static / "app.js").write_bytes(APP_JS + b"\n// v3\n")
    time.sleep(0.3)
    assert manifest(stack, key)["scripts"][0]["sha384"] == sha384(APP_JS + b"\n// v3\n")  # retried: re-pinned
