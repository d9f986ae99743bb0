"""Helpers for your own tests: build a pipeline from a config and run exchanges through it in-process.

Example::

    from sealgate.testing import build_pipeline, make_exchange, echo_endpoint
    pipeline = build_pipeline(config, endpoint=echo_endpoint)
    response = await pipeline.handle(make_exchange("GET", "/api/v1/articles", query="q=1"))
    assert response.status == 200
"""

from __future__ import annotations

from collections.abc import Sequence

from sealgate.config.model import SealgateConfig
from sealgate.openapi.document import load_document
from sealgate.pipeline.chain import Endpoint, Pipeline
from sealgate.pipeline.exchange import Exchange, Response
from sealgate.protections import build_protections

__all__ = ["build_pipeline", "echo_endpoint", "make_exchange"]


async def echo_endpoint(exchange: Exchange) -> Response:
    """An endpoint answering 200 with a small JSON body, like a trivial upstream."""
    return Response(200, [("content-type", "application/json")], b'{"ok":true}')


def build_pipeline(config: SealgateConfig | None = None, endpoint: Endpoint = echo_endpoint) -> Pipeline:
    """The configured protections in order around ``endpoint``, with no audit or metrics observers."""
    config = config or SealgateConfig()
    document = load_document(config.routing.spec) if config.routing.spec is not None else None
    return Pipeline(build_protections(config, document), endpoint, limits=config.limits)


def make_exchange(
    method: str,
    path: str,
    query: str = "",
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
    client_ip: str = "127.0.0.1",
) -> Exchange:
    """An exchange as the chain would build it from a request (header names lower-cased)."""
    hdrs = [(k.lower(), v) for k, v in headers]
    if body is not None and not any(k == "content-length" for k, _ in hdrs):
        hdrs.append(("content-length", str(len(body))))
    return Exchange(
        method=method.upper(),
        path=path,
        raw_path=path.encode("utf-8"),
        query_string=query.encode("latin-1"),
        headers=hdrs,
        client_ip=client_ip,
        body=body if body is not None else b"",
    )
