"""Secrets from environment variables (``env:NAME``)."""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["EnvSecretSource"]


class EnvSecretSource:
    """Reads ``NAME`` from the process environment (or a given mapping, for tests)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def read(self, name: str) -> str | None:
        """The variable's value, or None if unset or empty."""
        value = self._environ.get(name)
        return value if value else None

    def describe(self, name: str) -> str:
        """``environment variable NAME``."""
        return f"environment variable {name}"
