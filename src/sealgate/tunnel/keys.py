"""The gateway's OHTTP key set: generation, rotation with overlap, JSON (de)serialisation.

What it does: a :class:`KeySet` holds the gateway's X25519 :class:`KeyPair`\\ s, newest first.
The newest is the *current* key, advertised first in ``/.well-known/ohttp-gateway``
(:meth:`KeySet.key_config_bytes`). :meth:`KeySet.rotate` adds a new current key and gives the
previous ones an expiry ``overlap_seconds`` later, so a client that fetched the old key
configuration keeps working until its cached copy expires; during that overlap the set holds
at least two active keys. :meth:`KeySet.decryption_keys` is the live ``key_id -> GatewayKey``
mapping :func:`sealgate.tunnel.ohttp.decapsulate_request` takes: it checks expiry on every
lookup, so a retired key stops decrypting on time even if nobody rebuilds the set.

Key ids are one byte. A new key takes the id after the current key's (mod 256), skipping ids
still in use, so ids never collide while active and a retired id comes back as late as
possible (a client holding a stale configuration then gets "unknown key" and refetches,
rather than a decryption failure).

Storage: :meth:`KeySet.to_json` / :meth:`KeySet.from_json` read and write the document a
secret source keeps (the lead's ``sealgate.secrets`` loads it from an env var or file)::

    {"version": 1,
     "keys": [{"key_id": 7, "private_key": "<64 hex chars>",
               "created_at": "2026-01-01T00:00:00+00:00", "not_after": null,
               "suites": [[1, 1], [1, 3]]}]}

``not_after`` is ``null`` for keys that have not been superseded; ``suites`` (pairs of
HPKE KDF id, AEAD id) is optional. The document contains private keys: store it as a secret.
Load errors raise :class:`KeySetError` naming the field at fault, never its value.

Configuration: ``overlap_seconds`` of :meth:`KeySet.rotate` (default one day) must exceed the
time clients cache the key configuration (the ``max-age`` the gateway serves it with).

Example::

    >>> from datetime import UTC, datetime
    >>> from sealgate.tunnel.keys import KeySet
    >>> ks = KeySet.generate(now=datetime(2026, 1, 1, tzinfo=UTC))
    >>> ks2 = ks.rotate(now=datetime(2026, 2, 1, tzinfo=UTC), overlap_seconds=3600)
    >>> [k.key_id for k in ks2.keys] == [(ks.current.key_id + 1) % 256, ks.current.key_id]
    True
    >>> KeySet.from_json(ks2.to_json()) == ks2
    True
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sealgate.errors import ConfigError
from sealgate.tunnel import hpke
from sealgate.tunnel.ohttp import DEFAULT_SUITES, GatewayKey, SymmetricSuite, encode_key_configs

__all__ = ["DEFAULT_OVERLAP_SECONDS", "KEYSET_VERSION", "KeyPair", "KeySet", "KeySetError"]

KEYSET_VERSION: Final = 1
DEFAULT_OVERLAP_SECONDS: Final = 24 * 3600

_KEY_FIELDS: Final = frozenset({"key_id", "private_key", "created_at", "not_after", "suites"})


class KeySetError(ConfigError):
    """The key set document is invalid, or the key set cannot be built or rotated."""


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return now


@dataclass(frozen=True, slots=True, repr=False)
class KeyPair:
    """One gateway key: id, X25519 private key, creation time and (once superseded) expiry."""

    key_id: int
    private_key: hpke.KemKeyPair
    created_at: datetime
    not_after: datetime | None = None
    """After this instant the key no longer decrypts; ``None`` until the key is superseded."""
    suites: tuple[SymmetricSuite, ...] = DEFAULT_SUITES
    gateway_key: GatewayKey = field(init=False, compare=False)
    """The key configuration plus private key, as :mod:`~sealgate.tunnel.ohttp` uses it."""

    def __post_init__(self) -> None:
        if not 0 <= self.key_id <= 255:
            raise ValueError("key_id must be 0..255")
        if self.created_at.tzinfo is None or (self.not_after is not None and self.not_after.tzinfo is None):
            raise ValueError("created_at and not_after must be timezone-aware")
        # Built once here so that requests never recompute the public key or the config.
        object.__setattr__(self, "gateway_key", GatewayKey.create(self.key_id, self.private_key, self.suites))

    @classmethod
    def generate(
        cls, key_id: int, *, now: datetime | None = None, suites: Iterable[SymmetricSuite] = DEFAULT_SUITES
    ) -> KeyPair:
        """A fresh random key with id ``key_id``, created ``now``."""
        return cls(key_id, hpke.KemKeyPair.generate(), _utc(now), None, tuple(suites))

    def active(self, now: datetime) -> bool:
        """Whether the key still decrypts at ``now``."""
        return self.not_after is None or now < self.not_after

    def __repr__(self) -> str:
        # The private key stays out of reprs, logs and tracebacks.
        return (
            f"KeyPair(key_id={self.key_id}, public_key={self.private_key.public_key.hex()}, "
            f"created_at={self.created_at.isoformat()}, "
            f"not_after={self.not_after.isoformat() if self.not_after else None})"
        )


class _DecryptionKeys(Mapping[int, GatewayKey]):
    """A read-only ``key_id -> GatewayKey`` view that hides keys past their ``not_after``."""

    __slots__ = ("_by_id", "_clock")

    def __init__(self, keys: Iterable[KeyPair], clock: Callable[[], float]) -> None:
        inf = float("inf")
        self._by_id = {k.key_id: (k.gateway_key, k.not_after.timestamp() if k.not_after else inf) for k in keys}
        self._clock = clock

    def __getitem__(self, key_id: int) -> GatewayKey:
        key, not_after = self._by_id[key_id]
        if self._clock() >= not_after:
            raise KeyError(key_id)
        return key

    def get(self, key_id: int, default: GatewayKey | None = None) -> GatewayKey | None:  # type: ignore[override]
        """``Mapping.get`` without its ``try``/``KeyError`` round trip: the per-request lookup."""
        entry = self._by_id.get(key_id)
        if entry is None or self._clock() >= entry[1]:
            return default
        return entry[0]

    def __iter__(self) -> Iterator[int]:
        now = self._clock()
        return iter([key_id for key_id, (_, not_after) in self._by_id.items() if now < not_after])

    def __len__(self) -> int:
        return sum(1 for _ in self)


class KeySet:
    """The gateway's keys, newest (current) first. Immutable: :meth:`rotate` returns a new set."""

    __slots__ = ("_decryption_keys", "keys")

    keys: tuple[KeyPair, ...]

    def __init__(self, keys: Iterable[KeyPair]) -> None:
        ordered = sorted(keys, key=lambda k: k.created_at, reverse=True)
        if not ordered:
            raise KeySetError("a key set needs at least one key")
        ids = [k.key_id for k in ordered]
        if len(set(ids)) != len(ids):
            raise KeySetError("key ids must be unique within a key set")
        self.keys = tuple(ordered)
        self._decryption_keys = _DecryptionKeys(self.keys, time.time)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KeySet) and self.keys == other.keys

    def __hash__(self) -> int:
        return hash(self.keys)

    def __repr__(self) -> str:
        return f"KeySet({list(self.keys)!r})"

    @property
    def current(self) -> KeyPair:
        """The newest key: the one clients should use."""
        return self.keys[0]

    @classmethod
    def generate(cls, *, now: datetime | None = None, suites: Iterable[SymmetricSuite] = DEFAULT_SUITES) -> KeySet:
        """A key set with one fresh key under a random key id."""
        return cls([KeyPair.generate(secrets.randbelow(256), now=now, suites=suites)])

    def active(self, now: datetime | None = None) -> tuple[KeyPair, ...]:
        """The keys that still decrypt at ``now``, newest first."""
        moment = _utc(now)
        return tuple(k for k in self.keys if k.active(moment))

    def key_config_bytes(self, now: datetime | None = None) -> bytes:
        """The ``application/ohttp-keys`` body for ``/.well-known/ohttp-gateway``: active keys, newest first."""
        return encode_key_configs(k.gateway_key.config for k in self.active(now))

    def decryption_keys(self, clock: Callable[[], float] = time.time) -> Mapping[int, GatewayKey]:
        """The ``key_id -> GatewayKey`` mapping for ``decapsulate_request``; checks expiry per lookup.

        ``clock`` returns Unix time (seconds); injectable for tests.
        """
        if clock is time.time:
            return self._decryption_keys  # built once: the gateway asks for it on every request
        return _DecryptionKeys(self.keys, clock)

    def rotate(self, now: datetime | None = None, overlap_seconds: float = DEFAULT_OVERLAP_SECONDS) -> KeySet:
        """A new set with a fresh current key; older keys expire ``overlap_seconds`` after ``now``.

        Keys already expired at ``now`` are dropped. Raises :class:`KeySetError` if all 256 key
        ids are in use (rotations more frequent than the overlap allows).
        """
        if overlap_seconds < 0:
            raise ValueError("overlap_seconds must be non-negative")
        moment = _utc(now)
        retire_at = moment + timedelta(seconds=overlap_seconds)
        kept: list[KeyPair] = []
        for key in self.keys:
            not_after = retire_at if key.not_after is None else min(key.not_after, retire_at)
            if moment < not_after:
                kept.append(
                    KeyPair(key.key_id, key.private_key, key.created_at, not_after, key.suites)
                    if not_after != key.not_after
                    else key
                )
        used = {k.key_id for k in kept}
        start = self.current.key_id
        for step in range(1, 257):
            candidate = (start + step) % 256
            if candidate not in used:
                break
        else:
            raise KeySetError("all 256 key ids are in use: rotate less often or shorten the overlap")
        # A new key must sort first even if the clock went backwards relative to the current key.
        created = max(moment, self.current.created_at + timedelta(microseconds=1))
        new = KeyPair.generate(candidate, now=created, suites=self.current.suites)
        return KeySet([new, *kept])

    def retire_expired(self, now: datetime | None = None) -> KeySet:
        """A set without the keys expired at ``now`` (the current key is always kept)."""
        moment = _utc(now)
        return KeySet([self.current, *(k for k in self.keys[1:] if k.active(moment))])

    # -- JSON ---------------------------------------------------------------------------------

    def to_json(self) -> str:
        """The key set as a JSON document with hex private keys. This is a secret."""
        doc = {
            "version": KEYSET_VERSION,
            "keys": [
                {
                    "key_id": k.key_id,
                    "private_key": k.private_key.private_bytes().hex(),
                    "created_at": k.created_at.isoformat(),
                    "not_after": k.not_after.isoformat() if k.not_after else None,
                    "suites": [[s.kdf_id, s.aead_id] for s in k.suites],
                }
                for k in self.keys
            ],
        }
        return json.dumps(doc, indent=2)

    @classmethod
    def from_json(cls, text: str | bytes) -> KeySet:
        """Parse a document written by :meth:`to_json`; raises :class:`KeySetError` naming the bad field."""
        try:
            doc = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            # JSONDecodeError's message holds a position, not the content.
            raise KeySetError(f"ohttp key set: not valid JSON ({exc})") from None
        if not isinstance(doc, dict):
            raise KeySetError("ohttp key set: the document must be a JSON object")
        extra = set(doc) - {"version", "keys"}
        if extra:
            raise KeySetError(f"ohttp key set: unknown top-level fields {sorted(extra)}")
        version = doc.get("version")
        if type(version) is not int or version != KEYSET_VERSION:
            raise KeySetError(f"ohttp key set: 'version' must be {KEYSET_VERSION}")
        items = doc.get("keys")
        if not isinstance(items, list) or not items:
            raise KeySetError("ohttp key set: 'keys' must be a non-empty list")
        keys = [_key_from_json(item, f"keys[{i}]") for i, item in enumerate(items)]
        ids = [k.key_id for k in keys]
        if len(set(ids)) != len(ids):
            raise KeySetError("ohttp key set: duplicate key_id")
        return cls(keys)


