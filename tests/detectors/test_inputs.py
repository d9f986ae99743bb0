"""sealgate.detectors.inputs: every attacker-controlled string, with its location and kind."""

from __future__ import annotations

import json

import pytest

from sealgate.detectors.inputs import iter_inputs, json_location
from sealgate.pipeline.exchange import Exchange


def _exchange(**kwargs: object) -> Exchange:
    base: dict[str, object] = {"method": "GET", "path": "/", "raw_path": b"/"}
    base.update(kwargs)
    return Exchange(**base)  # type: ignore[arg-type]


def test_path_query_cookies_headers() -> None:
    exchange = _exchange(
        path="/api/items/1 or 1=1",
        raw_path=b"/api/items/1%20or%201=1",
        query_string=b"id=1%27&a[%24ne]=1&flag",
        headers=[
            ("host", "example.com"),
            ("user-agent", "<script>"),
            ("referer", "http://x/?q=1"),
            ("x-custom", "payload"),
            ("accept-charset", "utf-8"),
            ("accept", "*/*"),
            ("authorization", "Bearer secret"),
            ("cookie", "sid=abc; pref=%27x"),
            ("content-type", "text/plain; charset=utf-8"),
        ],
    )
    found = {(loc, raw, kind) for loc, raw, kind in iter_inputs(exchange)}
    assert ("path[2]", "1 or 1=1", "path") in found
    assert ("path", "/api/items/1 or 1=1", "path") in found
    assert ("query.id", "1'", "value") in found
    assert ("query.a[$ne]:name", "a[$ne]", "name") in found
    assert ("query.flag:name", "flag", "name") in found
    assert ("cookie.pref", "%27x", "value") in found
    assert ("cookie.sid:name", "sid", "name") in found
    assert ("header.user-agent", "<script>", "header") in found
    assert ("header.referer", "http://x/?q=1", "header") in found
    assert ("header.x-custom", "payload", "header") in found
    assert ("header.content-type", "charset=utf-8", "header") in found
    locations = {loc for loc, _, _ in found}
    assert not {"header.accept-charset", "header.accept", "header.authorization", "header.host"} & locations


def test_json_keys_and_leaves_at_depth() -> None:
    body = {"items": [{"name": "x'", "qty": 2}, "s"], "a b": {"$ne": None}, "__proto__": {"p": True}}
    exchange = _exchange(method="POST", headers=[("content-type", "application/json")],
                         body=json.dumps(body).encode())
    found = list(iter_inputs(exchange))
    assert ("body.$.items[0].name", "x'", "value") in found
    assert ("body.$.items[0].name:key", "name", "name") in found
    assert ("body.$.items[1]", "s", "value") in found
    assert ("body.$['a b'].$ne:key", "$ne", "name") in found or ("body.$['a b']['$ne']:key", "$ne", "name") in found
    assert ("body.$.__proto__:key", "__proto__", "name") in found
    assert not any(loc.endswith("qty") for loc, _, _ in found)  # numbers carry no payload


def test_deep_json_does_not_recurse_forever() -> None:
    body = b"[" * 5000 + b'"leaf"' + b"]" * 5000
    exchange = _exchange(method="POST", headers=[("content-type", "application/json")], body=body)
    found = list(iter_inputs(exchange))
    # orjson refuses documents this deep: the raw body is inspected instead, nothing raises.
    assert found and all(kind in ("value", "body") for _, _, kind in found)
    shallow = b"[" * 100 + b'"leaf"' + b"]" * 100
    exchange = _exchange(method="POST", headers=[("content-type", "application/json")], body=shallow)
    found = list(iter_inputs(exchange))
    assert len(found) == 1 and "leaf" in found[0][1]


def test_form_and_malformed_bodies() -> None:
    form = _exchange(method="POST", headers=[("content-type", "application/x-www-form-urlencoded")],
                     body=b"q=%3Cscript%3E&ABS(")
    found = list(iter_inputs(form))
    assert ("form.q", "<script>", "value") in found
    assert ("form.ABS(:name", "ABS(", "name") in found
    broken = _exchange(method="POST", headers=[("content-type", "application/json")], body=b"{'bad")
    assert ("body", "{'bad", "body") in list(iter_inputs(broken))
    text = _exchange(method="POST", headers=[("content-type", "text/plain")], body=b"cmd=id")
    assert ("body", "cmd=id", "body") in list(iter_inputs(text))


