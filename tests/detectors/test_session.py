"""Session fixation: session ids in URLs judged against the Referer; cookies set from markup."""

from __future__ import annotations

import pytest

from sealgate.detectors.context import current_context, request_context
from sealgate.detectors.normalize import Value
from sealgate.detectors.session import DETECTOR

SID = "74B0CB414BD77D17B5680A6386EF1666"


def _findings(value: str, location: str) -> list[tuple[str, str]]:
    return [(f.rule_id, f.severity) for f in DETECTOR.detect(Value(value), location, 1)]


@pytest.mark.parametrize("name", ["jsessionid", "PHPSESSID", "ASPSESSIONIDQQGGGNCU", "asp.net_sessionid", "sessionid"])
def test_session_id_in_url_without_referer_is_critical(name: str) -> None:
    with request_context(host="localhost", referer=None):
        assert _findings(SID, f"query.{name}") == [("session-id-in-url", "critical")]


@pytest.mark.parametrize("referer", ["http://www.attackersite.com/test", "https://localhost.attackersite.com/"])
def test_session_id_from_another_site_is_critical(referer: str) -> None:
    with request_context(host="localhost", referer=referer):
        assert _findings(SID, "query.jsessionid") == [("session-id-in-url", "critical")]


@pytest.mark.parametrize("referer", ["http://localhost/test", "https://www.localhost/page", "http://localhost:8080/x"])
def test_session_id_from_the_same_site_passes(referer: str) -> None:
    with request_context(host="localhost", referer=referer):
        assert _findings(SID, "query.jsessionid") == []


def test_without_context_the_finding_counts_four_points() -> None:
    assert current_context() is None
    assert _findings(SID, "query.jsessionid") == [("session-id-in-url", "error")]


def test_path_parameter_session_id() -> None:
    with request_context(host="shop.example", referer=None):
        assert _findings(f"login.jsp;jsessionid={SID}", "path[0]") == [("session-id-in-url", "critical")]


@pytest.mark.parametrize(
    "value",
    [
        '<script>document.cookie="sessionid=1234; domain=.example.dom";</script>',
        "document.cookie = 'PHPSESSID=abc'",
        '<meta http-equiv="Set-Cookie" content="sid=1">',
        "x.cookie='a=1; expires=Thu, 01 Jan 2099 00:00:00 GMT'",
        "Set-Cookie: JSESSIONID=abc; Path=/",
    ],
)
def test_cookie_set_from_markup_or_headers(value: str) -> None:
    assert ("session-cookie-set", "critical") in _findings(value, "query.q")


@pytest.mark.parametrize(
    ("value", "location"),
    [
        (SID, "cookie.JSESSIONID"),
        ("2024-05-01", "query.session"),
        (SID, "query.jsessionid:name"),
        ("Cookies keep you logged in; clear them to log out", "query.q"),
        ("document.cookie is readable from scripts unless the cookie is HttpOnly", "body.$.text"),
        ("Set-Cookie: theme=dark", "query.q"),
    ],
)
def test_benign_passes(value: str, location: str) -> None:
    assert all(severity != "critical" for _, severity in _findings(value, location))
