"""Protections, one module each; ``DEFAULT_PIPELINE`` is their order.

The request path, in order: route → (authenticate → rate-limit → authorize, coming with the
keys issue) → validate → detect → [forward] → (filter response). ``build_protections`` builds
the enabled ones from the config.
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


DEFAULT_PIPELINE: tuple[tuple[str, Factory], ...] = (("routing", _routing), ("injection", _injection))
"""(name, factory) in request order. A factory returns None when its protection is disabled."""


def build_protections(config: SealgateConfig, document: OpenAPIDocument | None) -> list[Protection]:
    """Instantiate every enabled protection of :data:`DEFAULT_PIPELINE`, in order."""
    built: list[Protection] = []
    for _, factory in DEFAULT_PIPELINE:
        protection = factory(config, document)
        if protection is not None:
            built.append(protection)
    return built
