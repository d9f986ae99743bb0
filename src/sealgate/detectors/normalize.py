"""Decoding layers, computed once per value and shared by every detector.

Attackers hide payloads behind encodings the upstream will undo: ``%27`` for a quote,
``%2527`` for the same twice, ``%u003c`` (IIS), overlong UTF-8 (``%c0%af`` for ``/``), HTML
entities (``&lt;``, ``&#60``, ``&tab;``), JavaScript/JSON escapes (``\\u003c``, ``\\x3c``),
UTF-7 (``+ADw-``), full-width forms (``＜``) and NUL bytes. A :class:`Value` undoes all of them,
layer by layer until the text is stable (at most :data:`MAX_ROUNDS` rounds), and caches every
form, so ten detectors pay for the decoding of one value once. Nothing is computed until a
detector asks for it.

Every layer is a single linear pass (no regex with nested quantifiers), so a 1 MB value decodes
in bounded time.

Forms (all lazily computed, cached on the instance):

- ``raw``: as received (after the one decoding HTTP itself defines, e.g. query parsing)
- ``variants``: the distinct forms worth matching: ``raw`` and each decoding round's result
- ``decoded``: every layer applied until stable, then NFKC, with NUL and invisible
  format characters (zero-width space, soft hyphen, BOM) removed
- ``lower``: ``decoded`` case-folded
- ``compact``: ``lower`` with SQL/C block comments removed (MySQL ``/*! ... */`` keeps its
  content, because MySQL executes it) and whitespace runs collapsed to one space
- ``ascii7``: the decoded text (before NFKC) with every character in U+0080..U+00FF masked to
  7 bits where that yields markup (``<>"'()/=;:```) and dropped otherwise, the way some legacy
  decoders read ``\\xbcscript\\xbe`` as ``<script>`` ("" when nothing changes)
- ``kind``: what the value is (:data:`KINDS`): a ``name`` (query/form/JSON key), a ``value``,
  a ``path`` segment, a ``header``, a ``filename`` or a raw ``body``

Example::

    >>> v = Value("%253Cscript%253E")
    >>> v.decoded
    '<script>'
    >>> Value("a%c0%afb").decoded
    'a/b'
"""

from __future__ import annotations

import codecs
import html
import re
import unicodedata
from typing import Final

__all__ = [
    "KINDS",
    "MAX_ROUNDS",
    "Value",
    "collapse_sql_comments",
    "html_decode",
    "js_unescape",
    "url_decode",
    "utf7_decode",
]

MAX_ROUNDS: Final = 5
"""Decoding rounds before giving up; ``%25252527`` (four layers) still decodes."""

KINDS: Final = frozenset({"name", "value", "path", "header", "filename", "body"})
"""The kinds of attacker-controlled strings :mod:`sealgate.detectors.inputs` produces."""

_LENIENT = "sealgate.lenient-utf8"


def _lenient_handler(exc: UnicodeError) -> tuple[str, int]:
    """Decode overlong UTF-8 to the character it encodes; any other bad byte as Latin-1.

    Overlong forms (``C0 AF`` for ``/``) are how attackers slip ``/`` and ``.`` past naive
    filters; Latin-1 for the rest keeps legacy form data (``%F1`` for ``ñ``) readable.
    """
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    data = exc.object
    i = exc.start
    b0 = data[i]
    n = len(data)
    if b0 in (0xC0, 0xC1) and i + 1 < n and 0x80 <= data[i + 1] <= 0xBF:
        return chr(((b0 & 0x1F) << 6) | (data[i + 1] & 0x3F)), i + 2
    if b0 == 0xE0 and i + 2 < n and 0x80 <= data[i + 1] <= 0x9F and 0x80 <= data[i + 2] <= 0xBF:
        return chr(((data[i + 1] & 0x3F) << 6) | (data[i + 2] & 0x3F)), i + 3
    if (
        b0 == 0xF0
        and i + 3 < n
        and 0x80 <= data[i + 1] <= 0x8F
        and 0x80 <= data[i + 2] <= 0xBF
        and 0x80 <= data[i + 3] <= 0xBF
    ):
        cp = ((data[i + 1] & 0x3F) << 12) | ((data[i + 2] & 0x3F) << 6) | (data[i + 3] & 0x3F)
        return chr(cp), i + 4
    return chr(b0), i + 1


