"""Middleware mode: the same pipeline around a user's own Starlette app, in-process."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from sealgate.asgi import Sealgate
from sealgate.config.load import parse_config_text

SPEC = Path(__file__).parent.parent / "data" / "petstore.yaml"


def _app(events: list[str]) -> Starlette:
    async def pet(request: Request) -> JSONResponse:
        return JSONResponse({"id": int(request.path_params["pet_id"]), "via": request.headers.get("x-request-id")})

    async def create(request: Request) -> JSONResponse:
        return JSONResponse({"got": await request.json()}, status_code=201)

    async def pets(request: Request) -> StreamingResponse:
        async def gen() -> AsyncIterator[bytes]:
            for i in range(3):
                yield f"chunk{i};".encode()
        return StreamingResponse(gen(), media_type="text/plain")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    return Starlette(
        routes=[Route("/pets/{pet_id}", pet), Route("/pets", create, methods=["POST"]), Route("/pets", pets)],
        lifespan=lifespan,
    )


async def test_pipeline_wraps_a_starlette_app(tmp_path: Path) -> None:
    events: list[str] = []
    config = parse_config_text(
        f'routing: {{spec: "{SPEC}"}}\naudit: {{backend: memory}}\n', env={}
    )
    app = Sealgate(_app(events), config)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        ok = await client.get("/pets/7")
        assert ok.status_code == 200
        assert ok.json()["id"] == 7
        assert ok.json()["via"] == ok.headers["x-request-id"]
        created = await client.post("/pets", json={"name": "rex"})
        assert created.status_code == 201 and created.json() == {"got": {"name": "rex"}}
        streamed = await client.get("/pets")
        assert streamed.text == "chunk0;chunk1;chunk2;"
        blocked = await client.get("/admin")
        assert blocked.status_code == 404
        assert blocked.headers["content-type"] == "application/problem+json"
    recent = await app.gateway.audit_sink.recent(10)
    assert [e["status"] for e in recent][:4] == [404, 200, 201, 200]


async def test_lifespan_reaches_the_wrapped_app() -> None:
    events: list[str] = []
    app = Sealgate(_app(events), parse_config_text("audit: {backend: memory}\n", env={}))
    sent: list[str] = []
    queue = ["lifespan.startup", "lifespan.shutdown"]

    async def receive() -> dict[str, str]:
        return {"type": queue.pop(0)}

    async def send(message: dict[str, str]) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)  # type: ignore[arg-type]
    assert events == ["startup", "shutdown"]
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_app_crash_becomes_a_502_problem() -> None:
    async def broken(scope: object, receive: object, send: object) -> None:
        raise RuntimeError("boom: secret-internal-detail")

    app = Sealgate(broken, parse_config_text("audit: {backend: memory}\n", env={}))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/x")
    assert response.status_code == 502
    assert "secret-internal-detail" not in response.text
    assert response.json()["request_id"] == response.headers["x-request-id"]
