"""The tunnel endpoint: decrypt an Oblivious HTTP request, run it through the whole pipeline,
encrypt the response.

``TunnelGateway`` wraps the :class:`~sealgate.pipeline.chain.Pipeline` as the ASGI app's
handler. It answers two paths itself:

- ``GET /.well-known/ohttp-gateway`` (``tunnel.key_config_path``): the key configuration,
  ``application/ohttp-keys`` (RFC 9540), cacheable for ``tunnel.key_cache_seconds``;
- ``POST /.sealgate/tunnel`` (``tunnel.endpoint``), ``message/ohttp-req``: decapsulation
  (RFC 9458), a replay check on the encapsulated key ``enc``, Binary HTTP decoding (RFC 9292),
  a ``Date`` freshness check, then the inner request runs through **every** protection exactly
  like a plaintext request; its response is encapsulated back as ``message/ohttp-res``.

Errors before decryption (unknown key, malformed or undecryptable message) are plaintext
problems, with the RFC 9458 ``ohttp-key`` problem type for key errors so clients refetch the
key configuration. Errors after decryption (bad inner message, stale ``Date``, replay) are
encapsulated problems, so only the client can read them; a stale ``Date`` answer carries the
gateway's ``Date`` (RFC 9458 §6.5) and a replay answer has type ``…/replay`` (retry once with
a fresh encapsulation).

With ``tunnel.bootloader.enabled`` a :class:`~sealgate.tunnel.bootloader.Bootloader` also answers
``/.sealgate/manifest/…``, ``/.sealgate/static/sealgate-client.js`` and ``/.sealgate/report``, and
rewrites the HTML pages of ``tunnel.bootloader.html_paths`` (after the pipeline produced them);
``start()`` pins the app's scripts. Everything else goes straight to the pipeline.
"""

from __future__ import annotations

import calendar
import email.utils
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

import orjson

from sealgate.errors import BodyTooLarge, RequestError
from sealgate.pipeline.chain import Pipeline
from sealgate.pipeline.exchange import Exchange, Response
from sealgate.pipeline.problem import PROBLEM_TYPE_BASE, problem_response
from sealgate.pipeline.verdict import Verdict
from sealgate.secrets.resolve import SecretRef
from sealgate.storage.base import ReplayCache
from sealgate.tunnel import bhttp, ohttp
from sealgate.tunnel.config import TunnelConfig
from sealgate.tunnel.keys import KeySet
from sealgate.upstream.forwarder import HOP_BY_HOP

if TYPE_CHECKING:
    from sealgate.tunnel.bootloader import Bootloader

__all__ = ["KeyProvider", "TunnelGateway", "ensure_key_set"]

log = logging.getLogger("sealgate.tunnel")

OHTTP_REQUEST = "message/ohttp-req"
OHTTP_RESPONSE = "message/ohttp-res"
OHTTP_KEYS = "application/ohttp-keys"
PROBLEM_REPLAY = PROBLEM_TYPE_BASE + "replay"
PROBLEM_DATE = PROBLEM_TYPE_BASE + "date"
_SKIP_INNER_RESPONSE = HOP_BY_HOP | {"content-length"}


def ensure_key_set(config: TunnelConfig, store_path: Path) -> KeySet:
    """Load the key set, generating and saving one on first start for ``store:`` references."""
    ref = SecretRef(config.keys, store_path)
    text = ref.read()
    if text is None:
        if not config.keys.startswith("store:"):
            from sealgate.errors import ConfigError

            raise ConfigError(f"tunnel.keys: {ref.describe()} is not set. Fix: run `sealgate tunnel rotate-keys` "
                              "to create a key set, or use store:tunnel-keys.")
        key_set = KeySet.generate()
        ref.write(key_set.to_json())
        return key_set
    return KeySet.from_json(text)


@dataclass
class KeyProvider:
    """The current key set, re-read from its secret every ``reload_seconds`` (to pick up rotations)."""

    ref: SecretRef
    reload_seconds: float
    _keys: KeySet | None = None
    _loaded_at: float = field(default=0.0)

    def get(self) -> KeySet:
        """The key set, reloading it when the interval has passed (a failed reload keeps the old set)."""
        now = time.monotonic()
        if self._keys is None or now - self._loaded_at >= self.reload_seconds:
            self._loaded_at = now
            try:
                text = self.ref.read()
                if text is not None:
                    self._keys = KeySet.from_json(text)
            except Exception as exc:
                if self._keys is None:
                    raise
                log.error("reloading the tunnel keys from %s failed: %s", self.ref.describe(), type(exc).__name__)
        if self._keys is None:
            raise RequestError(f"the tunnel keys are missing ({self.ref.describe()})")
        return self._keys


