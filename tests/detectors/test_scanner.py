"""Scanner fingerprints: only in the User-Agent, scanner headers and probe paths."""

from __future__ import annotations

import pytest

from sealgate.detectors.normalize import Value
from sealgate.detectors.scanner import DETECTOR


def _rules(text: str, location: str) -> list[str]:
    return [f.rule_id for f in DETECTOR.detect(Value(text, "header"), location, 1)]


@pytest.mark.parametrize(
    "agent",
    [
        "sqlmap/1.7.2#stable (https://sqlmap.org)",
        "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)",
        "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
        "WPScan v3.8.22 (https://wpscan.com/wordpress-security-scanner)",
        "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1; SV1; .NET CLR 2.0.50727) Havij",
        "Arachni/0.2.1",
        "w3af.sourceforge.net",
        "nessus",
        "Mozilla/5.0 (compatible; OpenVAS)",
        "masscan/1.3",
        "Mozilla/5.0 zgrab/0.x",
        "Fuzz Faster U Fool v2.1.0",
        "DirBuster-1.0-RC1",
        "gobuster/3.6",
        "Wfuzz/3.1.0",
        "commix/v3.8",
        "ZmEu",
        "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
    ],
)
def test_scanner_user_agents(agent: str) -> None:
    assert _rules(agent, "header.user-agent") == ["scanner-user-agent"]


@pytest.mark.parametrize(
    ("value", "location"),
    [
        ("whatever", "header.x-scanner"),
        ("WVS/5.0 (Acunetix Web Vulnerability Scanner - EVALUATION)", "header.acunetix-product"),
        ("I agree", "header.acunetix-scanning-agreement"),
        ("x", "header.x-wipp"),
        ("WVS/12.0 (Acunetix Web Vulnerability Scanner)", "header.x-custom"),
    ],
)
def test_scanner_headers(value: str, location: str) -> None:
    assert _rules(value, location) == ["scanner-header"]


@pytest.mark.parametrize(
    ("segment", "location"),
    [("nessustest", "path[0]"), ("AppScan_fingerprint", "path[0]"), ("nessus_is_probing_you_", "path[0]"),
     ("/w00tw00t.at.ISC.SANS.DFind:)", "path")],
)
def test_probe_paths(segment: str, location: str) -> None:
    assert [f.rule_id for f in DETECTOR.detect(Value(segment, "path"), location, 1)] == ["scanner-probe-path"]


@pytest.mark.parametrize(
    ("value", "location"),
    [
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0", "header.user-agent"),
        ("curl/8.5.0", "header.user-agent"),
        ("python-requests/2.31.0", "header.user-agent"),
        ("Go-http-client/1.1", "header.user-agent"),
        ("okhttp/4.12.0", "header.user-agent"),
        ("PostmanRuntime/7.36.0", "header.user-agent"),
        ("Googlebot/2.1 (+http://www.google.com/bot.html)", "header.user-agent"),
        ("How do I stop sqlmap from scanning my site?", "body.$.question"),
        ("nikto", "query.q"),
        ("sqlmap", "header.referer"),
        ("products", "path[0]"),
    ],
)
def test_everything_else_passes(value: str, location: str) -> None:
    assert DETECTOR.detect(Value(value), location, 3) == []
