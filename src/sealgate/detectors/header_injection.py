"""CRLF injection: header injection, HTTP response splitting and request smuggling shapes.

What it blocks: a line break (``%0d%0a``, a raw CR or LF, or the Unicode characters that some
stacks truncate to one, ``嘊``/``嘍``, ``Ċ``/``č``) followed by something an HTTP parser would
read as protocol, in any value the application might copy into a header, a redirect or a log:

- a header line: ``x%0d%0aSet-Cookie: sid=evil``, ``%0aLocation: https://evil.example``,
  ``\\r\\nContent-Length: 0`` [``header_injection-crlf-header``]. In query values, path
  segments, cookies, header values and parameter *names*, any ``Name: value`` line counts (no
  one types a line break there) unless it is indented: an indented line is an HTTP folded
  continuation of the line before (a changelog's ``    Signed-off-by: A <a@example.org>``
  trailer), and counts only as one of the dangerous headers below. In free text (JSON strings,
  form fields, XML text), where multi-line input is normal, only headers that change how a
  response is read count (``Set-Cookie``, ``Location``, ``Content-Type``, ``Content-Length``, ``Transfer-Encoding``,
  ``Refresh``, ``Content-Security-Policy``, ``Access-Control-*``, ``Host``...) and only
  with a value of the right shape (``Location:`` followed by a URL, not "Location: Madrid"),
  unless the line break itself was percent- or entity-encoded inside the text (``%0a`` in a
  JSON string): nobody types a paragraph break that way, so such a value is judged like a
  query value;
- a status line or a second message: ``\\r\\nHTTP/1.1 200 OK``, ``\\r\\n\\r\\n<html>`` after an
  injected header [``header_injection-response-splitting``];
- a request line inside a value (``GET /admin HTTP/1.1\\r\\nHost: x``), the body of a request
  smuggling attack, also after a chunk terminator ``0\\r\\n\\r\\n`` [``header_injection-smuggled-request``];
- a line break in a parameter name, cookie or header value at all: 4 points
  [``header_injection-line-break``].

Two more spellings of the break count as encoded: a break nested inside its own encoding
(``%%0a0a``: a filter that strips the inner ``%0a`` once leaves ``%0a`` for the application to
decode), and, outside free text, the escapes ``\\r``/``\\n`` typed as two characters
(``\\r\\nSet-Cookie: a=b``), which every JavaScript, JSON, PHP or Java unescape turns into the
break (the decoder already reads ``\\u000a`` that way).

Not an attack: multi-line text ("Dear team,\\nNote: ...", "Location: Madrid" in an address),
Windows line endings in a comment field, the part headers of a raw (unparsed) multipart body.

Config: none besides paranoia. Example::

    >>> [f.rule_id for f in DETECTOR.detect(Value("en%0d%0aSet-Cookie:%20sid=1"), "query.lang", 1)]
    ['header_injection-crlf-header']
"""

from __future__ import annotations

import re
from typing import Final

from sealgate.detectors._support import excerpt, is_name_location, is_prose
from sealgate.detectors.base import Finding
from sealgate.detectors.normalize import Value

__all__ = ["DETECTOR", "HeaderInjectionDetector"]

