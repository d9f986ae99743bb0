"""The bundled sample "AI API" that ``sealgate demo`` and many tests put sealgate in front of.

A small aiohttp application (``sealgate.demo.sample_api``) with three parts under ``/api/v1``: a
recommendation engine, customer-insights analytics (with a deliberate excessive-data-exposure
flaw) and a SQLite-backed knowledge-base chatbot (with a deliberately SQL-injectable legacy
endpoint), plus a single-page web app at ``/``. ``openapi.yaml`` next to this file describes the
API precisely; it is what sealgate validates against. The server only ever listens on loopback.

Config: ``host`` (loopback only), ``port``, ``db_path`` (SQLite file; ``None`` = in memory).
Example::

    from sealgate.demo import SPEC_PATH, run_sample_api
    run_sample_api("127.0.0.1", 9001, "/tmp/sealgate-demo.sqlite3")   # blocks; Ctrl-C stops

or ``python -m sealgate.demo.sample_api --port 9001``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from sealgate.demo.sample_api import (
        SampleAPIServer,
        SampleAPIThread,
        create_app,
        is_loopback_host,
        run_sample_api,
        start_sample_api,
    )

__all__ = [
    "SPEC_PATH",
    "STATIC_DIR",
    "SampleAPIServer",
    "SampleAPIThread",
    "create_app",
    "is_loopback_host",
    "run_sample_api",
    "start_sample_api",
]

#: The OpenAPI 3.1 description of the sample API.
SPEC_PATH: Final = Path(__file__).with_name("openapi.yaml")
#: The web app served at ``/`` and ``/static/*``.
STATIC_DIR: Final = Path(__file__).with_name("static")

_LAZY: Final = frozenset(__all__) - {"SPEC_PATH", "STATIC_DIR"}


def __getattr__(name: str) -> Any:
    # Imported lazily so ``python -m sealgate.demo.sample_api`` does not find the module already
    # imported by its package (runpy warns about that), and importing the paths stays cheap.
    if name in _LAZY:
        from sealgate.demo import sample_api

        return getattr(sample_api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
