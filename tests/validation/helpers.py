"""Shared helpers: routing + request validation (+ sanitize) in-process against a spec."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from sealgate.openapi.document import OpenAPIDocument, load_document
from sealgate.pipeline.chain import Pipeline
from sealgate.pipeline.exchange import Exchange, Response
from sealgate.pipeline.protection import Protection
from sealgate.protections.request_validation import RequestValidationProtection, ValidationConfig
from sealgate.protections.routing import RoutingConfig, RoutingProtection
from sealgate.testing import make_exchange

DATA = Path(__file__).parent.parent / "data"
SPEC = DATA / "validation.yaml"
PETSTORE = DATA / "petstore.yaml"
TENANT = "123e4567-e89b-12d3-a456-426614174000"


async def recording_endpoint(exchange: Exchange) -> Response:
    """Answers 200 and echoes what would be forwarded (body and query), like the echo upstream."""
    payload = {"body": (exchange.body or b"").decode("latin-1"), "query": exchange.query_string.decode("latin-1")}
    return Response(200, [("content-type", "application/json")], orjson.dumps(payload))


class Harness:
    """A pipeline of routing and request validation (plus extra protections) around an echo endpoint."""

    def __init__(
        self,
        spec: Path | OpenAPIDocument = SPEC,
        extra: Sequence[Protection] = (),
        route_settings: dict[str, dict[str, Any]] | None = None,
        **config: Any,
    ) -> None:
        self.document = spec if isinstance(spec, OpenAPIDocument) else load_document(spec)
        self.validation = RequestValidationProtection(ValidationConfig(**config), self.document, route_settings)
        routing = RoutingProtection(RoutingConfig(), self.document, route_settings)
        self.pipeline = Pipeline([routing, self.validation, *extra], recording_endpoint)

    async def send(
        self,
        method: str,
        path: str,
        query: str = "",
        headers: Sequence[tuple[str, str]] = (),
        body: bytes | None = None,
        json: Any = None,
    ) -> tuple[Response, Exchange]:
        hdrs = list(headers)
        if json is not None:
            body = orjson.dumps(json)
            if not any(k.lower() == "content-type" for k, _ in hdrs):
                hdrs.append(("content-type", "application/json"))
        exchange = make_exchange(method, path, query=query, headers=hdrs, body=body)
        response = await self.pipeline.handle(exchange)
        return response, exchange


def problem(response: Response) -> dict[str, Any]:
    """The problem body of a blocked response (asserts its media type)."""
    assert response.header("content-type") == "application/problem+json", response.body
    body: dict[str, Any] = orjson.loads(response.body)
    return body


def locations(response: Response) -> list[str]:
    """The violation locations of a blocked response."""
    return [v["location"] for v in problem(response)["violations"]]


def typed(exchange: Exchange) -> set[str]:
    """The locations the validator proved safe by type."""
    found: set[str] = exchange.state["validation"]["typed"]
    return found
