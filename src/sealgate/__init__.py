"""sealgate: an API security gateway.

A reverse proxy (or in-process ASGI middleware) that runs every request through a pipeline of
protections: routing against the API's OpenAPI spec, request validation, injection detection and,
with the tunnel, browser-to-gateway payload encryption. See ``docs/`` and ``README.md``.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
