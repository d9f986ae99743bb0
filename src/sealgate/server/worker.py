"""Entry point of each worker process when ``server.workers > 1``.

The supervisor validates the config once and hands it to workers as JSON in
``SEALGATE_RUNTIME_CONFIG`` (an internal variable), so every worker runs the same settings.
"""

from __future__ import annotations

import os

from sealgate.config.model import SealgateConfig
from sealgate.pipeline.chain import GatewayApp
from sealgate.server.app import build_app

__all__ = ["RUNTIME_CONFIG_ENV", "create_app"]

RUNTIME_CONFIG_ENV = "SEALGATE_RUNTIME_CONFIG"


def create_app() -> GatewayApp:
    """Build the gateway app from the supervisor's validated config (uvicorn factory)."""
    raw = os.environ[RUNTIME_CONFIG_ENV]
    return build_app(SealgateConfig.model_validate_json(raw))
