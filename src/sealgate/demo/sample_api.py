"""The sample "AI API" (aiohttp): recommendations, customer insights, a knowledge-base chatbot.

Endpoints (all JSON; errors are RFC 9457 ``application/problem+json``)::

    GET  /healthz                                        liveness + whether the articles table exists
    GET  /api/v1/recommendations?userId&limit&category   toy cosine-similarity recommender
    POST /api/v1/recommendations/feedback                {userId, itemId, rating 1-5, comment}
    GET  /api/v1/analytics/customers/{customerId}        one customer's insights
    GET  /api/v1/analytics/segments/{segment}/summary    FLAW: aggregates + every customer's PII
    POST /api/v1/chat                                    {message, sessionId} -> answer + sources
    GET  /api/v1/articles?q&lang&tag&articleId&limit&offset   search (parameterised LIKE)
    POST /api/v1/articles                                create an article
    GET  /api/v1/articles/{articleId}                    safe, parameterised lookup
    GET  /api/v1/legacy/articles?articleId=              FLAW: SQL injection, stacked queries work
    POST /api/v1/admin/reset                             reseed the database (loopback clients only)
    GET  /  and  /static/*                               the single-page web app

The two flaws are deliberate: they are what the demo shows sealgate stopping (the response filter
cuts the segment summary down to the OpenAPI contract; request validation rejects a non-integer
legacy ``articleId``). Because the legacy endpoint can really drop tables, the server refuses to
listen on anything but a loopback address. The handlers check types and required fields
themselves, as a typical backend does, but leave string lengths, patterns and unknown-field rules
to the contract in ``openapi.yaml`` -- the gateway's job.

Config: host (loopback only), port, db_path (SQLite file, ``None`` for in-memory). Example::

    python -m sealgate.demo.sample_api --port 9001 --db /tmp/demo.sqlite3

    server = await start_sample_api("127.0.0.1", 0, None)   # port 0: pick a free port
    print(server.url); await server.close()

    with SampleAPIThread() as api:                           # for synchronous tests
        urllib.request.urlopen(api.url + "/healthz")
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import re
import signal
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final

from aiohttp import web
from aiohttp.typedefs import Handler

from sealgate.demo import STATIC_DIR
from sealgate.demo.analytics import customer_insights, segment_summary
from sealgate.demo.chat import ArticleRow, answer
from sealgate.demo.data import CATEGORIES, CUSTOMERS, ITEMS, SEGMENTS
from sealgate.demo.recommender import MODEL_NAME, recommend
from sealgate.demo.store import KnowledgeBase, NewArticle, slugify
from sealgate.errors import ConfigError

__all__ = [
    "KB_KEY",
    "LANGS",
    "SERVICE_NAME",
    "SERVICE_VERSION",
    "SampleAPIServer",
    "SampleAPIThread",
    "create_app",
    "default_db_path",
    "is_loopback_host",
    "main",
    "run_sample_api",
    "start_sample_api",
]

log = logging.getLogger(__name__)

SERVICE_NAME: Final = "nimbus-sample-api"
SERVICE_VERSION: Final = "1.0.0"
LANGS: Final = ("en", "de", "fr", "es")
ARTICLE_STATUSES: Final = ("draft", "published", "archived")
KB_KEY: Final = web.AppKey("sealgate_demo_kb", KnowledgeBase)

_INT32_MAX: Final = 2**31 - 1
_MAX_PAGE: Final = 50
_MAX_OFFSET: Final = 10_000
_DIGITS: Final = re.compile(r"[0-9]{1,18}")


# -- helpers ---------------------------------------------------------------------------------------


class _Problem(Exception):
    """Raised by handlers to answer with a problem document."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _problem(status: int, detail: str, headers: Mapping[str, str] | None = None) -> web.Response:
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    return web.json_response(
        body, status=status, headers=headers, content_type="application/problem+json"
    )


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost`` and loopback IP literals (``127.0.0.0/8``, ``::1``, ``[::1]``)."""
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _parse_int(raw: str, name: str, minimum: int, maximum: int) -> int:
    # Strict digits only: Python's int() would also accept " 7", "+7" and "1_000".
    if not _DIGITS.fullmatch(raw):
        raise _Problem(400, f"{name} must be an integer")
    value = int(raw)
    if not minimum <= value <= maximum:
        raise _Problem(400, f"{name} must be between {minimum} and {maximum}")
    return value


def _query_int(
    request: web.Request,
    name: str,
    *,
    required: bool = False,
    default: int | None = None,
    minimum: int = 1,
    maximum: int = _INT32_MAX,
) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        if required:
            raise _Problem(400, f"{name} is required")
        return default
    return _parse_int(raw, name, minimum, maximum)


def _query_choice(request: web.Request, name: str, choices: Sequence[str]) -> str | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise _Problem(400, f"{name} must be one of: {', '.join(choices)}")
    return raw


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise _Problem(400, "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _Problem(400, "the request body must be a JSON object")
    return body


def _field_int(
    body: Mapping[str, Any], name: str, *, required: bool = True, minimum: int = 1, maximum: int = _INT32_MAX
) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            raise _Problem(400, f"{name} is required")
        return None
    # bool is a subclass of int in Python; JSON true is not a number.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Problem(400, f"{name} must be an integer")
    if not minimum <= value <= maximum:
        raise _Problem(400, f"{name} must be between {minimum} and {maximum}")
    return value


def _field_str(body: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise _Problem(400, f"{name} is required")
        return None
    if not isinstance(value, str):
        raise _Problem(400, f"{name} must be a string")
    if required and not value.strip():
        raise _Problem(400, f"{name} must not be empty")
    return value


def _require_int(value: int | None) -> int:
    assert value is not None  # only called on required fields, which _field_int/_query_int enforce
    return value


def _require_str(value: str | None) -> str:
    assert value is not None  # only called on required fields
    return value


def _article_json(row: ArticleRow) -> dict[str, Any]:
    author = None
    if row["author_id"] is not None:
        author = {"id": row["author_id"], "name": row["author_name"] or ""}
    return {
        "id": row["id"],
        "title": row["title"],
        "slug": row["slug"],
        "lang": row["lang"],
        "status": row["status"],
        "summary": row["summary"],
        "body": row["body"],
        "tags": json.loads(row["tags"]),
        "category_id": row["category_id"],
        "author": author,
        "reading_time_minutes": row["reading_time_minutes"],
        "allow_comments": bool(row["allow_comments"]),
        "published_at": row["published_at"],
        "created_at": row["created_at"],
    }


def _article_summary_json(row: ArticleRow) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "slug": row["slug"],
        "lang": row["lang"],
        "summary": row["summary"],
        "tags": json.loads(row["tags"]),
        "reading_time_minutes": row["reading_time_minutes"],
        "published_at": row["published_at"],
    }


# -- middleware ------------------------------------------------------------------------------------


@web.middleware
async def _problems_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn errors into problem documents and add ``nosniff`` to every response."""
    try:
        response = await handler(request)
    except _Problem as problem:
        response = _problem(problem.status, problem.detail)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        response = _problem(exc.status, exc.reason, allow)
    except sqlite3.Error:
        # Only the legacy endpoint leaks database errors (deliberately); everything else hides them.
        log.exception("database error in %s %s", request.method, request.path)
        response = _problem(500, "database error")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


