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
(suite ids, label prefixes, ``psk_id_hash``, ``info_hash``, the key schedule context and the
whole labeled inputs of the ``exp``/``key``/``base_nonce`` expansions) is computed once and
cached in a :class:`KeySchedule`, the HMAC state of the constant all-zero salt is precomputed,
a key that keys several HMACs is set up once and copied, and the recipient's serialised public
key is kept beside its private key (:class:`KemKeyPair`) instead of being recomputed per request.

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

import hashlib
import hmac
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Final, Protocol

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
    "HmacState",
    "HpkeError",
    "KemKeyPair",
    "KeySchedule",
    "MessageLimitReachedError",
    "OpenError",
    "RecipientContext",
    "SenderContext",
    "UnsupportedSuiteError",
    "aead_class",
    "aead_params",
    "derive_key_pair",
    "hkdf_expand",
    "hkdf_extract",
    "hmac_state",
    "key_schedule",
    "new_aead",
    "setup_base_r",
    "setup_base_s",
    "setup_recipient",
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


# -- HMAC and HKDF-SHA256 -------------------------------------------------------------------
# OpenSSL's HMAC (the C implementation behind the ``hmac`` module): the fastest HMAC Python has,
# and constant-time in the key, unlike a pure-Python HMAC built from table lookups. ``_hashlib``
# is called directly because the ``hmac`` module's Python wrappers cost ~1 µs per call and a
# tunnel request makes ten HMAC calls; builds without OpenSSL fall back to the ``hmac`` module.


