"""RFC 9458 Oblivious HTTP: the Appendix A example byte for byte, errors, tampering, fuzzing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealgate.errors import RequestError
from sealgate.tunnel import hpke, ohttp
from sealgate.tunnel.ohttp import (
    DecryptionError,
    GatewayKey,
    KeyConfig,
    MalformedMessageError,
    OhttpError,
    SymmetricSuite,
    UnknownKeyError,
)

from ._vectors import h, load

EX: dict[str, Any] = load("ohttp-rfc9458-example.json")
SERVER = hpke.KemKeyPair.from_private_bytes(h(EX["server_x25519_secret_key"]))
CONFIG = KeyConfig.decode(h(EX["key_config"]))
GATEWAY = GatewayKey(CONFIG, SERVER)
KEYS = {CONFIG.key_id: GATEWAY}
REQUEST = h(EX["encapsulated_request"])
RESPONSE = h(EX["encapsulated_response"])
RESPONSE_NONCE = RESPONSE[: EX["response_nonce_len"]]


# -- RFC 9458 Appendix A ---------------------------------------------------------------------


def test_key_config_decodes_and_reencodes() -> None:
    assert CONFIG.key_id == EX["key_id"] == 1
    assert CONFIG.kem_id == EX["suite"]["kem_id"]
    assert CONFIG.public_key == SERVER.public_key
    assert CONFIG.suites == (SymmetricSuite(1, 1), SymmetricSuite(1, 3))
    assert CONFIG.encode() == h(EX["key_config"])
    assert GatewayKey.create(1, SERVER, CONFIG.suites).config == CONFIG


def test_client_ephemeral_key() -> None:
    eph = hpke.KemKeyPair.from_private_bytes(h(EX["client_ephemeral_secret_key"]))
    assert eph.public_key == h(EX["client_ephemeral_public_key"])


def test_hpke_info() -> None:
    suite = SymmetricSuite(EX["suite"]["kdf_id"], EX["suite"]["aead_id"])
    header = ohttp._header(CONFIG.key_id, CONFIG.kem_id, suite)
    assert EX["hpke_info_ascii_prefix"].encode() + b"\x00" + header == h(EX["hpke_info"])
    assert REQUEST[:7] == header


def test_request_encapsulation_byte_for_byte() -> None:
    msg, client = ohttp.encapsulate_request(CONFIG, h(EX["request_bhttp"]), eph_sk=h(EX["client_ephemeral_secret_key"]))
    assert msg == REQUEST
    assert client.enc == h(EX["client_ephemeral_public_key"])
    assert client.aead_id == hpke.AEAD_AES_128_GCM


def test_request_decapsulation() -> None:
    inner, ctx = ohttp.decapsulate_request(KEYS, REQUEST)
    assert inner == h(EX["request_bhttp"])
    for buffer in (bytearray(REQUEST), memoryview(REQUEST)):
        assert ohttp.decapsulate_request(KEYS, buffer)[0] == inner  # type: ignore[arg-type]
    assert (ctx.key_id, ctx.aead_id, ctx.enc) == (1, 1, h(EX["client_ephemeral_public_key"]))


def test_response_key_derivation_intermediates() -> None:
    _, ctx = ohttp.decapsulate_request(KEYS, REQUEST)
    secret = ctx._hpke.export(EX["response_export_label"].encode(), 16)
    assert secret == h(EX["response_exported_secret"])
    salt = ctx.enc + RESPONSE_NONCE
    assert salt == h(EX["response_salt"])
    prk = hpke.hkdf_extract(salt, secret)
    assert prk == h(EX["response_prk"])
    assert hpke.hkdf_expand(prk, b"key", 16) == h(EX["response_aead_key"])
    assert hpke.hkdf_expand(prk, b"nonce", 12) == h(EX["response_aead_nonce"])


def test_response_encapsulation_byte_for_byte() -> None:
    _, ctx = ohttp.decapsulate_request(KEYS, REQUEST)
    out = ohttp.encapsulate_response(ctx, h(EX["response_bhttp"]), response_nonce=RESPONSE_NONCE)
    assert out == RESPONSE


def test_client_decapsulates_the_example_response() -> None:
    _, client = ohttp.encapsulate_request(CONFIG, h(EX["request_bhttp"]), eph_sk=h(EX["client_ephemeral_secret_key"]))
    assert ohttp.decapsulate_response(client, RESPONSE) == h(EX["response_bhttp"])


def test_response_nonce_is_random_by_default() -> None:
    _, ctx = ohttp.decapsulate_request(KEYS, REQUEST)
    first = ohttp.encapsulate_response(ctx, b"same")
    second = ohttp.encapsulate_response(ctx, b"same")
    assert first[:16] != second[:16]
    assert first[16:] != second[16:]


def test_response_nonce_of_wrong_length_is_refused() -> None:
    _, ctx = ohttp.decapsulate_request(KEYS, REQUEST)
    with pytest.raises(ValueError, match="16"):
        ohttp.encapsulate_response(ctx, b"x", response_nonce=b"\x00" * 12)


# -- round trips -----------------------------------------------------------------------------

ALL_SUITES = tuple(SymmetricSuite(1, aead) for aead in (1, 2, 3))


@pytest.mark.parametrize("suite", ALL_SUITES, ids=lambda s: f"aead-{s.aead_id}")
def test_round_trip_every_aead(suite: SymmetricSuite) -> None:
    gw = GatewayKey.create(9, hpke.KemKeyPair.generate(), ALL_SUITES)
    msg, client = ohttp.encapsulate_request(gw.config, b"request", suite=suite)
    assert msg[3:7] == b"\x00\x01" + suite.aead_id.to_bytes(2, "big")
    inner, ctx = ohttp.decapsulate_request({9: gw}, msg)
    assert inner == b"request"
    response = ohttp.encapsulate_response(ctx, b"response")
    nonce_len = 32 if suite.aead_id in (2, 3) else 16  # max(Nk, Nn)
    assert len(response) == nonce_len + len(b"response") + 16
    assert ohttp.decapsulate_response(client, response) == b"response"


def test_client_picks_first_supported_suite() -> None:
    config = KeyConfig(3, 0x20, SERVER.public_key, (SymmetricSuite(1, 0xFFFF), SymmetricSuite(2, 1), *ALL_SUITES[2:]))
    msg, client = ohttp.encapsulate_request(config, b"x")
    assert client.aead_id == 3
    assert msg[3:7] == b"\x00\x01\x00\x03"


def test_client_refuses_configs_it_cannot_use() -> None:
    unusable = KeyConfig(3, 0x20, SERVER.public_key, (SymmetricSuite(2, 1),))
    with pytest.raises(UnknownKeyError):
        ohttp.encapsulate_request(unusable, b"x")
    with pytest.raises(UnknownKeyError):
        ohttp.encapsulate_request(CONFIG, b"x", suite=SymmetricSuite(1, 2))  # not offered
    small_order = KeyConfig(3, 0x20, bytes(32), ALL_SUITES)
    with pytest.raises(UnknownKeyError):
        ohttp.encapsulate_request(small_order, b"x")


def test_response_is_bound_to_its_request() -> None:
    gw = GatewayKey.create(1, hpke.KemKeyPair.generate())
    msg_a, client_a = ohttp.encapsulate_request(gw.config, b"a")
    msg_b, client_b = ohttp.encapsulate_request(gw.config, b"b")
    _, ctx_a = ohttp.decapsulate_request({1: gw}, msg_a)
    response_a = ohttp.encapsulate_response(ctx_a, b"for a")
    assert ohttp.decapsulate_response(client_a, response_a) == b"for a"
    with pytest.raises(DecryptionError):
        ohttp.decapsulate_response(client_b, response_a)


# -- gateway errors --------------------------------------------------------------------------


def test_errors_are_request_errors_with_status_400() -> None:
    for cls in (OhttpError, UnknownKeyError, MalformedMessageError, DecryptionError):
        assert issubclass(cls, RequestError)
        assert cls.status == 400
    assert UnknownKeyError.problem_type == "https://iana.org/assignments/http-problem-types#ohttp-key"


def test_unknown_key_id() -> None:
    msg = bytes([2]) + REQUEST[1:]
    with pytest.raises(UnknownKeyError, match="unknown key id 2"):
        ohttp.decapsulate_request(KEYS, msg)
    with pytest.raises(UnknownKeyError):
        ohttp.decapsulate_request({}, REQUEST)


@pytest.mark.parametrize(
    "header",
    [
        "01 0010 0001 0001",  # P-256 KEM
        "01 0020 0002 0001",  # HKDF-SHA384
        "01 0020 0001 0002",  # AES-256-GCM, implemented but not offered by this key
        "01 0020 0001 ffff",  # export-only
    ],
)
def test_suite_not_offered_is_a_key_error(header: str) -> None:
    msg = h(header.replace(" ", "")) + REQUEST[7:]
    with pytest.raises(UnknownKeyError):
        ohttp.decapsulate_request(KEYS, msg)


@pytest.mark.parametrize("length", [0, 1, 6, 7, 38, 39, 54])
def test_truncated_request_is_malformed(length: int) -> None:
    with pytest.raises(MalformedMessageError):
        ohttp.decapsulate_request(KEYS, REQUEST[:length])


def test_request_with_empty_plaintext_is_the_shortest_valid_one() -> None:
    msg, _ = ohttp.encapsulate_request(CONFIG, b"")
    assert len(msg) == 7 + 32 + 16
    assert ohttp.decapsulate_request(KEYS, msg)[0] == b""


def test_truncated_ciphertext_fails_decryption() -> None:
    with pytest.raises(DecryptionError):
        ohttp.decapsulate_request(KEYS, REQUEST[:-1])


def test_every_single_bit_flip_of_the_request_is_rejected() -> None:
    for index in range(len(REQUEST)):
        for bit in range(8):
            msg = bytearray(REQUEST)
            msg[index] ^= 1 << bit
            with pytest.raises(OhttpError):
                ohttp.decapsulate_request(KEYS, bytes(msg))


def test_bit_flips_in_enc_and_ciphertext_are_decryption_errors_with_one_message() -> None:
    messages = set()
    for index in (7, 20, 38, 39, 60, len(REQUEST) - 1):
        msg = bytearray(REQUEST)
        msg[index] ^= 0x80
        with pytest.raises(DecryptionError) as info:
            ohttp.decapsulate_request(KEYS, bytes(msg))
        messages.add(str(info.value))
    # One message whatever the cause: no oracle on why decryption failed.
    assert len(messages) == 1


def test_small_order_enc_is_a_decryption_error() -> None:
    msg = REQUEST[:7] + bytes(32) + REQUEST[39:]
    with pytest.raises(DecryptionError):
        ohttp.decapsulate_request(KEYS, msg)


def test_request_for_another_gateway_key_with_same_id_fails() -> None:
    other = GatewayKey.create(1, hpke.KemKeyPair.generate(), CONFIG.suites)
    with pytest.raises(DecryptionError):
        ohttp.decapsulate_request({1: other}, REQUEST)


def test_every_single_bit_flip_of_the_response_is_rejected() -> None:
    _, client = ohttp.encapsulate_request(CONFIG, h(EX["request_bhttp"]), eph_sk=h(EX["client_ephemeral_secret_key"]))
    for index in range(len(RESPONSE)):
        msg = bytearray(RESPONSE)
        msg[index] ^= 0x01
        with pytest.raises(DecryptionError):
            ohttp.decapsulate_response(client, bytes(msg))
    for length in range(len(RESPONSE)):
        with pytest.raises(OhttpError):
            ohttp.decapsulate_response(client, RESPONSE[:length])


def test_gateway_key_must_match_its_config() -> None:
    with pytest.raises(ValueError, match="does not match"):
        GatewayKey(CONFIG, hpke.KemKeyPair.generate())
    with pytest.raises(ValueError, match="suites"):
        GatewayKey.create(1, SERVER, (SymmetricSuite(1, 0xFFFF),))


def test_gateway_key_repr_hides_the_private_key() -> None:
    assert EX["server_x25519_secret_key"] not in repr(GATEWAY)
    assert "key_id=1" in repr(GATEWAY)


# -- key configuration lists (application/ohttp-keys) ----------------------------------------


def test_key_config_list_round_trip_and_length_prefix() -> None:
    second = GatewayKey.create(2, hpke.KemKeyPair.generate()).config
    body = ohttp.encode_key_configs([CONFIG, second])
    assert body[:2] == len(h(EX["key_config"])).to_bytes(2, "big")
    assert body[2 : 2 + len(h(EX["key_config"]))] == h(EX["key_config"])
    assert ohttp.decode_key_configs(body) == [CONFIG, second]
    assert ohttp.decode_key_configs(b"") == []


def test_key_config_list_skips_unsupported_kem() -> None:
    p256 = bytes([5]) + b"\x00\x10" + b"\x04" * 65 + b"\x00\x04\x00\x01\x00\x01"
    body = len(p256).to_bytes(2, "big") + p256 + ohttp.encode_key_configs([CONFIG])
    assert ohttp.decode_key_configs(body) == [CONFIG]


@pytest.mark.parametrize(
    "body",
    [
        b"\x00",  # half a length prefix
        b"\x00\x05\x01\x00\x20",  # config shorter than its prefix says
        b"\x00\x03\x01\x00\x20",  # X25519 config without a public key
    ],
)
def test_malformed_key_config_list(body: bytes) -> None:
    with pytest.raises(MalformedMessageError):
        ohttp.decode_key_configs(body)


def test_malformed_key_config_list_trailing_garbage() -> None:
    with pytest.raises(MalformedMessageError):
        ohttp.decode_key_configs(ohttp.encode_key_configs([CONFIG]) + b"\x00")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        h(EX["key_config"])[:-1],  # algorithms cut short
        h(EX["key_config"]) + b"\x00",  # trailing byte
        h(EX["key_config"])[:35] + b"\x00\x00",  # no algorithms
        h(EX["key_config"])[:35] + b"\x00\x03\x00\x01\x00",  # length not a multiple of 4
        b"\x01\x00\x10" + b"\x04" * 65 + b"\x00\x04\x00\x01\x00\x01",  # P-256
    ],
)
def test_malformed_single_key_config(data: bytes) -> None:
    with pytest.raises(MalformedMessageError):
        KeyConfig.decode(data)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key_id": 256},
        {"key_id": -1},
        {"kem_id": 0x10},
        {"public_key": b"\x01" * 31},
        {"suites": ()},
        {"suites": (SymmetricSuite(1, 0x10000),)},
    ],
)
def test_key_config_validation(kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = {"key_id": 1, "kem_id": 0x20, "public_key": SERVER.public_key, "suites": ALL_SUITES}
    args.update(kwargs)
    with pytest.raises(ValueError):
        KeyConfig(**args)


# -- fuzzing ---------------------------------------------------------------------------------


@given(st.binary(max_size=200))
def test_fuzz_random_requests_raise_only_ohttp_errors(data: bytes) -> None:
    with pytest.raises(OhttpError):
        ohttp.decapsulate_request(KEYS, data)


@given(st.binary(max_size=200))
def test_fuzz_random_bodies_behind_a_valid_header(data: bytes) -> None:
    with pytest.raises(OhttpError):
        ohttp.decapsulate_request(KEYS, REQUEST[:7] + data)


@given(st.data())
def test_fuzz_mutated_request(data: st.DataObject) -> None:
    msg = bytearray(REQUEST)
    for _ in range(data.draw(st.integers(1, 5))):
        msg[data.draw(st.integers(0, len(msg) - 1))] ^= data.draw(st.integers(1, 255))
    cut = data.draw(st.integers(0, len(msg)))
    with pytest.raises(OhttpError):
        ohttp.decapsulate_request(KEYS, bytes(msg[:cut]) + data.draw(st.binary(max_size=8)))


@given(st.binary(max_size=120))
def test_fuzz_random_responses_raise_only_ohttp_errors(data: bytes) -> None:
    _, client = ohttp.encapsulate_request(CONFIG, b"x")
    with pytest.raises(OhttpError):
        ohttp.decapsulate_response(client, data)


@given(st.binary(max_size=300))
def test_fuzz_key_config_lists_raise_only_malformed(data: bytes) -> None:
    try:
        configs = ohttp.decode_key_configs(data)
    except MalformedMessageError:
        return
    assert ohttp.decode_key_configs(ohttp.encode_key_configs(configs)) == configs
