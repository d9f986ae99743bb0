"""RFC 9292 Binary HTTP: the Section 5 examples, round trips, limits, attacks and fuzzing."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealgate.errors import RequestError
from sealgate.tunnel import bhttp
from sealgate.tunnel.bhttp import BhttpError, BhttpRequest, BhttpResponse, InformationalResponse

from ._vectors import h, load

EXAMPLES: list[dict[str, Any]] = load("bhttp-rfc9292-examples.json")["examples"]
BY_NAME = {ex["name"]: ex for ex in EXAMPLES}


def _fields(pairs: list[list[str]]) -> list[tuple[bytes, bytes]]:
    return [(name.encode(), value.encode()) for name, value in pairs]


def test_all_four_examples_are_present() -> None:
    assert sorted(ex["framing_indicator"] for ex in EXAMPLES) == [0, 1, 2, 3]


@pytest.mark.parametrize("ex", EXAMPLES, ids=lambda ex: ex["name"])
def test_rfc9292_example_decodes(ex: dict[str, Any]) -> None:
    data = h(ex["hex"])
    want = ex["decoded"]
    msg = bhttp.decode(data)
    assert msg.headers == _fields(want["headers"])
    assert msg.body == want["content"].encode()
    assert msg.trailers == _fields(want["trailers"])
    assert msg.padding == want["padding_len"]
    if ex["framing_indicator"] in (0, 2):
        assert isinstance(msg, BhttpRequest)
        assert (msg.method, msg.scheme, msg.authority, msg.path) == (
            want["method"],
            want["scheme"],
            want["authority"],
            want["path"],
        )
        assert bhttp.decode_request(data) == msg
        with pytest.raises(BhttpError, match="expected a response"):
            bhttp.decode_response(data)
    else:
        assert isinstance(msg, BhttpResponse)
        assert msg.status == want["status"]
        assert msg.informational == [
            InformationalResponse(status, _fields(fields)) for status, fields in want["informational"]
        ]
        assert bhttp.decode_response(data) == msg
        with pytest.raises(BhttpError, match="expected a request"):
            bhttp.decode_request(data)


@pytest.mark.parametrize("name", ["request-known-length", "response-known-length-from-chunked"])
def test_known_length_examples_encode_byte_for_byte(name: str) -> None:
    data = h(BY_NAME[name]["hex"])
    msg = bhttp.decode(data)
    encoded = bhttp.encode_request(msg) if isinstance(msg, BhttpRequest) else bhttp.encode_response(msg)
    assert encoded == data


@pytest.mark.parametrize("name", ["request-indeterminate-length", "response-indeterminate-length-with-informational"])
def test_indeterminate_examples_reencode_as_known_length(name: str) -> None:
    msg = bhttp.decode(h(BY_NAME[name]["hex"]))
    if isinstance(msg, BhttpRequest):
        again: BhttpRequest | BhttpResponse = bhttp.decode_request(bhttp.encode_request(msg))
    else:
        again = bhttp.decode_response(bhttp.encode_response(msg))
    assert again == msg


def test_rfc9458_truncated_request_and_response() -> None:
    # RFC 9458 App. A sends BHTTP truncated right after the control data.
    ex = load("ohttp-rfc9458-example.json")
    req = bhttp.decode_request(h(ex["request_bhttp"]))
    assert req == BhttpRequest("GET", "https", "example.com", "/")
    assert bhttp.encode_request(req, truncate=True) == h(ex["request_bhttp"])
    resp = bhttp.decode_response(h(ex["response_bhttp"]))
    assert resp == BhttpResponse(200)
    assert bhttp.encode_response(resp, truncate=True) == h(ex["response_bhttp"])


def test_truncate_keeps_non_empty_sections() -> None:
    req = BhttpRequest("POST", "https", "a", "/", [], b"body")
    assert bhttp.encode_request(req, truncate=True) == bhttp.encode_request(req)[:-1]
    assert bhttp.decode_request(bhttp.encode_request(req, truncate=True)) == req


def test_truncation_at_each_section_boundary_means_empty() -> None:
    full = bhttp.encode_request(BhttpRequest("GET", "https", "a", "/"))
    control_end = len(full) - 3  # three empty sections of one byte each
    for cut in range(control_end, len(full) + 1):
        assert bhttp.decode_request(full[:cut]) == BhttpRequest("GET", "https", "a", "/")


def test_padding_round_trip() -> None:
    resp = BhttpResponse(204, [(b"x", b"y")], padding=37)
    data = bhttp.encode_response(resp)
    assert data.endswith(bytes(37))
    assert bhttp.decode_response(data) == resp


def test_varint_boundaries() -> None:
    for value, size in [
        (0, 1),
        (63, 1),
        (64, 2),
        (16383, 2),
        (16384, 4),
        (2**30 - 1, 4),
        (2**30, 8),
        (2**62 - 1, 8),
    ]:
        enc = bhttp.encode_varint(value)
        assert len(enc) == size
        assert bhttp.decode_varint(enc, 0) == (value, size)
    with pytest.raises(ValueError):
        bhttp.encode_varint(2**62)
    with pytest.raises(ValueError):
        bhttp.encode_varint(-1)


def test_non_minimal_varint_is_accepted() -> None:
    # RFC 9000 allows any of the four sizes; 0x4000 is a two-byte zero.
    assert bhttp.decode_varint(b"\x40\x00", 0) == (0, 2)


def test_error_is_a_request_error_with_status_400() -> None:
    with pytest.raises(RequestError) as info:
        bhttp.decode(b"")
    assert info.value.status == 400


# -- malformed input -------------------------------------------------------------------------

KNOWN_REQ = h(BY_NAME["request-known-length"]["hex"])


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "truncated"),
        (b"\x04", "framing"),
        (b"\x40", "truncated"),  # a two-byte varint cut short
        (b"\x00\x03GE", "truncated"),  # method shorter than its length
        (b"\x00\x00\x00\x00\x01/", "method"),  # empty method
        (b"\x00\x03G T\x00\x00\x01/", "method"),  # space in method
        (b"\x00\x03GET\x05ht tp\x00\x01/", "scheme"),
        (b"\x00\x03GET\x051http\x00\x01/", "scheme"),  # must start with a letter
        (b"\x00\x03GET\x05https\x03a/b\x01/", "authority"),
        (b"\x00\x03GET\x05https\x00\x03/ a", "path"),
        (b"\x00\x03GET\x05https\x00\x03/\r\n", "path"),
        (b"\x00\x03GET\x05https\x00\x02/\xff", "path"),  # non-ASCII
        (b"\x00\x03GET\x05https\x00\x01/\x05\x01x\x01y", "truncated"),  # section longer than input
        (b"\x00\x03GET\x05https\x00\x01/\x03\x01x\x05", "overruns"),  # field overruns section
        (b"\x00\x03GET\x05https\x00\x01/\x03\x00\x01y", "field name"),  # empty name
        (b"\x00\x03GET\x05https\x00\x01/\x04\x01X\x01y", "field name"),  # uppercase
        (b"\x00\x03GET\x05https\x00\x01/\x05\x02:a\x01y", "field name"),  # pseudo-field
        (b"\x00\x03GET\x05https\x00\x01/\x05\x01a\x02\r\n", "field value"),
        (b"\x00\x03GET\x05https\x00\x01/\x04\x01a\x01\x00", "field value"),
        (b"\x00\x03GET\x05https\x00\x01/\x00\x05abc", "truncated"),  # content cut short
        (b"\x00\x03GET\x05https\x00\x01/\x00\x00\x00\x00\x01", "padding"),
        (b"\x02\x03GET\x05https\x00\x01/\x01a\x01b", "truncated"),  # no field terminator
        (b"\x02\x03GET\x05https\x00\x01/\x00\x03abc", "truncated"),  # no content terminator
        (b"\x01", "truncated"),  # no status
        (b"\x01\x40\x63", "status"),  # 99
        (b"\x01\x42\x58", "status"),  # 600
        (b"\x01\x40\x65\x00", "101"),
        (b"\x01\x40\x66", "truncated"),  # 102 with nothing after it: no final response
        (b"\x01\x40\x66\x00", "truncated"),
    ],
)
def test_malformed_input_raises_bhttp_error(data: bytes, match: str) -> None:
    with pytest.raises(BhttpError, match=match):
        bhttp.decode(data)


def test_only_prefixes_at_section_boundaries_decode() -> None:
    # KNOWN_REQ ends with: header section (2-byte length 108 + 108 bytes), content 0x00, trailers 0x00.
    n = len(KNOWN_REQ)
    boundaries = {n - 2 - 110, n - 2, n - 1}  # after control data, after headers, after content
    decoded = set()
    for cut in range(n):
        try:
            msg = bhttp.decode(KNOWN_REQ[:cut])
        except BhttpError:
            continue
        decoded.add(cut)
        assert isinstance(msg, BhttpRequest)
        assert msg.path == "/hello.txt"
    assert decoded == boundaries


def test_error_messages_do_not_echo_attacker_bytes() -> None:
    secretish = b"\x00\x03GET\x05https\x00\x01/\x13\x11X-Evil-Marker-abcd\x00"
    with pytest.raises(BhttpError) as info:
        bhttp.decode(secretish)
    assert "Evil" not in str(info.value)


def test_benign_lookalikes_pass() -> None:
    # Characters close to the forbidden ones must still be accepted.
    req = BhttpRequest(
        "M-SEARCH",
        "coap+tcp",
        "user@[::1]:8443",
        "/a%20b?q=1&r=~x#frag",
        [(b"x-weird!#$%&'*+-.^_`|~", b"\t tab, obs-text \xe9 and trailing space "), (b"empty", b"")],
        b"\r\n\x00 body may contain anything",
        [(b"trailer", b"ok")],
    )
    assert bhttp.decode_request(bhttp.encode_request(req)) == req


# -- limits ----------------------------------------------------------------------------------


def test_field_line_count_limit() -> None:
    limits = bhttp.BhttpLimits(max_field_lines=3)
    ok = BhttpRequest("GET", "https", "a", "/", [(b"a", b"1")] * 3)
    assert bhttp.decode_request(bhttp.encode_request(ok), limits=limits) == ok
    too_many = BhttpRequest("GET", "https", "a", "/", [(b"a", b"1")] * 4)
    with pytest.raises(BhttpError, match="field lines"):
        bhttp.decode_request(bhttp.encode_request(too_many), limits=limits)


def test_field_section_size_limit_known_and_indeterminate() -> None:
    limits = bhttp.BhttpLimits(max_field_section_bytes=100)
    big = BhttpRequest("GET", "https", "a", "/", [(b"a", b"x" * 200)])
    with pytest.raises(BhttpError, match="field section"):
        bhttp.decode_request(bhttp.encode_request(big), limits=limits)
    indeterminate = b"\x02\x03GET\x05https\x01a\x01/" + b"\x01a\x40\xc8" + b"x" * 200 + b"\x00\x00\x00"
    assert bhttp.decode_request(indeterminate).headers == [(b"a", b"x" * 200)]
    with pytest.raises(BhttpError, match="field section"):
        bhttp.decode_request(indeterminate, limits=limits)
    # Many small fields add up past the section cap too.
    many = b"\x02\x03GET\x05https\x01a\x01/" + b"\x01a\x08xxxxxxxx" * 20 + b"\x00\x00\x00"
    with pytest.raises(BhttpError, match="field section"):
        bhttp.decode_request(many, limits=limits)


def test_control_data_limit() -> None:
    limits = bhttp.BhttpLimits(max_control_bytes=10)
    long_path = bhttp.encode_request(BhttpRequest("GET", "https", "a", "/" + "a" * 20))
    with pytest.raises(BhttpError, match="path exceeds"):
        bhttp.decode_request(long_path, limits=limits)


def test_informational_limit() -> None:
    resp = BhttpResponse(200, informational=[InformationalResponse(103)] * 3)
    data = bhttp.encode_response(resp)
    assert bhttp.decode_response(data) == resp
    with pytest.raises(BhttpError, match="informational"):
        bhttp.decode_response(data, limits=bhttp.BhttpLimits(max_informational=2))


def test_huge_declared_lengths_fail_fast() -> None:
    # A 2**62-1 byte content length must not allocate anything.
    data = b"\x00\x03GET\x05https\x00\x01/\x00" + b"\xff" * 8
    with pytest.raises(BhttpError, match="truncated"):
        bhttp.decode_request(data)


# -- encoder validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "req",
    [
        BhttpRequest("GET\r\n", "https", "a", "/"),
        BhttpRequest("GET", "https", "a", "/é"),
        BhttpRequest("GET", "https", "a", "/", [(b"Host", b"a")]),
        BhttpRequest("GET", "https", "a", "/", [(b"x", b"a\r\nb")]),
        BhttpRequest("GET", "https", "a", "/", padding=-1),
    ],
)
def test_encoder_refuses_invalid_requests(req: BhttpRequest) -> None:
    with pytest.raises(ValueError):
        bhttp.encode_request(req)


@pytest.mark.parametrize(
    "resp",
    [BhttpResponse(199), BhttpResponse(600), BhttpResponse(200, informational=[InformationalResponse(101)])],
)
def test_encoder_refuses_invalid_responses(resp: BhttpResponse) -> None:
    with pytest.raises(ValueError):
        bhttp.encode_response(resp)


# -- property tests --------------------------------------------------------------------------

_token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.!~", min_size=1, max_size=12)
_value = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b""))
_fields_st = st.lists(st.tuples(_token.map(str.encode), _value), max_size=6)


@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    authority=st.sampled_from(["", "example.com", "127.0.0.1:8080"]),
    path=st.text(alphabet="/abcxyz0123?&=%", max_size=30),
    headers=_fields_st,
    body=st.binary(max_size=200),
    trailers=_fields_st,
    padding=st.integers(0, 20),
    truncate=st.booleans(),
)
def test_request_round_trip(
    method: str,
    authority: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    trailers: list[tuple[bytes, bytes]],
    padding: int,
    truncate: bool,
) -> None:
    req = BhttpRequest(method, "https", authority, path, headers, body, trailers, padding)
    assert bhttp.decode_request(bhttp.encode_request(req, truncate=truncate)) == req


@given(
    status=st.integers(200, 599),
    informational=st.lists(st.tuples(st.integers(100, 199).filter(lambda s: s != 101), _fields_st), max_size=3),
    headers=_fields_st,
    body=st.binary(max_size=200),
    trailers=_fields_st,
)
def test_response_round_trip(
    status: int,
    informational: list[tuple[int, list[tuple[bytes, bytes]]]],
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    trailers: list[tuple[bytes, bytes]],
) -> None:
    resp = BhttpResponse(status, headers, body, trailers, [InformationalResponse(s, f) for s, f in informational])
    assert bhttp.decode_response(bhttp.encode_response(resp)) == resp


@given(st.binary(max_size=300))
def test_fuzz_random_bytes_raise_only_bhttp_error(data: bytes) -> None:
    # Any exception other than BhttpError fails the test.
    with contextlib.suppress(BhttpError):
        bhttp.decode(data)


@given(st.sampled_from([ex["hex"] for ex in EXAMPLES]), st.data())
def test_fuzz_mutated_examples_raise_only_bhttp_error(hex_data: str, data: st.DataObject) -> None:
    raw = bytearray(h(hex_data))
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(raw) - 1))
        raw[index] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    try:
        msg = bhttp.decode(bytes(raw[:cut]))
    except BhttpError:
        return
    # Whatever decodes must re-encode: no invalid field or control data slipped through.
    if isinstance(msg, BhttpRequest):
        assert bhttp.decode_request(bhttp.encode_request(msg)) == msg
    else:
        assert bhttp.decode_response(bhttp.encode_response(msg)) == msg


def _generic_request(data: bytes) -> BhttpRequest | str:
    """decode_request without the known-length fast path: the _Reader it flattens."""
    try:
        reader = bhttp._Reader(data, bhttp.DEFAULT_LIMITS)
        assert bhttp._framing(reader) == bhttp.FRAMING_KNOWN_REQUEST
        return bhttp._request(reader, bhttp.FRAMING_KNOWN_REQUEST)
    except BhttpError as exc:
        return exc.detail


def _fast_request(data: bytes) -> BhttpRequest | str:
    try:
        return bhttp.decode_request(data)
    except BhttpError as exc:
        return exc.detail


@given(st.binary(max_size=300))
def test_fuzz_known_length_fast_path_matches_the_reader_on_random_bytes(data: bytes) -> None:
    data = b"\x00" + data
    assert _fast_request(data) == _generic_request(data)


@given(st.data())
def test_fuzz_known_length_fast_path_matches_the_reader_on_mutations(data: st.DataObject) -> None:
    raw = bytearray(h(BY_NAME["request-known-length"]["hex"]))
    for _ in range(data.draw(st.integers(0, 4))):
        index = data.draw(st.integers(1, len(raw) - 1))
        raw[index] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(raw)))
    mutated = bytes(raw[:cut]) + bytes(data.draw(st.integers(0, 3)))
    assert _fast_request(mutated) == _generic_request(mutated)


@pytest.mark.parametrize("bad", [b"/a b", b"/a\x7f", b"/a\x00", b"/a\x1f", b"/\xc3\xa9", b"/a\tb"])
def test_invalid_paths_are_refused_also_for_remembered_control_data(bad: bytes) -> None:
    good = bhttp.encode_request(BhttpRequest("GET", "https", "example.com", "/ok", [(b"x-seen", b"1")]))
    bhttp.decode_request(good)  # (GET, https, example.com) and x-seen are now remembered
    assert (b"GET", b"https", b"example.com") in bhttp._SEEN_CONTROL
    raw = good.replace(b"\x03/ok", bytes((len(bad),)) + bad)
    with pytest.raises(BhttpError, match="invalid request path"):
        bhttp.decode_request(raw)
    with pytest.raises(BhttpError, match="invalid field name"):
        bhttp.decode_request(good.replace(b"x-seen", b"X-seen"))


def test_remembered_values_are_bounded() -> None:
    for i in range(2 * bhttp._SEEN_MAX):
        request = BhttpRequest("GET", "https", f"h{i}", "/", [(f"n{i}".encode(), b"")])
        bhttp.decode_request(bhttp.encode_request(request))
    assert len(bhttp._SEEN_NAMES) <= bhttp._SEEN_MAX
    assert len(bhttp._SEEN_CONTROL) <= bhttp._SEEN_MAX
    long_name = b"x" * (bhttp._SEEN_ENTRY_MAX + 1)
    bhttp._SEEN_NAMES.clear()
    bhttp.decode_request(bhttp.encode_request(BhttpRequest("GET", "https", "h", "/", [(long_name, b"")])))
    assert long_name not in bhttp._SEEN_NAMES
