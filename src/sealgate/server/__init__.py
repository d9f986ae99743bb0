"""Assembling and running the gateway: ``build_app(config)`` and the uvicorn runner."""

from sealgate.server.app import Gateway, build_app, build_gateway

__all__ = ["Gateway", "build_app", "build_gateway"]
