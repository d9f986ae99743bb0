"""The signed-code bootloader, server side: rewritten app pages, signed manifests, the client, tamper reports.

What it does, with ``tunnel.bootloader.enabled``:

* **Pages.** A ``GET`` of one of ``tunnel.bootloader.html_paths`` runs through the pipeline as usual (the
  page comes from the upstream); a ``200 text/html`` answer is buffered and rewritten: every executable
  ``<script>`` element (``src`` and inline, classic, module, import map) is removed, and the boot
  parameters JSON block plus the inline bootloader (``static/bootloader.js``, byte for byte) are inserted
  before ``</head>`` (docs/tunnel-csp.md). The response gets the documented Content-Security-Policy,
  whose ``'sha256-…'`` is computed once from the bootloader; the rest of the document stays byte-identical.
  Scripts are found with a real HTML parser (:mod:`html.parser`); data blocks
  (``type="application/json"`` and the like) are kept.
* **Manifests.** ``GET /.sealgate/manifest/<page id>.json`` (:func:`manifest_url`; the id is the first 16
  hex digits of SHA-256 over the page path) serves the page's signed manifest (:mod:`.manifest`).
* **Client.** ``GET /.sealgate/static/sealgate-client.js`` serves the browser client (``ETag``, cacheable:
  the bootloader checks its hash anyway).
* **Reports.** ``POST /.sealgate/report`` (JSON, at most 8 KiB, rate-limited per client IP) records a
  tamper report in the audit log (``rule_ids: ["tamper-report"]``, the sanitized report under
  ``tamper_report``) and answers 204. Reports are untrusted input: anyone can send them.

Trust model (deploy-time pinning). When the gateway starts (after every protection has started) it fetches
each HTML page and then each script the page references **through the pipeline**, exactly as the browser
will get them through the tunnel, and pins their SHA-384 digests. Manifests are signed from these pins
only. A script changed on the upstream afterwards (a compromised upstream, CDN or build server) no longer
matches: the bootloader refuses to run the app, shows why and reports it. To accept a legitimate new
version of the app, run ``sealgate tunnel sign-app``: it changes ``tunnel.bootloader.repin_token``, which
every worker re-reads at most every ``tunnel.key_reload_seconds`` (at a manifest request) and then re-pins
and re-signs, no restart (a restart re-pins too). The pins cover scripts; the HTML
itself is served live, but it cannot run code of its own (its scripts are removed and the CSP allows only
the bootloader and ``blob:`` URLs the bootloader creates from verified bytes). A page that cannot be pinned
at startup (upstream down, a script missing, a cross-origin script) gets no manifest — the bootloader then
shows "unavailable" — and pinning is retried at most every 5 s when its manifest is requested, so the pin
is taken at the first successful fetch after start. The manifest also vouches for the tunnel's key
configuration (``keyConfigSha384``): when the key set changes (rotation picked up by the
:class:`~sealgate.tunnel.gateway.KeyProvider`, or an old key expiring), the next manifest request re-signs
it with the new key configuration hash — the script pins stay as they are.

Limits: scripts must be same-origin (a page referencing another origin's script is not pinned: copy the
script to the app); inline scripts are dropped (move their code into a script file); ``<base href>`` is
ignored (the CSP sets ``base-uri 'none'``); only pages listed in ``html_paths`` are rewritten.

Configuration: ``tunnel.bootloader`` (``enabled``, ``html_paths``, ``signing_key``, ``repin_token``),
``tunnel.key_reload_seconds``, ``tunnel.api_prefixes`` (the boot parameters' ``prefixes``),
``tunnel.endpoint``, ``tunnel.key_config_path``, ``secrets.store_path``.

Example (what :func:`sealgate.server.app.build_gateway` does)::

    bootloader = Bootloader.from_config(config.tunnel, store_path, pipeline, keys)
    gateway = TunnelGateway(pipeline, config.tunnel, keys, replay, bootloader)
    await gateway.start()          # pins the app's scripts through the pipeline
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import html as html_lib
import json
import logging
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, unquote, urljoin, urlsplit

import orjson

from sealgate.errors import BodyTooLarge, RequestError, UpstreamError
from sealgate.pipeline.chain import Pipeline
from sealgate.pipeline.exchange import Exchange, Response
from sealgate.pipeline.problem import problem_response
from sealgate.pipeline.verdict import Verdict
from sealgate.secrets.resolve import SecretRef
from sealgate.tunnel.config import TunnelConfig
from sealgate.tunnel.manifest import (
    ManifestSigner,
    PagePin,
    ScriptPin,
    b64url,
    load_signing_key,
    manifest_payload,
    sha384_b64,
)

if TYPE_CHECKING:
    from sealgate.tunnel.gateway import KeyProvider

__all__ = [
    "CLIENT_PATH",
    "MANIFEST_PREFIX",
    "REPORT_MAX_BYTES",
    "REPORT_PATH",
    "Bootloader",
    "BootloaderSource",
    "PageScan",
    "ReportLimiter",
    "ScriptTag",
    "boot_json",
    "bootloader_source",
    "manifest_url",
    "rewrite_page",
    "sanitize_report",
    "scan_page",
]

log = logging.getLogger("sealgate.tunnel.bootloader")

STATIC_DIR: Final = Path(__file__).with_name("static")
MANIFEST_PREFIX: Final = "/.sealgate/manifest/"
CLIENT_PATH: Final = "/.sealgate/static/sealgate-client.js"
REPORT_PATH: Final = "/.sealgate/report"
REPORT_MAX_BYTES: Final = 8192
PIN_RETRY_SECONDS: Final = 5.0
"""A page that could not be pinned is retried at most this often (on requests for its manifest)."""

# Request headers dropped before a page goes upstream: the page must come back whole and uncompressed
# (we rewrite it), and never as a 304 for a copy the browser cached before the bootloader was on.
_PAGE_REQUEST_DROP: Final = frozenset({"accept-encoding", "range", "if-range", "if-none-match", "if-modified-since",
                                       "if-match", "if-unmodified-since"})
# Response headers that describe the upstream bytes, not the rewritten page, or that we replace.
_PAGE_RESPONSE_DROP: Final = frozenset({"content-length", "content-encoding", "content-security-policy", "etag",
                                        "last-modified", "accept-ranges", "content-range", "content-md5", "digest",
                                        "content-digest", "repr-digest"})
# HTML's "JavaScript MIME type essence match" list: these type attributes make a classic script.
_JS_TYPES: Final = frozenset({
    "application/ecmascript", "application/javascript", "application/x-ecmascript", "application/x-javascript",
    "text/ecmascript", "text/javascript", "text/javascript1.0", "text/javascript1.1", "text/javascript1.2",
    "text/javascript1.3", "text/javascript1.4", "text/javascript1.5", "text/jscript", "text/livescript",
    "text/x-ecmascript", "text/x-javascript",
})
# Script types a browser runs (or parses as code) without being JavaScript files: import maps and
# speculation rules. They cannot run under the bootloader's CSP, so they are removed too.
_INLINE_ONLY_TYPES: Final = frozenset({"importmap", "speculationrules"})
# Elements whose content the HTML parser of a browser (with scripting on) takes as raw text.
_RAW_TEXT: Final = frozenset({"title", "textarea", "xmp", "iframe", "noembed", "noframes", "noscript"})
_KNOWN_REPORT_KINDS: Final = frozenset({
    "signature", "client-hash", "key-config-hash", "script-hash", "boot", "manifest", "unavailable",
    "script-load", "insecure-context", "hostile-environment", "error",
})
_KIND_OK: Final = re.compile(r"[a-z][a-z0-9-]{0,39}")
_DIGEST_OK: Final = re.compile(r"[A-Za-z0-9+/=_-]{0,128}")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_WHITESPACE: Final = re.compile(r"\s+")
# WHATWG URL path percent-encode set, minus "%" (existing escapes are kept as the browser keeps them).
_PATH_SAFE: Final = "/%!$&'()*+,;=:@-._~[]|^\\"
_QUERY_SAFE: Final = _PATH_SAFE + "?`{}"


# -- the inline bootloader and its CSP ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BootloaderSource:
    """The bootloader as inlined, the ``'sha256-…'`` of that text, and the page's Content-Security-Policy."""

    text: str
    sha256: str
    csp: str


