"""HPKE (RFC 9180) base mode for DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and three AEADs.

What it does: the Hybrid Public Key Encryption that Oblivious HTTP (RFC 9458) is built on.
A sender encapsulates to the gateway's X25519 public key (:func:`setup_base_s`) and gets an
``enc`` value plus a :class:`SenderContext`; the gateway turns ``enc`` and its private key into
the matching :class:`RecipientContext` (:func:`setup_base_r`). Both contexts seal/open messages
with an internal sequence number and export secrets (:meth:`Context.export`), which the OHTTP
response encryption needs.

Supported: mode ``base`` (0x00) only; KEM ``0x0020`` DHKEM(X25519, HKDF-SHA256); KDF
``0x0001`` HKDF-SHA256; AEADs ``0x0001`` AES-128-GCM, ``0x0002`` AES-256-GCM, ``0x0003``
ChaCha20Poly1305 and ``0xFFFF`` export-only. There is no configuration.

Why we build on primitives instead of ``cryptography.hazmat.primitives.hpke``: that module is
single-shot (one seal or open per setup) and has no Export interface, and the OHTTP response
(RFC 9458 §4.4) is keyed from ``Export("message/bhttp response", ...)`` of the request's
context. So this module composes X25519, HMAC-SHA256 (HKDF) and the AEADs of ``cryptography``
and the standard library directly, following the RFC 9180 pseudo-code, and is checked byte
for byte against the RFC 9180 Appendix A test vectors.

It sits on the request hot path, so everything that depends only on the suite or on ``info``
(suite ids, label prefixes, ``psk_id_hash``, ``info_hash``, the key schedule context) is
computed once and cached, and the recipient's serialised public key is kept beside its private
key (:class:`KemKeyPair`) instead of being recomputed per request.

Contexts are not thread-safe: one context belongs to one request.

Example::

    >>> from sealgate.tunnel import hpke
    >>> kp = hpke.KemKeyPair.generate()
    >>> enc, sender = hpke.setup_base_s(kp.public_key, b"app info")
    >>> ct = sender.seal(b"aad", b"hello")
    >>> recipient = hpke.setup_base_r(enc, kp, b"app info")
    >>> recipient.open(b"aad", ct)
    b'hello'
    >>> sender.export(b"ctx", 16) == recipient.export(b"ctx", 16)
    True
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from sealgate.errors import SealgateError

__all__ = [
    "AEAD_AES_128_GCM",
    "AEAD_AES_256_GCM",
    "AEAD_CHACHA20_POLY1305",
    "AEAD_EXPORT_ONLY",
    "KDF_HKDF_SHA256",
    "KEM_X25519_HKDF_SHA256",
    "MODE_BASE",
    "NENC",
    "NPK",
    "NSK",
    "SUPPORTED_AEADS",
    "AeadParams",
    "Context",
    "DecapError",
    "HpkeError",
    "KemKeyPair",
    "MessageLimitReachedError",
    "OpenError",
    "RecipientContext",
    "SenderContext",
    "UnsupportedSuiteError",
    "aead_params",
    "derive_key_pair",
    "hkdf_expand",
    "hkdf_extract",
    "new_aead",
    "setup_base_r",
    "setup_base_s",
]

MODE_BASE: Final = 0x00
KEM_X25519_HKDF_SHA256: Final = 0x0020
KDF_HKDF_SHA256: Final = 0x0001
AEAD_AES_128_GCM: Final = 0x0001
AEAD_AES_256_GCM: Final = 0x0002
AEAD_CHACHA20_POLY1305: Final = 0x0003
AEAD_EXPORT_ONLY: Final = 0xFFFF

NSECRET: Final = 32  # DHKEM(X25519, HKDF-SHA256) shared secret length
NENC: Final = 32  # length of ``enc``
NPK: Final = 32  # length of a serialised public key
NSK: Final = 32  # length of a serialised private key
NH: Final = 32  # HKDF-SHA256 output length

_VERSION: Final = b"HPKE-v1"
_KEM_SUITE_ID: Final = b"KEM" + KEM_X25519_HKDF_SHA256.to_bytes(2, "big")


class HpkeError(SealgateError):
    """Base of the HPKE errors. Messages never contain key material."""


class UnsupportedSuiteError(HpkeError, ValueError):
    """The KEM, KDF or AEAD identifier is not one this module implements."""


class DecapError(HpkeError):
    """``enc`` is not a valid X25519 public key, or the DH result is all-zero (small-order point)."""


class OpenError(HpkeError):
    """Decryption failed: wrong key, wrong AAD, tampered ciphertext or wrong sequence number."""


class MessageLimitReachedError(HpkeError):
    """The context's sequence number is exhausted; it must not be used any more."""


