"""SSRF / RFI: internal addresses in every spelling, metadata, schemes, RFI shapes, off-domain URLs."""

from __future__ import annotations

import ipaddress
import time

import pytest

from sealgate.detectors.context import request_context
from sealgate.detectors.engine import anomaly_score
from sealgate.detectors.normalize import Value
from sealgate.detectors.ssrf import DETECTOR, classify_host, parse_ipv4


def _score(text: str, location: str = "query.url", paranoia: int = 1) -> int:
    return anomaly_score(f for f in DETECTOR.detect(Value(text), location, paranoia) if f.paranoia <= paranoia)


def _rules(text: str, location: str = "query.url", paranoia: int = 1) -> list[str]:
    return [f.rule_id for f in DETECTOR.detect(Value(text), location, paranoia)]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0x7f.0x0.0x0.0x1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("169.254.169.254", "169.254.169.254"),
        ("2852039166", "169.254.169.254"),
        ("10.0.0.1.", "10.0.0.1"),
    ],
)
def test_parse_ipv4_accepts_every_inet_aton_spelling(host: str, expected: str) -> None:
    assert parse_ipv4(host) == ipaddress.IPv4Address(expected)


@pytest.mark.parametrize("host", ["example.com", "256.1.1.1", "1.2.3.4.5", "0x1g", "", "1..2", "08.0.0.1"])
def test_parse_ipv4_rejects_non_addresses(host: str) -> None:
    assert parse_ipv4(host) is None


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("169.254.169.254", "metadata"),
        ("metadata.google.internal", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("::1", "internal"),
        ("::ffff:127.0.0.1", "internal"),
        ("::ffff:7f00:1", "internal"),
        ("64:ff9b::7f00:1", "internal"),
        ("2002:7f00:1::1", "internal"),
        ("fe80::1%eth0", "internal"),
        ("fc00::1", "internal"),
        ("10.1.2.3", "internal"),
        ("172.16.0.1", "internal"),
        ("192.168.0.1", "internal"),
        ("100.64.0.1", "internal"),
        ("0.0.0.0", "internal"),
        ("localhost", "internal"),
        ("api.localhost", "internal"),
        ("db.internal", "internal"),
        ("127.0.0.1.nip.io", "internal"),
        ("10-0-0-1.sslip.io", "internal"),
        ("7f000001.nip.io", "internal"),
        ("printer.local", "local-name"),
        ("0x08080808", "obfuscated"),
        ("example.com", None),
        ("8.8.8.8", None),
        ("ec2-54-1-2-3.compute-1.amazonaws.com", None),
        ("2001:4860:4860::8888", None),
    ],
)
def test_classify_host(host: str, kind: str | None) -> None:
    assert classify_host(host) == kind


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/admin",
        "https://localhost:8443/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://0/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[0:0:0:0:0:ffff:127.0.0.1]/",
        "http://[fe80::1%25eth0]/",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://expected.example@127.0.0.1/",
        "http://127.0.0.1\\@expected.example/",
        "http://127.0.0.1:80#@expected.example/",
        "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/",
        "http://①②⑦.⓪.⓪.①/",
        "http://127。0。0。1/",
        "http%3A%2F%2F127.0.0.1%2Fadmin",
        "http%253A%252F%252F169.254.169.254%252F",
        "http:/\\127.0.0.1/",
        "//127.0.0.1/admin",
        "gopher://example.com:70/_GET",
        "dict://example.com:11211/stats",
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "jar:http://example.com/evil.jar!/",
        "netdoc:///etc/passwd",
        "\\\\127.0.0.1\\c$\\",
    ],
)
def test_internal_urls_and_dangerous_schemes(url: str) -> None:
    assert _score(url) >= 5, _rules(url)


@pytest.mark.parametrize(
    ("value", "location"),
    [
        ("http://evil.example/shell.txt?", "query.page"),
        ("https?", "query.x"),
        ("ftp?", "query.x"),
        ("https://foo.bar", "query._CONF[path]"),
        ("https://foo.bar", "query.mosConfig_absolute_path"),
        ("http://evil.example/x", "body.$.config.include_path"),
        ("http://evil.example/shell.txt", "query.page"),
        ("http://66.240.183.75/crash.php", "query.src"),
    ],
)
def test_remote_file_inclusion_shapes(value: str, location: str) -> None:
    assert _score(value, location) >= 5, _rules(value, location)


@pytest.mark.parametrize(
    ("value", "location"),
    [
        ("https://example.com/page", "query.url"),
        ("https://foo.bar?foo=bar", "query.x"),
        ("https://foo.bar&foo=bar", "query.x"),
        ("http://8.8.8.8/", "query.url"),
        ("192.168.1.1", "query.gateway"),
        ("127.0.0.1", "query.ip"),
        ("http://www.example.com/search?q=localhost", "query.url"),
        ("https://example.com/about", "query.redirect_path"),
        ("https://example.com/about", "query.return_url"),
        ("https://example.com/about", "query.page"),
        ("The dev server runs on http://localhost:8000 when you start it on your own laptop", "body.$.text"),
        ("mailto:bob@example.com", "query.to"),
        ("urn:isbn:0451450523", "query.id"),
        ("The file: report.pdf", "query.q"),
        ("r1:/32", "query.q"),
        ("a ``file://`` URL", "query.q"),
        ("http://localhost/test", "header.referer"),
    ],
)
def test_benign_urls_pass(value: str, location: str) -> None:
    assert _score(value, location) < 5, _rules(value, location)


