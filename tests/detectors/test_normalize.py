"""Decoding layers of sealgate.detectors.normalize."""

from __future__ import annotations

import pytest

from sealgate.detectors.normalize import (
    MAX_ROUNDS,
    Value,
    collapse_sql_comments,
    html_decode,
    js_unescape,
    url_decode,
    utf7_decode,
)


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("%27", "'"),
        ("%2527", "'"),  # double encoding
        ("%252527", "'"),  # triple
        ("%u003cscript%u003e", "<script>"),  # IIS %u
        ("..%c0%af..%c0%afetc", "../../etc"),  # overlong UTF-8 for "/"
        ("%e0%80%ae", "."),  # 3-byte overlong
        ("A%F1adir", "Añadir"),  # Latin-1 byte stays readable
        ("&lt;b&gt;", "<b>"),
        ("&#60;&#x3c;&#0000060", "<<<"),  # decimal, hex, no semicolon
        ("ja&Tab;va&tab;s", "ja\tva\ts"),  # HTML5 entity and its lenient lower-case spelling
        ("\\u003cx\\x3e\\u{41}", "<x>A"),  # JS escapes
        ("+ADw-script+AD4-", "<script>"),  # UTF-7
        ("＜script＞", "<script>"),  # full-width, NFKC
        ("sel\x00ect", "select"),  # NUL removed
        ("a\u200bb", "ab"),  # zero-width space removed
        ("plain text", "plain text"),
    ],
)
def test_decoded(raw: str, decoded: str) -> None:
    assert Value(raw).decoded == decoded


def test_each_layer_once() -> None:
    assert url_decode("%2541") == "%41"
    assert html_decode("&amp;lt;") == "&lt;"
    assert js_unescape("\\\\u0041") == "\\A"
    assert utf7_decode("a+b") == "a+b"  # no UTF-7 marker, untouched
    assert url_decode("100%") == "100%"  # a lone percent sign stays


def test_variants_keep_every_round() -> None:
    value = Value("%253C")
    assert value.variants == ("%253C", "%3C", "<")
    assert len(Value("%25" * 3 + "2541").variants) <= MAX_ROUNDS + 1


def test_lower_and_compact() -> None:
    value = Value("SeLeCt/**/1\t\tFROM   /*!50000users*/")
    assert value.lower == "select/**/1\t\tfrom   /*!50000users*/"
    assert value.compact == "select 1 from users "
    assert collapse_sql_comments("a/*unclosed") == "a "
    assert collapse_sql_comments("no comments") == "no comments"


def test_ascii7_masks_to_markup() -> None:
    assert Value("\\xbcscript\\xbe").ascii7 == "<script>"
    assert Value("plain").ascii7 == ""
    assert Value("Añadir").ascii7 == "Aadir"  # ñ masks to "q", not markup: dropped


def test_kind_defaults_to_value() -> None:
    assert Value("x").kind == "value"
    assert Value("x", kind="name").kind == "name"


def test_forms_are_cached() -> None:
    value = Value("%41")
    assert value.decoded is value.decoded
    assert value.compact is value.compact


def test_large_input_decodes_in_bounded_time() -> None:
    import time

    nasty = ("%25%32%35" * 50_000) + ("&#x26;" * 50_000) + ("/*" * 100_000) + ("\\u00" * 50_000)
    start = time.process_time()
    value = Value(nasty)
    _ = value.compact, value.ascii7
    assert time.process_time() - start < 10.0  # a guard against quadratic work, not a speed test
