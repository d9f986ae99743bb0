"""The signed code manifest of a protected web app: what the bootloader may run, and the key that vouches.

What it does: a manifest says, for one HTML page, which scripts the bootloader may run (in page order,
with their same-origin URLs and SHA-384 digests), which browser client (``sealgate-client.js``) and which
OHTTP key configuration (``keyConfigSha384``) it may trust. The payload is canonical JSON (sorted keys, no
whitespace, UTF-8), signed with the gateway's Ed25519 code-signing key; the document served to the
browser is ``{"payload": base64url(P), "signature": base64url(Ed25519(P))}`` (docs/tunnel-csp.md).

* :class:`ScriptPin` / :class:`PagePin`: the digests pinned for a page when the gateway started.
* :func:`manifest_payload`: the payload for a pin, the client digest and the current key configuration.
* :class:`ManifestSigner`: signs payloads; :func:`verify_manifest` checks a document (tests and tools).
* :func:`load_signing_key`: the Ed25519 key behind ``tunnel.bootloader.signing_key`` (hex of the
  32-byte seed); ``store:`` references are generated on first start.

Configuration: ``tunnel.bootloader.signing_key`` (a secret reference) and ``secrets.store_path``.

Example::

    >>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    >>> signer = ManifestSigner(Ed25519PrivateKey.from_private_bytes(bytes(32)))
    >>> pin = PagePin("/", "Shop", (ScriptPin("/static/app.js", sha384_b64(b"go()"), module=True),))
    >>> payload = manifest_payload(pin, "/.sealgate/static/sealgate-client.js", sha384_b64(b"client"),
    ...                            sha384_b64(b"keys"), issued_at=1764115200)
    >>> document = signer.sign(payload)
    >>> verify_manifest(signer.public_key, document)["scripts"][0]["type"]
    'module'
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sealgate.errors import ConfigError
from sealgate.secrets.resolve import open_secret

__all__ = [
    "ManifestError",
    "ManifestSigner",
    "PagePin",
    "ScriptPin",
    "b64url",
    "canonical_json",
    "load_signing_key",
    "manifest_payload",
    "sha384_b64",
    "verify_manifest",
]


class ManifestError(ValueError):
    """A manifest document is malformed or its signature does not verify."""


def sha384_b64(data: bytes) -> str:
    """SHA-384 of ``data`` in standard base64 (with padding), the manifest's digest format."""
    return base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def b64url(data: bytes) -> str:
    """base64url without padding (what the bootloader's ``atob`` wrapper reads)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the exact bytes that are signed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True, slots=True)
class ScriptPin:
    """One app script as pinned at startup: its same-origin URL (path and query) and SHA-384."""

    url: str
    sha384: str
    module: bool = False


@dataclass(frozen=True, slots=True)
class PagePin:
    """The scripts of one HTML page, in page order, and the page's title (shown in the error banner)."""

    page: str
    title: str
    scripts: tuple[ScriptPin, ...]


def manifest_payload(pin: PagePin, client_url: str, client_sha384: str, key_config_sha384: str,
                     issued_at: int) -> dict[str, Any]:
    """The manifest payload for ``pin`` (docs/tunnel-csp.md); ``page`` is informational."""
    return {
        "client": {"url": client_url, "sha384": client_sha384},
        "issuedAt": issued_at,
        "keyConfigSha384": key_config_sha384,
        "page": pin.page,
        "scripts": [{"url": s.url, "sha384": s.sha384, **({"type": "module"} if s.module else {})}
                    for s in pin.scripts],
    }


class ManifestSigner:
    """Signs manifest payloads with the Ed25519 code-signing key."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public_key: bytes = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        """The raw 32-byte public key (the boot parameters carry it as base64url)."""

    def __repr__(self) -> str:
        return f"ManifestSigner(public_key={self.public_key.hex()})"  # never the private key

    def sign(self, payload: Mapping[str, Any]) -> bytes:
        """The manifest document: ``{"payload": b64url(P), "signature": b64url(sig)}`` as JSON bytes."""
        raw = canonical_json(dict(payload))
        return canonical_json({"payload": b64url(raw), "signature": b64url(self._key.sign(raw))})


def verify_manifest(public_key: bytes, document: bytes) -> dict[str, Any]:
    """Check a manifest document's signature like the bootloader does; returns the parsed payload."""
    try:
        outer = json.loads(document)
        raw = _b64url_decode(outer["payload"])
        signature = _b64url_decode(outer["signature"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ManifestError(f"not a manifest document ({type(exc).__name__})") from None
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, raw)
    except (InvalidSignature, ValueError):
        raise ManifestError("the manifest signature is invalid") from None
    payload = json.loads(raw)
    if not isinstance(payload, dict):
        raise ManifestError("the manifest payload is not an object")
    return payload


def _generate_seed() -> str:
    return secrets.token_bytes(32).hex()


def load_signing_key(ref: str, store_path: Path) -> Ed25519PrivateKey:
    """The Ed25519 code-signing key behind ``ref`` (hex of the 32-byte seed), generated for ``store:``."""
    value = open_secret(ref, store_path, generate=_generate_seed)
    try:
        seed = bytes.fromhex(value.strip())
        if len(seed) != 32:
            raise ValueError
    except ValueError:
        # Never echo the value: it is (or is meant to be) a private key.
        raise ConfigError(f"tunnel.bootloader.signing_key: {ref} must hold 64 hex characters "
                          "(an Ed25519 seed). Fix: store a new seed, or delete a store: entry to regenerate it."
                          ) from None
    return Ed25519PrivateKey.from_private_bytes(seed)
