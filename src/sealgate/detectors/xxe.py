"""XML external entities (XXE) and other DTD tricks in XML bodies and values.

What it blocks: a document type definition that makes an XML parser read files, fetch URLs or
expand entities, anywhere in the request (an XML body, or XML inside a JSON string, a form
field, a SOAP envelope, an uploaded SVG), whatever the encoding (HTML entities ``&lt;!ENTITY``,
UTF-7 ``+ADw-!ENTITY``, UTF-16 bytes):

- ``<!ENTITY`` declarations, general or parameter (``<!ENTITY % x SYSTEM ...>``): critical;
- the other DTD markup declarations, ``<!ELEMENT foo ANY>``, ``<!ATTLIST``, ``<!NOTATION``: only a
  DTD holds them, so they are a DTD or a piece of one (a payload split over lines): critical;
- ``<!DOCTYPE x SYSTEM "...">`` / ``PUBLIC "..." "..."`` (an external DTD): critical, except
  the W3C's own published DTDs (XHTML, SVG, MathML: ``PUBLIC "-//W3C//DTD ..."`` with a
  ``www.w3.org`` URL), which browsers and editors write into ordinary documents;
- ``<!DOCTYPE x [ ... ]>`` (an internal subset): critical;
- XInclude (``xmlns:xi="http://www.w3.org/2001/XInclude"``, ``<xi:include``): critical;
- an XSLT stylesheet (``<xsl:stylesheet``/``<xsl:transform``) that reads files, fetches URLs or
  calls out of the processor: ``document('/etc/passwd')``, ``unparsed-text()``,
  ``xsl:include``/``xsl:import``, ``php:function('passthru', ...)``, Xalan/Saxon Java extensions,
  ``system-property()`` (processor fingerprinting): critical, for applications that transform a
  submitted stylesheet. A stylesheet that only matches and copies nodes passes;
- the same stylesheet in a parsed XML body, where each attribute arrives alone (``select=
  "document('/etc/passwd')"`` under an element of the XSLT namespace, an ``xsl:include``
  element): critical;
- an XLink reference (``<image xlink:href="file:///etc/passwd">`` in an SVG, ``expect://id``,
  ``php://``, ``jar:``, ``netdoc:``, ``gopher:``) that a server-side renderer follows: critical;
- any other ``<!DOCTYPE x>`` in an XML body: 4 points (an API has no use for it; it needs a
  second sign to block); in another value: 2 points at paranoia 2.

Not an attack: ``<!DOCTYPE html>``, the XHTML/SVG doctypes, ``<!-- comments -->``,
``<![CDATA[...]]>``, text that talks about "the DOCTYPE".

Rule ids: ``xxe-entity``, ``xxe-dtd-declaration``, ``xxe-external-dtd``, ``xxe-internal-subset``, ``xxe-xinclude``,
``xxe-xslt``, ``xxe-xlink``, ``xxe-doctype``. Config: none besides paranoia. Example::

    >>> body = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    >>> sorted(f.rule_id for f in DETECTOR.detect(Value(body), "body", 1))
    ['xxe-entity', 'xxe-internal-subset']
"""

from __future__ import annotations

import re
from typing import Final

from sealgate.detectors._support import excerpt
from sealgate.detectors.base import Finding
from sealgate.detectors.normalize import Value

__all__ = ["DETECTOR", "XxeDetector"]

_ENTITY = re.compile(r"<!\s*ENTITY\s+(?:%\s*)?[^\s>]{1,200}", re.IGNORECASE)
# The other DTD markup declarations (``<!ELEMENT foo ANY>``, ``<!ATTLIST ...>``, ``<!NOTATION ...>``):
# they exist only inside a DTD, so a value holding one is a DTD or a piece of one (a payload split
# over lines, a DTD sent to a parser that loads them). ``<!DOCTYPE``, comments and CDATA are not these.
_DECLARATION = re.compile(r"<!\s*(?:ELEMENT|ATTLIST|NOTATION)\s+[^\s>]{1,200}\s+[^\s>]", re.IGNORECASE)
_QUOTED = r"""(?:"[^"]{0,1000}"|'[^']{0,1000}')"""
_DOCTYPE = re.compile(
    rf"""<!\s*DOCTYPE\s+([^\s\[>]{{1,200}})\s*
    (?:(SYSTEM|PUBLIC)\s*({_QUOTED})(?:\s*({_QUOTED}))?)?\s*(\[)?""",
    re.IGNORECASE | re.VERBOSE,
)
_W3C_PUBLIC = re.compile(r"""^["']-//W3C//(?:DTD|ENTITIES) [^"']*["']$""", re.IGNORECASE)
_W3C_SYSTEM = re.compile(r"""^["']https?://www\.w3\.org/[^"']*\.dtd["']$""", re.IGNORECASE)
_XINCLUDE = re.compile(r"www\.w3\.org/20\d\d/xinclude|<\s*xi:include\b", re.IGNORECASE)
_TRIGGER = re.compile(r"<!|xinclude|xi:include|xsl:|xlink:href", re.IGNORECASE)
_XSLT = re.compile(r"<\s*xsl:(?:stylesheet|transform)\b", re.IGNORECASE)
_XSLT_REACH = re.compile(
    r"""\b(?:document|unparsed-text(?:-lines)?|system-property)\s*\(|<\s*xsl:(?:include|import)\b
       |php:function|xml\.apache\.org/xalan/java|saxon\.sf\.net|\bjava:|java\.lang\.""",
    re.IGNORECASE | re.VERBOSE,
)
_XML_KINDS: Final = frozenset({"body"})
# A parsed XML body reaches the detectors piecewise, one input per tag, attribute and text, with
# namespaces expanded in the location (``xml./{http://www.w3.org/1999/XSL/Transform}stylesheet/...``):
# the "xsl:" prefix is gone, so a stylesheet's reach is judged from where the value sits.
_XSL_NAMESPACE: Final = "{http://www.w3.org/1999/xsl/transform}"
_XSL_LINK_TAG = re.compile(r"^\{http://www\.w3\.org/1999/xsl/transform\}(?:include|import)$", re.IGNORECASE)
# XLink references (SVG ``<image xlink:href=...>``, the ``<use>`` of any XLink vocabulary) to a
# scheme that reads local files or runs commands in the server-side renderer (librsvg, ImageMagick,
# Batik): ``file:``, PHP's ``expect:``/``php:``/``phar:``, Java's ``jar:``/``netdoc:``, ``gopher:``.
# ``https:`` images and ``#fragment`` or ``data:`` references are what ordinary SVG holds.
_LOCAL_SCHEME = r"(?:file|expect|php|phar|jar|netdoc|gopher)\s*:"
_XLINK_LOCAL = re.compile(rf"""xlink:href\s*=\s*["']\s*{_LOCAL_SCHEME}""", re.IGNORECASE)
_LOCAL_REFERENCE = re.compile(rf"^\s*{_LOCAL_SCHEME}", re.IGNORECASE)
_XLINK_ATTRIBUTE: Final = "@{http://www.w3.org/1999/xlink}href"


