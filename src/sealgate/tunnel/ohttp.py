"""Oblivious HTTP (RFC 9458) message encapsulation and key configurations.

What it does:

* :class:`KeyConfig` encodes and decodes one key configuration (key id, KEM, public key,
  symmetric suites; RFC 9458 §3.1), and :func:`encode_key_configs` /
  :func:`decode_key_configs` the ``application/ohttp-keys`` list that
  ``/.well-known/ohttp-gateway`` serves (each configuration prefixed by its 2-byte length,
  RFC 9458 §3.2, as RFC 9540 also uses).
* Gateway side: :func:`decapsulate_request` turns a ``message/ohttp-req`` body into the inner
  Binary HTTP request plus a :class:`ResponseContext`; :func:`encapsulate_response` seals the
  inner Binary HTTP response into a ``message/ohttp-res`` body (RFC 9458 §4.3, §4.4).
* Client side (tests, the Python client): :func:`encapsulate_request` and
  :func:`decapsulate_response`.

Errors are :class:`OhttpError` subclasses, all ``RequestError``\\ s answered with HTTP 400:

* :class:`UnknownKeyError`: the key id is not one of ours, or the KEM/KDF/AEAD is not offered
  for it. The gateway should answer 400 with the problem type
  ``https://iana.org/assignments/http-problem-types#ohttp-key`` (:data:`PROBLEM_TYPE_KEY`,
  RFC 9458 §5.3) so the client refetches the key configuration.
* :class:`MalformedMessageError`: too short to hold the header, ``enc`` and an AEAD tag, or an
  undecodable key configuration.
* :class:`DecryptionError`: HPKE decapsulation or AEAD authentication failed. Deliberately one
  error with one message for every cause, so responses reveal nothing about why.

Configuration: none here; keys come from :mod:`sealgate.tunnel.keys`. Only KEM 0x0020
(X25519) and KDF 0x0001 (HKDF-SHA256) are implemented; AEADs AES-128-GCM, AES-256-GCM and
ChaCha20Poly1305.

Example::

    >>> from sealgate.tunnel import hpke, ohttp
    >>> gw = ohttp.GatewayKey.create(1, hpke.KemKeyPair.generate())
    >>> msg, client = ohttp.encapsulate_request(gw.config, b"bhttp request")
    >>> inner, ctx = ohttp.decapsulate_request({1: gw}, msg)
    >>> inner
    b'bhttp request'
    >>> ohttp.decapsulate_response(client, ohttp.encapsulate_response(ctx, b"bhttp response"))
    b'bhttp response'
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from sealgate.errors import RequestError
from sealgate.tunnel import hpke

__all__ = [
    "DEFAULT_SUITES",
    "KEYS_MEDIA_TYPE",
    "PROBLEM_TYPE_KEY",
    "REQUEST_MEDIA_TYPE",
    "RESPONSE_MEDIA_TYPE",
    "ClientContext",
    "DecryptionError",
    "GatewayKey",
    "KeyConfig",
    "MalformedMessageError",
    "OhttpError",
    "ResponseContext",
    "SymmetricSuite",
    "UnknownKeyError",
    "decapsulate_request",
    "decapsulate_response",
    "decode_key_configs",
    "encapsulate_request",
    "encapsulate_response",
    "encode_key_configs",
]

REQUEST_MEDIA_TYPE: Final = "message/ohttp-req"
RESPONSE_MEDIA_TYPE: Final = "message/ohttp-res"
KEYS_MEDIA_TYPE: Final = "application/ohttp-keys"
PROBLEM_TYPE_KEY: Final = "https://iana.org/assignments/http-problem-types#ohttp-key"

_REQUEST_LABEL: Final = b"message/bhttp request"
_RESPONSE_LABEL: Final = b"message/bhttp response"
_HEADER_LEN: Final = 7  # key_id (1) || kem_id (2) || kdf_id (2) || aead_id (2)
_TAG_LEN: Final = 16  # every supported AEAD has a 16-byte tag


class OhttpError(RequestError):
    """Base of the Oblivious HTTP errors; answered with HTTP 400."""

    status = 400
    title = "Bad Oblivious HTTP Message"


class UnknownKeyError(OhttpError):
    """The key id or the KEM/KDF/AEAD combination is not one the gateway offers.

    Answer with ``problem_type`` so the client knows to refetch the key configuration.
    """

    title = "Unknown Key Configuration"
    problem_type = PROBLEM_TYPE_KEY


class MalformedMessageError(OhttpError):
    """The encapsulated message or key configuration cannot be parsed."""

    title = "Malformed Oblivious HTTP Message"


class DecryptionError(OhttpError):
    """Decapsulation or authentication failed (wrong key, tampering, truncation)."""

    title = "Oblivious HTTP Decryption Failed"


# -- key configurations ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SymmetricSuite:
    """One HPKE symmetric algorithm pair offered by a key configuration."""

    kdf_id: int
    aead_id: int

    @property
    def supported(self) -> bool:
        """Whether this module can use the suite for OHTTP (export-only cannot seal)."""
        return self.kdf_id == hpke.KDF_HKDF_SHA256 and self.aead_id in _OHTTP_AEADS


_OHTTP_AEADS: Final = frozenset({hpke.AEAD_AES_128_GCM, hpke.AEAD_AES_256_GCM, hpke.AEAD_CHACHA20_POLY1305})

DEFAULT_SUITES: Final = (
    # AES-128-GCM first: it is the one every browser's WebCrypto can do.
    SymmetricSuite(hpke.KDF_HKDF_SHA256, hpke.AEAD_AES_128_GCM),
    SymmetricSuite(hpke.KDF_HKDF_SHA256, hpke.AEAD_CHACHA20_POLY1305),
)


@dataclass(frozen=True, slots=True)
class KeyConfig:
    """A key configuration (RFC 9458 §3.1): what a client needs to encrypt to the gateway."""

    key_id: int
    kem_id: int
    public_key: bytes
    suites: tuple[SymmetricSuite, ...]

    def __post_init__(self) -> None:
        if not 0 <= self.key_id <= 255:
            raise ValueError("key_id must be 0..255")
        if self.kem_id != hpke.KEM_X25519_HKDF_SHA256:
            raise ValueError(f"unsupported KEM 0x{self.kem_id:04x}")
        if len(self.public_key) != hpke.NPK:
            raise ValueError(f"an X25519 public key is {hpke.NPK} bytes")
        if not 1 <= len(self.suites) <= 16383:
            raise ValueError("a key configuration needs 1..16383 symmetric suites")
        for suite in self.suites:
            if not (0 <= suite.kdf_id <= 0xFFFF and 0 <= suite.aead_id <= 0xFFFF):
                raise ValueError("KDF and AEAD ids are 16-bit")

    def encode(self) -> bytes:
        """The wire encoding of this configuration."""
        algs = b"".join(s.kdf_id.to_bytes(2, "big") + s.aead_id.to_bytes(2, "big") for s in self.suites)
        return (
            bytes((self.key_id,))
            + self.kem_id.to_bytes(2, "big")
            + self.public_key
            + len(algs).to_bytes(2, "big")
            + algs
        )

    @classmethod
    def decode(cls, data: bytes) -> KeyConfig:
        """Parse exactly one configuration; raises :class:`MalformedMessageError`."""
        if len(data) < 3:
            raise MalformedMessageError("key configuration truncated")
        kem_id = int.from_bytes(data[1:3], "big")
        if kem_id != hpke.KEM_X25519_HKDF_SHA256:
            raise MalformedMessageError(f"unsupported KEM 0x{kem_id:04x} in key configuration")
        pk_end = 3 + hpke.NPK
        if len(data) < pk_end + 2:
            raise MalformedMessageError("key configuration truncated")
        algs_len = int.from_bytes(data[pk_end : pk_end + 2], "big")
        algs = data[pk_end + 2 :]
        if algs_len != len(algs) or algs_len < 4 or algs_len % 4:
            raise MalformedMessageError("bad symmetric algorithms length in key configuration")
        suites = tuple(
            SymmetricSuite(int.from_bytes(algs[i : i + 2], "big"), int.from_bytes(algs[i + 2 : i + 4], "big"))
            for i in range(0, algs_len, 4)
        )
        return cls(data[0], kem_id, bytes(data[3:pk_end]), suites)


def encode_key_configs(configs: Iterable[KeyConfig]) -> bytes:
    """The ``application/ohttp-keys`` body: each configuration prefixed by a 2-byte length."""
    out = bytearray()
    for config in configs:
        encoded = config.encode()
        out += len(encoded).to_bytes(2, "big") + encoded
    return bytes(out)


def decode_key_configs(data: bytes) -> list[KeyConfig]:
    """Parse an ``application/ohttp-keys`` body.

    Configurations with a KEM this module does not implement are skipped (their length
    prefix lets us step over them); a framing error anywhere raises
    :class:`MalformedMessageError` so that a client discards the whole, possibly tampered, list.
    """
    configs: list[KeyConfig] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise MalformedMessageError("key configuration list truncated")
        length = int.from_bytes(data[pos : pos + 2], "big")
        start, pos = pos + 2, pos + 2 + length
        if pos > len(data):
            raise MalformedMessageError("key configuration list truncated")
        chunk = data[start:pos]
        if len(chunk) >= 3 and int.from_bytes(chunk[1:3], "big") != hpke.KEM_X25519_HKDF_SHA256:
            continue
        configs.append(KeyConfig.decode(chunk))
    return configs


@dataclass(frozen=True, slots=True, repr=False)
class GatewayKey:
    """A key configuration together with its private key: what the gateway decrypts with."""

    config: KeyConfig
    key_pair: hpke.KemKeyPair
    schedules: Mapping[bytes, hpke.KeySchedule] = field(init=False, compare=False)
    """The HPKE key schedule of each offered suite, by the 7-byte request header that selects it."""

    def __post_init__(self) -> None:
        if self.config.public_key != self.key_pair.public_key:
            raise ValueError("the key configuration's public key does not match the private key")
        if not all(suite.supported for suite in self.config.suites):
            raise ValueError("a gateway key may only offer suites this module implements")
        # A request's header names key, KEM, KDF and AEAD, and the HPKE info is built from it:
        # one dictionary lookup then validates the header and finds the precomputed schedule.
        schedules = {}
        for suite in self.config.suites:
            header = _header(self.config.key_id, self.config.kem_id, suite)
            schedules[header] = hpke.key_schedule(suite.aead_id, _REQUEST_LABEL + b"\x00" + header)
        object.__setattr__(self, "schedules", schedules)

    @classmethod
    def create(
        cls, key_id: int, key_pair: hpke.KemKeyPair, suites: Iterable[SymmetricSuite] = DEFAULT_SUITES
    ) -> GatewayKey:
        """A gateway key offering ``suites`` (default AES-128-GCM, ChaCha20Poly1305) for ``key_pair``."""
        config = KeyConfig(key_id, hpke.KEM_X25519_HKDF_SHA256, key_pair.public_key, tuple(suites))
        return cls(config, key_pair)

    def __repr__(self) -> str:
        return f"GatewayKey(key_id={self.config.key_id}, public_key={self.config.public_key.hex()})"


# -- the response key (RFC 9458 §4.4) --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ResponseAead:
    """What the response encryption needs of an AEAD, looked up once per response."""

    nk: int
    nn: int
    nonce_len: int
    """``max(Nn, Nk)``: the length of ``response_nonce`` and of the exported secret."""
    cipher: type[AESGCM] | type[ChaCha20Poly1305]


def _response_aead(aead_id: int) -> _ResponseAead:
    params = hpke.aead_params(aead_id)
    return _ResponseAead(params.nk, params.nn, max(params.nk, params.nn), hpke.aead_class(aead_id))


_RESPONSE_AEADS: Final = {aead_id: _response_aead(aead_id) for aead_id in _OHTTP_AEADS}


def _response_cipher(
    exporter: hpke.Context, enc: bytes, aead: _ResponseAead, response_nonce: bytes
) -> tuple[AESGCM | ChaCha20Poly1305, bytes]:
    secret = exporter.export(_RESPONSE_LABEL, aead.nonce_len)
    prk = hpke.hkdf_extract(enc + response_nonce, secret)
    # prk keys two HMACs (HKDF-Expand of "key" and "nonce", one block each): key it once.
    prk_mac = hpke.hmac_state(prk)
    mac = prk_mac.copy()
    mac.update(b"key\x01")
    key = mac.digest()[: aead.nk]
    prk_mac.update(b"nonce\x01")  # the last use: no copy needed
    return aead.cipher(key), prk_mac.digest()[: aead.nn]


def _header(key_id: int, kem_id: int, suite: SymmetricSuite) -> bytes:
    return (
        bytes((key_id,))
        + kem_id.to_bytes(2, "big")
        + suite.kdf_id.to_bytes(2, "big")
        + suite.aead_id.to_bytes(2, "big")
    )


# -- gateway side ----------------------------------------------------------------------------


class ResponseContext:
    """What the gateway keeps from a decapsulated request to encrypt the response to it."""

    __slots__ = ("_hpke", "aead_id", "enc", "key_id")

    def __init__(self, context: hpke.RecipientContext, enc: bytes, key_id: int, aead_id: int) -> None:
        self._hpke = context
        self.enc = enc
        self.key_id = key_id
        self.aead_id = aead_id


def decapsulate_request(keys_by_id: Mapping[int, GatewayKey], msg: bytes) -> tuple[bytes, ResponseContext]:
    """Decrypt a ``message/ohttp-req`` body: returns the inner Binary HTTP request and its context.

    Raises :class:`UnknownKeyError`, :class:`MalformedMessageError` or :class:`DecryptionError`.
    """
    msg = bytes(msg)  # no copy for bytes; makes bytearray/memoryview input safe to slice and hash
    if len(msg) < _HEADER_LEN:
        raise MalformedMessageError("encapsulated request truncated")
    key_id = msg[0]
    key = keys_by_id.get(key_id)
    if key is None:
        raise UnknownKeyError(f"unknown key id {key_id}")
    schedule = key.schedules.get(msg[:_HEADER_LEN])
    if schedule is None:
        raise UnknownKeyError(f"key id {key_id} does not offer this KEM/KDF/AEAD combination")
    ct_start = _HEADER_LEN + hpke.NENC
    if len(msg) < ct_start + _TAG_LEN:
        raise MalformedMessageError("encapsulated request truncated")
    enc = msg[_HEADER_LEN:ct_start]
    try:
        context = hpke.setup_recipient(enc, key.key_pair, schedule)
        # A view, not a slice: the ciphertext is most of the body and is only read once.
        request = context.open(b"", memoryview(msg)[ct_start:])
    except (hpke.DecapError, hpke.OpenError):
        raise DecryptionError("the encapsulated request could not be decrypted") from None
    return request, ResponseContext(context, enc, key_id, context.aead_id)


def encapsulate_response(ctx: ResponseContext, response: bytes, *, response_nonce: bytes | None = None) -> bytes:
    """Encrypt the inner Binary HTTP response into a ``message/ohttp-res`` body.

    ``response_nonce`` is for test vectors only; by default it is fresh random bytes.
    """
    aead = _RESPONSE_AEADS[ctx.aead_id]
    if response_nonce is None:
        response_nonce = os.urandom(aead.nonce_len)
    elif len(response_nonce) != aead.nonce_len:
        raise ValueError(f"response_nonce must be {aead.nonce_len} bytes")
    cipher, nonce = _response_cipher(ctx._hpke, ctx.enc, aead, response_nonce)
    return response_nonce + cipher.encrypt(nonce, response, b"")


# -- client side -----------------------------------------------------------------------------


class ClientContext:
    """What a client keeps from an encapsulated request to decrypt the response."""

    __slots__ = ("_hpke", "aead_id", "enc")

    def __init__(self, context: hpke.SenderContext, enc: bytes, aead_id: int) -> None:
        self._hpke = context
        self.enc = enc
        self.aead_id = aead_id


def encapsulate_request(
    key_config: KeyConfig,
    request: bytes,
    *,
    suite: SymmetricSuite | None = None,
    eph_sk: hpke.KemKeyPair | bytes | None = None,
) -> tuple[bytes, ClientContext]:
    """Encrypt a Binary HTTP request to ``key_config``: returns the ``message/ohttp-req`` body.

    ``suite`` defaults to the first one the configuration offers that this module supports;
    ``eph_sk`` fixes the ephemeral key, for test vectors only.
    """
    if suite is None:
        suite = next((s for s in key_config.suites if s.supported), None)
        if suite is None:
            raise UnknownKeyError("the key configuration offers no supported KDF/AEAD")
    elif suite not in key_config.suites or not suite.supported:
        raise UnknownKeyError("the suite is not offered by the key configuration or not supported")
    header = _header(key_config.key_id, key_config.kem_id, suite)
    info = _REQUEST_LABEL + b"\x00" + header
    try:
        enc, context = hpke.setup_base_s(key_config.public_key, info, aead_id=suite.aead_id, eph_sk=eph_sk)
    except hpke.DecapError:
        raise UnknownKeyError("the key configuration's public key is invalid") from None
    return header + enc + context.seal(b"", request), ClientContext(context, enc, suite.aead_id)


def decapsulate_response(ctx: ClientContext, msg: bytes) -> bytes:
    """Decrypt a ``message/ohttp-res`` body.

    Raises :class:`MalformedMessageError` or :class:`DecryptionError`.
    """
    msg = bytes(msg)
    aead = _RESPONSE_AEADS[ctx.aead_id]
    nonce_len = aead.nonce_len
    if len(msg) < nonce_len + _TAG_LEN:
        raise MalformedMessageError("encapsulated response truncated")
    cipher, nonce = _response_cipher(ctx._hpke, ctx.enc, aead, msg[:nonce_len])
    try:
        return cipher.decrypt(nonce, msg[nonce_len:], b"")
    except InvalidTag:
        raise DecryptionError("the encapsulated response could not be decrypted") from None