class TunnelGateway:
    """An :class:`~sealgate.pipeline.chain.ExchangeHandler` that adds the tunnel in front of the pipeline."""

    def __init__(self, pipeline: Pipeline, config: TunnelConfig, keys: KeyProvider, replay: ReplayCache,
                 bootloader: Bootloader | None = None) -> None:
        self.pipeline = pipeline
        self.config = config
        self.keys = keys
        self.replay = replay
        self.replay_ttl = 2.0 * config.max_clock_skew_seconds
        self.bootloader = bootloader
        # The last Date value seen and its Unix time: clients send one-second resolution, so
        # under load most requests repeat the previous value and skip the parse.
        self._last_date: tuple[bytes, float | None] = (b"", None)

    async def start(self) -> None:
        """Startup step, after the pipeline's: the bootloader pins the app's scripts through it."""
        if self.bootloader is not None:
            await self.bootloader.start()

    async def handle(self, exchange: Exchange) -> Response:
        """Serve the key configuration, the tunnel endpoint, the bootloader's endpoints and pages, or pass
        the exchange to the pipeline."""
        path = exchange.path
        if path == self.config.key_config_path:
            return self._respond(exchange, self._key_config(exchange))
        if path == self.config.endpoint:
            return self._respond(exchange, await self._tunnel(exchange))
        bootloader = self.bootloader
        if bootloader is not None:
            if bootloader.serves(path):
                return self._respond(exchange, await bootloader.serve(exchange))
            if bootloader.rewrites(exchange):
                return await bootloader.page(exchange)
        return await self.pipeline.handle(exchange)

    async def finish(self, exchange: Exchange) -> None:
        """Log the inner exchange for tunnel requests (the outer one says nothing), else the exchange."""
        inner = exchange.state.get("tunnel_inner")
        await self.pipeline.finish(inner if isinstance(inner, Exchange) else exchange)

    # -- the two endpoints ----------------------------------------------------------------------
    def _key_config(self, exchange: Exchange) -> Response:
        if exchange.method not in ("GET", "HEAD"):
            return self._problem(exchange, 405, "use GET for the key configuration", "method-not-allowed",
                                 headers=(("allow", "GET, HEAD"),))
        body = self.keys.get().key_config_bytes()
        headers = [("content-type", OHTTP_KEYS), ("content-length", str(len(body))),
                   ("cache-control", f"max-age={self.config.key_cache_seconds}")]
        return Response(200, headers, body if exchange.method == "GET" else b"")

    async def _tunnel(self, exchange: Exchange) -> Response:
        if exchange.method != "POST":
            return self._problem(exchange, 405, "the tunnel accepts POST only", "method-not-allowed",
                                 headers=(("allow", "POST"),))
        if exchange.content_type != OHTTP_REQUEST:
            return self._problem(exchange, 415, f"the tunnel accepts {OHTTP_REQUEST} only", "unsupported-media-type")
        try:
            message = exchange.body  # already read (the usual case: a small POST), else read it now
            if message is None:
                message = await exchange.read_body(self.pipeline.limits.max_body_bytes)
            inner_bytes, context = ohttp.decapsulate_request(self.keys.get().decryption_keys(), message)
        except ohttp.UnknownKeyError as exc:
            return self._problem(exchange, 400, exc.detail + "; fetch the key configuration again", "ohttp-key",
                                 type_uri=ohttp.PROBLEM_TYPE_KEY)
        except (BodyTooLarge, ohttp.OhttpError) as exc:
            return self._problem(exchange, exc.status, exc.detail, type(exc).__name__)
        if not await self.replay.add_if_absent(context.enc, self.replay_ttl):
            exchange.verdict = Verdict(400, "replayed tunnel request", "tunnel", rule_id="replay")
            return self._sealed(context, _problem_bhttp(exchange, 400, "this encapsulated request was already "
                                "received; retry once with a fresh encapsulation", PROBLEM_REPLAY))
        try:
            request = bhttp.decode_request(inner_bytes)
        except bhttp.BhttpError as exc:
            exchange.verdict = Verdict(400, exc.detail, "tunnel", rule_id="bhttp-malformed")
            return self._sealed(context, _problem_bhttp(exchange, 400, exc.detail, PROBLEM_TYPE_BASE + "bhttp"))
        inner, date = _inner_exchange(exchange, request)
        exchange.state["tunnel_inner"] = inner
        stale = self._date_problem(date)
        if stale:
            inner.verdict = Verdict(400, stale, "tunnel", rule_id="stale-date")
            now = email.utils.formatdate(usegmt=True)
            return self._sealed(context, _problem_bhttp(inner, 400, stale, PROBLEM_DATE, (("date", now),)))
        response = await self.pipeline.handle(inner)
        too_large = False
        try:
            body = await response.read_all(self.pipeline.limits.max_response_bytes)
        except BodyTooLarge:
            too_large = True
        finally:
            # Release the upstream response itself (also when it was too large to read).
            if response.close is not None:
                await response.close()
                response.close = None
        if too_large:
            response = problem_response(502, "the upstream response is too large for the tunnel", inner.request_id)
            body = response.body
        # Binary HTTP field names are lowercase (RFC 9292 §3.6); a wrapped ASGI app may send
        # "Content-Type", which the encoder would refuse.
        headers = [(name.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers
                   if (name := k.lower()) not in _SKIP_INNER_RESPONSE]
        try:
            return self._sealed(context, bhttp.BhttpResponse(response.status, headers, body))
        except ValueError:
            # A header value with CR, LF or NUL cannot be encoded; do not pass it on in any form.
            inner.verdict = Verdict(502, "the upstream response cannot be encoded as Binary HTTP", "tunnel",
                                    rule_id="bhttp-encode")
            return self._sealed(context, _problem_bhttp(inner, 502, "the upstream response has invalid header "
                                "fields", PROBLEM_TYPE_BASE + "bhttp"))

    # -- helpers ----------------------------------------------------------------------------------
    def _date_problem(self, raw: bytes | None) -> str:
        if raw is None:
            return "the inner request needs a Date header (replay protection)"
        last_raw, sent = self._last_date
        if raw != last_raw:
            sent = _http_date(raw)
            self._last_date = (raw, sent)
        if sent is None:
            return "the inner request's Date header is not an HTTP date"
        if abs(time.time() - sent) > self.config.max_clock_skew_seconds:
            return (f"the inner request's Date is more than {self.config.max_clock_skew_seconds} s from the "
                    "gateway's clock")
        return ""

    def _sealed(self, context: ohttp.ResponseContext, response: bhttp.BhttpResponse) -> Response:
        body = ohttp.encapsulate_response(context, bhttp.encode_response(response))
        return Response(200, [("content-type", OHTTP_RESPONSE), ("content-length", str(len(body))),
                              ("cache-control", "no-store")], body)

    def _problem(self, exchange: Exchange, status: int, detail: str, slug: str,
                 headers: tuple[tuple[str, str], ...] = (), type_uri: str = "") -> Response:
        exchange.verdict = Verdict(status, detail, "tunnel", rule_id=slug)
        return problem_response(status, detail, exchange.request_id, slug=slug, headers=headers, type_uri=type_uri)

    @staticmethod
    def _respond(exchange: Exchange, response: Response) -> Response:
        exchange.response = response
        response.headers.append(("x-request-id", exchange.request_id))
        return response


_IMF_FIXDATE = re.compile(rb"[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT")
_MONTHS = {m: i for i, m in enumerate((b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug",
                                       b"Sep", b"Oct", b"Nov", b"Dec"), start=1)}


def _http_date(raw: bytes) -> float | None:
    """Unix time of an HTTP date, or None. IMF-fixdate (what clients send) is parsed directly,
    ~20x faster than email.utils on this hot path; the obsolete formats fall back to it."""
    m = _IMF_FIXDATE.fullmatch(raw)
    if m is not None and m.group(2) in _MONTHS:
        day, _, year, hour, minute, second = (int(g) if i != 1 else 0 for i, g in enumerate(m.groups()))
        try:
            return float(calendar.timegm((year, _MONTHS[m.group(2)], day, hour, minute, second, 0, 0, 0)))
        except (OverflowError, ValueError):
            return None
    try:
        return email.utils.parsedate_to_datetime(raw.decode("latin-1")).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _inner_exchange(outer: Exchange, request: bhttp.BhttpRequest) -> tuple[Exchange, bytes | None]:
    """The inner request as an exchange, and its first Date value (one pass over the fields)."""
    target = request.path or "/"
    path, _, query = target.partition("?")
    headers: list[tuple[str, str]] = []
    date: bytes | None = None
    host = cookie = False
    for k, v in request.headers:
        # Names were checked to be lowercase tokens by the decoder: ASCII, so this cannot fail.
        name = k.decode("latin-1")
        headers.append((name, v.decode("latin-1")))
        if name == "date":
            if date is None:
                date = v
        elif name == "host":
            host = True
        elif name == "cookie":
            cookie = True
    if request.authority and not host:
        headers.insert(0, ("host", request.authority))
    # Browsers cannot set Cookie on the inner request (a forbidden header for scripts); they
    # attach the origin's cookies to the outer POST, so the inner request inherits them.
    if not cookie and outer.header("cookie") is not None:
        headers.extend((k, v) for k, v in outer.headers if k == "cookie")
    if request.body or request.method not in ("GET", "HEAD"):
        # A bodiless GET carries no Content-Length, as from a browser: protections (and the
        # detectors scanning every header) then see the request a plaintext client would send.
        headers.append(("content-length", str(len(request.body))))
    return Exchange(
        method=request.method,
        path=unquote(path) if "%" in path else path,
        raw_path=path.encode("latin-1", "replace"),
        query_string=query.encode("latin-1", "replace"),
        headers=headers,
        client_ip=outer.client_ip,
        client_port=outer.client_port,
        scheme=request.scheme or outer.scheme,
        request_id=outer.request_id,
        body=request.body,
        tunneled=True,
        started=outer.started,
        received_at=outer.received_at,
    ), date


def _problem_bhttp(exchange: Exchange, status: int, detail: str, type_uri: str,
                   headers: tuple[tuple[str, str], ...] = ()) -> bhttp.BhttpResponse:
    body = orjson.dumps({"type": type_uri, "title": "Tunnel Request Refused", "status": status,
                         "detail": detail, "request_id": exchange.request_id})
    fields = [(b"content-type", b"application/problem+json")]
    fields += [(k.encode(), v.encode()) for k, v in headers]
    return bhttp.BhttpResponse(status, fields, body)