# Characters some stacks truncate to CR/LF (latin-1 low byte): U+560A "嘊", U+010A "Ċ"...
_FAKE_BREAKS: Final = str.maketrans({"\u560a": "\n", "\u560d": "\r", "\u010a": "\n", "\u010d": "\r"})
_BREAK = re.compile(r"[\r\n]")
# "%%0a0a" decodes to "%", a break, "0a": with the inner break stripped, "%0a" is left to decode.
_NESTED_BREAK = re.compile(r"%[\r\n]{1,2}(0[ad])", re.IGNORECASE)
# "\r" / "\n" typed as backslash escapes (the decoder turns only \u and \x escapes into characters);
# "\t" too, the folding whitespace that may follow the break ("\r\n\tSet-Cookie:").
_ESCAPED_BREAK = re.compile(r"\\([rnt])")
# A header line right after a break: RFC 9110 token, colon, something.
_HEADER_LINE = re.compile(r"[\r\n][ \t]*([!#$%&'*+.^_`|~0-9A-Za-z-]{1,64})[ \t]*:[ \t]*([^\r\n]{0,200})")
_STATUS_LINE = re.compile(r"[\r\n][ \t]*HTTP/\d(?:\.\d)?[ \t]+\d{3}\b", re.IGNORECASE)
_BODY_AFTER_HEADERS = re.compile(r"\r?\n\r?\n[ \t]*<(?:!doctype|html|script|svg|body|head|iframe)", re.IGNORECASE)
_REQUEST_LINE = re.compile(
    r"(?:^|[\r\n])[ \t]*(?:GET|POST|HEAD|PUT|DELETE|OPTIONS|PATCH|CONNECT|TRACE|PROPFIND|MOVE|COPY)[ \t]+"
    r"(?:/|https?://|\*)[^\s]{0,2000}[ \t]+HTTP/\d(?:\.\d)?[ \t]*\r?\n",
    re.IGNORECASE,
)
_CHUNK_END = re.compile(r"(?:^|\r?\n)0\r?\n\r?\n[ \t]*(?:GET|POST|HEAD|PUT|DELETE|OPTIONS|PATCH)[ \t]", re.IGNORECASE)
# Headers that change how a response (or the next request) is read, with the value shape each
# must have to matter.
_DANGEROUS_HEADERS: Final = {
    "set-cookie": re.compile(r"^[^=\s;]{1,64}="),
    "set-cookie2": re.compile(r"^[^=\s;]{1,64}="),
    "location": re.compile(r"^(?:[a-z][a-z0-9+.-]*:|/|\\\\)", re.IGNORECASE),
    "content-location": re.compile(r"^(?:[a-z][a-z0-9+.-]*:|/)", re.IGNORECASE),
    "refresh": re.compile(r"^\d+\s*(?:;|,|$)"),
    "content-type": re.compile(r"^[\w.+-]+/[\w.+-]+"),
    "content-length": re.compile(r"^\d+\s*$"),
    "transfer-encoding": re.compile(r"^\s*[\w, ]*chunked", re.IGNORECASE),
    "content-disposition": re.compile(r"^(?:attachment|inline)\b", re.IGNORECASE),
    "content-security-policy": re.compile(r"[\w-]+-src\b|default-src|script-src", re.IGNORECASE),
    "x-xss-protection": re.compile(r"^[01]\b"),
    "access-control-allow-origin": re.compile(r"\S"),
    "access-control-allow-credentials": re.compile(r"^true\b", re.IGNORECASE),
    "strict-transport-security": re.compile(r"max-age", re.IGNORECASE),
    "host": re.compile(r"^[\w.-]+(?::\d+)?\s*$"),
    "connection": re.compile(r"^(?:close|keep-alive|upgrade)\b", re.IGNORECASE),
    "x-forwarded-for": re.compile(r"^[\d.:a-f, ]+$", re.IGNORECASE),
    "x-forwarded-host": re.compile(r"^[\w.-]+(?::\d+)?\s*$"),
    "cookie": re.compile(r"^[^=\s;]{1,64}="),
    "link": re.compile(r"^<[^>]*>\s*;"),
    "x-frame-options": re.compile(r"^(?:deny|sameorigin|allow-from)\b", re.IGNORECASE),
}
_FREE_TEXT_PREFIXES: Final = ("body", "form.", "xml.", "multipart.")


