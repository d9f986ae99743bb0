"""Cross-site scripting: reads the value the way a browser's HTML tokenizer would.

What a browser executes, and so what this detector reports (paranoia 1):

- a tag that runs or loads script or active content: ``<script``, ``<iframe``, ``<object``,
  ``<embed``, ``<applet``, ``<frame``, ``<base``, ``<link``, ``<meta http-equiv``, ``<style``,
  ``<svg``/``<math`` with a handler, ``<x:script`` (XHTML namespaces), ``<?import``;
- any tag with an event-handler attribute (``<img src=x onerror=...>``, ``<svg/onload=...>``,
  ``<body onload=...>``), or with a URL attribute (``href``, ``src``, ``action``,
  ``formaction``, ``data``, ``xlink:href``, ``srcdoc``...) whose value is a
  ``javascript:``/``vbscript:``/``data:text/html`` URL, or a ``style`` with ``expression(``,
  ``url(javascript:...)``, ``-moz-binding`` or ``behavior`` (also split by CSS comments:
  ``expr/**/ession(``); legacy loaders ``<layer src>``, ``<ilayer src>``, ``<xml src>``;
  ``<meta http-equiv="link">``; a Netscape JavaScript entity ``&{alert(1)}`` in an attribute;
- an attribute breakout: a quote then an event handler (``" onmouseover=alert(1) x="``);
- a script-string breakout: a quote, an operator or ``in``, then a property assignment
  (``' in foo.bar=``, ``";document.domain=``, ``"in valueOf=``);
- a ``<link href>``/``<base href>`` tag that is the value itself (it starts the value, which
  is not prose): HTML quoted in a sentence (``by adding <base href="url"> to html``) is not;
- a DOM sink that *is* the value (``window.location``, ``';document.cookie``, a string closed
  then any operator: ``"-alert(1)-"``, ``\\";alert(1)//``, a block closed: ``}alert(1);{``),
  not one named in words;
- a tag with an attribute in a parameter name or JSON key (``x=<a href="test"`` sent as a
  name): names are identifiers, and applications echo them;
- a value that *is* a script URL (``javascript:alert(1)``, also with tabs/newlines/entities
  inside the scheme, as browsers strip them);
- obfuscated script: JSFuck (``[][(![]+[])[+[]]...``), DOM access through brackets or comments
  (``self["alert"](...)``, ``document/**/.cookie``), a computed member of the global object
  called (``top[/al/.source+/ert/.source](1)``, ``top[8680439..toString(30)](1)``), spaced-out
  tag names (``<f o r m``), CDATA markers splitting a scheme inside an attribute
  (``src="javas<![CDATA[cript:...``, which an XML parser drops), a string-keyed member of an
  empty literal (``[]['constructor']['constructor'](...)()``);
- in a value that is code (no sentence around it), the payloads for a value echoed inside a
  ``<script>`` block: a script dialog or ``eval`` taken as a value and invoked indirectly
  (``(alert)(1)``, ``a=alert,a(1)``, ``[1].find(alert)``), ``eval``/``setTimeout`` fed straight
  from a URL source (``location.hash.slice(1)`` or ``URL.slice(-8)`` as the argument) or called as a
  tagged template (``setTimeout`alert\\x281\\x29```), a dialog after a string and its call
  closed (``');confirm(1)//``) or in a template substitution (``${alert(1)}``);
- markup behind one more hiding layer, read as the layer's consumer would: JavaScript octal
  escapes (``\\74svg o\\156load...``), attribute-less tags glued inside a word that a
  sanitizer strips (``"o<x>nmouseover=alert<x>(1)``, ``<</div>script</div>>``), letters whose
  case mapping is ASCII (``<SCRİPT>``).

Benign look-alikes pass: ``a < b``, ``<3``, ``I like <b>bold</b>`` (formatting tags without
dangerous attributes), ``<a href="https://example.com">``, prose about "the onload event".

Paranoia 2 adds: DOM sink references inside text (``use window.location to redirect``) and
``alert(``-style calls in a value, tags with spaces after ``<``, links with unusual attributes;
in a parameter *name* those count at paranoia 1 (names are identifiers, never prose).

Decoding: runs on :attr:`Value.decoded` (URL, entities, ``\\u``, UTF-7, full-width forms) and on
:attr:`Value.ascii7` (``\\xbcscript\\xbe``, the 7-bit masking trick).

Rule ids: ``xss-tag``, ``xss-handler``, ``xss-url``, ``xss-style``, ``xss-breakout``,
``xss-obfuscation``, ``xss-dom``.

Example::

    >>> [f.rule_id for f in DETECTOR.detect(Value("<svg/onload=alert(1)>"), "query.q", 1)]
    ['xss-handler']
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from sealgate.detectors._support import is_prose, prose_words
from sealgate.detectors.base import Finding
from sealgate.detectors.normalize import Value

__all__ = ["DETECTOR", "XssDetector"]

MAX_TAGS: Final = 64
"""Tags examined per value (a value with more is already a page, not a field)."""

ACTIVE_TAGS: Final = frozenset(
    {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "vmlframe",
     "import", "xss", "isindex", "portal", "listing", "xmp", "plaintext"}
)
"""Tags that run or load script/active content by merely being present."""
CONDITIONAL_TAGS: Final = frozenset({"meta", "link", "style", "svg", "math", "noscript", "template",
                                     "form", "set", "animate", "handler", "xml", "layer", "ilayer",
                                     "bgsound", "marquee", "keygen", "video", "audio", "img", "image",
                                     "body", "input", "button", "textarea", "select", "details",
                                     "object", "a", "iframe"})
URL_ATTRIBUTES: Final = frozenset(
    {"href", "src", "action", "formaction", "data", "xlink:href", "background", "lowsrc", "dynsrc",
     "poster", "code", "codebase", "srcdoc", "content", "to", "from", "values", "by", "ping",
     "longdesc", "cite", "icon", "manifest", "archive", "classid", "profile", "usemap", "xmlns",
     "srcset", "imagesrcset", "attributename"}
)
_SCRIPT_SCHEME = re.compile(
    r"^(?:java|vb|live|j|ecma)script:|^data:(?:text/html|text/xml|image/svg|application/x?html)|^mocha:"
)
_CONTROL = re.compile(r"[\s\x00-\x1f]+")
_TAG = re.compile(r"<(\s*)(/?)(\s*)([a-z?!][a-z0-9?_-]*(?:\s*:\s*[a-z][a-z0-9_-]*)?)")
# An attribute starts after whitespace, "/" or directly after the previous quoted value
# (``content="..."http-equiv=refresh``): a look-behind, so that closing quote is not consumed.
_ATTR = re.compile(r"""(?:^|(?<=[\s/"'`]))([a-z_:][-a-z0-9_:.]*)\s*=\s*("[^"]*"?|'[^']*'?|`[^`]*`?|[^\s>]*)""")
_HANDLER_NAME = re.compile(r"on[a-z]{3,30}$")
_BREAKOUT = re.compile(r"""["'`]\s*/?\s*(?:on[a-z]{3,30}|formaction|srcdoc|xlink:href)\s*=""")
_LOOSE_HANDLER = re.compile(r"""(?:^|[\s/;])(on[a-z]{3,30})\s*=\s*(\S{0,40})""")
_JS_CALL = re.compile(r"""(?:alert|prompt|confirm|eval|settimeout|setinterval|fromcharcode|atob|import|fetch|
                          document\.|window\.|top\.|self\.|location|\(|`|javascript:|this\.)""", re.VERBOSE)
_STYLE_BAD = re.compile(r"expression\s*\(|url\s*\(\s*['\"]?\s*(?:java|vb)script:|-moz-binding|behavior\s*:|@import")
_CSS_COMMENT = re.compile(r"/\*.{0,200}?\*/")
"""CSS comments, which split a keyword (``expr/**/ession(``) and which CSS parsers drop."""
_META_ACTIVE: Final = ("refresh", "set-cookie", "link")
"""``<meta http-equiv>`` values that navigate, set a cookie or load a stylesheet."""
_LEGACY_LOADERS: Final = frozenset({"layer", "ilayer", "xml"})
"""Tags whose ``src`` loads a document into the page (Netscape layers, IE data islands)."""
_SCHEME_ANYWHERE = re.compile(r"(?:^|[=(\s\"'`,;])\s*(?:java|vb|live)script\s*:")
_JSFUCK = re.compile(r"[\[\]()!+\s]{4,}")
_BRACKET_DOM = re.compile(
    r"""(?:self|window|top|this|parent|frames|globalthis|document|\(\s*document\s*\))\s*\[\s*["'`][a-z$\\]""")
_DOM_SINK = re.compile(
    r"""(?<![\w$])(?:document\s*\.\s*(?:cookie|domain|write(?:ln)?|location|url)|window\s*\.\s*(?:location|open|name)
        |location\s*\.\s*(?:href|hash|search|replace|assign)|(?:inner|outer)html\s*=|\.src\s*=
        |string\s*\.\s*fromcharcode|(?:alert|prompt|confirm)\s*[(`])""",
    re.VERBOSE,
)
# A computed member of the global object, called: "top[/al/.source+/ert/.source](1)". The key is
# an expression (a quote, operator, dot or slash in it), not a plain index or a Markdown link text.
_GLOBAL_CALL = re.compile(r"""(?<![\w$.])(?:self|window|top|parent|frames|globalthis)\[([^\]\s]{1,80})\]\(""")
_EXPRESSION_KEY = re.compile(r"""[+./'"`\\(]""")
_DIALOG = r"(?:alert|prompt|confirm|eval)"
# A dialog (or eval) used as a value and invoked another way: grouped then called "(alert)(1)",
# aliased then called "a=alert,a(1)", or passed as a callback "[1].find(alert)".
_INDIRECT_CALL = re.compile(
    rf"""\(\s*{_DIALOG}\s*\)\s*[(`]"""
    rf"""|(?<![\w$.])([a-z_$][\w$]{{0,20}})\s*=\s*{_DIALOG}\s*[,;]\s*\1\s*[(`]"""
    rf"""|\.\s*(?:find|map|filter|foreach|some|every|reduce|call|apply|then|sort|findindex)\s*\(\s*{_DIALOG}\s*[,)]"""
)
# eval-like sinks whose argument starts with a URL source the attacker writes (the fragment, the URL).
_SOURCE_SINK = re.compile(
    r"""(?<![\w$.])(?:eval|settimeout|setinterval|execscript|function)\s*\(\s*"""
    r"""(?:(?:window|document|self|top)\s*\.\s*)?(?:location\b|url\s*\.|documenturi\b|name\s*\)|referrer\b)"""
)
# A string-evaluating sink called as a tagged template, its code in the template:
# "setTimeout`alert\x281\x29`", "new Function`al\ert\`1\``", "top.open`javascript:...`".
_TEMPLATE_SINK = re.compile(
    r"""(?<![\w$])(?:settimeout|setinterval|eval|function|execscript|open)\s*`[^`\s][^`]{1,200}`"""
)
# A string-keyed member of an empty literal: "[]['filter']['constructor'](...)()", the way to
# Function without naming a global ("[]" and "''" have no business being indexed by a name).
# The member is then used (indexed again, called, or dotted into): "``['root']``" in
# reStructuredText is a literal list, with an empty-looking "``" before it and after it.
_LITERAL_MEMBER = re.compile(
    r"""(?:\[\s*\]|\{\s*\}|(["'`])\1)\s*\[\s*(["'`])[^"'`\[\]]{0,64}\2\s*\]\s*[\[(.]"""
)
# JavaScript's legacy octal escapes ("\74svg o\156load\75..."): two or three digits, at most \377.
_OCTAL_ESCAPE = re.compile(r"\\([0-3][0-7]{1,2}|[4-7][0-7])")
# A tag without attributes glued between two characters ("o<x>nmouseover", "alert<x>(1)",
# "<</div>script"): a sanitizer that strips such tags joins what they split.
_GLUED_TAG = re.compile(r"(?<=[^\s>])</?[a-z][a-z0-9]{0,15}\s*/?>(?=[^\s<])")
# Letters whose case mapping is ASCII ("İ" -> "i", "ı" -> "I", "ſ" -> "S"): "<SCRİPT>" for a
# filter that compares code points, a script tag once the application folds case.
_CASE_FOLDS: Final = str.maketrans({"\u0130": "I", "\u0131": "i", "\u017f": "s"})
_CDATA_MARK = re.compile(r"<!\[cdata\[|\]\]>")
"""CDATA section markers, which an XML parser removes from the text they split."""
_JS_CALL_BODY = re.compile(r"[\w$\].]\s*\(|[\w$]\s*=|`")
_Adder = Callable[[str, str, int, int], None]
"""``add(rule, message, paranoia, start)``: records a finding while scanning."""
# What may precede a sink in a value that is script: a string closed, then any JS operator
# (``"-alert(1)-"``, ``\";alert(1)//``, ``'*prompt(1)*'``), a statement separator, a block
# closed (``}alert(1);{``) or a template substitution opened (``${alert(1)}``); or a string
# closed and then the call around it (``');alert(1)``, ``: \\');confirm(1)``): a bare ``)``
# is a smiley as often as code, so it counts only after a quote.
_JS_LEAD = re.compile(r"""[\s'"`;(+,=\-*/|&\\!~^%}${]*|[\s:\\]*["'`]\s*\)[\s;,)+\-*/|&]*""")
_JS_STRING_BREAKOUT = re.compile(
    r"""["'`]\s*(?:(?:in\s*|[;+\-|&,])\s*[a-z_$][\w$]*(?:\s*\.\s*[a-z_$][\w$]*)+"""
    r"""|in\s+(?:valueof|tostring|location|name|onerror|constructor|innerhtml))\s*=(?!=)"""
)
"""``' in foo.bar=``, ``";document.domain=``: a JS string closed, then a property assignment."""
_SPACED_NAMES: Final = (*sorted(ACTIVE_TAGS), "form", "style", "meta", "link", "svg", "img", "body", "input")
_SPACED_TAG = re.compile(r"<\s*((?:[a-z]\s+){2,}[a-z])")


class XssDetector:
    """Detects script injection into HTML contexts; see the module docstring."""

    name = "xss"
    triggers: tuple[str, ...] = (
        "<", "script:", "script\t", "script\n", "script&", "script\\", "=", "![]", "document.", "document[",
        "document)", "document/", "document .", "document [", "window.", "window[", "window .", "window [",
        "window/", "self [", "top [",
        "alert", "prompt", "confirm", "fromcharcode", "innerhtml", "location", "self[", "top[",
        "\\x", "\\u", "+ad", "\xbc", "\xa2", "t:", "[]", "(eval", "=eval",
    )

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Findings for ``value``; see the module docstring."""
        found: dict[str, tuple[str, int, str]] = {}
        texts = [value.decoded.lower()]
        if value.ascii7:
            texts.append(value.ascii7.lower())
        compact = value.compact
        for text in texts:
            # Markup that only appears after decoding layers (double encoding, UTF-7, 7-bit
            # masking) was hidden on purpose.
            obfuscated = "<" in text and "<" not in value.raw
            self._scan(text, compact, value.kind, found, obfuscated)
        for variant in _variants(value.decoded, texts[0]):
            # Only a hiding layer (escapes, a stripped tag, case folding) reveals it: on purpose.
            self._scan(variant, _WHITESPACE.sub(" ", variant), value.kind, found, True)
        results: list[Finding] = []
        for rule, (message, level, excerpt) in found.items():
            if level <= paranoia:
                results.append(Finding(self.name, rule, message, "critical", location, excerpt, level))
        return results

    def _scan(
        self, text: str, compact: str, kind: str, found: dict[str, tuple[str, int, str]], obfuscated: bool
    ) -> None:
        def add(rule: str, message: str, level: int, start: int) -> None:
            current = found.get(rule)
            if current is None or level < current[1]:
                found[rule] = (message, level, text[max(0, start - 10) : start + 60])

        name_level = 1 if kind == "name" else 2
        if "<" in text:
            # Markup that *is* the value (it starts with the tag), not HTML quoted in a sentence.
            markup_only = kind == "name" or (text.lstrip()[:1] == "<" and not is_prose(text))
            self._tags(text, add, obfuscated, markup_only)
            if kind == "name":
                _markup_name(text, add)
        stripped = _CONTROL.sub("", text)
        if _SCRIPT_SCHEME.match(stripped.lstrip("\"'` ")):
            add("xss-url", "the value is a script URL", 1, 0)
        elif "script" in stripped:
            match = _SCHEME_ANYWHERE.search(text)
            if match is not None:
                add("xss-url", "a javascript:/vbscript: URL", 1 if match.group().strip()[:1] in "=(\"'`" else 2,
                    match.start())
        if "=" in text:
            match = _BREAKOUT.search(text)
            if match is not None:
                add("xss-breakout", "a quote closes an attribute and an event handler follows", 1, match.start())
            else:
                loose = _LOOSE_HANDLER.search(text)
                if loose is not None:
                    js = _JS_CALL.search(loose.group(2)) is not None
                    add("xss-handler", "an event-handler attribute", 1 if js or kind == "name" else 2, loose.start())
        if "[]" in text:
            match = _JSFUCK.search(text)
            if match is not None and match.group().count("[]") >= 1 and "!" in match.group() and (
                len(match.group().strip()) >= 12 or match.group().strip() == text.strip()
            ):
                add("xss-obfuscation", "JSFuck-encoded JavaScript", 1, match.start())
        if "[" in text:
            match = _BRACKET_DOM.search(text) or _BRACKET_DOM.search(compact)
            if match is not None:
                add("xss-obfuscation", "DOM access through bracket notation", 1, match.start())
            elif _LITERAL_MEMBER.search(compact) is not None:
                add("xss-obfuscation", "a string-keyed member of an empty literal ([]['constructor'])", 1, 0)
            else:
                for call in _GLOBAL_CALL.finditer(compact):
                    if _EXPRESSION_KEY.search(call.group(1)) is not None:
                        add("xss-obfuscation", "a computed member of the global object is called", 1, call.start())
                        break
        if "(" in compact and kind in ("value", "name") and len(compact) <= 256 and prose_words(compact) <= 1:
            # A value that is code (no sentence around it): the JS-context payloads.
            match = _INDIRECT_CALL.search(compact) or _SOURCE_SINK.search(compact) or _TEMPLATE_SINK.search(compact)
            if match is not None:
                add("xss-dom", "a dialog or eval invoked indirectly, or fed from the URL", 1, match.start())
        match = _DOM_SINK.search(compact)
        if match is not None:
            obfuscated = _DOM_SINK.search(text) is None  # only visible once comments are removed
            # A value that *is* script ("window.location", "';document.cookie"), not a sentence
            # that mentions it: the sink leads the value and at most one English word follows.
            code_only = kind == "value" and _JS_LEAD.fullmatch(compact, 0, match.start()) is not None and (
                len(compact) <= 256 and prose_words(compact) <= 1)
            add("xss-dom", "a DOM sink or script dialog is referenced",
                1 if obfuscated or code_only else name_level, match.start())
        if kind in ("value", "name") and text[:1] in "\"'`":
            match = _JS_STRING_BREAKOUT.match(text[:256])  # bounded: the breakout leads the value
            if match is not None:
                add("xss-breakout", "a quote closes a script string and a property is assigned", 1, 0)

    def _tags(self, text: str, add: _Adder, obfuscated: bool, markup_only: bool = False) -> None:
        """Examine each tag; ``markup_only``: the value is a name or not running text."""
        for count, match in enumerate(_TAG.finditer(text)):
            if count >= MAX_TAGS:
                break
            space_before, closing, space_after, raw_name = match.groups()
            name = re.sub(r"\s+", "", raw_name)
            local = name.rsplit(":", 1)[-1].lstrip("?!")
            spaced = bool(space_before or space_after or " " in raw_name)
            level = 2 if spaced and local != "script" else 1
            end = text.find(">", match.end())
            body = text[match.end() : end if end >= 0 else match.end() + 512][:512]
            closed = end >= 0
            attrs = [(m.group(1), m.group(2).strip("\"'`")) for m in _ATTR.finditer(body)]
            if local in ACTIVE_TAGS and not closing:
                # <object> alone loads nothing (and is a common placeholder in docs); <script>
                # runs when it has content: a call, or a closing tag.
                script_body = local == "script" and (
                    not closed
                    or "</script" in text[end:]
                    or text[end + 1 : end + 2] == "<"
                    or _JS_CALL_BODY.search(text, end, end + 200) is not None
                    or obfuscated
                )
                if attrs or script_body or (local in ("iframe", "frame") and closed and end > match.end()):
                    add("xss-tag", f"a <{local}> tag", level, match.start())
                    continue
            if local in ("link", "base") and not closing and "href" in body:
                href = next((v for a, v in attrs if a == "href"), "")
                rel = next((v for a, v in attrs if a == "rel"), "")
                remote = (
                    href.startswith(("//", "http:", "https:"))
                    or _SCRIPT_SCHEME.match(_CONTROL.sub("", href)) is not None
                    or (local == "link" and rel in ("stylesheet", "import", "preload", "modulepreload", "prefetch"))
                )
                # A <link>/<base href> outside prose (documentation quoting HTML is prose) has
                # no business in a field: <base> rebases every relative script URL of the page.
                strong = remote or markup_only
                add("xss-tag", f"a <{local} href> tag loads a resource", level if strong else 2, match.start())
                continue
            if not closing and ("xinclude" in body or "schemalocation" in body or name.startswith("xi:")):
                add("xss-tag", "XML namespace injection (XInclude / external schema)", level, match.start())
                continue
            if local == "import" or name.startswith("?import"):
                add("xss-tag", "an <?import> processing instruction", level, match.start())
                continue
            for attr, attr_value in attrs:
                attr_local = attr.rsplit(":", 1)[-1] if attr != "xlink:href" else attr
                if _HANDLER_NAME.match(attr_local):
                    add("xss-handler", f"an event handler ({attr}) on <{local}>", level, match.start())
                    break
                if attr in URL_ATTRIBUTES or attr_local in URL_ATTRIBUTES:
                    scheme = _CONTROL.sub("", attr_value)
                    if "<!" in scheme:
                        scheme = _CDATA_MARK.sub("", scheme)
                    if _SCRIPT_SCHEME.match(scheme) or (attr == "srcdoc" and "<" in attr_value):
                        add("xss-url", f"<{local} {attr}=...> loads script", level, match.start())
                        break
                if attr == "style" and _STYLE_BAD.search(_CSS_COMMENT.sub("", attr_value)):
                    add("xss-style", f"a style attribute on <{local}> runs script", level, match.start())
                    break
                if local == "meta" and attr == "http-equiv" and attr_value.startswith(_META_ACTIVE):
                    add("xss-tag", "a <meta http-equiv> refresh, cookie or link", level, match.start())
                    break
                if attr == "src" and local in _LEGACY_LOADERS:
                    add("xss-tag", f"a <{local} src> loads a document into the page", level, match.start())
                    break
                if "&{" in attr_value and _JS_CALL.search(attr_value):
                    add("xss-handler", f"a JavaScript entity in <{local} {attr}>", level, match.start())
                    break
                if local == "meta" and attr == "charset":
                    add("xss-tag", "a <meta charset> (charset switching)", level, match.start())
                    break
                if local in ("link", "base") and attr in ("href", "rel"):
                    add("xss-tag", f"a <{local}> tag loads a resource", level, match.start())
                    break
                if local == "a" and attr == "language":
                    add("xss-tag", "a legacy script language attribute", level, match.start())
                    break
            if local == "style" and not closing:
                tail = text[match.end() : match.end() + 2048]
                if _STYLE_BAD.search(tail) or closed:
                    add("xss-style", "a <style> block", level, match.start())
            if local in ("svg", "math") and not closing and closed:
                add("xss-tag", f"an inline <{local}> document", 2, match.start())
            if local == "noscript" and not closing:
                add("xss-tag", "a <noscript> tag", 2 if closed else 1, match.start())
        spelled = _SPACED_TAG.search(text)
        if spelled is not None:
            letters = re.sub(r"\s+", "", spelled.group(1))
            if letters.startswith(_SPACED_NAMES):
                add("xss-obfuscation", "a tag name spelled with spaces", 1, spelled.start())


_WHITESPACE = re.compile(r"\s+")


def _variants(decoded: str, lower: str) -> list[str]:
    """Lower-cased readings of the value behind one more hiding layer, when there is one.

    Legacy octal escapes (``\\74svg``, which the decoder leaves alone), tags a sanitizer strips
    glued inside a word (``o<x>nmouseover``), and letters whose case mapping is ASCII
    (``<SCRİPT>``). Each is only built when its marker is present, so a plain value costs nothing.
    """
    variants: list[str] = []
    if "\\" in lower and _OCTAL_ESCAPE.search(lower) is not None:
        variants.append(_OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), lower))
    if "<" in lower and ">" in lower:
        stripped = _GLUED_TAG.sub("", lower)
        if stripped != lower:
            variants.append(stripped)
    if not decoded.isascii():
        folded = decoded.translate(_CASE_FOLDS)
        if folded != decoded:
            variants.append(folded.lower())
    return variants


def _markup_name(text: str, add: _Adder) -> None:
    """A tag with an attribute in a parameter name or JSON key (``x=<a href="test"`` sent as a name).

    Names are identifiers: an application that echoes them (error pages, debug views, form
    builders) renders the markup, and no client builds a name out of an HTML tag.
    """
    for count, match in enumerate(_TAG.finditer(text)):
        if count >= 8:
            return
        if match.group(2) or match.group(1):
            continue  # a closing tag or "< b": not a start tag
        close = text.find(">", match.end(), match.end() + 256)
        if _ATTR.search(text, match.end(), close if close >= 0 else match.end() + 256) is not None:
            add("xss-tag", "a tag with attributes in a parameter name", 1, match.start())
            return


DETECTOR = XssDetector()