def _key_from_json(item: Any, where: str) -> KeyPair:
    if not isinstance(item, dict):
        raise KeySetError(f"ohttp key set: {where} must be an object")
    extra = set(item) - _KEY_FIELDS
    if extra:
        raise KeySetError(f"ohttp key set: {where} has unknown fields {sorted(extra)}")
    key_id = item.get("key_id")
    if not isinstance(key_id, int) or isinstance(key_id, bool) or not 0 <= key_id <= 255:
        raise KeySetError(f"ohttp key set: {where}.key_id must be an integer 0..255")
    raw = item.get("private_key")
    try:
        if not isinstance(raw, str) or len(raw) != 2 * hpke.NSK:
            raise ValueError
        private_key = hpke.KemKeyPair.from_private_bytes(bytes.fromhex(raw))
    except ValueError:
        # Never echo the value: it is (or is meant to be) a private key.
        raise KeySetError(f"ohttp key set: {where}.private_key must be {2 * hpke.NSK} hex characters") from None
    created_at = _time_from_json(item.get("created_at"), f"{where}.created_at")
    not_after_raw = item.get("not_after")
    not_after = None if not_after_raw is None else _time_from_json(not_after_raw, f"{where}.not_after")
    suites_raw = item.get("suites", [[s.kdf_id, s.aead_id] for s in DEFAULT_SUITES])
    if (
        not isinstance(suites_raw, list)
        or not suites_raw
        or not all(
            isinstance(pair, list) and len(pair) == 2 and all(type(x) is int for x in pair) for pair in suites_raw
        )
    ):
        raise KeySetError(f"ohttp key set: {where}.suites must be a non-empty list of [kdf_id, aead_id]")
    suites = tuple(SymmetricSuite(kdf, aead) for kdf, aead in suites_raw)
    if not all(s.supported for s in suites):
        raise KeySetError(f"ohttp key set: {where}.suites may only contain HKDF-SHA256 (1) with AEAD 1, 2 or 3")
    return KeyPair(key_id, private_key, created_at, not_after, suites)


def _time_from_json(value: Any, where: str) -> datetime:
    try:
        if not isinstance(value, str):
            raise ValueError
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise KeySetError(f"ohttp key set: {where} must be an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise KeySetError(f"ohttp key set: {where} must include a UTC offset")
    return moment
