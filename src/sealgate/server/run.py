"""Run the gateway under uvicorn (httptools + uvloop), with the admin port beside it.

One worker: the gateway and the admin server share one process and event loop. Several
workers: uvicorn's supervisor forks them onto one shared socket; the admin server runs in the
supervisor and aggregates metrics from every worker (prometheus multiprocess mode).
SIGTERM/SIGINT stop accepting connections and let in-flight requests finish, up to
``server.graceful_timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable

import uvicorn

from sealgate.admin.app import AdminApp
from sealgate.config.model import SealgateConfig
from sealgate.server.app import build_app
from sealgate.server.worker import RUNTIME_CONFIG_ENV

__all__ = ["serve"]

log = logging.getLogger("sealgate.server")


def _uvicorn_config(app: object, config: SealgateConfig, **extra: object) -> uvicorn.Config:
    return uvicorn.Config(
        app,  # type: ignore[arg-type]  # uvicorn accepts an app object or an import string
        host=config.server.host,
        port=config.server.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        server_header=False,
        date_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=int(config.server.graceful_timeout),
        log_level=config.server.log_level,
        **extra,  # type: ignore[arg-type]
    )


def _admin_server(config: SealgateConfig) -> uvicorn.Server:
    admin = AdminApp((config.server.host, config.server.port), config.upstream.urls)
    admin_config = uvicorn.Config(
        admin, host=config.admin.host, port=config.admin.port, lifespan="off",
        access_log=False, log_level="warning", loop="asyncio",
    )
    return uvicorn.Server(admin_config)


def serve(config: SealgateConfig, on_ready: Callable[[], None] | None = None) -> None:
    """Serve until SIGINT/SIGTERM. ``on_ready`` is called once the gateway port is listening."""
    # uvicorn re-raises the signal that stopped it once its handlers are removed; with the
    # default SIGTERM action that would kill the process after a clean, graceful shutdown.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    if config.server.workers == 1:
        _serve_single(config, on_ready)
    else:
        _serve_multi(config, on_ready)


def _serve_single(config: SealgateConfig, on_ready: Callable[[], None] | None) -> None:
    import uvloop

    async def main() -> None:
        gateway = uvicorn.Server(_uvicorn_config(build_app(config), config))
        admin = _admin_server(config) if config.admin.enabled else None
        admin_task = asyncio.create_task(admin.serve()) if admin else None
        watcher = asyncio.create_task(_announce(gateway, on_ready))
        try:
            await gateway.serve()
        finally:
            watcher.cancel()
            if admin is not None and admin_task is not None:
                admin.should_exit = True
                with contextlib.suppress(asyncio.CancelledError):
                    await admin_task
        if not gateway.started:
            raise SystemExit(1)

    uvloop.run(main())


async def _announce(server: uvicorn.Server, on_ready: Callable[[], None] | None) -> None:
    while not server.started:  # noqa: ASYNC110  # uvicorn exposes no event for "started"
        await asyncio.sleep(0.02)
    if on_ready is not None:
        on_ready()


def _serve_multi(config: SealgateConfig, on_ready: Callable[[], None] | None) -> None:
    metrics_dir = tempfile.mkdtemp(prefix="sealgate-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    os.environ[RUNTIME_CONFIG_ENV] = config.model_dump_json()
    admin = _admin_server(config) if config.admin.enabled else None
    admin_thread: threading.Thread | None = None
    if admin is not None:
        # The admin server runs on its own loop in a thread so uvicorn's supervisor keeps the
        # main thread (it owns signal handling); it stops when the supervisor returns.
        admin_thread = threading.Thread(target=_run_admin_thread, args=(admin,), daemon=True)
        admin_thread.start()
    if on_ready is not None:
        threading.Thread(target=_wait_ready, args=(config, on_ready), daemon=True).start()
    try:
        uvicorn_config = _uvicorn_config(
            "sealgate.server.worker:create_app", config, factory=True, workers=config.server.workers
        )
        sock = uvicorn_config.bind_socket()
        from uvicorn.supervisors import Multiprocess

        Multiprocess(uvicorn_config, sockets=[sock]).run()
    finally:
        if admin is not None:
            admin.should_exit = True
        if admin_thread is not None:
            admin_thread.join(timeout=5)
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _run_admin_thread(admin: uvicorn.Server) -> None:
    loop = asyncio.new_event_loop()
    try:
        # Signals belong to the main thread; uvicorn skips installing handlers off it.
        loop.run_until_complete(admin.serve())
    finally:
        loop.close()


def _wait_ready(config: SealgateConfig, on_ready: Callable[[], None]) -> None:
    from sealgate.admin.app import local_probe_address, tcp_reachable

    host = local_probe_address(config.server.host)

    async def poll() -> None:
        for _ in range(500):
            if await tcp_reachable(host, config.server.port, 0.2):
                on_ready()
                return
            await asyncio.sleep(0.05)

    asyncio.run(poll())
