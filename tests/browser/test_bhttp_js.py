"""sealgate-client.js Binary HTTP (RFC 9292): the Section 5 examples, plus malformed input, in Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from sealgate.tunnel import bhttp
from tests.tunnel._vectors import load

pytestmark = pytest.mark.browser

EXAMPLES = {e["name"]: e for e in load("bhttp-rfc9292-examples.json")["examples"]}

DECODE = """async (hexes) => {
  const {bhttp, hex} = await import('/static/sealgate-client.js');
  const out = [];
  for (const h of hexes) {
    try {
      const m = bhttp.decodeResponse(hex.decode(h));
      out.push({status: m.status, headers: m.headers, content: hex.encode(m.body), trailers: m.trailers,
                informational: m.informational.map((i) => [i.status, i.headers]), padding_len: m.paddingLen});
    } catch (e) { out.push({error: e.name + ': ' + e.message}); }
  }
  return out;
}"""


def test_encodes_known_length_request_example_byte_for_byte(js_page: Any) -> None:
    ex = EXAMPLES["request-known-length"]
    d = ex["decoded"]
    got = js_page.evaluate(
        """async (d) => {
          const {bhttp, hex} = await import('/static/sealgate-client.js');
          return hex.encode(bhttp.encodeRequest({method: d.method, scheme: d.scheme, authority: d.authority,
            path: d.path, headers: d.headers}));
        }""",
        d,
    )
    assert got == ex["hex"]


@pytest.mark.parametrize("name", ["response-indeterminate-length-with-informational",
                                  "response-known-length-from-chunked"])
def test_decodes_response_examples(js_page: Any, name: str) -> None:
    ex = EXAMPLES[name]
    (got,) = js_page.evaluate(DECODE, [ex["hex"]])
    d = ex["decoded"]
    assert got["status"] == d["status"]
    assert got["headers"] == d["headers"]
    assert bytes.fromhex(got["content"]).decode("latin-1") == d["content"]
    assert got["trailers"] == d["trailers"]
    assert got["informational"] == d["informational"]
    assert got["padding_len"] == d["padding_len"]


def test_decodes_truncated_and_padded_responses(js_page: Any) -> None:
    rfc9458 = load("ohttp-rfc9458-example.json")["response_bhttp"]  # "0140c8": status only, all sections truncated
    padded = EXAMPLES["response-known-length-from-chunked"]["hex"] + "000000"
    truncated_after_headers = "0140cc" + "00"  # 204, empty header section, no content or trailers
    got = js_page.evaluate(DECODE, [rfc9458, padded, truncated_after_headers])
    assert got[0] == {"status": 200, "headers": [], "content": "", "trailers": [], "informational": [],
                      "padding_len": 0}
    assert got[1]["padding_len"] == 3
    assert got[1]["trailers"] == [["trailer", "text"]]
    assert got[2]["status"] == 204
    assert got[2]["content"] == ""


@pytest.mark.parametrize(
    ("hexstr", "why"),
    [
        ("0140c8001d5468697320636f6e74", "content shorter than its length"),
        (EXAMPLES["response-known-length-from-chunked"]["hex"] + "0001", "non-zero padding"),
        (EXAMPLES["request-known-length"]["hex"], "a request is not a response"),
        ("0140c80040", "header section length truncated"),
        ("0163", "final status 99"),
        ("014258", "status 600"),
        ("0340c80568656c6c6f", "indeterminate fields without terminator"),
        ("0140c8c0", "8-byte varint cut short"),
        ("05", "unknown framing indicator"),
        ("", "empty message"),
    ],
)
def test_rejects_malformed_responses(js_page: Any, hexstr: str, why: str) -> None:
    (got,) = js_page.evaluate(DECODE, [hexstr])
    assert "error" in got, why
    assert got["error"].startswith("TypeError"), got


def test_request_field_values_are_bytes_not_utf8(js_page: Any) -> None:
    # Header values are byte strings (one char per byte); a Latin-1 "é" must be the single byte 0xe9.
    got = js_page.evaluate(
        """async () => {
          const {bhttp, hex} = await import('/static/sealgate-client.js');
          return hex.encode(bhttp.encodeRequest({method: 'GET', scheme: 'https', authority: 'a', path: '/',
            headers: [['X-Name', 'caf\\u00e9']]}));
        }"""
    )
    request = bhttp.BhttpRequest("GET", "https", "a", "/", [(b"x-name", "café".encode("latin-1"))])
    expected = bhttp.encode_request(request)
    assert got == expected.hex()
    assert "04636166e9" in got  # length 4, then c a f 0xe9