def test_metadata_address_without_scheme() -> None:
    assert "ssrf-cloud-metadata" in _rules("169.254.169.254", "query.host")


def test_off_domain_url_needs_context_and_paranoia_2() -> None:
    assert "ssrf-off-domain-url" not in _rules("https://evil.example/", paranoia=2)
    with request_context(host="shop.example"):
        assert _rules("https://evil.example/", paranoia=1) == []
        assert "ssrf-off-domain-url" in _rules("https://evil.example/", paranoia=2)
        assert "ssrf-off-domain-url" in _rules("https://shop.example.evil.example/", paranoia=2)
        assert "ssrf-off-domain-url" in _rules("https://shop.example:8443/", paranoia=2)
        assert _rules("https://shop.example/cart", paranoia=2) == []
        assert _rules("https://www.shop.example/cart", paranoia=2) == []
    with request_context(host="shop.example:8443"):
        assert _rules("https://shop.example:8443/cart", paranoia=2) == []


def test_lookalike_of_the_requested_host_is_critical_at_paranoia_1() -> None:
    assert _rules("https://shop.example:8443/") == []  # no request context: nothing to imitate
    with request_context(host="shop.example"):
        assert _rules("https://shop.example:8443/") == ["ssrf-lookalike-host"]
        assert _rules("https://shop.example.evil.example/") == ["ssrf-lookalike-host"]
        assert _rules("https://evil.example/") == []
        assert _rules("https://www.shop.example:8443/") == ["ssrf-lookalike-host"]
        assert _rules("see https://shop.example:8443/ for the admin", "body.$.text") == []
        assert _rules("https://shop.example:8443/", "header.x-forwarded-for") == []
    with request_context(host="example.com"):
        assert _rules("https://evilexample.com/") == ["ssrf-lookalike-host"]
    with request_context(host="news.com"):
        assert _rules("https://foxnews.com/") == []  # a four-letter label is not distinctive
    with request_context(host="127.0.0.1:8080"):
        assert "ssrf-lookalike-host" not in _rules("https://127.0.0.1.example/")


def test_directory_schemes_are_four_points_then_critical() -> None:
    (finding,) = DETECTOR.detect(Value("ldap://directory.example/o=x"), "query.url", 1)
    assert (finding.rule_id, finding.severity) == ("ssrf-dangerous-scheme", "error")
    (finding,) = DETECTOR.detect(Value("ldap://directory.example/o=x"), "query.url", 2)
    assert finding.severity == "critical"


def test_internal_url_in_markup_is_critical_in_prose_a_warning() -> None:
    html = 'Nice picture: <img src="http://10.0.0.5/admin/delete?id=1"> from the office party last week'
    assert _score(html, "body.$.comment") >= 5
    prose = "Our staging box lives at http://10.0.0.5/ behind the office VPN, ask Tom for access please"
    (finding,) = DETECTOR.detect(Value(prose), "body.$.comment", 1)
    assert finding.severity == "warning"


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("a.1.2.3.4.1time.127.0.0.1.forever.rebind.network", "internal"),  # second embedded address
        ("make-1.2.3.4-rebind-169.254-169.254-rr.1u.ms", "metadata"),
        ("7147006462", "metadata"),  # 2**32 + 169.254.169.254: parsers keeping the low 32 bits
        ("0x41414141a9fea9fe", "metadata"),
        ("0x1000000000", "internal"),  # low 32 bits 0.0.0.0: the unspecified address
        ("rancher-metadata", "metadata"),
        ("app.1.2.3.4.nip.io", None),
    ],
)
def test_classify_host_embedded_and_overflowing_numbers(host: str, kind: str | None) -> None:
    assert classify_host(host) == kind


@pytest.mark.parametrize(
    ("value", "location"),
    [
        ("make-1.1.1.1-rebind-127.0.0.1-rr.1u.ms", "query.host"),
        ("1.1.1.1.1time.169.254.169.254.repeat.rbndr.us", "query.host"),
        ("http://evil.com#@127.0.0.1", "query.url"),
        ("http://good.example?@10.0.0.5/", "query.url"),
    ],
)
def test_rebinding_names_and_naive_at_readings(value: str, location: str) -> None:
    assert _score(value, location) >= 5, _rules(value, location)


@pytest.mark.parametrize(
    ("value", "location"),
    [
        ("127.0.0.1.example.com", "query.host"),  # a bare name is a setting unless it is a rebinding name
        ("db.internal", "query.host"),
        ("http://example.com/?contact=admin@example.org", "query.url"),
        ("call 12345678901 after 5pm", "body.$.text"),
    ],
)
def test_bare_names_and_at_in_queries_pass(value: str, location: str) -> None:
    assert _score(value, location) < 5, _rules(value, location)


@pytest.mark.parametrize(
    "text",
    ["http://" + "a@" * 50_000, "http://" + "1.2.3.4." * 20_000 + "nip.io", "1-" * 100_000 + "nip.io",
     "http://0x" + "f" * 100_000],
)
def test_pathological_hosts_stay_fast(text: str) -> None:
    start = time.perf_counter()
    DETECTOR.detect(Value(text), "query.url", 1)
    assert time.perf_counter() - start < 1.0
