"""The chain: runs protections phase by phase, and the only module that speaks raw ASGI.

``Pipeline`` is transport-free: it takes an :class:`Exchange`, runs the hooks, calls the
endpoint (the upstream forwarder or a wrapped ASGI app) and returns a :class:`Response`.
``GatewayApp`` adapts it to ASGI for uvicorn; ``AppEndpoint`` adapts a user's ASGI app into an
endpoint (middleware mode). The tunnel wraps ``Pipeline`` to run decrypted inner requests
through exactly the same code.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from typing import Any, Protocol

from sealgate.errors import BodyTooLarge, ClientDisconnected, RequestError, UpstreamError
from sealgate.pipeline.exchange import Exchange, Response
from sealgate.pipeline.limits import LimitsConfig
from sealgate.pipeline.phases import Phase
from sealgate.pipeline.problem import problem_response, verdict_response
from sealgate.pipeline.protection import Hook, Protection, hooks_of
from sealgate.pipeline.verdict import Verdict

__all__ = [
    "ASGIApp",
    "AppEndpoint",
    "Endpoint",
    "ExchangeHandler",
    "GatewayApp",
    "Pipeline",
]

log = logging.getLogger("sealgate.chain")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Endpoint = Callable[[Exchange], Awaitable[Response]]
"""What the pipeline protects: returns the response for a request that passed every check."""
Observer = Callable[[Exchange], Awaitable[None]]
"""Runs in the LOG phase after the protections' log hooks (audit log, metrics)."""

_REQUEST_ID_OK = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class ExchangeHandler(Protocol):
    """Something that answers an exchange and then logs it (the pipeline, or the tunnel around it)."""

    async def handle(self, exchange: Exchange) -> Response:
        """Produce the response for the exchange; never raises for client or upstream errors."""
        ...

    async def finish(self, exchange: Exchange) -> None:
        """Run the LOG phase once the response has been sent or abandoned."""
        ...


class Pipeline:
    """Protections in order, around an endpoint. Implements :class:`ExchangeHandler`."""

    def __init__(
        self,
        protections: Sequence[Protection],
        endpoint: Endpoint,
        *,
        limits: LimitsConfig | None = None,
        observers: Sequence[Observer] = (),
    ) -> None:
        self.protections = tuple(protections)
        self.endpoint = endpoint
        self.limits = limits or LimitsConfig()
        self.observers = tuple(observers)
        self._hooks: dict[Phase, tuple[tuple[str, Hook], ...]] = {}
        for phase in Phase:
            found = [(p.name, h) for p in self.protections if (h := hooks_of(p, phase)) is not None]
            self._hooks[phase] = tuple(found)
        # One attribute per phase: Phase is an Enum, whose hash runs in Python on every lookup.
        self._on_request_headers = self._hooks[Phase.REQUEST_HEADERS]
        self._on_request_body = self._hooks[Phase.REQUEST_BODY]
        self._on_response_headers = self._hooks[Phase.RESPONSE_HEADERS]
        self._on_response_body = self._hooks[Phase.RESPONSE_BODY]
        self._on_log = self._hooks[Phase.LOG]
        self.needs_request_body = bool(self._on_request_body)
        self.needs_response_body = bool(self._on_response_body)

    async def handle(self, exchange: Exchange) -> Response:
        """Run every phase up to the response; blocked or failed requests get a problem response."""
        try:
            response = await self._run(exchange)
        except RequestError as exc:
            response = self._fail(exchange, exc.status, exc.detail, exc.title, type(exc).__name__)
        except UpstreamError as exc:
            slug = "upstream-timeout" if exc.status == 504 else "upstream-unavailable"
            response = self._fail(exchange, exc.status, exc.detail, "", slug)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A bug in a protection must not leak a traceback to the client or take the
            # worker down; it is logged with the request id and answered as a 500 problem.
            log.exception("internal error while handling request %s", exchange.request_id)
            response = self._fail(exchange, 500, "internal gateway error", "", "internal-error")
        exchange.response = response
        response.headers.append(("x-request-id", exchange.request_id))
        return response

    async def _run(self, exchange: Exchange) -> Response:
        for name, hook in self._on_request_headers:
            verdict = await hook(exchange)
            if verdict is not None:
                return self._block(exchange, verdict, name)
        if self.needs_request_body:
            await exchange.read_body(self.limits.max_body_bytes)
            exchange.decode_content_encoding(self.limits.max_body_bytes)
            for name, hook in self._on_request_body:
                verdict = await hook(exchange)
                if verdict is not None:
                    return self._block(exchange, verdict, name)
        elif exchange.body_pending:
            declared = exchange.header("content-length")
            if declared is not None and declared.isdigit():
                if int(declared) <= self.limits.buffer_request_bytes:
                    await exchange.read_body(self.limits.max_body_bytes)
                elif int(declared) > self.limits.max_body_bytes:
                    raise BodyTooLarge(
                        f"the request body is {declared} bytes; the limit is {self.limits.max_body_bytes}"
                    )
        response = await self.endpoint(exchange)
        exchange.response = response
        for name, hook in self._on_response_headers:
            verdict = await hook(exchange)
            if verdict is not None:
                await _discard(response)
                return self._block(exchange, verdict, name)
        if self.needs_response_body:
            try:
                await response.read_all(self.limits.max_response_bytes)
            except BodyTooLarge as exc:
                await _discard(response)
                raise UpstreamError(502, str(exc)) from None
            finally:
                if response.close is not None:
                    await response.close()
                    response.close = None
            for name, hook in self._on_response_body:
                verdict = await hook(exchange)
                if verdict is not None:
                    return self._block(exchange, verdict, name)
        return response

    def _block(self, exchange: Exchange, verdict: Verdict, name: str) -> Response:
        if not verdict.protection:
            verdict = Verdict(**{**_verdict_fields(verdict), "protection": name})
        exchange.verdict = verdict
        return verdict_response(verdict, exchange.request_id)

    def _fail(self, exchange: Exchange, status: int, detail: str, title: str, slug: str) -> Response:
        exchange.verdict = Verdict(status, detail, "gateway", rule_id=slug, detail=detail, title=title)
        return problem_response(status, detail, exchange.request_id, title=title, slug=slug)

    async def finish(self, exchange: Exchange) -> None:
        """The LOG phase: protections' log hooks, then observers. Errors are logged, never raised."""
        for name, hook in self._on_log:
            try:
                await hook(exchange)
            except Exception:
                log.exception("log hook of %s failed for request %s", name, exchange.request_id)
        for observer in self.observers:
            try:
                await observer(exchange)
            except Exception:
                log.exception("observer failed for request %s", exchange.request_id)


