"""Secrets from files (``file:/run/secrets/name``), e.g. Docker/Kubernetes secret mounts."""

from __future__ import annotations

from pathlib import Path

from sealgate.errors import ConfigError

__all__ = ["FileSecretSource"]


class FileSecretSource:
    """Reads a whole file as the secret (trailing newline removed)."""

    def read(self, name: str) -> str | None:
        """The file's text, or None if it does not exist."""
        path = Path(name)
        try:
            return path.read_text(encoding="utf-8").rstrip("\r\n") or None
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(f"cannot read the secret file {path}: {exc.strerror}") from None

    def describe(self, name: str) -> str:
        """``file PATH``."""
        return f"file {name}"
