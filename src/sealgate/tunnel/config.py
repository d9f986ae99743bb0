"""``tunnel:`` in sealgate.yaml: the Oblivious HTTP endpoint, its keys, replay and concealment."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sealgate.secrets.resolve import validate_ref
from sealgate.storage.factory import ReplayConfig

__all__ = ["BootloaderConfig", "TunnelConfig"]


class BootloaderConfig(BaseModel):
    """``tunnel.bootloader:``: serve protected web apps through a verifying bootloader."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(False, description="Rewrite the app's HTML pages so their scripts load through the "
                          "bootloader (signed manifest, hashes checked, fetch/XHR routed through the tunnel).")
    html_paths: tuple[str, ...] = Field(("/", "/index.html"), description="Paths of the app's HTML pages to rewrite.")
    signing_key: str = Field(
        "store:code-signing-key",
        description="Secret reference (env:NAME, file:PATH or store:NAME) of the Ed25519 code-signing key "
        "(hex of the 32-byte seed). store: keys are generated on first start.",
    )
    repin_token: str = Field(
        "store:code-pins-request",
        description="Reference (env:NAME, file:PATH or store:NAME) of a value running workers re-read every "
        "tunnel.key_reload_seconds: when it changes, they re-pin the pages' scripts and sign a new manifest, "
        "no restart. `sealgate tunnel sign-app` changes it (store:); not a secret.",
    )

    @field_validator("signing_key", "repin_token")
    @classmethod
    def _ref(cls, value: str) -> str:
        return validate_ref(value)


class TunnelConfig(BaseModel):
    """``tunnel:``: browser-to-gateway payload encryption (RFC 9458 over RFC 9292, HPKE RFC 9180)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(False, description="Publish the key configuration and accept tunnel requests.")
    endpoint: str = Field("/.sealgate/tunnel", description="Path that accepts message/ohttp-req POSTs.")
    key_config_path: str = Field(
        "/.well-known/ohttp-gateway", description="Path of the key configuration (RFC 9540, application/ohttp-keys)."
    )
    keys: str = Field(
        "store:tunnel-keys",
        description="Secret reference (env:NAME, file:PATH or store:NAME) of the key set JSON; store: keys are "
        "generated on first start. Never put the keys in this file.",
    )
    key_cache_seconds: int = Field(
        3600, ge=0, description="max-age clients may cache the key configuration; rotation keeps old keys at "
        "least this long."
    )
    rotation_overlap_seconds: int = Field(
        86400, ge=0, description="How long a rotated-out key still decrypts (raised to key_cache_seconds if lower)."
    )
    key_reload_seconds: float = Field(
        30.0, gt=0, description="How often running workers re-read the key set (to pick up rotations)."
    )
    max_clock_skew_seconds: int = Field(
        60, ge=1, description="Inner requests must carry a Date within this many seconds of the gateway's clock."
    )
    replay: ReplayConfig = Field(
        default_factory=ReplayConfig, description="Where seen encapsulated keys (enc) are remembered to refuse replays."
    )
    require_for_browsers: bool = Field(
        False, description="Refuse plaintext calls to api_prefixes that come from a browser (Sec-Fetch-* or Origin "
        "headers); server-to-server clients keep working."
    )
    api_prefixes: tuple[str, ...] = Field(
        ("/api/",), description="Path prefixes of the API: what the browser client routes through the tunnel and "
        "what require_for_browsers protects."
    )
    bootloader: BootloaderConfig = Field(default_factory=BootloaderConfig, description="The signed-code bootloader.")

    @field_validator("keys")
    @classmethod
    def _ref(cls, value: str) -> str:
        return validate_ref(value)

    @model_validator(mode="after")
    def _bootloader_needs_tunnel(self) -> TunnelConfig:
        if self.bootloader.enabled and not self.enabled:
            raise ValueError("bootloader.enabled needs the tunnel: set tunnel.enabled: true")
        return self

    @field_validator("endpoint", "key_config_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or "?" in value:
            raise ValueError("must be an absolute path without a query, e.g. /.sealgate/tunnel")
        return value