# -- handlers: health and web app ------------------------------------------------------------------


async def _healthz(request: web.Request) -> web.StreamResponse:
    kb = request.app[KB_KEY]
    healthy = kb.has_articles_table()
    body = {
        "status": "ok" if healthy else "degraded",
        "service": SERVICE_NAME,
        "version": SERVICE_VERSION,
        "articles": kb.count_articles() if healthy else 0,
    }
    return web.json_response(body, status=200 if healthy else 503)


async def _index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


# -- handlers: recommendations ---------------------------------------------------------------------


async def _recommendations(request: web.Request) -> web.StreamResponse:
    user_id = _require_int(_query_int(request, "userId", required=True, minimum=1))
    limit = _require_int(_query_int(request, "limit", default=10, minimum=1, maximum=_MAX_PAGE))
    category = _query_choice(request, "category", CATEGORIES)
    result = recommend(user_id, limit, category, request.app[KB_KEY].feedback_for(user_id))
    return web.json_response({
        "userId": user_id,
        "strategy": result.strategy,
        "model": MODEL_NAME,
        "items": [
            {
                "itemId": r.item.id,
                "title": r.item.title,
                "category": r.item.category,
                "price": r.item.price,
                "score": r.score,
            }
            for r in result.items
        ],
    })


async def _feedback(request: web.Request) -> web.StreamResponse:
    body = await _json_object(request)
    user_id = _require_int(_field_int(body, "userId"))
    item_id = _require_int(_field_int(body, "itemId"))
    rating = _require_int(_field_int(body, "rating", minimum=1, maximum=5))
    comment = _field_str(body, "comment") or ""
    if item_id not in ITEMS:
        raise _Problem(404, f"item {item_id} does not exist")
    feedback_id = request.app[KB_KEY].add_feedback(user_id, item_id, rating, comment)
    return web.json_response({"feedbackId": feedback_id, "status": "recorded"}, status=201)


