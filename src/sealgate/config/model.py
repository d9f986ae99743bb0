"""The root of sealgate.yaml: composes each part's own config model.

Every model is frozen and forbids unknown keys; every field has a description and a default,
so ``sealgate.example.yaml`` (generated from these models) documents every option.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sealgate.observability.settings import ObservabilityConfig
from sealgate.pipeline.limits import LimitsConfig
from sealgate.protections.injection import InjectionConfig
from sealgate.protections.request_validation import ValidationConfig
from sealgate.protections.routing import RoutingConfig
from sealgate.protections.sanitize import SanitizeConfig
from sealgate.storage.factory import AuditConfig
from sealgate.tunnel.config import TunnelConfig
from sealgate.upstream.forwarder import UpstreamConfig

__all__ = ["AdminConfig", "SealgateConfig", "SecretsConfig", "ServerConfig"]


class ServerConfig(BaseModel):
    """``server:``: where the gateway listens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field("127.0.0.1", description="Address to listen on (0.0.0.0 for every interface).")
    port: int = Field(8080, ge=0, le=65535, description="TCP port for API traffic (0: pick a free one).")
    workers: int = Field(1, ge=1, le=64, description="Worker processes sharing the port.")
    graceful_timeout: float = Field(
        30.0, ge=0, description="Seconds in-flight requests get to finish on shutdown (SIGTERM/SIGINT)."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Level of the gateway's own operational log (not the audit log)."
    )


class AdminConfig(BaseModel):
    """``admin:``: the admin port with /healthz, /readyz and /metrics (Prometheus)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(True, description="Serve the admin endpoints.")
    host: str = Field("127.0.0.1", description="Admin address; keep it on loopback or a private network.")
    port: int = Field(9090, ge=0, le=65535, description="Admin TCP port (0: pick a free one).")


class SecretsConfig(BaseModel):
    """``secrets:``: where the embedded secret store lives (for ``store:NAME`` references)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    store_path: str = Field(
        ".sealgate/secrets.json",
        description="The embedded store file (owner-only; encrypted when SEALGATE_MASTER_KEY is set). Relative "
        "paths are relative to sealgate.yaml.",
    )


class SealgateConfig(BaseModel):
    """The whole of sealgate.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    server: ServerConfig = Field(default_factory=ServerConfig, description="Listening socket and workers.")
    admin: AdminConfig = Field(default_factory=AdminConfig, description="Health and metrics port.")
    upstream: UpstreamConfig = Field(default_factory=UpstreamConfig, description="The protected API.")
    limits: LimitsConfig = Field(default_factory=LimitsConfig, description="Size limits on every request.")
    routing: RoutingConfig = Field(default_factory=RoutingConfig, description="OpenAPI operation matching.")
    validation: ValidationConfig = Field(
        default_factory=ValidationConfig, description="Request validation against the OpenAPI spec."
    )
    sanitize: SanitizeConfig = Field(
        default_factory=SanitizeConfig, description="Per-field rewriting of request values (off unless configured)."
    )
    injection: InjectionConfig = Field(
        default_factory=InjectionConfig, description="The detection engine for injection attacks."
    )
    tunnel: TunnelConfig = Field(
        default_factory=TunnelConfig, description="End-to-end payload encryption (Oblivious HTTP) for browsers."
    )
    secrets: SecretsConfig = Field(default_factory=SecretsConfig, description="The embedded secret store.")
    audit: AuditConfig = Field(default_factory=AuditConfig, description="Where audit events go.")
    observability: ObservabilityConfig = Field(
        default_factory=ObservabilityConfig, description="Redaction of secrets in audit events."
    )
    routes: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description='Per-route settings keyed "METHOD /path/template" as in the spec (e.g. '
        '"GET /api/v1/articles/{articleId}"), merged over the operation\'s x-sealgate extension.',
    )
