"""The bootloader's building blocks without a server: finding scripts like a browser, rewriting pages,
escaping the boot parameters, sanitizing reports, the report rate limit, and the manifest's docstring."""

from __future__ import annotations

import doctest
import json

import pytest

from sealgate.tunnel import manifest
from sealgate.tunnel.bootloader import ReportLimiter, boot_json, rewrite_page, sanitize_report, scan_page
from sealgate.tunnel.bootloader import _same_origin_url as same_origin_url

INSERT = '<script type="application/json" id="sealgate-boot">{}</script><script>B</script>'


def rewrite(html: str) -> str:
    data = html.encode()
    return rewrite_page(data, scan_page(data), "{}", "B").decode()


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        # src, inline and module scripts all go; the boot elements go before </head>
        ('<html><head><script src="/a.js"></script><script>x()</script></head><body>'
         '<script type="module" src="b.mjs"></script></body></html>',
         f"<html><head>{INSERT}</head><body></body></html>"),
        # case, spacing and look-alike end tags: "</scripty>" does not end a script, "</SCRIPT >" does
        ('<head><SCRIPT>s = "</scripty>";</SCRIPT ><title>t</title></head>', f"<head><title>t</title>{INSERT}</head>"),
        # a quoted ">" inside an attribute does not end the start tag
        ('<head><script data-x="a>b" src="/y.js"></script></head>', f"<head>{INSERT}</head>"),
        # "<script/>" is no empty element in HTML: the browser reads script text up to "</script>"
        ('<head><script src="/a.js"/><p>inside</p></script></head>', f"<head>{INSERT}</head>"),
        # an unterminated script runs to the end of the document
        ("<head></head><body><script>never closed <p>x</p>", f"<head>{INSERT}</head><body>"),
        # no head: before <body>; neither: at the end
        ('<title>t</title><script src="/a.js"></script><body>x</body>', f"<title>t</title>{INSERT}<body>x</body>"),
        ('<p>hi<script src="/a.js"></script>', f"<p>hi{INSERT}"),
        # import maps and speculation rules cannot run under the CSP either
        ('<head><script type="importmap">{}</script><script type="speculationrules">{}</script></head>',
         f"<head>{INSERT}</head>"),
    ],
    ids=["basic", "end-tag-look-alikes", "quoted-gt", "self-closing", "unterminated", "no-head", "no-head-no-body",
         "importmap"],
)
def test_executable_scripts_are_removed_and_boot_elements_inserted(html: str, expected: str) -> None:
    assert rewrite(html) == expected


@pytest.mark.parametrize(
    "html",
    [
        # benign look-alikes that must stay byte-identical (apart from the insertion)
        '<head><script type="application/json" id="state">{"a": 1}</script></head>',
        '<head><script type="application/ld+json">{}</script><script type="text/template"><b>x</b></script></head>',
        "<head><!-- <script>old()</script> --></head>",
        "<head></head><body><textarea><script>typed</script></textarea></body>",
        "<head><title>&lt;script&gt;</title></head>",
        "<head><noscript><script src=/n.js></script></noscript></head>",
        "<head><style>p::before { content: '<script>'; }</style></head>",
    ],
    ids=["json-data-block", "other-data-blocks", "comment", "textarea", "title-text", "noscript", "style"],
)
def test_markup_that_only_looks_like_scripts_is_kept(html: str) -> None:
    assert rewrite(html) == html.replace("</head>", f"{INSERT}</head>", 1)


