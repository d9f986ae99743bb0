"""XSS detector: tags, handlers, script URLs, obfuscation; benign markup and prose pass."""

from __future__ import annotations

import time

import pytest

from sealgate.detectors.normalize import Value
from sealgate.detectors.xss import DETECTOR


def rules(text: str, paranoia: int = 1, kind: str = "value") -> set[str]:
    return {f.rule_id for f in DETECTOR.detect(Value(text, kind), "query.q", paranoia)}


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<ScRiPt src=//evil.example/x.js></script>",
        "<img src=x onerror=alert(1)>",
        "<svg/onload=alert(1)>",
        "<body onload=alert(1)>",
        "<details open ontoggle=alert(1)>",
        "\"><script>alert(1)</script>",
        "' autofocus onfocus='alert(1)",
        "\" onmouseover=alert(1) x=\"",
        "javascript:alert(document.cookie)",
        "  JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "<a href=\"java&#x0A;script:alert(1)\">x</a>",
        "<iframe srcdoc=\"<script>alert(1)</script>\">",
        "<math><maction actiontype=statusline xlink:href=javascript:alert(1)>x</maction></math>",
        "<embed src=\"javascript:alert(1)\">",
        "<object data=\"data:text/html,<script>alert(1)</script>\">",
        "<div style=\"width:expression(alert(1))\">",
        "<style>@import 'http://evil.example/x.css';</style>",
        "<base href=\"//evil.example/\">",
        "<link rel=stylesheet href=\"http://evil.example/x.css\">",
        "<meta http-equiv=\"refresh\" content=\"0;url=http://evil.example\">",
        "%3Cscript%3Ealert(1)%3C/script%3E",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
        "+ADw-script+AD4-alert(1)+ADw-/script+AD4-",
        "\\xbcscript\\xbealert(1)\\xbc/script\\xbe",
        "＜script＞alert(1)＜/script＞",
        "<f o r m action=x>",
        "window[\"alert\"](1)",
        "document/**/.cookie",
        "[][(![]+[])[+[]]+(![]+[])[!+[]+!+[]]]",
    ],
)
def test_attacks(payload: str) -> None:
    assert rules(payload), payload


@pytest.mark.parametrize(
    "text",
    [
        "a < b",
        "<3 this shop",
        "I like <b>bold</b> and <em>emphasis</em>",
        "<a href=\"https://example.com\">example</a>",
        "<p class=\"note\">Hello</p>",
        "The onload event handler runs after the page loads.",
        "x<y && y>z",
        "git show <object>",
        "Use --script <script> to run a file",
        "Write to me at <john@example.com>",
        "Javascript is a language; I like JavaScript",
        "ratio 3:4, time 10:30",
        "Markdown image: ![](logo.png)",
        "array[0] = value",
    ],
)
def test_benign_markup_and_prose(text: str) -> None:
    assert rules(text) == set(), text


def test_dom_references_need_paranoia_2_in_values() -> None:
    # Mentioned in words: paranoia 2. As the whole value (script, not a sentence): paranoia 1.
    assert rules("redirect with window.location when the user logs out") == set()
    assert rules("redirect with window.location when the user logs out", paranoia=2) == {"xss-dom"}
    assert rules("window.location") == {"xss-dom"}
    assert rules("';document.cookie") == {"xss-dom"}
    assert rules("document.cookie", kind="name") == {"xss-dom"}


@pytest.mark.parametrize(
    "payload",
    [
        "<link / asdf href /=",
        "<BASE dsfds HREF / =",
        "' in foo.bar=",
        "\";document.domain=",
        '"in valueOf=',
    ],
)
def test_tags_and_js_breakouts_that_are_the_value(payload: str) -> None:
    assert rules(payload), payload


@pytest.mark.parametrize(
    "text",
    [
        'by adding <base href="url"> to html',
        '"in stock"',
        '", name=foo',
        "' + x.y == 2",
        "window.location is how you redirect in javascript code",
    ],
)
def test_js_and_tag_look_alikes_pass(text: str) -> None:
    assert rules(text) == set(), text


@pytest.mark.parametrize(
    "payload",
    [
        "(prompt)(document.domain)",
        "x=confirm,x(1)",
        "[3].some(alert)",
        "self[/pro/.source+/mpt/.source](1)",
        "setInterval(location.hash.slice(1))",
        "setTimeout`alert\\x28document.domain\\x29`",
        "''['constructor']['constructor']('alert(1)')()",
        "\\74img src=x o\\156error\\75alert\\501\\51\\76",
        "\"o<b>nfocus=alert<b>(1) autofocus x=\"",
        "<SCRİPT SRC=//evil.example/x.js></SCRİPT>",
        "${confirm(1)}",
        "');prompt(1)//",
    ],
)
def test_script_context_and_hidden_layer_payloads(payload: str) -> None:
    assert rules(payload), payload


@pytest.mark.parametrize(
    "text",
    [
        "levels=alert,warning,info",
        "[1,2,3].map(Number)",
        "Back to top[^1](#top)",
        "eval(x + 1)",
        "use `eval` and `function` sparingly",
        "H<sub>2</sub>O and CO<sub>2</sub>",
        "C:\\123\\456\\report.txt",
        "İstanbul <b>bold</b>",
    ],
)
def test_script_context_look_alikes_pass(text: str) -> None:
    assert not rules(text), text


@pytest.mark.parametrize(
    "text",
    ["a<b>" * 16000, "\\7" * 32000, "(alert" * 10000, "top[" * 16000, "eval`a" + "x" * 64000, "İ<" * 32000],
)
def test_hidden_layers_stay_linear(text: str) -> None:
    started = time.perf_counter()
    DETECTOR.detect(Value(text), "query.q", 3)
    assert time.perf_counter() - started < 2.0
