"""Exceptions raised by sealgate.

The tree::

    SealgateError                  base of everything sealgate raises on purpose
    ├── ConfigError                sealgate.yaml or a CLI flag is wrong (names file, line, fix)
    │   └── tunnel.keys.KeySetError    the tunnel key set document is invalid
    ├── SpecError                  the OpenAPI document cannot be loaded or resolved
    ├── RequestError               the client's request is unusable; carries the HTTP status
    │   ├── BodyTooLarge           413: the body exceeds ``limits.max_body_bytes``
    │   ├── BodyParseError         400: the body does not parse as its declared content type
    │   ├── ClientDisconnected     the client went away before the request was read
    │   ├── tunnel.bhttp.BhttpError        400: a malformed Binary HTTP message
    │   └── tunnel.ohttp.OhttpError        400: a bad Oblivious HTTP message
    │       ├── UnknownKeyError            unknown key id or suite (problem type ``ohttp-key``)
    │       ├── MalformedMessageError      truncated or unparsable encapsulation
    │       └── DecryptionError            authentication failed
    ├── UpstreamError              the upstream failed; carries 502 or 504
    ├── StorageError               a storage backend failed (audit sink, key store, ...)
    └── tunnel.hpke.HpkeError      HPKE failures (DecapError, OpenError, UnsupportedSuiteError,
                                   MessageLimitReachedError); never carries key material

Protections never raise to block a request: blocking is a returned
:class:`~sealgate.pipeline.verdict.Verdict`. Exceptions are for the failures above, and the
pipeline turns every one of them into an RFC 9457 problem response.
"""

from __future__ import annotations

__all__ = [
    "BodyParseError",
    "BodyTooLarge",
    "ClientDisconnected",
    "ConfigError",
    "RequestError",
    "SealgateError",
    "SpecError",
    "StorageError",
    "UpstreamError",
]


class SealgateError(Exception):
    """Base class of every error sealgate raises on purpose."""


class ConfigError(SealgateError):
    """The configuration is invalid. The message names the file, the line and the fix."""


class SpecError(SealgateError):
    """The OpenAPI document cannot be loaded, parsed or resolved."""


class RequestError(SealgateError):
    """The client's request cannot be processed; ``status`` is the HTTP status to answer."""

    status = 400
    title = "Bad Request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BodyTooLarge(RequestError):
    """The request body is larger than the configured limit."""

    status = 413
    title = "Content Too Large"


class BodyParseError(RequestError):
    """The request body does not parse as its declared content type."""

    status = 400
    title = "Malformed Body"


class UnsupportedContentEncoding(RequestError):
    """The request body is compressed with an encoding the gateway cannot decode for inspection."""

    status = 415
    title = "Unsupported Content Encoding"


class ClientDisconnected(RequestError):
    """The client disconnected before the request body was fully received."""

    status = 499
    title = "Client Closed Request"


class UpstreamError(SealgateError):
    """The upstream could not be reached (502) or did not answer in time (504)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class StorageError(SealgateError):
    """A storage backend (SQLite, PostgreSQL, Redis, files) failed."""
