"""The bare pass-through proxy sealgate is measured against: raw ASGI + a pooled aiohttp client.

No inspection, no routing, no header hygiene beyond dropping hop-by-hop headers: whatever sealgate
costs above this is the price of its protections. Same server stack as sealgate (uvicorn with
httptools + uvloop); ``--server granian`` runs the same app under granian for the server comparison.

    .venv/bin/python bench/baseline_proxy.py --upstream http://127.0.0.1:19001 --port 18080 [--workers 2]
"""

import argparse
import os
import sys

import aiohttp

HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
_session: aiohttp.ClientSession | None = None


async def app(scope, receive, send):  # type: ignore[no-untyped-def]  # bare ASGI on purpose
    global _session
    while scope["type"] == "lifespan":  # nothing to open eagerly: the pool is created lazily per worker
        msg = await receive()
        await send({"type": msg["type"] + ".complete"})
        if msg["type"] == "lifespan.shutdown":
            return
    if _session is None:  # created inside the worker's running loop; unlimited pool, no decompression
        _session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), auto_decompress=False)
    body, more = b"", True
    while more:
        msg = await receive()
        body += msg.get("body", b"")
        more = msg.get("more_body", False)
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k.decode() not in HOP]
    qs = scope["query_string"].decode("latin-1")
    path = scope.get("raw_path") or scope["path"].encode()  # raw_path is optional in ASGI
    url = os.environ["BASELINE_UPSTREAM"] + path.decode("latin-1") + ("?" + qs if qs else "")
    async with _session.request(
        scope["method"],
        url,
        headers=headers,
        data=body,
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
    ) as resp:
        data = await resp.read()
        out = [(k, v) for k, v in resp.raw_headers if k.decode("latin-1").lower() not in HOP]
    await send({"type": "http.response.start", "status": resp.status, "headers": out})
    await send({"type": "http.response.body", "body": data})


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--upstream", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=18080)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn")
    a = p.parse_args()
    os.environ["BASELINE_UPSTREAM"] = a.upstream.rstrip("/")  # read by every worker process
    here = os.path.dirname(os.path.abspath(__file__))
    os.environ["PYTHONPATH"] = here + os.pathsep + os.environ.get("PYTHONPATH", "")
    sys.path.insert(0, here)
    if a.server == "granian":
        from granian import Granian
        from granian.constants import HTTPModes, Interfaces, Loops
        from granian.log import LogLevels

        Granian(
            "baseline_proxy:app",
            address=a.host,
            port=a.port,
            interface=Interfaces.ASGINL,  # ASGI without lifespan, like uvicorn's lifespan="off" below
            workers=a.workers,
            loop=Loops.uvloop,
            http=HTTPModes.http1,
            log_level=LogLevels.warning,
            backlog=4096,
        ).serve()
    else:
        import uvicorn

        uvicorn.run(
            "baseline_proxy:app",
            host=a.host,
            port=a.port,
            workers=a.workers,
            loop="uvloop",
            http="httptools",
            lifespan="off",
            access_log=False,
            log_level="warning",
            backlog=4096,
            server_header=False,
            date_header=False,
        )