def test_multipart_names_filenames_and_text_parts() -> None:
    body = (
        b"--b\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello'\r\n"
        b"--b\r\nContent-Disposition: form-data; name=\"up\"; filename=\"../../x.php\"\r\n"
        b"Content-Type: application/octet-stream\r\n\r\n\x00\x01binary\r\n--b--\r\n"
    )
    exchange = _exchange(method="POST", headers=[("content-type", "multipart/form-data; boundary=b")], body=body)
    found = list(iter_inputs(exchange))
    assert ("multipart.title", "hello'", "value") in found
    assert ("multipart.up:filename", "../../x.php", "filename") in found
    assert not any(loc == "multipart.up" for loc, _, _ in found)  # binary file content skipped


@pytest.mark.parametrize("ctype", ["application/x-yaml; charset=utf-8", "application/graphql", "text/csv",
                                   "application/vnd.api+json"])
def test_uploaded_text_files_are_inspected_by_the_body_rule(ctype: str) -> None:
    body = (
        b"--b\r\nContent-Disposition: form-data; name=\"up\"; filename=\"f\"\r\n"
        b"Content-Type: " + ctype.encode() + b"\r\n\r\nid: 1' OR '1'='1\r\n--b--\r\n"
    )
    exchange = _exchange(method="POST", headers=[("content-type", "multipart/form-data; boundary=b")], body=body)
    assert ("multipart.up", "id: 1' OR '1'='1", "value") in list(iter_inputs(exchange))


def test_xml_text_attributes_and_names() -> None:
    body = b'<?xml version="1.0"?><root><item id="1\' or 1=1">text</item><java.lang.Runtime/></root>'
    exchange = _exchange(method="POST", headers=[("content-type", "application/xml")], body=body)
    found = list(iter_inputs(exchange))
    assert ("xml./root/item@id", "1' or 1=1", "value") in found
    assert ("xml./root/item", "text", "value") in found
    assert ("xml./root/java.lang.Runtime:tag", "java.lang.Runtime", "name") in found


def test_json_location_quotes_odd_keys() -> None:
    assert json_location("body.$", "name") == "body.$.name"
    assert json_location("body.$", 3) == "body.$[3]"
    assert json_location("body.$", "a'b") == "body.$['a\\'b']"


# --- opaque (non-textual) bodies ----------------------------------------------------------------


def _random_bytes(size: int, seed: int = 20240503) -> bytes:
    import random

    return random.Random(seed).randbytes(size)


def test_a_3_mb_random_binary_upload_is_bounded_and_not_blocked() -> None:
    from sealgate.detectors.engine import DetectionEngine
    from sealgate.detectors.inputs import MAX_OPAQUE_BODY

    body = _random_bytes(3 * 1024 * 1024)
    for media in ("application/octet-stream", "image/png", "application/pdf"):
        exchange = _exchange(method="POST", headers=[("content-type", media)], body=body)
        inspected = [raw for loc, raw, _ in iter_inputs(exchange) if loc == "body"]
        # Bounded work: at most the first 64 KiB are looked at, whatever the body's size.
        assert sum(map(len, inspected)) <= MAX_OPAQUE_BODY
        result = DetectionEngine().assess(exchange)
        assert not result.blocked, (media, result.findings)


def test_an_opaque_body_still_shows_a_payload_in_its_first_64_kib() -> None:
    from sealgate.detectors.engine import DetectionEngine

    payload = b"x' OR 1=1 -- <?php system($_GET['c']); ?>"
    binary = b"\x89PNG\r\n\x1a\n\x00\x00" + _random_bytes(512) + b"\x00" + payload + b"\x00" + _random_bytes(512)
    text = b"plain words " * 100 + payload
    for body in (binary, text):
        exchange = _exchange(method="POST", headers=[("content-type", "application/octet-stream")], body=body)
        assert DetectionEngine().assess(exchange).blocked
    # Past 64 KiB of an opaque upload: not inspected (the documented trade-off) ...
    late = _random_bytes(70_000) + payload
    exchange = _exchange(method="POST", headers=[("content-type", "application/octet-stream")], body=late)
    assert all(payload.decode() not in raw for _, raw, _ in iter_inputs(exchange))
    # ... but a textual or unlabelled body is inspected whole.
    padded = b"a" * 70_000 + b" " + payload
    for headers in ([("content-type", "text/plain")], []):
        exchange = _exchange(method="POST", headers=headers, body=padded)
        assert DetectionEngine().assess(exchange).blocked
