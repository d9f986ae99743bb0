"""What the encrypted tunnel costs the gateway: µs of CPU per request, and requests/s, tunnel vs plaintext.

In-process part (always): a :class:`~sealgate.tunnel.gateway.TunnelGateway` around
``sealgate.testing.build_pipeline(config)`` with the in-process ``echo_endpoint``, no network. The same
inner request (``GET /api/v1/articles?q=rotate&limit=5`` with a few browser-like headers) is timed

- ``plaintext``: ``await gateway.handle(exchange)`` + ``finish`` for the plain request (the tunnel passes
  it straight to the pipeline), and
- ``tunnel``: the same for a ``POST /.sealgate/tunnel`` carrying the request OHTTP-encapsulated
  (decapsulation, replay check, Binary HTTP decoding, Date check, the pipeline, encoding and
  encapsulating the response).

The client side is excluded: ``-n`` messages are encapsulated (each with a fresh ``enc``, as replay
protection requires) before the clock starts. Both paths are timed the same way: exchanges built
before the clock, ``process_time`` around ``handle`` + ``finish``, the garbage collector off, and
each exchange released after its request (as in the server; keeping the whole batch alive grew
the heap and charged page faults to the path that retains more). Pipelines: ``quick`` (no spec, the default config) and
``core`` (routing against the demo's OpenAPI spec), plus ``bare`` (no protections at all: the
tunnel's own cost stands out). The table shows the median over ``--repeat``
batches, the tunnel's extra µs and the ratio; the target is at most 100 µs on top of plaintext. A
breakdown times the HPKE/OHTTP steps alone, and the HPKE floor is measured in the same run: the
``cryptography`` package's built-in single-shot HPKE open of a message of the same size (all native
code), with the tunnel's own cost as a multiple of it (the issue's budget, 100 µs, is about twice
the floor it measured, ~48 µs), so a slower or busier machine shows in the ratio.

Load part (``--load``): ``sealgate serve`` in a subprocess (one worker, tunnel on, quick mode) in front
of an aiohttp echo upstream; a bounded aiohttp client loop (``--concurrency`` requests in flight for
``--seconds``) sends the plaintext GET, then pre-encapsulated tunnel POSTs, and prints requests/s and
their ratio. The client and the upstream share this process, so compare the ratio, not the absolutes.

Example::

    .venv/bin/python bench/tunnel_cost.py
    .venv/bin/python bench/tunnel_cost.py -n 3000 --repeat 7 --load --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import gc
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from sealgate.config.load import parse_config_text
from sealgate.config.model import SealgateConfig
from sealgate.pipeline.chain import Pipeline
from sealgate.pipeline.exchange import Exchange
from sealgate.secrets.resolve import SecretRef
from sealgate.storage.factory import build_replay_cache
from sealgate.testing import build_pipeline, echo_endpoint, make_exchange
from sealgate.tunnel import bhttp, hpke, ohttp
from sealgate.tunnel.gateway import KeyProvider, TunnelGateway, ensure_key_set

REPO = Path(__file__).resolve().parent.parent
DEMO_SPEC = REPO / "src" / "sealgate" / "demo" / "openapi.yaml"
TARGET = "/api/v1/articles?q=rotate&limit=5"
HEADERS = [
    ("host", "127.0.0.1:8080"),
    ("accept", "application/json"),
    ("accept-language", "en-GB,en;q=0.9"),
    ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"),
]
TUNNEL = "/.sealgate/tunnel"
BUDGET_US = 100.0
REFERENCE_FLOOR_US = 48.0
"""The issue's HPKE floor "on this kind of machine": the budget is about twice it. The floor is
measured again in every run (:func:`hpke_floor`), so a slower or busier machine shows in the ratio."""


@dataclass
class Row:
    pipeline: str
    plain_us: float
    tunnel_us: float
    plain_best: float
    tunnel_best: float

    @property
    def extra_us(self) -> float:
        return self.tunnel_us - self.plain_us


def config_text(store: Path, spec: Path | None) -> str:
    routing = f'routing: {{spec: "{spec}"}}\n' if spec else ""
    return (f'secrets: {{store_path: "{store}"}}\n'
            "audit: {backend: 'off'}\nadmin: {enabled: false}\n"
            f"{routing}"
            "tunnel: {enabled: true, replay: {backend: memory}}\n")


def inner_request() -> bytes:
    fields = [(k.encode(), v.encode()) for k, v in HEADERS if k != "host"]
    fields.append((b"date", email.utils.formatdate(usegmt=True).encode()))
    return bhttp.encode_request(bhttp.BhttpRequest("GET", "https", "127.0.0.1:8080", TARGET, fields, b""))


def seal_many(key_config: ohttp.KeyConfig, n: int) -> list[tuple[bytes, ohttp.ClientContext]]:
    return [ohttp.encapsulate_request(key_config, inner_request()) for _ in range(n)]


def tunnel_exchange(message: bytes) -> Exchange:
    return Exchange(method="POST", path=TUNNEL, raw_path=TUNNEL.encode(),
                    headers=[("host", "127.0.0.1:8080"), ("content-type", "message/ohttp-req"),
                             ("content-length", str(len(message)))],
                    client_ip="127.0.0.1", body=message)


def plain_exchange() -> Exchange:
    path, _, query = TARGET.partition("?")
    return make_exchange("GET", path, query=query, headers=HEADERS)


async def _time(gateway: TunnelGateway, exchanges: list[Exchange]) -> float:
    count = len(exchanges)
    exchanges.reverse()
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()  # CPU time: what the gateway spends, not what other processes take
        while exchanges:
            # Popped, so each exchange (with its response) is freed after its request as in the
            # server; keeping them all made the heap grow by the batch and the page faults
            # counted against whichever path retains more per request (the tunnel's inner exchange).
            exchange = exchanges.pop()
            await gateway.handle(exchange)
            await gateway.finish(exchange)
        return (time.process_time() - start) / count * 1e6
    finally:
        gc.enable()


async def measure(name: str, config: SealgateConfig, store: Path, n: int, repeat: int) -> Row:
    ensure_key_set(config.tunnel, store)
    keys = KeyProvider(SecretRef(config.tunnel.keys, store), config.tunnel.key_reload_seconds)
    replay = build_replay_cache(config.tunnel.replay)
    await replay.open()
    pipeline = Pipeline([], echo_endpoint) if name == "bare" else build_pipeline(config, endpoint=echo_endpoint)
    gateway = TunnelGateway(pipeline, config.tunnel, keys, replay)
    key_config = ohttp.decode_key_configs(keys.get().key_config_bytes())[0]
    try:
        # Warm-up, and a check that both paths answer 200 (we time passes, not refusals).
        sealed = seal_many(key_config, 50)
        for message, context in sealed:
            exchange = tunnel_exchange(message)
            response = await gateway.handle(exchange)
            inner = bhttp.decode_response(ohttp.decapsulate_response(context, response.body))
            if response.status != 200 or inner.status != 200:
                raise SystemExit(f"{name}: the tunneled request answered {response.status}/{inner.status}")
        plain_response = await gateway.handle(plain_exchange())
        if plain_response.status != 200:
            raise SystemExit(f"{name}: the plaintext request answered {plain_response.status}")
        plain_runs: list[float] = []
        tunnel_runs: list[float] = []
        for _ in range(repeat):
            plain_runs.append(await _time(gateway, [plain_exchange() for _ in range(n)]))
            messages = [tunnel_exchange(m) for m, _ in seal_many(key_config, n)]  # outside the clock
            tunnel_runs.append(await _time(gateway, messages))
        return Row(name, statistics.median(plain_runs), statistics.median(tunnel_runs),
                   min(plain_runs), min(tunnel_runs))
    finally:
        await replay.close()


def breakdown(store: Path, n: int) -> dict[str, float]:
    """µs per call of the tunnel's cryptographic steps alone (gateway side)."""
    from sealgate.tunnel.keys import KeySet

    key_set = KeySet.generate()
    decryption = key_set.decryption_keys()
    key_config = key_set.current.gateway_key.config
    sealed = seal_many(key_config, n)
    request = inner_request()
    response = bhttp.encode_response(bhttp.BhttpResponse(200, [(b"content-type", b"application/json")],
                                                         b'{"ok":true}'))
    private = key_set.current.private_key.private_key
    peer = X25519PublicKey.from_public_bytes(hpke.KemKeyPair.generate().public_key)
    out: dict[str, float] = {}
    clock = time.process_time
    start = clock()
    contexts = [ohttp.decapsulate_request(decryption, m)[1] for m, _ in sealed]
    out["ohttp.decapsulate_request (X25519, HKDF, AES-GCM)"] = (clock() - start) / n * 1e6
    start = clock()
    for _ in range(n):
        private.exchange(peer)
    out["  of which the X25519 exchange alone"] = (clock() - start) / n * 1e6
    start = clock()
    for context in contexts:
        ohttp.encapsulate_response(context, response)
    out["ohttp.encapsulate_response (HKDF, AES-GCM)"] = (clock() - start) / n * 1e6
    start = clock()
    for _ in range(n):
        bhttp.decode_request(request)
    out["bhttp.decode_request"] = (clock() - start) / n * 1e6
    start = clock()
    for _ in range(n):
        bhttp.encode_response(bhttp.BhttpResponse(200, [(b"content-type", b"application/json")], b'{"ok":true}'))
    out["bhttp.encode_response"] = (clock() - start) / n * 1e6
    return out


