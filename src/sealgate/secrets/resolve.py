"""Resolve a secret reference (``env:NAME``, ``file:PATH``, ``store:NAME``) to its value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sealgate.errors import ConfigError
from sealgate.secrets.env import EnvSecretSource
from sealgate.secrets.file import FileSecretSource
from sealgate.secrets.keyring import LocalSecretStore

__all__ = ["SecretRef", "open_secret", "validate_ref"]

_SCHEMES = ("env", "file", "store")


def validate_ref(ref: str) -> str:
    """Check the syntax of a reference (used by config validators); returns it unchanged."""
    scheme, sep, name = ref.partition(":")
    if not sep or scheme not in _SCHEMES or not name:
        raise ValueError(
            f"{ref!r} is not a secret reference; use env:NAME, file:/path/to/file or store:NAME "
            "(secrets never go in the config file itself)"
        )
    return ref


@dataclass(frozen=True)
class SecretRef:
    """A parsed reference and the store used for ``store:`` references."""

    ref: str
    store_path: Path

    def read(self) -> str | None:
        """The secret's value, or None when it is not there (yet)."""
        scheme, _, name = self.ref.partition(":")
        if scheme == "env":
            return EnvSecretSource().read(name)
        if scheme == "file":
            return FileSecretSource().read(name)
        return LocalSecretStore(self.store_path).read(name)

    def write(self, value: str) -> None:
        """Store a new value; only ``store:`` references are writable."""
        scheme, _, name = self.ref.partition(":")
        if scheme != "store":
            raise ConfigError(f"{self.ref}: sealgate can only write secrets to its embedded store (store:NAME)")
        LocalSecretStore(self.store_path).write(name, value)

    def describe(self) -> str:
        """Where the secret lives, for messages."""
        scheme, _, name = self.ref.partition(":")
        if scheme == "env":
            return EnvSecretSource().describe(name)
        if scheme == "file":
            return FileSecretSource().describe(name)
        return LocalSecretStore(self.store_path).describe(name)


def open_secret(ref: str, store_path: Path, generate: Callable[[], str] | None = None) -> str:
    """The value behind ``ref``; a missing ``store:`` secret is generated and saved when ``generate`` is given."""
    secret = SecretRef(validate_ref(ref), store_path)
    value = secret.read()
    if value is not None:
        return value
    if generate is not None and ref.startswith("store:"):
        value = generate()
        secret.write(value)
        return value
    raise ConfigError(f"the secret {ref} is missing ({secret.describe()} is not set)")