# -- handlers: analytics ---------------------------------------------------------------------------


async def _customer(request: web.Request) -> web.StreamResponse:
    customer_id = _parse_int(request.match_info["customerId"], "customerId", 1, _INT32_MAX)
    customer = CUSTOMERS.get(customer_id)
    if customer is None:
        raise _Problem(404, f"customer {customer_id} does not exist")
    return web.json_response(customer_insights(customer))


async def _segment_summary(request: web.Request) -> web.StreamResponse:
    segment = request.match_info["segment"]
    if segment not in SEGMENTS:
        raise _Problem(404, f"segment {segment!r} does not exist")
    # DELIBERATE FLAW -- EXCESSIVE DATA EXPOSURE: segment_summary() returns, next to the aggregates
    # the contract declares, every customer record of the segment (e-mail, phone, address, card
    # last-4, transactions). See sealgate.demo.analytics; sealgate's response filter removes it.
    return web.json_response(segment_summary(segment))


# -- handlers: chatbot and knowledge base ----------------------------------------------------------


async def _chat(request: web.Request) -> web.StreamResponse:
    body = await _json_object(request)
    message = _require_str(_field_str(body, "message", required=True))
    session_id = _require_str(_field_str(body, "sessionId", required=True))
    kb = request.app[KB_KEY]
    reply = answer(message, kb.published_articles())
    turn = kb.add_chat_turn(session_id, message, reply.text)
    return web.json_response({
        "sessionId": session_id,
        "turn": turn,
        "answer": reply.text,
        "sources": [{"articleId": s.article_id, "title": s.title, "score": s.score} for s in reply.sources],
    })