def test_the_rest_of_the_document_is_byte_identical_in_any_ascii_compatible_charset() -> None:
    page = '<html><head><meta charset="windows-1252"><title>Caf\xe9</title><script src="/a.js"></script></head>' \
           "<body>\xe9\x80\r\n</body></html>"
    data = page.encode("latin-1")
    scan = scan_page(data)
    assert scan.title == "Café"
    out = rewrite_page(data, scan, boot_json({"appName": scan.title}), "B")
    assert out == data.replace(b'<script src="/a.js"></script>', b"").replace(
        b"</head>", b'<script type="application/json" id="sealgate-boot">{"appName":"Caf\\u00e9"}</script>'
        b"<script>B</script></head>")
    broken_utf8 = b"<head><title>\xff\xfeok</title></head><body>\xc3</body>"
    assert rewrite_page(broken_utf8, scan_page(broken_utf8), "{}", "B").endswith(b"<body>\xc3</body>")


def test_pinnable_scripts_keep_page_order_types_and_urls() -> None:
    html = (b'<head><script src="/a.js"></script><script type="module" src="m.mjs"></script>'
            b'<script nomodule src="/legacy.js"></script><script>inline()</script>'
            b'<script type="text/javascript" src="  /b.js?v=2  "></script></head>')
    scan = scan_page(html)
    runs = [(s.src, s.kind, s.nomodule) for s in scan.scripts if s.runs]
    assert runs == [("/a.js", "classic", False), ("m.mjs", "module", False), ("/legacy.js", "classic", True),
                    (None, "classic", False), ("/b.js?v=2", "classic", False)]


@pytest.mark.parametrize(
    ("page", "src", "url"),
    [
        ("/", "/static/app.js", "/static/app.js"),
        ("/app/index.html", "main.js", "/app/main.js"),
        ("/app/index.html", "../lib/x.js?v=1#frag", "/lib/x.js?v=1"),
        ("/", "/a b/é.js", "/a%20b/%C3%A9.js"),
        ("/", "/x.js?q=a b", "/x.js?q=a%20b"),
        ("/", "/st\natic/app.js", "/static/app.js"),
        ("/", "https://cdn.example.com/x.js", None),
        ("/", "//cdn.example.com/x.js", None),
        ("/", "data:text/javascript,alert(1)", None),
        ("/", "blob:https://x/1", None),
        ("/", "javascript:alert(1)", None),
    ],
)
def test_script_urls_resolve_to_same_origin_paths_like_the_browser(page: str, src: str, url: str | None) -> None:
    assert same_origin_url(page, src) == url


def test_boot_parameters_cannot_close_the_script_element() -> None:
    text = boot_json({"appName": "</script><script>alert(1)</script><!--", "x": "&\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert text.isascii()
    assert json.loads(text) == {"appName": "</script><script>alert(1)</script><!--", "x": "&\u2028"}


@pytest.mark.parametrize(
    "document",
    [{}, {"kind": None}, {"kind": ["a"], "detail": 1, "url": 2}, {"url": "http://[::1"}, {"url": "\x00" * 5000},
     {"kind": "script-hash", "expected": "a" * 500}, {"detail": "\u2028\x1b[31mred"}],
)
def test_any_report_object_sanitizes_without_error(document: dict[str, object]) -> None:
    report = sanitize_report(document)
    assert set(report) == {"kind", "known_kind", "detail", "url", "expected", "actual"}
    assert all(isinstance(v, str) and v.isprintable() and len(v) <= 300 for v in report.values())


@pytest.mark.parametrize("document", [[], "x", 1, None])
def test_a_report_must_be_an_object(document: object) -> None:
    with pytest.raises(ValueError, match="JSON object"):
        sanitize_report(document)


def test_report_limiter_is_per_client_refills_and_stays_bounded() -> None:
    now = [0.0]
    limiter = ReportLimiter(per_minute=6, burst=2, max_clients=3, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    assert limiter.allow("b")  # another client has its own bucket
    now[0] += 10  # 6 a minute: one more token after 10 s
    assert limiter.allow("a") and not limiter.allow("a")
    for i in range(50):
        limiter.allow(f"spoofed-{i}")
    assert len(limiter._buckets) <= 3


def test_manifest_docstring_example() -> None:
    result = doctest.testmod(manifest, raise_on_error=False, report=True)
    assert result.attempted > 0 and result.failed == 0
