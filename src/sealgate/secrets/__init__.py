"""Secret sources: environment variables, files, and the embedded local store.

Secrets are referenced in sealgate.yaml by *where they live*, never by value:
``env:NAME``, ``file:/run/secrets/name``, ``store:name`` (the embedded store, which can
generate a secret on first use). See :func:`sealgate.secrets.resolve.open_secret`.
"""

from sealgate.secrets.base import SecretSource
from sealgate.secrets.resolve import SecretRef, open_secret

__all__ = ["SecretRef", "SecretSource", "open_secret"]
