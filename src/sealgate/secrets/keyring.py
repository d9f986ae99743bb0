"""The embedded secret store: a local JSON file, owner-only, optionally encrypted.

It exists so that ``sealgate serve`` works out of the box (tunnel keys and the code-signing
key are generated on first start and kept across restarts). With ``SEALGATE_MASTER_KEY`` set,
values are encrypted with AES-256-GCM under a key derived from it (HKDF-SHA256); without it
the file relies on its 0600 permissions only — docs/rationale.md says why that is acceptable
for a single machine and when to use ``env:``/``file:`` secrets instead.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sealgate.errors import ConfigError

__all__ = ["MASTER_KEY_ENV", "LocalSecretStore"]

MASTER_KEY_ENV = "SEALGATE_MASTER_KEY"


class LocalSecretStore:
    """Named secrets in one JSON file; writes are atomic (temp file + rename)."""

    def __init__(self, path: str | Path, master_key: str | None = None) -> None:
        self.path = Path(path)
        master = master_key if master_key is not None else os.environ.get(MASTER_KEY_ENV)
        self._aead = AESGCM(_derive(master)) if master else None

    def read(self, name: str) -> str | None:
        """The stored value, or None."""
        entry = self._load().get(name)
        if entry is None:
            return None
        if not isinstance(entry, dict) or "v" not in entry:
            raise ConfigError(f"{self.path}: entry {name!r} is damaged. Fix: delete it to regenerate.")
        raw = base64.b64decode(entry["v"])
        if entry.get("enc"):
            if self._aead is None:
                raise ConfigError(f"{self.path}: {name!r} is encrypted. Fix: set {MASTER_KEY_ENV}.")
            try:
                return self._aead.decrypt(raw[:12], raw[12:], name.encode()).decode()
            except Exception:
                raise ConfigError(f"{self.path}: cannot decrypt {name!r}: wrong {MASTER_KEY_ENV}?") from None
        return raw.decode()

    def write(self, name: str, value: str) -> None:
        """Store ``value`` under ``name`` (replacing any previous value)."""
        data = self._load()
        if self._aead is not None:
            nonce = secrets.token_bytes(12)
            blob = nonce + self._aead.encrypt(nonce, value.encode(), name.encode())
            data[name] = {"v": base64.b64encode(blob).decode(), "enc": True}
        else:
            data[name] = {"v": base64.b64encode(value.encode()).decode(), "enc": False}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".secrets-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def describe(self, name: str) -> str:
        """``embedded store PATH (NAME)``."""
        return f"embedded store {self.path} ({name})"

    def _load(self) -> dict[str, object]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConfigError(f"cannot read the secret store {self.path}: {exc.strerror}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise ConfigError(f"{self.path} is not a sealgate secret store (invalid JSON)") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{self.path} is not a sealgate secret store")
        return data


def _derive(master: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"sealgate-store-v1", info=b"local secret store")
    return hkdf.derive(master.encode())
