"""The SecretSource protocol: where a secret is read from (and, for stores, written to)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["SecretSource"]


@runtime_checkable
class SecretSource(Protocol):
    """Reads named secrets. Values are never logged; errors name the secret, not its value."""

    def read(self, name: str) -> str | None:
        """The secret's value, or None when this source does not have it."""
        ...

    def describe(self, name: str) -> str:
        """Where the secret lives, for error messages (``environment variable X``)."""
        ...