codecs.register_error(_LENIENT, _lenient_handler)

_PCT_BYTES = re.compile(rb"%(?:[uU]([0-9A-Fa-f]{4})|([0-9A-Fa-f]{2}))")


def _pct_sub(match: re.Match[bytes]) -> bytes:
    wide = match.group(1)
    if wide is not None:
        code = int(wide, 16)
        if 0xD800 <= code <= 0xDFFF:  # a lone surrogate cannot be encoded; keep it visible
            return b"?"
        return chr(code).encode("utf-8")
    return bytes((int(match.group(2), 16),))


def url_decode(text: str) -> str:
    """Percent-decode once: ``%XX``, IIS ``%uNNNN``, overlong UTF-8; ``+`` stays ``+``.

    Bytes that are not valid UTF-8 decode as Latin-1 (see :func:`_lenient_handler`).
    """
    if "%" not in text:
        return text
    data = _PCT_BYTES.sub(_pct_sub, text.encode("utf-8", "surrogatepass"))
    return data.decode("utf-8", _LENIENT)


# Entities that matter for script injection, matched case-insensitively: browsers are strict,
# but lenient server-side sanitisers and CRS treat ``&Tab;``/``&tab;`` alike, and so do we.
_LOOSE_ENTITIES: Final = {
    "tab": "\t", "newline": "\n", "colon": ":", "lpar": "(", "rpar": ")", "sol": "/",
    "bsol": "\\", "quot": '"', "apos": "'", "lt": "<", "gt": ">", "semi": ";", "excl": "!",
    "equals": "=", "grave": "`", "period": ".", "comma": ",", "lowbar": "_", "plus": "+",
    "num": "#", "lsqb": "[", "rsqb": "]", "lcub": "{", "rcub": "}", "dollar": "$",
}
_LOOSE_ENTITY = re.compile(r"&([A-Za-z]{2,7});")


def _loose_entity_sub(match: re.Match[str]) -> str:
    return _LOOSE_ENTITIES.get(match.group(1).lower(), match.group(0))


def html_decode(text: str) -> str:
    """Decode HTML character references once (named, decimal, hex, with or without ``;``)."""
    if "&" not in text:
        return text
    return html.unescape(_LOOSE_ENTITY.sub(_loose_entity_sub, text))


_JS_ESCAPE = re.compile(r"\\(?:u\{([0-9A-Fa-f]{1,6})\}|u([0-9A-Fa-f]{4})|x([0-9A-Fa-f]{2}))")