def hpke_floor(n: int) -> float:
    """µs per call of the ``cryptography`` package's own single-shot HPKE open, same suite and size.

    All in Rust and OpenSSL (X25519, HKDF, AES-GCM): the cost of the HPKE part of a tunnel request
    with no Python at all, the floor the issue's budget is set against.
    """
    from cryptography.hazmat.primitives import hpke as builtin
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    suite = builtin.Suite(builtin.KEM.X25519, builtin.KDF.HKDF_SHA256, builtin.AEAD.AES_128_GCM)
    private = X25519PrivateKey.generate()
    info = b"message/bhttp request"
    sealed = [suite.encrypt(inner_request(), private.public_key(), info=info) for _ in range(n)]
    start = time.process_time()
    for message in sealed:
        suite.decrypt(message, private, info=info)
    return (time.process_time() - start) / n * 1e6


# -- load: requests/s against a running gateway ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _echo(request: web.Request) -> web.StreamResponse:
    await request.read()
    return web.json_response({"ok": True, "path": request.path})


async def _loop(concurrency: int, seconds: float, send: Callable[[aiohttp.ClientSession], object]) -> float:
    done = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                if not await send(session):  # type: ignore[misc]
                    return
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.perf_counter() - start)


async def load(concurrency: int, seconds: float) -> tuple[float, float]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    upstream_port, port = _free_port(), _free_port()
    await web.TCPSite(runner, "127.0.0.1", upstream_port).start()
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "secrets.json"
        config = Path(tmp) / "sealgate.yaml"
        config.write_text(config_text(store, None) + f'upstream: {{urls: ["http://127.0.0.1:{upstream_port}"]}}\n'
                          f"server: {{host: 127.0.0.1, port: {port}}}\n")
        sealgate = str(Path(sys.executable).with_name("sealgate"))
        proc = subprocess.Popen([sealgate, "serve", "--config", str(config)],  # noqa: ASYNC220
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            base = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as session:
                for _ in range(200):
                    with contextlib.suppress(aiohttp.ClientError):
                        async with session.get(f"{base}/.well-known/ohttp-gateway") as resp:
                            key_config = ohttp.decode_key_configs(await resp.read())[0]
                            break
                    await asyncio.sleep(0.05)
                else:
                    raise SystemExit("sealgate serve did not start")

            async def plain(session: aiohttp.ClientSession) -> bool:
                async with session.get(base + TARGET, headers=dict(HEADERS[1:])) as resp:
                    await resp.read()
                    return resp.status == 200

            plain_rps = await _loop(concurrency, seconds, plain)
            # One fresh encapsulation per request (replays are refused): made before the clock starts.
            messages = iter([m for m, _ in seal_many(key_config, int(max(plain_rps, 500) * seconds * 1.2))])

            async def tunneled(session: aiohttp.ClientSession) -> bool:
                message = next(messages, None)
                if message is None:
                    return False
                async with session.post(base + TUNNEL, data=message,
                                        headers={"content-type": "message/ohttp-req"}) as resp:
                    await resp.read()
                    return resp.status == 200

            tunnel_rps = await _loop(concurrency, seconds, tunneled)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            if proc.stderr is not None:
                proc.stderr.close()
            await runner.cleanup()
    return plain_rps, tunnel_rps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("-n", type=int, default=2000, help="requests per timed batch (default 2000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed batches per path (default 5)")
    parser.add_argument("--load", action="store_true", help="also measure requests/s against sealgate serve")
    parser.add_argument("--seconds", type=float, default=5.0, help="load: seconds per path (default 5)")
    parser.add_argument("--concurrency", type=int, default=16, help="load: requests in flight (default 16)")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"n={args.n}, repeat={args.repeat}")

    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "secrets.json"
        variants = [("bare", None), ("quick", None), ("core", DEMO_SPEC if DEMO_SPEC.exists() else None)]
        for name, spec in variants:
            config = parse_config_text(config_text(store, spec), f"bench {name}", env={})
            rows.append(asyncio.run(measure(name, config, store, args.n, args.repeat)))
        crypto = breakdown(store, args.n)
        floor = statistics.median(hpke_floor(args.n) for _ in range(3))

    print("\nµs of gateway CPU per request (median batch; best batch in brackets), in-process, client excluded")
    print(f"{'pipeline':<10}{'plaintext':>20}{'tunnel':>20}{'extra':>20}{'ratio':>8}  within {BUDGET_US:.0f} µs?")
    for row in rows:
        ok = "yes" if row.extra_us <= BUDGET_US else "NO"
        best_extra = row.tunnel_best - row.plain_best
        print(f"{row.pipeline:<10}{row.plain_us:>10.1f} [{row.plain_best:>6.1f}]{row.tunnel_us:>10.1f} "
              f"[{row.tunnel_best:>6.1f}]{row.extra_us:>10.1f} [{best_extra:>6.1f}]"
              f"{row.tunnel_us / row.plain_us:>8.2f}  {ok}")
    print("bare: no protections (the tunnel's own cost); quick: the default config; core: + the demo's spec")
    print("\nof which (µs per call):")
    for step, us in crypto.items():
        print(f"  {step:<52}{us:>8.1f}")
    bare = rows[0]
    print(f"\nHPKE floor: cryptography's built-in single-shot open, same suite and size: {floor:.1f} µs "
          f"(the issue measured ~{REFERENCE_FLOOR_US:.0f})")
    print(f"  tunnel's own cost (bare extra) / floor: {bare.extra_us / floor:.2f} "
          f"(the budget is {BUDGET_US / REFERENCE_FLOOR_US:.2f}x the reference floor)")

    if args.load:
        plain_rps, tunnel_rps = asyncio.run(load(args.concurrency, args.seconds))
        print(f"\nrequests/s through `sealgate serve` (1 worker, quick mode, {args.concurrency} in flight, "
              f"{args.seconds:.0f} s each)")
        print(f"  plaintext GET   {plain_rps:>10.0f}")
        print(f"  tunnel POST     {tunnel_rps:>10.0f}")
        print(f"  ratio tunnel/plaintext {tunnel_rps / plain_rps:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
