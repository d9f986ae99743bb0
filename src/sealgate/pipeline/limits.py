"""Size limits the chain enforces on every request, whatever protections are configured."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LimitsConfig"]


class LimitsConfig(BaseModel):
    """``limits:`` in sealgate.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_body_bytes: int = Field(
        1_048_576, gt=0, description="Largest request body accepted, in bytes; larger gets 413."
    )
    max_header_bytes: int = Field(
        16_384,
        gt=0,
        description="Largest total size of the request line's target plus all header names and "
        "values, in bytes; larger gets 431.",
    )
    max_response_bytes: int = Field(
        10_485_760,
        gt=0,
        description="Largest upstream response body, in bytes. A larger declared length gets 502; "
        "a streamed body that grows past it is cut off and the connection closed.",
    )
    buffer_request_bytes: int = Field(
        65_536,
        ge=0,
        description="Request bodies up to this declared length are read whole before forwarding "
        "(cheaper than streaming); larger ones stream unless a protection needs the whole body.",
    )