async def _search_articles(request: web.Request) -> web.StreamResponse:
    q = request.query.get("q") or None
    lang = _query_choice(request, "lang", LANGS)
    tag = request.query.get("tag") or None
    # articleId is the article the reader is looking at (the "related articles" box): excluded.
    exclude_id = _query_int(request, "articleId", minimum=1)
    limit = _require_int(_query_int(request, "limit", default=10, minimum=1, maximum=_MAX_PAGE))
    offset = _require_int(_query_int(request, "offset", default=0, minimum=0, maximum=_MAX_OFFSET))
    rows, total = request.app[KB_KEY].search(
        q=q, lang=lang, tag=tag, exclude_id=exclude_id, limit=limit, offset=offset
    )
    return web.json_response({
        "items": [_article_summary_json(r) for r in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
    })


def _new_article(body: Mapping[str, Any]) -> NewArticle:
    title = _require_str(_field_str(body, "title", required=True))
    text = _require_str(_field_str(body, "body", required=True))
    tags = body.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _Problem(400, "tags must be an array of strings")
    lang = _field_str(body, "lang") or "en"
    if lang not in LANGS:
        raise _Problem(400, f"lang must be one of: {', '.join(LANGS)}")
    status = _field_str(body, "status") or "draft"
    if status not in ARTICLE_STATUSES:
        raise _Problem(400, f"status must be one of: {', '.join(ARTICLE_STATUSES)}")
    author = body.get("author")
    author_id = author_name = author_email = None
    if author is not None:
        if not isinstance(author, dict):
            raise _Problem(400, "author must be an object")
        author_id = _field_int(author, "id")
        author_name = _field_str(author, "name", required=True)
        author_email = _field_str(author, "email")
    allow_comments = body.get("allow_comments", True)
    if not isinstance(allow_comments, bool):
        raise _Problem(400, "allow_comments must be a boolean")
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise _Problem(400, "metadata must be an object")
    reading_time = _field_int(body, "reading_time_minutes", required=False)
    # Unknown fields are silently ignored, like most backends do: rejecting them is the contract's job.
    return NewArticle(
        title=title,
        body=text,
        slug=_field_str(body, "slug") or slugify(title),
        lang=lang,
        status=status,
        summary=_field_str(body, "summary") or text[:200],
        tags=tuple(tags),
        category_id=_field_int(body, "category_id", required=False),
        author_id=author_id,
        author_name=author_name,
        author_email=author_email,
        reading_time_minutes=reading_time or max(1, round(len(text.split()) / 200)),
        allow_comments=allow_comments,
        published_at=_field_str(body, "published_at"),
        metadata=metadata,
    )


async def _create_article(request: web.Request) -> web.StreamResponse:
    article = _new_article(await _json_object(request))
    row = request.app[KB_KEY].create_article(article)
    return web.json_response(
        _article_json(row), status=201, headers={"Location": f"/api/v1/articles/{row['id']}"}
    )


async def _get_article(request: web.Request) -> web.StreamResponse:
    # The SAFE lookup: the raw path segment is bound as a query parameter, never pasted into SQL.
    raw_id = request.match_info["articleId"]
    row = request.app[KB_KEY].get_article(raw_id)
    if row is None:
        raise _Problem(404, "article not found")
    return web.json_response(_article_json(row))


async def _legacy_article(request: web.Request) -> web.StreamResponse:
    # !!! DELIBERATELY VULNERABLE (SQL injection, stacked queries) -- see KnowledgeBase.legacy_lookup.
    # No validation at all, and database errors are echoed to the client, as the old code did.
    if not is_loopback_host(request.remote):
        raise _Problem(403, "the legacy endpoint only answers loopback clients")
    raw_id = request.query.get("articleId")
    if raw_id is None:
        raise _Problem(400, "articleId is required")
    try:
        rows = request.app[KB_KEY].legacy_lookup(raw_id)
    except sqlite3.Error as exc:
        return _problem(500, f"database error: {exc}")
    if not rows:
        raise _Problem(404, "article not found")
    return web.json_response({
        "articles": [
            {"id": r["id"], "title": r["title"], "summary": r["summary"], "body": r["body"]} for r in rows
        ]
    })


async def _admin_reset(request: web.Request) -> web.StreamResponse:
    if not is_loopback_host(request.remote):
        raise _Problem(403, "reset is only allowed from a loopback client")
    count = request.app[KB_KEY].reset()
    return web.json_response({"status": "reset", "articles": count})


# -- application and server ------------------------------------------------------------------------


def create_app(db_path: str | os.PathLike[str] | None = None) -> web.Application:
    """Build the sample API application; the database opens on startup and closes on cleanup.

    ``db_path`` is a SQLite file (created and seeded if new) or ``None`` for a private in-memory
    database. The application does not check the listening address: use :func:`start_sample_api`
    or :func:`run_sample_api`, which refuse non-loopback hosts.
    """
    app = web.Application(middlewares=[_problems_middleware])
    app[KB_KEY] = KnowledgeBase(db_path)

    async def open_db(app: web.Application) -> None:
        app[KB_KEY].open()

    async def close_db(app: web.Application) -> None:
        app[KB_KEY].close()

    app.on_startup.append(open_db)
    app.on_cleanup.append(close_db)
    r = app.router
    r.add_get("/healthz", _healthz)
    r.add_get("/", _index)
    r.add_static("/static", STATIC_DIR, follow_symlinks=False, show_index=False)
    r.add_get("/api/v1/recommendations", _recommendations)
    r.add_post("/api/v1/recommendations/feedback", _feedback)
    r.add_get("/api/v1/analytics/customers/{customerId}", _customer)
    r.add_get("/api/v1/analytics/segments/{segment}/summary", _segment_summary)
    r.add_post("/api/v1/chat", _chat)
    r.add_get("/api/v1/articles", _search_articles)
    r.add_post("/api/v1/articles", _create_article)
    r.add_get("/api/v1/articles/{articleId}", _get_article)
    r.add_get("/api/v1/legacy/articles", _legacy_article)
    r.add_post("/api/v1/admin/reset", _admin_reset)
    return app


def _require_loopback(host: str) -> None:
    if not is_loopback_host(host):
        raise ConfigError(
            f"the sample API refuses to listen on {host!r}: it contains a deliberately SQL-injectable "
            "endpoint. Use a loopback address such as 127.0.0.1, ::1 or localhost."
        )


class SampleAPIServer:
    """A running sample API (see :func:`start_sample_api`); ``await close()`` stops it."""

    def __init__(self, runner: web.AppRunner, host: str, port: int) -> None:
        self.runner = runner
        self.host = host
        self.port = port

    @property
    def app(self) -> web.Application:
        """The served application."""
        return self.runner.app

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:9001``."""
        host = f"[{self.host.strip('[]')}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def close(self) -> None:
        """Stop listening, finish in-flight requests and close the database."""
        await self.runner.cleanup()


async def start_sample_api(
    host: str = "127.0.0.1",
    port: int = 0,
    db_path: str | os.PathLike[str] | None = None,
    *,
    access_log: bool = False,
) -> SampleAPIServer:
    """Start the sample API on the running event loop and return once it accepts connections.

    ``port=0`` picks a free port (read it from the result). Raises :class:`ConfigError` for a
    non-loopback ``host`` and ``OSError`` when the port is taken.
    """
    _require_loopback(host)
    app = create_app(db_path)
    runner = web.AppRunner(app) if access_log else web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host.strip("[]"), port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = int(runner.addresses[0][1])
    return SampleAPIServer(runner, host, bound_port)


async def _serve_forever(
    host: str, port: int, db_path: str | os.PathLike[str] | None, access_log: bool
) -> None:
    server = await start_sample_api(host, port, db_path, access_log=access_log)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # sealgate: allow Windows loops lack signal handlers
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    print(f"sealgate sample API listening on {server.url} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        await stop.wait()
    finally:
        await server.close()


def run_sample_api(
    host: str = "127.0.0.1",
    port: int = 9001,
    db_path: str | os.PathLike[str] | None = None,
    *,
    access_log: bool = False,
) -> None:
    """Serve the sample API until Ctrl-C or SIGTERM (blocking; runs its own event loop).

    Raises :class:`ConfigError` before binding anything if ``host`` is not a loopback address.
    """
    _require_loopback(host)
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(_serve_forever(host, port, db_path, access_log))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    # uvloop (a sealgate dependency off Windows) roughly doubles the demo's throughput, which keeps
    # benchmarks measuring the gateway rather than its upstream.
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


class SampleAPIThread:
    """The sample API on its own event loop in a daemon thread, for synchronous code and tests.

    Use as a context manager (``with SampleAPIThread() as api: api.url``) or call :meth:`start` and
    :meth:`stop`. ``port=0`` (the default) picks a free port.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, db_path: str | os.PathLike[str] | None = None
    ) -> None:
        _require_loopback(host)
        self._args = (host, port, db_path)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: SampleAPIServer | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sealgate-sample-api", daemon=True)

    @property
    def server(self) -> SampleAPIServer:
        """The running server (raises ``RuntimeError`` if not started)."""
        if self._server is None:
            raise RuntimeError("SampleAPIThread is not running")
        return self._server

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        return self.server.url

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self.server.port

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._server = loop.run_until_complete(start_sample_api(*self._args))
        except BaseException as exc:  # handed to start() in the caller's thread
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._server.close())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def start(self, timeout: float = 10.0) -> SampleAPIThread:
        """Start the thread and wait until the server listens; re-raises a startup error."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the sample API did not start in time")
        if self._error is not None:
            raise self._error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and join the thread (idempotent)."""
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def __enter__(self) -> SampleAPIThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def default_db_path() -> str:
    """Where ``python -m sealgate.demo.sample_api`` keeps its database by default."""
    return os.path.join(tempfile.gettempdir(), "sealgate-demo.sqlite3")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m sealgate.demo.sample_api [--host H] [--port P] [--db PATH]``."""
    parser = argparse.ArgumentParser(
        prog="python -m sealgate.demo.sample_api",
        description="Run sealgate's bundled sample AI API (loopback only: it is deliberately vulnerable).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9001, help="port (default 9001; 0 picks a free one)")
    parser.add_argument(
        "--db", default=default_db_path(), help="SQLite file, seeded when new; ':memory:' for none"
    )
    parser.add_argument("--access-log", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        db_path = None if args.db == ":memory:" else args.db
        run_sample_api(args.host, args.port, db_path, access_log=args.access_log)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