class HmacState(Protocol):
    """An HMAC-SHA256 state. When one key authenticates several messages, ``copy`` the keyed state
    per message (cheaper than keying OpenSSL's HMAC again), ``update`` the copy, read its ``digest``."""

    def copy(self) -> HmacState: ...
    def update(self, msg: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


try:
    from _hashlib import hmac_new as _openssl_hmac_new

    def _hmac(key: bytes, msg: bytes) -> bytes:
        # Not _hashlib.hmac_digest (what hmac.digest calls): in OpenSSL 3 that one-shot fetches
        # the MAC and digest algorithms by name on every call, ~40% slower than an HMAC context.
        return _openssl_hmac_new(key, msg, "sha256").digest()

    def hmac_state(key: bytes) -> HmacState:
        """HMAC-SHA256 keyed with ``key`` (see :class:`HmacState`). Holds the key: a secret."""
        return _openssl_hmac_new(key, digestmod="sha256")

except ImportError:  # pragma: no cover - CPython without OpenSSL

    def _hmac(key: bytes, msg: bytes) -> bytes:
        return hmac.digest(key, msg, "sha256")

    def hmac_state(key: bytes) -> HmacState:
        return hmac.new(key, digestmod=hashlib.sha256)


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    """HKDF-Extract with SHA-256 (RFC 5869). An empty salt means ``Nh`` zero bytes."""
    # HMAC pads short keys with zeros, so b"" and bytes(32) give the same PRK.
    return _hmac(salt, ikm)


def hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand with SHA-256 (RFC 5869), ``length`` at most 255 * 32 bytes."""
    if length <= NH:
        # The common case (every length HPKE and OHTTP ask for): one HMAC block.
        if length < 0:
            raise ValueError("HKDF-Expand length must be non-negative")
        return _hmac(prk, info + b"\x01")[:length]
    if length > 255 * NH:
        raise ValueError("HKDF-Expand length exceeds 255 * Nh")
    out = bytearray()
    block = b""
    counter = 1
    while len(out) < length:
        block = _hmac(prk, block + info + bytes((counter,)))
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


_AEAD_CLASSES: Final[dict[int, type[AESGCM] | type[ChaCha20Poly1305]]] = {
    AEAD_AES_128_GCM: AESGCM,
    AEAD_AES_256_GCM: AESGCM,
    AEAD_CHACHA20_POLY1305: ChaCha20Poly1305,
}


def aead_class(aead_id: int) -> type[AESGCM] | type[ChaCha20Poly1305]:
    """The ``cryptography`` AEAD class of ``aead_id`` (not for export-only)."""
    try:
        return _AEAD_CLASSES[aead_id]
    except KeyError:
        raise UnsupportedSuiteError(f"HPKE AEAD id 0x{aead_id:04x} has no seal/open") from None


def new_aead(aead_id: int, key: bytes) -> AESGCM | ChaCha20Poly1305:
    """A ``cryptography`` AEAD object for ``aead_id`` keyed with ``key`` (not for export-only)."""
    if aead_id == AEAD_CHACHA20_POLY1305:
        return ChaCha20Poly1305(key)
    if aead_id in (AEAD_AES_128_GCM, AEAD_AES_256_GCM):
        return AESGCM(key)
    raise UnsupportedSuiteError(f"HPKE AEAD id 0x{aead_id:04x} has no seal/open")


# -- Labeled HKDF (RFC 9180 §4) --------------------------------------------------------------


def _labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return _hmac(salt, _VERSION + suite_id + label + ikm)


def _labeled_info(suite_id: bytes, label: bytes, info: bytes, length: int) -> bytes:
    """The single HMAC input of ``LabeledExpand(prk, label, info, L)`` for ``L`` ≤ ``Nh``."""
    return length.to_bytes(2, "big") + _VERSION + suite_id + label + info + b"\x01"


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


@dataclass(frozen=True, slots=True, repr=False)
class KeySchedule:
    """The part of the base-mode key schedule (RFC 9180 §5.1) fixed by the AEAD and ``info``.

    Per message only ``shared_secret`` varies: ``secret = LabeledExtract(shared_secret, "secret", "")``
    keys three one-block expansions whose whole inputs (label, key schedule context, length and
    block counter) are precomputed here. Holds no secrets. Get one from :func:`key_schedule`.
    """

    aead: AeadParams
    suite_id: bytes
    context: bytes
    """``key_schedule_context = mode || psk_id_hash || info_hash``."""
    secret_input: bytes
    exp_input: bytes
    key_input: bytes
    nonce_input: bytes
    cipher: type[AESGCM] | type[ChaCha20Poly1305] | None
    """The AEAD's class (None for export-only)."""


@lru_cache(maxsize=256)
def key_schedule(aead_id: int, info: bytes) -> KeySchedule:
    """The cached :class:`KeySchedule` of ``aead_id`` and ``info``; raises :class:`UnsupportedSuiteError`.

    In OHTTP ``info`` is fixed per key configuration and suite, so this is a cache hit (or the
    caller keeps the result, as :class:`~sealgate.tunnel.ohttp.GatewayKey` does).
    """
    suite = _suite(aead_id)
    sid = suite.suite_id
    info_hash = _labeled_extract(sid, b"", b"info_hash", info)
    ctx = bytes((MODE_BASE,)) + suite.psk_id_hash + info_hash
    aead = suite.aead
    return KeySchedule(
        aead=aead,
        suite_id=sid,
        context=ctx,
        secret_input=_VERSION + sid + b"secret",  # LabeledExtract's ikm is psk = "" in base mode
        exp_input=_labeled_info(sid, b"exp", ctx, NH),
        key_input=_labeled_info(sid, b"key", ctx, aead.nk),
        nonce_input=_labeled_info(sid, b"base_nonce", ctx, aead.nn),
        cipher=_AEAD_CLASSES.get(aead_id),
    )


def _key_schedule_context(aead_id: int, info: bytes) -> bytes:
    return key_schedule(aead_id, info).context


@lru_cache(maxsize=64)
def _export_input(suite_id: bytes, exporter_context: bytes, length: int) -> bytes:
    # OHTTP exports with one fixed context and length per suite: a cache hit per response.
    return _labeled_info(suite_id, b"sec", exporter_context, length)


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


# ExtractAndExpand's constant parts: the extract's salt is empty, so its HMAC state is public
# and prepared once; the expand's input is a fixed prefix, the KEM context and block counter 1.
_EAE_PRK_MAC: Final = hmac_state(b"")
_EAE_PRK_PREFIX: Final = _VERSION + _KEM_SUITE_ID + b"eae_prk"
_SHARED_SECRET_PREFIX: Final = NSECRET.to_bytes(2, "big") + _VERSION + _KEM_SUITE_ID + b"shared_secret"


def _extract_and_expand(dh: bytes, kem_context: bytes) -> bytes:
    mac = _EAE_PRK_MAC.copy()
    mac.update(_EAE_PRK_PREFIX + dh)
    return _hmac(mac.digest(), _SHARED_SECRET_PREFIX + kem_context + b"\x01")


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
        self._start(key_schedule(aead_id, info), shared_secret)

    def _start(self, schedule: KeySchedule, shared_secret: bytes) -> None:
        params = schedule.aead
        # secret keys three HMACs: key OpenSSL's HMAC once and copy the state for each.
        secret = hmac_state(_hmac(shared_secret, schedule.secret_input))
        self.aead_id = params.aead_id
        self.seq = 0
        self._suite_id = schedule.suite_id
        self._nn = params.nn
        mac = secret.copy()
        mac.update(schedule.exp_input)
        self._exporter_secret = mac.digest()
        self._aead: AESGCM | ChaCha20Poly1305 | None
        if schedule.cipher is not None:
            mac = secret.copy()
            mac.update(schedule.key_input)
            self._aead = schedule.cipher(mac.digest()[: params.nk])
            secret.update(schedule.nonce_input)  # its last use: no copy needed
            self._base_nonce = secret.digest()[: params.nn]
            self._max_seq = (1 << (8 * params.nn)) - 1
        else:
            self._aead = None
            self._base_nonce = b""
            self._max_seq = 0

    def _nonce(self) -> bytes:
        # ComputeNonce: base_nonce XOR I2OSP(seq, Nn), as integers (one XOR instead of a loop);
        # the first message (the only one in OHTTP) uses base_nonce itself.
        seq = self.seq
        if seq >= self._max_seq:
            raise MessageLimitReachedError("HPKE message limit reached")
        if not seq:
            return self._base_nonce
        return (int.from_bytes(self._base_nonce, "big") ^ seq).to_bytes(self._nn, "big")

    def _cipher(self) -> AESGCM | ChaCha20Poly1305:
        if self._aead is None:
            raise HpkeError("this is an export-only context: it cannot seal or open")
        return self._aead

    def export(self, exporter_context: bytes, length: int) -> bytes:
        """The secret ``Export(exporter_context, L)`` (RFC 9180 §5.3), ``length`` ≤ 255 * 32."""
        if 0 <= length <= NH:
            return _hmac(self._exporter_secret, _export_input(self._suite_id, exporter_context, length))[:length]
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

    def open(self, aad: bytes, ct: bytes | memoryview) -> bytes:
        """Decrypt and authenticate ``ct``; raises :class:`OpenError` (sequence unchanged) on failure."""
        cipher = self._aead
        if cipher is None:
            raise HpkeError("this is an export-only context: it cannot seal or open")
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
    schedule = key_schedule(aead_id, info)
    return setup_recipient(enc, _as_key_pair(sk_r), schedule)


def setup_recipient(enc: bytes, sk_r: KemKeyPair, schedule: KeySchedule) -> RecipientContext:
    """``SetupBaseR`` with the ``info``-dependent part precomputed (:func:`key_schedule`): the hot path."""
    shared_secret = _decap(enc, sk_r)
    context = RecipientContext.__new__(RecipientContext)
    context._start(schedule, shared_secret)
    return context