@functools.cache
def bootloader_source() -> BootloaderSource:
    """Read ``static/bootloader.js`` once and compute its CSP hash (``base64(sha256(text))``)."""
    text = (STATIC_DIR / "bootloader.js").read_text(encoding="utf-8")
    lowered = text.lower()
    if "</script" in lowered or "<!--" in text:
        # Inlined into a script element: either would end it early or change how HTML parses it.
        raise RuntimeError("bootloader.js must not contain '</script' or '<!--'")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    csp = (f"default-src 'self'; script-src 'sha256-{digest}' blob:; connect-src 'self'; object-src 'none'; "
           "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
    return BootloaderSource(text, digest, csp)


def manifest_url(page: str) -> str:
    """Where the signed manifest of ``page`` (a path from ``html_paths``) is served."""
    return f"{MANIFEST_PREFIX}{hashlib.sha256(page.encode('utf-8')).hexdigest()[:16]}.json"


def boot_json(params: dict[str, Any]) -> str:
    """The boot parameters as JSON safe inside a ``<script>`` element (``<``, ``>``, ``&`` escaped)."""
    # ASCII only (backslash-u escapes), so the block reads the same in any ASCII-compatible page charset;
    # "<", ">" and "&" are escaped so that no value can end the element or open a comment.
    text = json.dumps(params, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# -- finding the scripts of a page ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScriptTag:
    """A ``<script>`` element of a page: its byte range, ``src`` and what kind of script it is.

    ``kind`` is ``classic``, ``module``, ``inline-only`` (import maps, speculation rules) or ``data`` (a
    data block the browser never runs, such as ``application/json``; those are kept in the page).
    """

    start: int
    end: int
    src: str | None
    kind: str
    nomodule: bool = False

    @property
    def runs(self) -> bool:
        """Whether a browser would execute it (so the rewrite removes it)."""
        return self.kind != "data"


@dataclass(frozen=True, slots=True)
class PageScan:
    """The scripts of a page in document order, where the boot elements go, and the page's title."""

    scripts: tuple[ScriptTag, ...]
    insert_at: int
    title: str


def _script_kind(attrs: dict[str, str | None]) -> str:
    raw_type = attrs.get("type")
    if raw_type is None:
        language = (attrs.get("language") or "").strip()
        raw_type = f"text/{language}" if language else ""
    script_type = raw_type.strip().lower()
    if not script_type or script_type in _JS_TYPES:
        return "classic"
    if script_type == "module":
        return "module"
    if script_type in _INLINE_ONLY_TYPES:
        return "inline-only"
    return "data"


class _Scanner(HTMLParser):
    """Records script elements and the first ``</head>``/``<body>`` with their offsets in the text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self._text = text
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._open: tuple[int, dict[str, str | None]] | None = None
        self.scripts: list[ScriptTag] = []
        self.head_end: int | None = None
        self.body_start: int | None = None
        self._in_title = False
        self._title_done = False
        self.title: list[str] = []

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._open is not None:
            return  # markup inside a script that HTMLParser took for a self-closing tag (see below)
        if tag == "script":
            self._open = (self._offset(), dict(attrs))
            return
        if tag == "body" and self.body_start is None:
            self.body_start = self._offset()
        elif tag == "title" and not self._title_done:
            self._in_title = True
        if tag in _RAW_TEXT:
            # Browsers read these elements' content as text up to their end tag: a "<script>" typed into
            # a textarea is text, not an element (and one inside noscript never runs with scripting on).
            self.set_cdata_mode(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # "<script src=x />" is no empty element in HTML: the browser keeps reading script text up to
        # the next "</script>", so we do the same (HTMLParser would call it complete).
        if tag == "script":
            self.handle_starttag(tag, attrs)
        else:
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None:
            if tag == "script":
                gt = self._text.find(">", self._offset())
                self._close(len(self._text) if gt < 0 else gt + 1)
            return
        if tag == "head" and self.head_end is None:
            self.head_end = self._offset()
        elif tag == "title" and self._in_title:
            self._in_title = False
            self._title_done = True

    def handle_data(self, data: str) -> None:
        if self._in_title and self._open is None:
            self.title.append(data)

    def _close(self, end: int) -> None:
        assert self._open is not None
        start, attrs = self._open
        self._open = None
        src = attrs.get("src")
        self.scripts.append(ScriptTag(start, end, src if src is None else src.strip(), _script_kind(attrs),
                                      "nomodule" in attrs))

    def finish(self) -> None:
        self.close()
        if self._open is not None:  # an unterminated script runs to the end of the document
            self._close(len(self._text))


def scan_page(html: bytes) -> PageScan:
    """Find the scripts of an HTML document (any ASCII-compatible encoding); offsets are byte offsets."""
    # Latin-1 maps every byte to one character, so string offsets are byte offsets and the markup
    # (ASCII) parses the same whatever the page's real charset is.
    text = html.decode("latin-1")
    scanner = _Scanner(text)
    scanner.feed(text)
    scanner.finish()
    insert_at = next((p for p in (scanner.head_end, scanner.body_start) if p is not None), len(text))
    if any(s.start < insert_at < s.end for s in scanner.scripts):
        insert_at = len(text)  # only when markup is badly broken; the end of the page still works
    raw_title = "".join(scanner.title)
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):  # decoded as Latin-1 above; most pages are UTF-8
        raw_title = raw_title.encode("latin-1").decode("utf-8")
    title = _WHITESPACE.sub(" ", html_lib.unescape(raw_title)).strip()[:80]
    return PageScan(tuple(scanner.scripts), insert_at, title)


def rewrite_page(html: bytes, scan: PageScan, boot_parameters: str, bootloader: str) -> bytes:
    """``html`` without its executable scripts, with the boot JSON block and the bootloader inserted."""
    insertion = (f'<script type="application/json" id="sealgate-boot">{boot_parameters}</script>'
                 f"<script>{bootloader}</script>").encode()
    cuts = [(s.start, s.end) for s in scan.scripts if s.runs]
    out: list[bytes] = []
    at = 0
    inserted = False
    for start, end in cuts:
        if not inserted and scan.insert_at <= start:
            out += [html[at:scan.insert_at], insertion]
            at, inserted = scan.insert_at, True
        out.append(html[at:start])
        at = end
    if not inserted:
        point = max(scan.insert_at, at)
        out += [html[at:point], insertion]
        at = point
    out.append(html[at:])
    return b"".join(out)


def _same_origin_url(page: str, src: str) -> str | None:
    """``src`` resolved against ``page`` as a same-origin path (and query), as the browser will request it.

    ``None`` for URLs of another origin or scheme (``https://cdn…``, ``//cdn…``, ``data:``, ``blob:``).
    """
    cleaned = re.sub(r"[\t\n\r]", "", src)  # the URL parser drops these anywhere in a URL
    parts = urlsplit(urljoin(page, cleaned))
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    path = quote(parts.path, safe=_PATH_SAFE)
    return path + (f"?{quote(parts.query, safe=_QUERY_SAFE)}" if parts.query else "")


# -- tamper reports -----------------------------------------------------------------------------------------------


def _clean_text(value: object, limit: int) -> str:
    if not isinstance(value, str):
        return ""
    return _CONTROL.sub(" ", value)[:limit]


def sanitize_report(document: object) -> dict[str, str]:
    """The fields of a tamper report that are safe to log: known keys, no control characters, bounded.

    ``url`` loses its query and fragment (they can hold tokens); digests must look like base64.
    Raises ``ValueError`` when the document is not a JSON object.
    """
    if not isinstance(document, dict):
        raise ValueError("a tamper report is a JSON object")
    kind = _clean_text(document.get("kind"), 40)
    url = _clean_text(document.get("url"), 2048)
    try:
        parts = urlsplit(url)
        url = parts._replace(query="", fragment="").geturl()[:300]
    except ValueError:
        url = ""
    digests = {name: value if _DIGEST_OK.fullmatch(value := _clean_text(document.get(name), 129)) else ""
               for name in ("expected", "actual")}
    return {
        "kind": kind if _KIND_OK.fullmatch(kind) else "invalid",
        "known_kind": "yes" if kind in _KNOWN_REPORT_KINDS else "no",
        "detail": _clean_text(document.get("detail"), 300),
        "url": url,
        **digests,
    }


@dataclass
class ReportLimiter:
    """A token bucket per client IP: ``burst`` reports at once, refilled at ``per_minute``.

    At most ``max_clients`` buckets are kept; when full, the fullest (idle) buckets are dropped first.
    """

    per_minute: float = 6.0
    burst: float = 5.0
    max_clients: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def allow(self, client: str) -> bool:
        """Take one token for ``client``; False when its bucket is empty."""
        now = self.clock()
        tokens, last = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.per_minute / 60.0)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            return False
        if client not in self._buckets and len(self._buckets) >= self.max_clients:
            self._prune(now)
        self._buckets[client] = (tokens - 1.0, now)
        return True

    def _prune(self, now: float) -> None:
        refill = self.per_minute / 60.0
        full = [ip for ip, (tokens, last) in self._buckets.items() if tokens + (now - last) * refill >= self.burst]
        for ip in full or list(self._buckets)[: max(1, self.max_clients // 10)]:
            del self._buckets[ip]


# -- the handler -----------------------------------------------------------------------------------------------


class _Unrewritable(Exception):
    """The upstream page cannot be rewritten safely (an encoding we cannot decode); served as 502."""


@dataclass
class _Signed:
    key_config_sha384: str
    document: bytes


class Bootloader:
    """Serves the bootloader's pages, manifests, client and report endpoint in front of the pipeline."""

    def __init__(self, config: TunnelConfig, pipeline: Pipeline, keys: KeyProvider, signer: ManifestSigner,
                 *, limiter: ReportLimiter | None = None, clock: Callable[[], float] = time.time,
                 repin: SecretRef | None = None) -> None:
        self.config = config
        self.pipeline = pipeline
        self.keys = keys
        self.signer = signer
        self.limiter = limiter or ReportLimiter()
        self.clock = clock
        self.source = bootloader_source()
        self.pages: tuple[str, ...] = tuple(dict.fromkeys(config.bootloader.html_paths))
        self._manifest_pages = {manifest_url(page): page for page in self.pages}
        self.client_js = (STATIC_DIR / "sealgate-client.js").read_bytes()
        self.client_sha384 = sha384_b64(self.client_js)
        self._client_etag = f'"{self.client_sha384}"'
        self._pins: dict[str, PagePin] = {}
        self._signed: dict[str, _Signed] = {}
        self._pin_lock = asyncio.Lock()
        self._next_pin_attempt = 0.0
        self._drift_warned: set[tuple[str, tuple[tuple[str, bool], ...]]] = set()
        self._public_key = b64url(signer.public_key)
        # `sealgate tunnel sign-app` changes this value; workers compare it every key_reload_seconds.
        self._repin = repin
        self._repin_seen: str | None = None
        self._repin_checked = 0.0

    @classmethod
    def from_config(cls, config: TunnelConfig, store_path: Path, pipeline: Pipeline, keys: KeyProvider) -> Bootloader:
        """Load (or, for ``store:``, create) the code-signing key and build the handler."""
        signer = ManifestSigner(load_signing_key(config.bootloader.signing_key, store_path))
        return cls(config, pipeline, keys, signer, repin=SecretRef(config.bootloader.repin_token, store_path))

    # -- routing ---------------------------------------------------------------------------------------------
    def serves(self, path: str) -> bool:
        """Whether ``path`` is one of the bootloader's own endpoints (answered without the pipeline)."""
        return path in (CLIENT_PATH, REPORT_PATH) or path in self._manifest_pages

    def rewrites(self, exchange: Exchange) -> bool:
        """Whether the exchange asks for one of the protected HTML pages."""
        return exchange.method in ("GET", "HEAD") and exchange.path in self.pages and not exchange.tunneled

    async def serve(self, exchange: Exchange) -> Response:
        """Answer a request for the client, a manifest or the report endpoint; never raises."""
        try:
            return await self._serve(exchange)
        except RequestError as exc:  # e.g. the client went away while sending a report
            return self._problem(exchange, exc.status, exc.detail, type(exc).__name__)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("bootloader: internal error while answering %s", exchange.request_id)
            return self._problem(exchange, 500, "internal gateway error", "internal-error")

    async def _serve(self, exchange: Exchange) -> Response:
        path = exchange.path
        if path == REPORT_PATH:
            return await self._report(exchange)
        if exchange.method not in ("GET", "HEAD"):
            return self._problem(exchange, 405, "use GET", "method-not-allowed", headers=(("allow", "GET, HEAD"),))
        if path == CLIENT_PATH:
            return self._client(exchange)
        return await self._manifest(exchange, self._manifest_pages[path])

    async def start(self) -> None:
        """Pin the app's scripts (deploy time). Never raises: unpinned pages are retried on demand."""
        self._repin_seen = self._read_repin()
        self._repin_checked = time.monotonic()
        await self._pin_missing(force=True)

    # -- pages -----------------------------------------------------------------------------------------------
    async def page(self, exchange: Exchange) -> Response:
        """Run the page request through the pipeline and rewrite a ``200 text/html`` answer."""
        # Before anything reads the headers (the exchange caches them on first use).
        exchange.headers = [(k, v) for k, v in exchange.headers if k not in _PAGE_REQUEST_DROP]
        response = await self.pipeline.handle(exchange)
        if response.status != 200 or not _is_html(response.header("content-type")):
            return response
        headers = [(k, v) for k, v in response.headers if k.lower() not in _PAGE_RESPONSE_DROP]
        headers.append(("content-security-policy", self.source.csp))
        if exchange.method == "HEAD":
            await _release(response)
            rewritten = Response(200, headers, b"")
        else:
            try:
                body = await response.read_all(self.pipeline.limits.max_response_bytes)
                html = _decoded(body, response.header("content-encoding"))
            except BodyTooLarge:
                return self._fail_page(exchange, "the page is larger than limits.max_response_bytes")
            except UpstreamError as exc:
                return self._fail_page(exchange, exc.detail)
            except _Unrewritable as exc:
                return self._fail_page(exchange, str(exc))
            finally:
                await _release(response)
            scan = scan_page(html)
            self._check_drift(exchange.path, scan)
            params = self._boot_parameters(exchange.path, scan.title)
            body = rewrite_page(html, scan, boot_json(params), self.source.text)
            headers.append(("content-length", str(len(body))))
            rewritten = Response(200, headers, body)
        exchange.response = rewritten
        return rewritten

    def _boot_parameters(self, page: str, title: str) -> dict[str, Any]:
        return {
            "manifestUrl": manifest_url(page),
            "publicKey": self._public_key,
            "clientUrl": CLIENT_PATH,
            "reportUrl": REPORT_PATH,
            "appName": title or "This application",
            "keys": self.config.key_config_path,
            "tunnel": self.config.endpoint,
            "prefixes": list(self.config.api_prefixes),
        }

    def _fail_page(self, exchange: Exchange, detail: str) -> Response:
        # Fail closed: serving the page unrewritten would run its scripts unverified.
        log.error("cannot apply the bootloader to %s: %s", exchange.path, detail)
        exchange.verdict = Verdict(502, "the page cannot be protected", "bootloader", rule_id="page-unrewritable",
                                   detail=detail)
        response = problem_response(502, "the page cannot be protected", exchange.request_id,
                                    slug="bootloader-page")
        response.headers.append(("x-request-id", exchange.request_id))
        exchange.response = response
        return response

    def _check_drift(self, page: str, scan: PageScan) -> None:
        pin = self._pins.get(page)
        if pin is None:
            return
        live = tuple((url or "", s.kind == "module") for s, url in _pinnable(page, scan))
        pinned = tuple((s.url, s.module) for s in pin.scripts)
        if live != pinned and (page, live) not in self._drift_warned and len(self._drift_warned) < 100:
            self._drift_warned.add((page, live))
            log.warning("the page %s now references other scripts than when the gateway pinned them; the bootloader "
                        "runs the pinned ones. After a legitimate deploy, run `sealgate tunnel sign-app` to re-pin.",
                        page)

    # -- manifests -------------------------------------------------------------------------------------------
    async def _manifest(self, exchange: Exchange, page: str) -> Response:
        pin = self._pins.get(page)
        if pin is None:
            await self._pin_missing(force=False)
            pin = self._pins.get(page)
        else:
            await self._check_repin()
            pin = self._pins.get(page)
        if pin is None:
            return self._problem(exchange, 503, "the app's scripts are not pinned yet; see the gateway log",
                                 "manifest-unavailable", headers=(("retry-after", str(int(PIN_RETRY_SECONDS))),))
        key_config_sha384 = sha384_b64(self.keys.get().key_config_bytes())
        signed = self._signed.get(page)
        if signed is None or signed.key_config_sha384 != key_config_sha384:
            if signed is not None:
                log.info("the tunnel key configuration changed: re-signing the manifest of %s", page)
            payload = manifest_payload(pin, CLIENT_PATH, self.client_sha384, key_config_sha384, int(self.clock()))
            signed = _Signed(key_config_sha384, self.signer.sign(payload))
            self._signed[page] = signed
        body = signed.document
        headers = [("content-type", "application/json"), ("content-length", str(len(body))),
                   ("cache-control", "no-store"), ("x-content-type-options", "nosniff")]
        return Response(200, headers, body if exchange.method == "GET" else b"")

    async def _pin_missing(self, *, force: bool) -> None:
        if all(page in self._pins for page in self.pages):
            return
        async with self._pin_lock:
            now = time.monotonic()
            if not force and now < self._next_pin_attempt:
                return
            self._next_pin_attempt = now + PIN_RETRY_SECONDS
            for page in self.pages:
                if page in self._pins:
                    continue  # pinned once, pinned for the life of the process (the trust model)
                try:
                    pin = await self._pin_page(page)
                except _PinError as exc:
                    log.error("bootloader: cannot pin the scripts of %s: %s", page, exc)
                    continue
                except Exception:
                    log.exception("bootloader: pinning %s failed", page)
                    continue
                self._pins[page] = pin
                log.info("bootloader: pinned %d script(s) of %s", len(pin.scripts), page)

    def _read_repin(self) -> str | None:
        if self._repin is None:
            return None
        try:
            return self._repin.read()
        except Exception as exc:  # a store being rewritten, a file being replaced: try again next time
            log.error("bootloader: reading %s failed: %s", self._repin.describe(), type(exc).__name__)
            return self._repin_seen

    async def _check_repin(self) -> None:
        """Re-pin every page when the re-pin token changed (`sealgate tunnel sign-app`), at most every
        ``tunnel.key_reload_seconds`` per worker, like the key set."""
        now = time.monotonic()
        if self._repin is None or now - self._repin_checked < self.config.key_reload_seconds:
            return
        self._repin_checked = now
        token = self._read_repin()
        if token == self._repin_seen:
            return
        async with self._pin_lock:
            if token == self._repin_seen:
                return  # another request re-pinned meanwhile
            fresh: dict[str, PagePin] = {}
            for page in self.pages:
                try:
                    fresh[page] = await self._pin_page(page)
                except _PinError as exc:
                    log.error("bootloader: cannot re-pin the scripts of %s: %s", page, exc)
                except Exception:
                    log.exception("bootloader: re-pinning %s failed", page)
            # Each page's pin is replaced whole (its manifest never mixes versions); a page that
            # failed keeps its previous pin, and the token stays unseen so the next check (one
            # key_reload_seconds later) tries again.
            changed = [page for page, pin in fresh.items() if self._pins.get(page) != pin]
            self._pins.update(fresh)
            for page in fresh:
                self._signed.pop(page, None)  # re-sign: a newer issuedAt, which browsers then require
            self._drift_warned.clear()
            if len(fresh) < len(self.pages):
                log.error("bootloader: re-pinning requested by sign-app failed for %d page(s); they keep their "
                          "previous pins and are retried", len(self.pages) - len(fresh))
                return
            self._repin_seen = token
            log.info("bootloader: re-pinned after `sealgate tunnel sign-app`; %d of %d page(s) changed",
                     len(changed), len(self.pages))

    async def _pin_page(self, page: str) -> PagePin:
        status, content_type, body, encoding = await self._fetch(page, tunneled=False, accept="text/html")
        if status != 200 or not _is_html(content_type):
            raise _PinError(f"the page answered {status} {content_type or '(no content type)'}")
        try:
            scan = scan_page(_decoded(body, encoding))
        except _Unrewritable as exc:
            raise _PinError(str(exc)) from None
        scripts: list[ScriptPin] = []
        for tag, url in _pinnable(page, scan):
            if url is None:
                raise _PinError(f"the script {tag.src!r} is not same-origin; serve a copy from the app's origin")
            status, _, script, _ = await self._fetch(url, tunneled=True, accept="*/*")
            if status != 200:
                raise _PinError(f"the script {url} answered {status}")
            scripts.append(ScriptPin(url, sha384_b64(script), module=tag.kind == "module"))
        dropped = sum(1 for s in scan.scripts if s.runs and s.src is None)
        if dropped:
            log.warning("bootloader: %s has %d inline script(s); they do not run under the bootloader. "
                        "Move their code into a script file.", page, dropped)
        return PagePin(page, scan.title, tuple(scripts))

    async def _fetch(self, target: str, *, tunneled: bool, accept: str) -> tuple[int, str, bytes, str | None]:
        """GET ``target`` through the whole pipeline, as the browser will (scripts: as tunneled requests)."""
        path, _, query = target.partition("?")
        exchange = Exchange(
            method="GET", path=unquote(path), raw_path=path.encode("latin-1", "replace"),
            query_string=query.encode("latin-1", "replace"),
            headers=[("accept", accept), ("user-agent", "sealgate-bootloader-pin")],
            client_ip="127.0.0.1",  # the gateway itself asks
            tunneled=tunneled,
        )
        exchange.audit["bootloader"] = "pin"
        response = await self.pipeline.handle(exchange)
        try:
            body = await response.read_all(self.pipeline.limits.max_response_bytes)
        except BodyTooLarge:
            raise _PinError(f"{target} is larger than limits.max_response_bytes") from None
        except UpstreamError as exc:
            raise _PinError(f"{target}: {exc.detail}") from None
        finally:
            await _release(response)
            await self.pipeline.finish(exchange)  # the pin fetches are in the audit log too
        return response.status, response.header("content-type") or "", body, response.header("content-encoding")

    # -- client and reports ----------------------------------------------------------------------------------
    def _client(self, exchange: Exchange) -> Response:
        headers = [("content-type", "application/javascript; charset=utf-8"), ("etag", self._client_etag),
                   ("cache-control", "public, max-age=3600"), ("x-content-type-options", "nosniff")]
        match = exchange.header("if-none-match")
        if match is not None and self._client_etag in (t.strip() for t in match.split(",")):
            return Response(304, headers, b"")
        headers.append(("content-length", str(len(self.client_js))))
        return Response(200, headers, self.client_js if exchange.method == "GET" else b"")

    async def _report(self, exchange: Exchange) -> Response:
        if exchange.method != "POST":
            return self._problem(exchange, 405, "tamper reports are POSTed", "method-not-allowed",
                                 headers=(("allow", "POST"),))
        if exchange.content_type != "application/json":
            return self._problem(exchange, 415, "tamper reports are application/json", "unsupported-media-type")
        if not self.limiter.allow(exchange.client_ip):
            return self._problem(exchange, 429, "too many tamper reports from this client", "report-rate-limit",
                                 headers=(("retry-after", "60"),))
        try:
            raw = await exchange.read_body(REPORT_MAX_BYTES)
        except BodyTooLarge:
            return self._problem(exchange, 413, f"a tamper report is at most {REPORT_MAX_BYTES} bytes",
                                 "report-too-large")
        try:
            report = sanitize_report(orjson.loads(raw))
        except (orjson.JSONDecodeError, ValueError):
            return self._problem(exchange, 400, "a tamper report is a JSON object", "report-malformed")
        exchange.audit["tamper_report"] = report
        exchange.verdict = Verdict(204, "tamper report received", "bootloader", rule_id="tamper-report",
                                   detail=f"{report['kind']}: {report['detail']}"[:400])
        log.warning("tamper report from %s: kind=%s url=%s detail=%s", exchange.client_ip, report["kind"],
                    report["url"], report["detail"])
        return Response(204, [("cache-control", "no-store")], b"")

    def _problem(self, exchange: Exchange, status: int, detail: str, slug: str,
                 headers: tuple[tuple[str, str], ...] = ()) -> Response:
        exchange.verdict = Verdict(status, detail, "bootloader", rule_id=slug)
        return problem_response(status, detail, exchange.request_id, slug=slug, headers=headers)


class _PinError(Exception):
    """A page or one of its scripts could not be pinned (the message says why, for the log)."""


def _pinnable(page: str, scan: PageScan) -> list[tuple[ScriptTag, str | None]]:
    """The page's script files in order, with their same-origin URLs (``None``: another origin)."""
    return [(s, _same_origin_url(page, s.src)) for s in scan.scripts
            if s.src and s.kind in ("classic", "module") and not (s.nomodule and s.kind == "classic")]


def _is_html(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() == "text/html"


def _decoded(body: bytes, encoding: str | None) -> bytes:
    """The page's bytes without content coding; UTF-16 pages are refused (we rewrite ASCII markup)."""
    coding = (encoding or "identity").strip().lower()
    if coding in ("gzip", "x-gzip", "deflate"):
        try:
            # wbits 47 accepts gzip and zlib headers; raw deflate (what some servers send) is -15.
            body = _inflate(body, 47 if coding != "deflate" else 15)
        except zlib.error:
            try:
                body = _inflate(body, -15)
            except zlib.error:
                raise _Unrewritable(f"the page's {coding} body does not decompress") from None
    elif coding != "identity":
        raise _Unrewritable(f"the page is {coding}-encoded; sealgate cannot rewrite that")
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _Unrewritable("the page is UTF-16; serve it as UTF-8")
    return body


def _inflate(body: bytes, wbits: int, limit: int = 64 << 20) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    out = decompressor.decompress(body, limit)
    if decompressor.unconsumed_tail:
        raise zlib.error("the decompressed page is larger than 64 MiB")
    return out


async def _release(response: Response) -> None:
    if response.close is not None:
        await response.close()
        response.close = None