class XxeDetector:
    """XXE / DTD injection; see the module docstring."""

    name = "xxe"
    triggers: tuple[str, ...] = ("<!", "xinclude", "xi:include", "xsl:",
                                 # the pieces of a parsed stylesheet or SVG body (see _XSL_NAMESPACE)
                                 "transform}include", "transform}import", "document(", "unparsed-text",
                                 "system-property", "php:", "java:", "xalan", "saxon",
                                 "file:", "expect:", "phar:", "jar:", "netdoc:", "gopher:")

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Findings for ``value``; see the module docstring for the rules."""
        text = value.decoded
        if location.startswith("xml."):
            piece = self._xml_piece(text, location)
            if piece is not None:
                rule, message = piece
                return [Finding(self.name, rule, message, "critical", location, excerpt(text, 0, len(text)))]
        if _TRIGGER.search(text) is None:
            return []
        findings: list[Finding] = []

        def add(rule: str, message: str, severity: str, match: re.Match[str], level: int = 1) -> None:
            findings.append(
                Finding(self.name, rule, message, severity, location,
                        excerpt(text, match.start(), match.end()), level)
            )

        entity = _ENTITY.search(text)
        if entity is not None:
            add("xxe-entity", "XML entity declaration", "critical", entity)
        else:
            declaration = _DECLARATION.search(text)
            if declaration is not None:
                add("xxe-dtd-declaration", "DTD markup declaration", "critical", declaration)
        include = _XINCLUDE.search(text)
        if include is not None:
            add("xxe-xinclude", "XInclude directive", "critical", include)
        stylesheet = _XSLT.search(text)
        if stylesheet is not None:
            reach = _XSLT_REACH.search(text, stylesheet.end())
            if reach is not None:
                add("xxe-xslt", "XSLT stylesheet that reads files or calls out of the processor", "critical", reach)
        xlink = _XLINK_LOCAL.search(text)
        if xlink is not None:
            add("xxe-xlink", "XLink reference to a local file or command scheme", "critical", xlink)
        for doctype in _DOCTYPE.finditer(text):
            root, keyword, first, second, subset = doctype.groups()
            if subset:
                add("xxe-internal-subset", f"DOCTYPE {root!r} with an internal DTD subset", "critical", doctype)
            elif keyword and not _is_w3c_dtd(keyword, first, second):
                add("xxe-external-dtd", f"DOCTYPE {root!r} loading an external DTD", "critical", doctype)
            elif not keyword and root.lower() != "html":
                xml_body = value.kind in _XML_KINDS or location.startswith(("body", "xml."))
                if xml_body:
                    add("xxe-doctype", f"DOCTYPE {root!r} in an XML body", "error", doctype)
                elif paranoia >= 2:
                    add("xxe-doctype", f"DOCTYPE {root!r} in a value", "notice", doctype, 2)
            break  # a document has one DOCTYPE; more are noise for the log
        return findings


    @staticmethod
    def _xml_piece(text: str, location: str) -> tuple[str, str] | None:
        """(rule, message) for one input of a parsed XML body that only its location explains."""
        lowered = location.lower()
        if _XSL_NAMESPACE in lowered:
            if lowered.endswith(":tag") and _XSL_LINK_TAG.match(text.strip()):
                return "xxe-xslt", "XSLT include/import of another stylesheet"
            if "@" in lowered and not lowered.endswith(":name") and _XSLT_REACH.search(text):
                return "xxe-xslt", "XSLT stylesheet that reads files or calls out of the processor"
        if lowered.endswith(_XLINK_ATTRIBUTE) and _LOCAL_REFERENCE.match(text):
            return "xxe-xlink", "XLink reference to a local file or command scheme"
        return None


def _is_w3c_dtd(keyword: str, first: str | None, second: str | None) -> bool:
    """True for ``PUBLIC "-//W3C//DTD ..." "https://www.w3.org/....dtd"`` (XHTML, SVG, MathML)."""
    if keyword.upper() != "PUBLIC" or first is None:
        return False
    return bool(_W3C_PUBLIC.match(first)) and (second is None or bool(_W3C_SYSTEM.match(second)))


DETECTOR = XxeDetector()