def _verdict_fields(verdict: Verdict) -> dict[str, Any]:
    return {name: getattr(verdict, name) for name in verdict.__slots__}


async def _discard(response: Response) -> None:
    if response.close is not None:
        await response.close()
        response.close = None
    response.stream = None


class GatewayApp:
    """The ASGI application uvicorn serves: turns ASGI messages into exchanges and back.

    ``on_startup`` steps run on the ASGI lifespan startup event, or before the first request
    when the server sends no lifespan events. With ``inner_app`` (middleware mode) lifespan
    events are passed on to the wrapped app as well.
    """

    def __init__(
        self,
        handler: ExchangeHandler,
        *,
        limits: LimitsConfig | None = None,
        on_startup: Sequence[Callable[[], Awaitable[None]]] = (),
        on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
        inner_app: ASGIApp | None = None,
    ) -> None:
        self.handler = handler
        self.limits = limits or LimitsConfig()
        self.on_startup = list(on_startup)
        self.on_shutdown = list(on_shutdown)
        self.inner_app = inner_app
        self._started = False
        self._start_lock = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if not self._started:
                await self.startup()
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            if self.inner_app is not None:
                await self._inner_lifespan(scope, receive, send)
            else:
                await self._lifespan(receive, send)
        # websocket: not proxied yet; returning closes the connection (uvicorn answers 403).

    async def startup(self) -> None:
        """Run the startup steps once (idempotent, safe under concurrent first requests)."""
        async with self._start_lock:
            if not self._started:
                for start in self.on_startup:
                    await start()
                self._started = True

    async def shutdown(self) -> None:
        """Run the shutdown steps once; a failing step is logged and the rest still run."""
        if not self._started:
            return
        self._started = False
        for stop in self.on_shutdown:
            try:
                await stop()
            except Exception:
                log.exception("shutdown step failed")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _inner_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.inner_app is not None

        async def wrapped_receive() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.startup()
            return message

        async def wrapped_send(message: Message) -> None:
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                await self.shutdown()
            await send(message)

        await self.inner_app(scope, wrapped_receive, wrapped_send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = exchange_from_scope(scope)
        oversize = _header_bytes(scope) > self.limits.max_header_bytes
        if oversize:
            response = problem_response(
                431,
                f"the request headers exceed {self.limits.max_header_bytes} bytes",
                exchange.request_id,
                slug="headers-too-large",
            )
            exchange.verdict = Verdict(431, "headers too large", "gateway", rule_id="headers-too-large")
            exchange.response = response
            response.headers.append(("x-request-id", exchange.request_id))
        else:
            if _has_no_body(scope, exchange):
                # RFC 9112 §6.3: without Content-Length or Transfer-Encoding an HTTP/1.x request
                # has no body. Marking it empty spares the forwarder a streamed upload (aiohttp
                # writes those from a separate task): measured, most of the core's overhead on GETs.
                exchange.body = b""
            else:
                exchange.set_body_reader(_body_reader(receive))
            response = await self.handler.handle(exchange)
        try:
            if isinstance(exchange.verdict, Verdict) and exchange.verdict.status == 499:
                return  # the client is gone; nobody to answer
            await _send_response(response, send, self.limits.max_response_bytes)
        finally:
            if response.close is not None:
                await response.close()
            await self.handler.finish(exchange)


def exchange_from_scope(scope: Scope) -> Exchange:
    """Build an exchange from an ASGI HTTP scope (names lower-case, values Latin-1)."""
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    client = scope.get("client") or ("", 0)
    request_id = ""
    for key, value in headers:
        if key == "x-request-id":
            if _REQUEST_ID_OK.fullmatch(value):
                request_id = value
            break
    return Exchange(
        method=scope["method"],
        path=scope["path"],
        raw_path=scope.get("raw_path") or scope["path"].encode("utf-8"),
        query_string=scope.get("query_string", b""),
        headers=headers,
        client_ip=client[0] or "",
        client_port=client[1] or 0,
        scheme=scope.get("scheme", "http"),
        http_version=scope.get("http_version", "1.1"),
        request_id=request_id,
    )


def _has_no_body(scope: Scope, exchange: Exchange) -> bool:
    if not str(scope.get("http_version", "1.1")).startswith("1"):
        return False  # HTTP/2 and 3 frame bodies without either header
    return exchange.header("content-length") is None and exchange.header("transfer-encoding") is None


def _header_bytes(scope: Scope) -> int:
    size = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
    for key, value in scope["headers"]:
        size += len(key) + len(value)
    return int(size)


def _body_reader(receive: Receive) -> Callable[[], Awaitable[tuple[bytes, bool]]]:
    async def read() -> tuple[bytes, bool]:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected("the client disconnected before sending the whole body")
        return message.get("body", b""), bool(message.get("more_body", False))

    return read


async def _send_response(response: Response, send: Send, limit: int) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    stream = response.stream
    if stream is None:
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})
        return
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    sent = 0
    try:
        async for chunk in stream:
            sent += len(chunk)
            if sent > limit:
                # Too late for a problem response: stop without completing the body so the
                # server closes the connection and the client sees a truncated transfer.
                log.warning("upstream response exceeded %d bytes; connection cut", limit)
                return
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except UpstreamError as exc:
        log.warning("%s; connection cut", exc.detail)
        return
    await send({"type": "http.response.body", "body": b""})