# -- HKDF-SHA256 -----------------------------------------------------------------------------
# ``hmac.digest`` is the one-shot C implementation (OpenSSL HMAC): the fastest HMAC Python has,
# and constant-time in the key, unlike a pure-Python HMAC built from table lookups.


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    """HKDF-Extract with SHA-256 (RFC 5869). An empty salt means ``Nh`` zero bytes."""
    # HMAC pads short keys with zeros, so b"" and bytes(32) give the same PRK.
    return hmac.digest(salt, ikm, "sha256")


def hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand with SHA-256 (RFC 5869), ``length`` at most 255 * 32 bytes."""
    if length <= NH:
        # The common case (every length HPKE and OHTTP ask for): one HMAC block.
        if length < 0:
            raise ValueError("HKDF-Expand length must be non-negative")
        return hmac.digest(prk, info + b"\x01", "sha256")[:length]
    if length > 255 * NH:
        raise ValueError("HKDF-Expand length exceeds 255 * Nh")
    out = bytearray()
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.digest(prk, block + info + bytes((counter,)), "sha256")
        out += block
        counter += 1
    return bytes(out[:length])


# -- AEAD table ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AeadParams:
    """The constants of one AEAD: identifier, key length ``nk``, nonce length ``nn``, tag length."""

    aead_id: int
    nk: int
    nn: int
    nt: int
    name: str


_AEADS: Final[dict[int, AeadParams]] = {
    AEAD_AES_128_GCM: AeadParams(AEAD_AES_128_GCM, 16, 12, 16, "AES-128-GCM"),
    AEAD_AES_256_GCM: AeadParams(AEAD_AES_256_GCM, 32, 12, 16, "AES-256-GCM"),
    AEAD_CHACHA20_POLY1305: AeadParams(AEAD_CHACHA20_POLY1305, 32, 12, 16, "ChaCha20Poly1305"),
    AEAD_EXPORT_ONLY: AeadParams(AEAD_EXPORT_ONLY, 0, 0, 0, "Export-only"),
}

SUPPORTED_AEADS: Final = frozenset(_AEADS)


def aead_params(aead_id: int) -> AeadParams:
    """The :class:`AeadParams` of ``aead_id``; raises :class:`UnsupportedSuiteError` if unknown."""
    try:
        return _AEADS[aead_id]
    except KeyError:
        raise UnsupportedSuiteError(f"unsupported HPKE AEAD id 0x{aead_id:04x}") from None


def new_aead(aead_id: int, key: bytes) -> AESGCM | ChaCha20Poly1305:
    """A ``cryptography`` AEAD object for ``aead_id`` keyed with ``key`` (not for export-only)."""
    if aead_id == AEAD_CHACHA20_POLY1305:
        return ChaCha20Poly1305(key)
    if aead_id in (AEAD_AES_128_GCM, AEAD_AES_256_GCM):
        return AESGCM(key)
    raise UnsupportedSuiteError(f"HPKE AEAD id 0x{aead_id:04x} has no seal/open")


# -- Labeled HKDF (RFC 9180 §4) --------------------------------------------------------------


def _labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return hmac.digest(salt, _VERSION + suite_id + label + ikm, "sha256")


def _labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return hkdf_expand(prk, length.to_bytes(2, "big") + _VERSION + suite_id + label + info, length)


@dataclass(frozen=True, slots=True)
class _Suite:
    """Per-AEAD constants, computed once: the HPKE suite id and the base-mode psk_id_hash."""

    aead: AeadParams
    suite_id: bytes
    psk_id_hash: bytes


@cache  # four possible keys: one entry per AEAD
def _suite(aead_id: int) -> _Suite:
    aead = aead_params(aead_id)
    suite_id = (
        b"HPKE"
        + KEM_X25519_HKDF_SHA256.to_bytes(2, "big")
        + KDF_HKDF_SHA256.to_bytes(2, "big")
        + aead_id.to_bytes(2, "big")
    )
    psk_id_hash = _labeled_extract(suite_id, b"", b"psk_id_hash", b"")
    return _Suite(aead, suite_id, psk_id_hash)


@lru_cache(maxsize=256)
def _key_schedule_context(aead_id: int, info: bytes) -> bytes:
    # In OHTTP ``info`` is fixed per key configuration, so this is a cache hit on the hot path.
    suite = _suite(aead_id)
    info_hash = _labeled_extract(suite.suite_id, b"", b"info_hash", info)
    return bytes((MODE_BASE,)) + suite.psk_id_hash + info_hash


# -- DHKEM(X25519, HKDF-SHA256) (RFC 9180 §4.1, §7.1) ------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class KemKeyPair:
    """An X25519 key pair with its serialised public key cached (it is part of every decap)."""

    # Equality and hashing go by the public key, which determines the (clamped) private key.
    private_key: X25519PrivateKey = field(compare=False)
    public_key: bytes

    @classmethod
    def from_private_key(cls, private_key: X25519PrivateKey) -> KemKeyPair:
        """Wrap a ``cryptography`` X25519 private key."""
        return cls(private_key, private_key.public_key().public_bytes_raw())

    @classmethod
    def from_private_bytes(cls, sk: bytes) -> KemKeyPair:
        """Deserialise a 32-byte raw X25519 private key (``DeserializePrivateKey``)."""
        if len(sk) != NSK:
            raise ValueError(f"an X25519 private key is {NSK} bytes, got {len(sk)}")
        return cls.from_private_key(X25519PrivateKey.from_private_bytes(sk))

    @classmethod
    def generate(cls) -> KemKeyPair:
        """A fresh random key pair (``GenerateKeyPair``)."""
        return cls.from_private_key(X25519PrivateKey.generate())

    def private_bytes(self) -> bytes:
        """The raw 32-byte private key (``SerializePrivateKey``). Handle as a secret."""
        return self.private_key.private_bytes_raw()

    def __repr__(self) -> str:
        # Never show the private key, not even in a traceback or a debug log.
        return f"KemKeyPair(public_key={self.public_key.hex()})"


def derive_key_pair(ikm: bytes) -> KemKeyPair:
    """``DeriveKeyPair`` of DHKEM(X25519, HKDF-SHA256): a key pair from ≥ 32 bytes of keying material."""
    if len(ikm) < NSK:
        # RFC 9180 §7.1.3: ikm needs at least Nsk bytes of entropy; shorter input is a bug.
        raise ValueError(f"DeriveKeyPair needs at least {NSK} bytes of ikm")
    dkp_prk = _labeled_extract(_KEM_SUITE_ID, b"", b"dkp_prk", ikm)
    sk = _labeled_expand(_KEM_SUITE_ID, dkp_prk, b"sk", b"", NSK)
    return KemKeyPair.from_private_bytes(sk)


def _extract_and_expand(dh: bytes, kem_context: bytes) -> bytes:
    eae_prk = _labeled_extract(_KEM_SUITE_ID, b"", b"eae_prk", dh)
    return _labeled_expand(_KEM_SUITE_ID, eae_prk, b"shared_secret", kem_context, NSECRET)


def _encap(pk_r: bytes, eph: KemKeyPair) -> tuple[bytes, bytes]:
    try:
        dh = eph.private_key.exchange(X25519PublicKey.from_public_bytes(pk_r))
    except ValueError:
        # Wrong length, or an all-zero DH output (small-order point): RFC 9180 §7.1.4.
        raise DecapError("invalid recipient public key") from None
    enc = eph.public_key
    return _extract_and_expand(dh, enc + pk_r), enc


def _decap(enc: bytes, sk_r: KemKeyPair) -> bytes:
    if len(enc) != NENC:
        raise DecapError(f"enc must be {NENC} bytes, got {len(enc)}")
    try:
        dh = sk_r.private_key.exchange(X25519PublicKey.from_public_bytes(enc))
    except ValueError:
        raise DecapError("invalid encapsulated key") from None
    return _extract_and_expand(dh, enc + sk_r.public_key)


# -- Key schedule and contexts (RFC 9180 §5) -------------------------------------------------


class Context:
    """Shared state of a sender or recipient context: AEAD key, base nonce, sequence number."""

    __slots__ = ("_aead", "_base_nonce", "_exporter_secret", "_max_seq", "_nn", "_suite_id", "aead_id", "seq")

    def __init__(self, aead_id: int, shared_secret: bytes, info: bytes) -> None:
        suite = _suite(aead_id)
        ctx = _key_schedule_context(aead_id, info)
        sid = suite.suite_id
        secret = _labeled_extract(sid, shared_secret, b"secret", b"")  # psk = "" in base mode
        params = suite.aead
        self.aead_id = aead_id
        self.seq = 0
        self._suite_id = sid
        self._nn = params.nn
        self._exporter_secret = _labeled_expand(sid, secret, b"exp", ctx, NH)
        self._aead: AESGCM | ChaCha20Poly1305 | None
        if params.nk:
            key = _labeled_expand(sid, secret, b"key", ctx, params.nk)
            base_nonce = _labeled_expand(sid, secret, b"base_nonce", ctx, params.nn)
            self._aead = new_aead(aead_id, key)
            self._base_nonce = int.from_bytes(base_nonce, "big")
            self._max_seq = (1 << (8 * params.nn)) - 1
        else:
            self._aead = None
            self._base_nonce = 0
            self._max_seq = 0

    def _nonce(self) -> bytes:
        # ComputeNonce: base_nonce XOR I2OSP(seq, Nn), as integers (one XOR instead of a loop).
        if self.seq >= self._max_seq:
            raise MessageLimitReachedError("HPKE message limit reached")
        return (self._base_nonce ^ self.seq).to_bytes(self._nn, "big")

    def _cipher(self) -> AESGCM | ChaCha20Poly1305:
        if self._aead is None:
            raise HpkeError("this is an export-only context: it cannot seal or open")
        return self._aead

    def export(self, exporter_context: bytes, length: int) -> bytes:
        """The secret ``Export(exporter_context, L)`` (RFC 9180 §5.3), ``length`` ≤ 255 * 32."""
        return _labeled_expand(self._suite_id, self._exporter_secret, b"sec", exporter_context, length)


class SenderContext(Context):
    """The sender's context: :meth:`seal` encrypts messages in sequence."""

    __slots__ = ()

    def seal(self, aad: bytes, pt: bytes) -> bytes:
        """Encrypt ``pt`` with associated data ``aad`` under the next nonce; returns ct || tag."""
        cipher = self._cipher()
        ct = cipher.encrypt(self._nonce(), pt, aad)
        self.seq += 1
        return ct


