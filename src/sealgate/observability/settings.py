"""``observability:`` in sealgate.yaml: what the audit log must never show."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["DEFAULT_REDACTED_HEADERS", "ObservabilityConfig"]

DEFAULT_REDACTED_HEADERS = (
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
    "x-sealgate-key",
)


class ObservabilityConfig(BaseModel):
    """Redaction settings for audit events (headers, query parameters, body fields)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    redact_headers: tuple[str, ...] = Field(
        DEFAULT_REDACTED_HEADERS,
        description="Headers whose values never appear in audit events (case-insensitive). "
        "Extend rather than replace the defaults.",
    )
    redact_fields: tuple[str, ...] = Field(
        ("password", "secret", "token", "api_key", "apikey", "access_token", "refresh_token",
         "client_secret", "card_number", "cvv", "ssn"),
        description="Query parameter and body field names whose values are masked wherever they "
        "appear in an audit event (excerpts of findings included); case-insensitive.",
    )
    log_headers: bool = Field(
        False, description="Include the (redacted) request headers in each audit event."
    )

    @field_validator("redact_headers", "redact_fields")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.lower() for v in value)