class AppEndpoint:
    """Calls a user's ASGI app in-process as the pipeline's endpoint (middleware mode)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, exchange: Exchange) -> Response:
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": exchange.http_version,
            "method": exchange.method,
            "scheme": exchange.scheme,
            "path": exchange.path,
            "raw_path": exchange.raw_path,
            "query_string": exchange.query_string,
            "root_path": "",
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in exchange.headers
                        if k != "x-request-id"]
            + [(k.encode("latin-1"), v.encode("latin-1")) for k, v in exchange.upstream_headers]
            + [(b"x-request-id", exchange.request_id.encode("latin-1"))],
            "client": (exchange.client_ip, exchange.client_port),
            "server": None,
            "state": {},
        }
        body = exchange.body if exchange.body is not None else await exchange.read_body(1 << 62)
        sent_body = False

        async def receive() -> Message:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # nothing more: the app waits for a disconnect that never comes
            return {"type": "http.disconnect"}

        started: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        chunks: asyncio.Queue[bytes | None] = asyncio.Queue()

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
                started.set_result(Response(status=message["status"], headers=headers))
            elif message["type"] == "http.response.body":
                body_part = message.get("body", b"")
                if body_part:
                    await chunks.put(body_part)
                if not message.get("more_body", False):
                    await chunks.put(None)

        async def run_app() -> None:
            try:
                await self.app(scope, receive, send)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("wrapped app raised %s for request %s", type(exc).__name__, exchange.request_id)
            finally:
                if not started.done():
                    started.set_exception(UpstreamError(502, "the application failed to produce a response"))
                await chunks.put(None)

        task = asyncio.create_task(run_app())
        try:
            response = await started
        except UpstreamError:
            await asyncio.gather(task, return_exceptions=True)
            raise

        async def stream() -> AsyncIterator[bytes]:
            while True:
                part = await chunks.get()
                if part is None:
                    return
                yield part

        async def close() -> None:
            if not task.done():
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        response.stream = stream()
        response.close = close
        return response