class HeaderInjectionDetector:
    """CRLF / header injection, response splitting, smuggling shapes; see the module docstring."""

    name = "header_injection"
    triggers: tuple[str, ...] = ("\r", "\n", "\u560a", "\u560d", "\u010a", "\u010d", "http/", "\\r", "\\n")

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Findings for ``value``; see the module docstring for the rules."""
        text = value.decoded
        if not text.isascii():
            text = text.translate(_FAKE_BREAKS)
        if "%" in text:
            text = _NESTED_BREAK.sub(_control_character, text)
        escaped = False
        if _BREAK.search(text) is None:
            if "\\" not in text or location.startswith(_FREE_TEXT_PREFIXES):
                return []
            # Free text (code samples in a comment) keeps its escapes; elsewhere they are a break,
            # judged like a break in a query value: a header line must follow.
            text = _ESCAPED_BREAK.sub(_escaped_control, text)
            escaped = True
            if _BREAK.search(text) is None:
                return []
        findings: list[Finding] = []
        # A break that only decoding reveals (the raw text has none) was encoded on purpose.
        encoded_break = _BREAK.search(value.raw) is None
        free_text = (location.startswith(_FREE_TEXT_PREFIXES) and not is_name_location(location)
                     and not encoded_break)
        # Where no one types a line break (a name, a cookie, a header, a path), any header line
        # counts; in a query value (a GET form's textarea) it must look like an HTTP header.
        strict = not escaped and (is_name_location(location) or location.startswith(("header.", "cookie.", "path")))
        prose = is_prose(text)
        free_text = free_text or (prose and not strict)

        def add(rule: str, message: str, severity: str, start: int, end: int) -> None:
            findings.append(Finding(self.name, rule, message, severity, location, excerpt(text, start, end)))

        request = _REQUEST_LINE.search(text) or _CHUNK_END.search(text)
        if request is not None:
            add("header_injection-smuggled-request", "HTTP request line inside a value", "critical",
                request.start(), request.end())
        if location == "body":
            # A whole unparsed body (a malformed multipart, a MIME document) has header lines
            # of its own; it is not a value the application copies into a response header.
            return findings
        status = _STATUS_LINE.search(text)
        header_found = False
        for count, line in enumerate(_HEADER_LINE.finditer(text)):
            if count >= 32:
                break
            name = line.group(1).lower()
            header_value = line.group(2).strip()
            shape = _DANGEROUS_HEADERS.get(name)
            dangerous = shape is not None and shape.search(header_value) is not None
            if free_text and "\r" not in text[max(0, line.start() - 1) : line.start() + 1]:
                continue  # multi-line text uses "\n"; splitting a header needs "\r\n" there
            if not name[:1].isalpha():
                continue  # "--: separate options", "- :attr:" in a manual
            # An indented line after a break is a folded continuation of the header before it
            # (obs-fold), not a header of its own: "    Signed-off-by: A <a@example.org>" in a
            # changelog. Only a header that changes how the response is read counts there.
            folded = line.group(0)[1:2] in (" ", "\t")
            generic = header_value and not folded and (strict or ("-" in name and not prose))
            if dangerous or (not free_text and generic):
                add("header_injection-crlf-header", f"line break followed by header {line.group(1)!r}",
                    "critical", line.start(), line.end())
                header_found = True
                break
        if status is not None and (header_found or not free_text):
            add("header_injection-response-splitting", "line break followed by an HTTP status line",
                "critical", status.start(), status.end())
        elif header_found or not free_text:
            # "%0d%0a%0d%0a<script>": an empty line ends the headers; what follows is a body.
            body = _BODY_AFTER_HEADERS.search(text)
            if body is not None:
                add("header_injection-response-splitting", "injected headers followed by a response body",
                    "critical", body.start(), body.end())
        if not findings and not free_text and not escaped and not location.startswith("path"):
            brk = _BREAK.search(text)
            if brk is not None and (is_name_location(location) or location.startswith(("header.", "cookie."))):
                add("header_injection-line-break", "line break in a name, cookie or header", "error",
                    brk.start(), brk.end())
        return findings


def _control_character(match: re.Match[str]) -> str:
    """``%<break>0a`` -> the character the reassembled ``%0a``/``%0d`` encodes."""
    return chr(int(match.group(1), 16))


def _escaped_control(match: re.Match[str]) -> str:
    """``\\r`` -> CR, ``\\n`` -> LF, ``\\t`` -> TAB."""
    return {"r": "\r", "n": "\n"}.get(match.group(1), "\t")


DETECTOR = HeaderInjectionDetector()
