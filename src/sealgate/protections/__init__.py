"""Protections, one module each; ``DEFAULT_PIPELINE`` is their order.

The request path, in order: route → (authenticate → rate-limit → authorize, coming with the
keys issue) → validate (request_validation) → sanitize → detect (injection) → [forward] →
(filter response). ``build_protections`` builds the enabled ones from the config.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sealgate.pipeline.protection import Protection

if TYPE_CHECKING:
    from sealgate.config.model import SealgateConfig
    from sealgate.openapi.document import OpenAPIDocument

__all__ = ["DEFAULT_PIPELINE", "build_protections"]

Factory = Callable[["SealgateConfig", "OpenAPIDocument | None"], "Protection | None"]


def _routing(config: SealgateConfig, document: OpenAPIDocument | None) -> Protection:
    from sealgate.protections.routing import RoutingProtection

    return RoutingProtection(config.routing, document, config.routes)


def _injection(config: SealgateConfig, document: OpenAPIDocument | None) -> Protection | None:
    if not config.injection.enabled and not any("injection" in s for s in config.routes.values()):
        return None
    from sealgate.protections.injection import InjectionProtection

    protection = InjectionProtection(config.injection)
    protection.check_routes(config.routes)
    return protection


def _request_validation(config: SealgateConfig, document: OpenAPIDocument | None) -> Protection | None:
    if document is None or not config.validation.enabled:
        return None
    from sealgate.protections.request_validation import RequestValidationProtection

    return RequestValidationProtection(config.validation, document, config.routes)


def _sanitize(config: SealgateConfig, document: OpenAPIDocument | None) -> Protection | None:
    from sealgate.protections.sanitize import build_sanitize

    return build_sanitize(config.sanitize, document)


def _concealment(config: SealgateConfig, document: OpenAPIDocument | None) -> Protection | None:
    if not (config.tunnel.enabled and config.tunnel.require_for_browsers):
        return None
    from sealgate.protections.concealment import ConcealmentProtection

    return ConcealmentProtection(config.tunnel)


DEFAULT_PIPELINE: tuple[tuple[str, Factory], ...] = (
    ("concealment", _concealment),
    ("routing", _routing),
    ("request_validation", _request_validation),
    ("sanitize", _sanitize),
    ("injection", _injection),
)
"""(name, factory) in request order. A factory returns None when its protection is disabled."""


def build_protections(config: SealgateConfig, document: OpenAPIDocument | None) -> list[Protection]:
    """Instantiate every enabled protection of :data:`DEFAULT_PIPELINE`, in order."""
    built: list[Protection] = []
    for _, factory in DEFAULT_PIPELINE:
        protection = factory(config, document)
        if protection is not None:
            built.append(protection)
    return built
