"""Sanitization: the operations, spec extensions, sealgate.yaml fields, query and JSON rewriting."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from sealgate.errors import ConfigError
from sealgate.openapi.document import OpenAPIDocument, load_document
from sealgate.protections.sanitize import SanitizeConfig, build_sanitize, parse_body_path, sanitize_text
from tests.validation.helpers import PETSTORE, SPEC, Harness


@pytest.mark.parametrize(
    ("text", "ops", "expected"),
    [
        ("\uff1cscript\uff1e", ("nfkc",), "<script>"),
        ("ﬁle", ("nfkc",), "file"),
        ("a\x00b\x1bc\u202ed\u200be\tf\ng\x7f\x85", ("strip-control",), "abcde\tf\ng"),
        ("<b>bold</b> text", ("strip-html",), "bold text"),
        ("<scr<script>ipt>alert(1)</scr</script>ipt>", ("strip-html",), "alert(1)"),
        ("<<b>img src=x onerror=alert(1)>", ("strip-html",), ""),
        ("x <img src=x onerror=alert(1)", ("strip-html",), "x img src=x onerror=alert(1)"),
        ("<!-- c --><!DOCTYPE html><?php x ?>ok", ("strip-html",), "ok"),
        ("a < b and c > d", ("strip-html",), "a < b and c > d"),
        ("&lt;script&gt;", ("strip-html",), "&lt;script&gt;"),
        ("<a href=\"x\">'&'</a>", ("escape-html",), "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"),
        ("\uff1cb\uff1e\x00hi", ("nfkc", "strip-control", "strip-html"), "hi"),
        ("plain text", ("nfkc", "strip-control", "strip-html"), "plain text"),
    ],
)
def test_operations(text: str, ops: tuple[str, ...], expected: str) -> None:
    assert sanitize_text(text, ops) == expected


def test_strip_html_leaves_no_tag_opening() -> None:
    for attack in ("<<<script>>>", "<scr\x00ipt>", "<<img/src=x>", "<svg/onload=alert(1)//", "</<x>script>"):
        out = sanitize_text(attack, ("strip-html",))
        assert not any(out[i] == "<" and out[i + 1 : i + 2].isalpha() for i in range(len(out))), (attack, out)
        assert "</" not in out


def test_body_paths() -> None:
    assert parse_body_path("body.$.items[*].name") == ("items", "*", "name")
    assert parse_body_path("body.$['a b'][0]") == ("a b", 0)
    assert parse_body_path("body.$") == ()
    with pytest.raises(ConfigError, match="cannot read"):
        parse_body_path("body.$.items[x]")


def test_off_unless_configured() -> None:
    assert build_sanitize(SanitizeConfig(), load_document(PETSTORE)) is None
    assert build_sanitize(SanitizeConfig(), None) is None
    assert build_sanitize(SanitizeConfig(enabled=False), load_document(SPEC)) is None
    assert build_sanitize(SanitizeConfig(from_spec=False), load_document(SPEC)) is None
    assert build_sanitize(SanitizeConfig(), load_document(SPEC)) is not None  # x-sealgate-sanitize in the spec


def harness(**config: Any) -> Harness:
    document = load_document(SPEC)
    sanitize = build_sanitize(SanitizeConfig(**config), document)
    assert sanitize is not None
    return Harness(document, extra=[sanitize])


async def test_spec_extensions_rewrite_json_body_and_query() -> None:
    body = {"author": "<b>Al</b>", "text": "<script>x()</script>hello\u0000 <i>world</i>",
            "replies": [{"text": "<i>&"}, {"text": "ok"}]}
    response, exchange = await harness().send("POST", "/comments", "q=%EF%BC%9Cb%EF%BC%9E%00x&", json=body)
    assert response.status == 200
    forwarded = orjson.loads(response.body)
    sent = orjson.loads(forwarded["body"])
    assert sent == {"author": "<b>Al</b>", "text": "x()hello world",
                    "replies": [{"text": "&lt;i&gt;&amp;"}, {"text": "ok"}]}
    assert forwarded["query"] == "q=%3Cb%3Ex&"
    assert exchange.query == [("q", "<b>x")]  # the decoded query is recomputed
    assert exchange.audit["sanitized"] is True
    assert exchange.header("content-length") == str(len(exchange.body or b""))


async def test_untouched_request_keeps_its_exact_bytes() -> None:
    raw = b'{"author":  "Al",\n "text": "plain"}'
    response, exchange = await harness().send("POST", "/comments", "q=a%20b",
                                              headers=[("content-type", "application/json")], body=raw)
    assert orjson.loads(response.body) == {"body": raw.decode(), "query": "q=a%20b"}
    assert "sanitized" not in exchange.audit


async def test_config_fields_with_wildcards_and_every_route() -> None:
    fields = {
        "POST /articles": {"body.$.title": ["strip-html"], "body.$.items[*].note": ["strip-control"]},
        "*": {"query.q": ["strip-html"]},
    }
    h = harness(fields=fields, from_spec=False)
    body = {"title": "<h1>News</h1>", "body": "<b>kept</b>",
            "items": [{"sku": "ABCD0001", "qty": 1, "note": "a\x00b"}, {"sku": "ABCD0002", "qty": 1}]}
    response, _ = await h.send("POST", "/articles", json=body)
    sent = orjson.loads(orjson.loads(response.body)["body"])
    assert sent["title"] == "News" and sent["body"] == "<b>kept</b>" and sent["items"][0]["note"] == "ab"
    response, _ = await h.send("GET", "/legacy/articles", "articleId=1&q=%3Cb%3Ehi")
    assert orjson.loads(response.body)["query"] == "articleId=1&q=hi"


async def test_malformed_or_unexpected_bodies_are_left_alone() -> None:
    document = load_document(SPEC)
    sanitize = build_sanitize(SanitizeConfig(), document)
    assert sanitize is not None
    h = Harness(document, extra=[sanitize], mode="detect")  # let invalid bodies through to sanitize
    for raw in (b'{"text": "<b>', b'[1, "<b>x</b>"]', b'{"text": 5}'):
        response, _ = await h.send("POST", "/comments", headers=[("content-type", "application/json")], body=raw)
        assert orjson.loads(response.body)["body"] == raw.decode()


def test_config_errors() -> None:
    document = load_document(SPEC)
    with pytest.raises(ConfigError, match="not an operation"):
        build_sanitize(SanitizeConfig(fields={"GET /nope": {"query.q": ("nfkc",)}}), document)
    with pytest.raises(ConfigError, match="not a sanitizable location"):
        build_sanitize(SanitizeConfig(fields={"*": {"header.x": ("nfkc",)}}), document)
    with pytest.raises(ValidationError):
        SanitizeConfig.model_validate({"fields": {"*": {"query.q": ["rot13"]}}})
    bad = OpenAPIDocument({"openapi": "3.1.0", "paths": {"/a": {"post": {"parameters": [
        {"name": "q", "in": "query", "x-sealgate-sanitize": ["shout"]}]}}}})
    with pytest.raises(ConfigError, match="x-sealgate-sanitize"):
        build_sanitize(SanitizeConfig(), bad)
