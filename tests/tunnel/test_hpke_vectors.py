"""RFC 9180 Appendix A vectors (X25519 suites, base mode) byte for byte, plus misuse tests."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from hypothesis import given
from hypothesis import strategies as st

from sealgate.tunnel import hpke

from ._vectors import h, load

VECTORS: list[dict[str, Any]] = load("hpke-rfc9180-x25519.json")["vectors"]


def test_vector_file_covers_every_x25519_suite() -> None:
    suites = {(v["mode"], v["kem_id"], v["kdf_id"], v["aead_id"]) for v in VECTORS}
    assert suites == {(0, 0x20, 1, 1), (0, 0x20, 1, 2), (0, 0x20, 1, 3), (0, 0x20, 1, 0xFFFF)}


@pytest.mark.parametrize("vec", VECTORS, ids=lambda v: f"aead-{v['aead_id']:#06x}")
class TestRfc9180Vectors:
    def test_derive_key_pair(self, vec: dict[str, Any]) -> None:
        r = hpke.derive_key_pair(h(vec["ikmR"]))
        e = hpke.derive_key_pair(h(vec["ikmE"]))
        assert r.private_bytes() == h(vec["skRm"])
        assert r.public_key == h(vec["pkRm"])
        assert e.private_bytes() == h(vec["skEm"])
        assert e.public_key == h(vec["pkEm"])

    def test_key_schedule_context(self, vec: dict[str, Any]) -> None:
        ctx = hpke._key_schedule_context(vec["aead_id"], h(vec["info"]))
        assert ctx == h(vec["key_schedule_context"])

    def test_encap_seal_and_export(self, vec: dict[str, Any]) -> None:
        eph = hpke.derive_key_pair(h(vec["ikmE"]))
        enc, sender = hpke.setup_base_s(h(vec["pkRm"]), h(vec["info"]), aead_id=vec["aead_id"], eph_sk=eph)
        assert enc == h(vec["enc"])
        encryptions = vec["encryptions"]
        if vec["aead_id"] == hpke.AEAD_EXPORT_ONLY:
            assert encryptions == []
        else:
            assert len(encryptions) == 257
        for seq, item in enumerate(encryptions):
            assert sender.seq == seq
            assert sender._nonce() == h(item["nonce"])
            assert sender.seal(h(item["aad"]), h(item["pt"])) == h(item["ct"]), f"seal #{seq}"
        assert len(vec["exports"]) == 3
        for item in vec["exports"]:
            assert sender.export(h(item["exporter_context"]), item["L"]) == h(item["exported_value"])

    def test_decap_open_and_export(self, vec: dict[str, Any]) -> None:
        # Recipient from the raw skRm bytes, the way a stored key is loaded.
        key = hpke.KemKeyPair.from_private_bytes(h(vec["skRm"]))
        recipient = hpke.setup_base_r(h(vec["enc"]), key, h(vec["info"]), aead_id=vec["aead_id"])
        for seq, item in enumerate(vec["encryptions"]):
            assert recipient.open(h(item["aad"]), h(item["ct"])) == h(item["pt"]), f"open #{seq}"
        assert recipient.seq == len(vec["encryptions"])
        for item in vec["exports"]:
            assert recipient.export(h(item["exporter_context"]), item["L"]) == h(item["exported_value"])


# -- misuse and attacks ----------------------------------------------------------------------

AES = VECTORS[0]
assert AES["aead_id"] == hpke.AEAD_AES_128_GCM


def _recipient(vec: dict[str, Any] = AES) -> hpke.RecipientContext:
    key = hpke.KemKeyPair.from_private_bytes(h(vec["skRm"]))
    return hpke.setup_base_r(h(vec["enc"]), key, h(vec["info"]), aead_id=vec["aead_id"])


def test_open_with_wrong_aad_fails_and_does_not_advance_sequence() -> None:
    recipient = _recipient()
    first = AES["encryptions"][0]
    with pytest.raises(hpke.OpenError):
        recipient.open(b"Count-1", h(first["ct"]))
    assert recipient.seq == 0
    # The genuine message still opens afterwards: a forged message cannot desynchronise us.
    assert recipient.open(h(first["aad"]), h(first["ct"])) == h(first["pt"])


@pytest.mark.parametrize("position", [0, 10, -1])
def test_bit_flip_in_ciphertext_or_tag_fails(position: int) -> None:
    recipient = _recipient()
    ct = bytearray(h(AES["encryptions"][0]["ct"]))
    ct[position] ^= 0x01
    with pytest.raises(hpke.OpenError):
        recipient.open(h(AES["encryptions"][0]["aad"]), bytes(ct))


def test_reordered_message_fails() -> None:
    recipient = _recipient()
    second = AES["encryptions"][1]
    with pytest.raises(hpke.OpenError):
        recipient.open(h(second["aad"]), h(second["ct"]))


def test_wrong_info_gives_a_different_context() -> None:
    key = hpke.KemKeyPair.from_private_bytes(h(AES["skRm"]))
    recipient = hpke.setup_base_r(h(AES["enc"]), key, b"other info")
    with pytest.raises(hpke.OpenError):
        recipient.open(h(AES["encryptions"][0]["aad"]), h(AES["encryptions"][0]["ct"]))


def test_wrong_recipient_key_fails() -> None:
    recipient = hpke.setup_base_r(h(AES["enc"]), hpke.KemKeyPair.generate(), h(AES["info"]))
    with pytest.raises(hpke.OpenError):
        recipient.open(h(AES["encryptions"][0]["aad"]), h(AES["encryptions"][0]["ct"]))


# Small-order X25519 points: the DH output is all-zero, which RFC 9180 §7.1.4 says to reject.
SMALL_ORDER_POINTS = [
    bytes(32),
    (1).to_bytes(32, "little"),
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
]


@pytest.mark.parametrize("enc", SMALL_ORDER_POINTS, ids=lambda b: b.hex()[:8])
def test_small_order_enc_is_rejected(enc: bytes) -> None:
    with pytest.raises(hpke.DecapError):
        hpke.setup_base_r(enc, hpke.KemKeyPair.generate(), b"")


@pytest.mark.parametrize("enc", SMALL_ORDER_POINTS[:2], ids=["zero", "one"])
def test_small_order_recipient_public_key_is_rejected(enc: bytes) -> None:
    with pytest.raises(hpke.DecapError):
        hpke.setup_base_s(enc, b"")


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_enc_of_wrong_length_is_rejected(length: int) -> None:
    with pytest.raises(hpke.DecapError):
        hpke.setup_base_r(b"\x09" * length, hpke.KemKeyPair.generate(), b"")


def test_message_limit() -> None:
    kp = hpke.KemKeyPair.generate()
    enc, sender = hpke.setup_base_s(kp.public_key, b"")
    recipient = hpke.setup_base_r(enc, kp, b"")
    sender.seq = (1 << 96) - 2
    recipient.seq = sender.seq
    assert recipient.open(b"", sender.seal(b"", b"last")) == b"last"
    with pytest.raises(hpke.MessageLimitReachedError):
        sender.seal(b"", b"one too many")
    with pytest.raises(hpke.MessageLimitReachedError):
        recipient.open(b"", b"\x00" * 20)


def test_export_only_context_cannot_seal_or_open() -> None:
    kp = hpke.KemKeyPair.generate()
    enc, sender = hpke.setup_base_s(kp.public_key, b"", aead_id=hpke.AEAD_EXPORT_ONLY)
    recipient = hpke.setup_base_r(enc, kp, b"", aead_id=hpke.AEAD_EXPORT_ONLY)
    with pytest.raises(hpke.HpkeError):
        sender.seal(b"", b"x")
    with pytest.raises(hpke.HpkeError):
        recipient.open(b"", b"x" * 16)
    assert sender.export(b"c", 48) == recipient.export(b"c", 48)


@pytest.mark.parametrize("aead_id", [0, 4, 0xFFFE])
def test_unsupported_aead_is_rejected(aead_id: int) -> None:
    kp = hpke.KemKeyPair.generate()
    with pytest.raises(hpke.UnsupportedSuiteError):
        hpke.setup_base_s(kp.public_key, b"", aead_id=aead_id)
    with pytest.raises(hpke.UnsupportedSuiteError):
        hpke.setup_base_r(kp.public_key, kp, b"", aead_id=aead_id)


def test_derive_key_pair_refuses_short_ikm() -> None:
    with pytest.raises(ValueError, match="32"):
        hpke.derive_key_pair(b"\x01" * 31)


def test_private_key_bytes_of_wrong_length_are_rejected() -> None:
    with pytest.raises(ValueError):
        hpke.KemKeyPair.from_private_bytes(b"\x01" * 31)


def test_key_pair_repr_hides_the_private_key() -> None:
    kp = hpke.derive_key_pair(h(AES["ikmR"]))
    text = repr(kp)
    assert AES["skRm"] not in text
    assert AES["pkRm"] in text


@pytest.mark.parametrize("length", [0, 1, 32, 33, 64, 100, 255 * 32])
def test_hkdf_expand_matches_cryptography(length: int) -> None:
    prk, info = b"\x0b" * 32, b"some info"
    expected = HKDFExpand(hashes.SHA256(), length, info).derive(prk) if length else b""
    assert hpke.hkdf_expand(prk, info, length) == expected


def test_hkdf_expand_rejects_too_long_output() -> None:
    with pytest.raises(ValueError):
        hpke.hkdf_expand(b"\x0b" * 32, b"", 255 * 32 + 1)


def test_long_export_matches_labeled_expand_definition() -> None:
    # RFC vectors only export 32 bytes; check the multi-block path against cryptography's HKDF.
    recipient = _recipient()
    labeled_info = (100).to_bytes(2, "big") + b"HPKE-v1" + b"HPKE\x00\x20\x00\x01\x00\x01" + b"sec" + b"ctx"
    expected = HKDFExpand(hashes.SHA256(), 100, labeled_info).derive(h(AES["exporter_secret"]))
    assert recipient.export(b"ctx", 100) == expected


@given(
    aead_id=st.sampled_from([1, 2, 3]),
    info=st.binary(max_size=64),
    messages=st.lists(st.tuples(st.binary(max_size=64), st.binary(max_size=300)), max_size=5),
)
def test_round_trip(aead_id: int, info: bytes, messages: list[tuple[bytes, bytes]]) -> None:
    kp = hpke.KemKeyPair.generate()
    enc, sender = hpke.setup_base_s(kp.public_key, info, aead_id=aead_id)
    recipient = hpke.setup_base_r(enc, kp, info, aead_id=aead_id)
    for aad, pt in messages:
        ct = sender.seal(aad, pt)
        assert len(ct) == len(pt) + 16
        assert recipient.open(aad, ct) == pt
