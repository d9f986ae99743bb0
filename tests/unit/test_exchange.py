"""Exchange: parse-once body forms and the edge cases that would let gateway and API disagree."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealgate.errors import BodyParseError
from sealgate.testing import make_exchange


def _json(body: bytes) -> object:
    exchange = make_exchange("POST", "/x", headers=[("content-type", "application/json")], body=body)
    return exchange.parsed_body()


def test_duplicate_json_keys_are_refused() -> None:
    with pytest.raises(BodyParseError, match="repeats the key 'status'"):
        _json(b'{"status": "x\' OR 1=1", "status": "draft"}')
    with pytest.raises(BodyParseError, match="repeats"):
        _json(b'{"a": [{"b": 1, "b" : 2}]}')


def test_key_like_text_inside_strings_is_fine() -> None:
    assert _json(b'{"note": "a\\": b", "n": 1}') == {"note": 'a": b', "n": 1}
    assert _json(b'{"a": {"b": 1}, "c": [{"b": 2}]}') == {"a": {"b": 1}, "c": [{"b": 2}]}


def test_parse_errors_are_cached_and_clear() -> None:
    exchange = make_exchange("POST", "/x", headers=[("content-type", "application/json")], body=b"{nope")
    for _ in range(2):
        with pytest.raises(BodyParseError, match="not valid JSON"):
            exchange.parsed_body()


def test_replace_body_and_query_keep_the_exchange_consistent() -> None:
    exchange = make_exchange("POST", "/x", query="a=1", headers=[("content-type", "application/json")],
                             body=b'{"a": 1}')
    assert exchange.parsed_body() == {"a": 1}
    exchange.replace_body(b'{"a": 22}')
    assert exchange.parsed_body() == {"a": 22}
    assert exchange.header("content-length") == "9"
    assert exchange.query == [("a", "1")]
    exchange.replace_query(b"a=2&b=3")
    assert exchange.query == [("a", "2"), ("b", "3")]
    exchange.set_header("X-Tenant", "t1")
    assert exchange.header("x-tenant") == "t1"
    exchange.set_header("x-tenant", None)
    assert exchange.header("x-tenant") is None


def test_multipart_and_form_parsing() -> None:
    body = (b"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
            b"Content-Type: text/plain\r\n\r\nhello\r\n--b\r\n"
            b"Content-Disposition: form-data; name=\"n\"\r\n\r\n7\r\n--b--\r\n")
    exchange = make_exchange("POST", "/x", headers=[("content-type", "multipart/form-data; boundary=b")], body=body)
    parts = exchange.parsed_body()
    assert [(p.name, p.filename, p.data) for p in parts] == [("f", "a.txt", b"hello"), ("n", None, b"7")]
    form = make_exchange("POST", "/x", headers=[("content-type", "application/x-www-form-urlencoded")],
                         body=b"a=1+2&b=%27x%27")
    assert form.parsed_body() == [("a", "1 2"), ("b", "'x'")]
    bad = make_exchange("POST", "/x", headers=[("content-type", "multipart/form-data")], body=b"--x")
    with pytest.raises(BodyParseError, match="boundary"):
        bad.parsed_body()


def test_xml_with_a_dtd_is_refused_by_the_parser() -> None:
    xxe = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    exchange = make_exchange("POST", "/x", headers=[("content-type", "application/xml")], body=xxe)
    with pytest.raises(BodyParseError, match="forbidden construct"):
        exchange.parsed_body()


@given(st.text(alphabet=st.sampled_from(list("ab=&+%2Fé0 ;\x00")) | st.characters(), max_size=40))
def test_parse_query_matches_the_stdlib(text: str) -> None:
    from urllib.parse import parse_qsl

    from sealgate.pipeline.exchange import parse_query

    assert parse_query(text) == parse_qsl(text, keep_blank_values=True)


def test_parse_query_decodes_what_needs_decoding() -> None:
    from sealgate.pipeline.exchange import parse_query

    assert parse_query("q=machine%20learning&a+b=c+d&flag&=x&&e=%E2%82%AC") == [
        ("q", "machine learning"), ("a b", "c d"), ("flag", ""), ("", "x"), ("e", "€")]