def _js_sub(match: re.Match[str]) -> str:
    digits = match.group(1) or match.group(2) or match.group(3)
    code = int(digits, 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "?"
    return chr(code)


def js_unescape(text: str) -> str:
    """Decode JavaScript/JSON escapes once: ``\\u0041``, ``\\u{41}``, ``\\x41``."""
    if "\\" not in text:
        return text
    return _JS_ESCAPE.sub(_js_sub, text)


_UTF7_RUN = re.compile(r"\+([A-Za-z0-9+/]{2,64})-?")


def _utf7_sub(match: re.Match[str]) -> str:
    try:
        return ("+" + match.group(1) + "-").encode("ascii").decode("utf-7")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return match.group(0)


def utf7_decode(text: str) -> str:
    """Decode UTF-7 shifted runs (``+ADw-`` is ``<``), only where a ``+AD`` marker appears.

    UTF-7 is only a threat where a page can be tricked into that charset; the marker check
    keeps ordinary ``a+b`` text untouched.
    """
    if "+AD" not in text and "+AC" not in text:
        return text
    return _UTF7_RUN.sub(_utf7_sub, text)


def _decode_once(text: str) -> str:
    text = url_decode(text)
    text = html_decode(text)
    text = js_unescape(text)
    return utf7_decode(text)


# Characters browsers and databases ignore, which attackers sprinkle inside keywords.
_INVISIBLE = dict.fromkeys(
    [0x00, 0xAD, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF], None
)


def collapse_sql_comments(text: str) -> str:
    """Remove ``/* ... */`` comments (keeping MySQL ``/*! ... */`` content) in one linear pass.

    An unclosed ``/*`` comments out the rest of the text, as in SQL. The ``/*!50000`` marker of
    an executable comment and its closing ``*/`` each become a space.
    """
    if "/*" not in text:
        return text
    out: list[str] = []
    pos = 0
    length = len(text)
    exec_open = False
    while pos < length:
        start = text.find("/*", pos)
        close = text.find("*/", pos) if exec_open else -1
        if close >= 0 and (start < 0 or close < start):
            out.append(text[pos:close])
            out.append(" ")
            pos = close + 2
            exec_open = False
            continue
        if start < 0:
            out.append(text[pos:])
            break
        out.append(text[pos:start])
        out.append(" ")
        if text.startswith("/*!", start):
            # MySQL executes /*!50000 select */: keep the body, drop the marker.
            pos = start + 3
            while pos < length and text[pos].isdigit():
                pos += 1
            exec_open = True
            continue
        end = text.find("*/", start + 2)
        if end < 0:
            break
        pos = end + 2
    return "".join(out)


_WS_RUN = re.compile(r"\s+")
_ESCAPE_MARKS = re.compile(r"[%&\\+]")
_MARKUP = frozenset("<>\"'()/=;:`")


class Value:
    """One attacker-controlled string and its decoded forms, each computed lazily once.

    See the module docstring for the forms. ``kind`` is one of :data:`KINDS` (``"value"``
    unless the producer says otherwise); detectors that only make sense for keys (NoSQL
    operators, prototype pollution) look at it.
    """

    # Plain slots and None checks rather than functools.cached_property, which takes a lock
    # on every first access in Python 3.11 and costs more than most of the decodings.
    __slots__ = ("_ascii7", "_compact", "_decoded", "_lower", "_variants", "kind", "raw")

    def __init__(self, raw: str, kind: str = "value") -> None:
        self.raw = raw
        self.kind = kind
        self._variants: tuple[str, ...] | None = None
        self._decoded: str | None = None
        self._lower: str | None = None
        self._compact: str | None = None
        self._ascii7: str | None = None

    def __repr__(self) -> str:
        return f"Value({self.raw[:60]!r}, kind={self.kind!r})"

    @property
    def variants(self) -> tuple[str, ...]:
        """``raw`` and each decoding round's result, distinct, in decoding order."""
        if self._variants is None:
            if not _ESCAPE_MARKS.search(self.raw):
                # No layer applies ("%", "&", "\\", "+" start every escape): most values.
                self._variants = (self.raw,)
                return self._variants
            forms = [self.raw]
            current = self.raw
            for _ in range(MAX_ROUNDS):
                nxt = _decode_once(current)
                if nxt == current:
                    break
                forms.append(nxt)
                current = nxt
            self._variants = tuple(dict.fromkeys(forms))
        return self._variants

    @property
    def decoded(self) -> str:
        """Every decoding layer applied until stable, NFKC-normalised, invisibles removed."""
        if self._decoded is None:
            text = self.variants[-1]
            if not text.isascii():
                self._decoded = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
            else:  # of the invisibles only NUL is ASCII; translate() costs more than this test
                self._decoded = text.replace("\x00", "") if "\x00" in text else text
        return self._decoded

    @property
    def lower(self) -> str:
        """``decoded`` case-folded."""
        if self._lower is None:
            text = self.decoded
            self._lower = text.lower() if text.isascii() else text.casefold()
        return self._lower

    @property
    def compact(self) -> str:
        """``lower`` without SQL/C block comments, whitespace runs collapsed to one space."""
        if self._compact is None:
            text = collapse_sql_comments(self.lower)
            # \s matches only characters that are not printable, or the space: a printable text
            # without a double space has no run to collapse (and the regex is the slow part).
            self._compact = text if text.isprintable() and "  " not in text else _WS_RUN.sub(" ", text)
        return self._compact

    @property
    def ascii7(self) -> str:
        """The 7-bit-masked form ("" when masking changes nothing); see the module docstring."""
        if self._ascii7 is None:
            self._ascii7 = _mask7(self.variants[-1])  # before NFKC, which turns ¼ into "1⁄4"
        return self._ascii7


def _mask7(text: str) -> str:
    if text.isascii():
        return ""
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if 0x80 <= code <= 0xFF:
            low = chr(code & 0x7F)
            if low in _MARKUP:  # keep what the mask turns into markup, drop the other bytes
                out.append(low)
        else:
            out.append(ch)
    masked = "".join(out)
    return masked if masked != text else ""
