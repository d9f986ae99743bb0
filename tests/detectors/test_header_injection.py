"""CRLF injection, response splitting and request smuggling shapes; multi-line text that passes."""

from __future__ import annotations

import time

import pytest

from sealgate.detectors.engine import anomaly_score
from sealgate.detectors.header_injection import DETECTOR
from sealgate.detectors.normalize import Value


def _rules(text: str, location: str) -> list[str]:
    return [f.rule_id for f in DETECTOR.detect(Value(text), location, 1)]


def _score(text: str, location: str) -> int:
    return anomaly_score(DETECTOR.detect(Value(text), location, 1))


@pytest.mark.parametrize(
    ("payload", "location"),
    [
        ("en%0d%0aSet-Cookie:%20sid=evil", "query.lang"),
        ("en%0D%0ASet-Cookie:sid=evil", "query.lang"),
        ("en%250d%250aSet-Cookie:%20sid=evil", "query.lang"),
        ("/x%0d%0aLocation:%20https://evil.example/", "query.next"),
        ("x%0aLocation:%20//evil.example", "query.next"),
        ("x%0dRefresh:%200;url=https://evil.example", "query.x"),
        ("x%0d%0aContent-Length:%200", "query.x"),
        ("x%0d%0aX-Forwarded-Host:%20evil.example", "query.x"),
        ("a\r\nRemote-addr: foo.bar.com", "query.a"),
        ("x嘊嘍Set-Cookie: sid=1", "query.x"),
        ("v\r\nInjected: 1", "cookie.session"),
        ("Headerdata\rInjectedHeader: response_splitting_code", "header.someheader"),
        ("\r\nRemote-addr: foo.bar.com", "query.\r\nRemote-addr: foo.bar.com:name"),
        ("x\nInjected: 1", "path[2]"),
        ("Hello\r\nSet-Cookie: sid=1", "form.comment"),
        ("Hello\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>", "body.$.message"),
    ],
)
def test_header_injection(payload: str, location: str) -> None:
    assert "header_injection-crlf-header" in _rules(payload, location)


def test_response_splitting() -> None:
    payload = "foobar\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>x</html>"
    rules = _rules(payload, "query.lang")
    assert {"header_injection-crlf-header", "header_injection-response-splitting"} <= set(rules)


@pytest.mark.parametrize(
    ("payload", "location"),
    [
        ("GET /admin HTTP/1.1\r\nHost: internal\r\n\r\n", "body.$.note"),
        ("x\r\n\r\nPOST /transfer HTTP/1.1\r\nHost: bank\r\n", "form.x"),
        ("0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n", "body"),
    ],
)
def test_smuggled_requests(payload: str, location: str) -> None:
    assert "header_injection-smuggled-request" in _rules(payload, location)


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("Dear team,\nNote: the meeting moved to 3pm.", "body.$.message"),
        ("Name: Ana\r\nLocation: Madrid\r\nPhone: 555", "form.address"),
        ("line one\r\nline two", "form.comment"),
        ("Args:\n  cmd: A RETR command.", "query.q"),
        ("Raises:\n    TypeError: If passed a list of mixed version objects.", "query.q"),
        ("Usage:\n  --: separate options from statement", "query.q"),
        ("Content-Type: text/plain", "query.q"),
        ("Thanks!\nContent-Type: text/html is what the server sends back for these pages", "body.$.text"),
        (
            "--b\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--",
            "body",
        ),
    ],
)
def test_multi_line_text_passes(text: str, location: str) -> None:
    assert _score(text, location) < 5, _rules(text, location)


def test_line_break_in_a_name_alone_is_four_points() -> None:
    findings = DETECTOR.detect(Value("a\nb"), "query.a\nb:name", 1)
    assert [(f.rule_id, f.severity) for f in findings] == [("header_injection-line-break", "error")]


def test_excerpt_escapes_the_break() -> None:
    (finding,) = DETECTOR.detect(Value("en\r\nSet-Cookie: a=b"), "query.lang", 1)
    assert "\r" not in finding.excerpt and "\n" not in finding.excerpt


@pytest.mark.parametrize(
    ("payload", "location"),
    [
        ("en%%0d0dSet-Cookie:%20sid=evil", "query.lang"),
        ("x\\r\\nLocation: https://evil.example/", "query.next"),
        ("x\\nContent-Type: text/html", "header.x-note"),
    ],
)
def test_nested_and_escaped_breaks(payload: str, location: str) -> None:
    assert "header_injection-crlf-header" in _rules(payload, location)


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("printf(\"Location: %s\\r\\n\", url)", "body.$.comment"),
        ("C:\\new\\reports\\total.txt", "query.path"),
        ("a\\nb", "cookie.prefs"),
        ("100%\n0a", "body.$.note"),
    ],
)
def test_escapes_and_percent_look_alikes_pass(text: str, location: str) -> None:
    assert _score(text, location) == 0


def test_escaped_breaks_stay_linear() -> None:
    started = time.perf_counter()
    for text in ("\\r\\n" * 16000, "\\nA:" * 16000, "%\n" * 32000):
        DETECTOR.detect(Value(text), "query.q", 1)
    assert time.perf_counter() - started < 3.0