class RecipientContext(Context):
    """The recipient's context: :meth:`open` decrypts messages in sequence."""

    __slots__ = ()

    def open(self, aad: bytes, ct: bytes) -> bytes:
        """Decrypt and authenticate ``ct``; raises :class:`OpenError` (sequence unchanged) on failure."""
        cipher = self._cipher()
        try:
            pt = cipher.decrypt(self._nonce(), ct, aad)
        except InvalidTag:
            raise OpenError("HPKE open failed") from None
        self.seq += 1
        return pt


def _as_public_bytes(pk: bytes | X25519PublicKey) -> bytes:
    return pk if isinstance(pk, bytes) else pk.public_bytes_raw()


def _as_key_pair(sk: KemKeyPair | X25519PrivateKey | bytes) -> KemKeyPair:
    if isinstance(sk, KemKeyPair):
        return sk
    if isinstance(sk, X25519PrivateKey):
        return KemKeyPair.from_private_key(sk)
    return KemKeyPair.from_private_bytes(sk)


def setup_base_s(
    pk_r: bytes | X25519PublicKey,
    info: bytes,
    *,
    aead_id: int = AEAD_AES_128_GCM,
    eph_sk: KemKeyPair | X25519PrivateKey | bytes | None = None,
) -> tuple[bytes, SenderContext]:
    """``SetupBaseS``: encapsulate to ``pk_r``; returns ``(enc, sender context)``.

    ``eph_sk`` fixes the ephemeral key, for test vectors only; by default a fresh one is made.
    """
    aead_params(aead_id)
    eph = KemKeyPair.generate() if eph_sk is None else _as_key_pair(eph_sk)
    shared_secret, enc = _encap(_as_public_bytes(pk_r), eph)
    return enc, SenderContext(aead_id, shared_secret, info)


def setup_base_r(
    enc: bytes,
    sk_r: KemKeyPair | X25519PrivateKey | bytes,
    info: bytes,
    *,
    aead_id: int = AEAD_AES_128_GCM,
) -> RecipientContext:
    """``SetupBaseR``: decapsulate ``enc`` with the recipient key; raises :class:`DecapError`.

    Pass a :class:`KemKeyPair` on hot paths: it carries the serialised public key, which the
    other forms have to recompute.
    """
    aead_params(aead_id)
    shared_secret = _decap(enc, _as_key_pair(sk_r))
    return RecipientContext(aead_id, shared_secret, info)
