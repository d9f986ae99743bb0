"""Prometheus metrics. Labels are route templates, verdicts and rule ids: never values or secrets.

With several workers, ``PROMETHEUS_MULTIPROC_DIR`` is set by the supervisor and the admin port
aggregates every worker's samples (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from sealgate.pipeline.exchange import Exchange

__all__ = ["METRICS_CONTENT_TYPE", "MetricsObserver", "render_metrics"]

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "sealgate_requests", "Requests handled, by route, verdict and status class.", ["route", "verdict", "status"]
)
BLOCKS = Counter("sealgate_blocks", "Requests stopped, by protection and rule.", ["protection", "rule"])
DURATION = Histogram(
    "sealgate_request_duration_seconds", "Time from request to response, seconds.", ["route"], buckets=_BUCKETS
)
UPSTREAM = Histogram(
    "sealgate_upstream_duration_seconds", "Time the upstream took to answer, seconds.", buckets=_BUCKETS
)


class MetricsObserver:
    """LOG-phase observer that counts and times every exchange.

    Label children are cached: ``Counter.labels()`` validates and hashes its arguments on every
    call, which costs more than the increment itself on the request path.
    """

    def __init__(self) -> None:
        self._requests: dict[tuple[str, str, str], Any] = {}
        self._durations: dict[str, Any] = {}
        self._blocks: dict[tuple[str, str], Any] = {}

    async def __call__(self, exchange: Exchange) -> None:
        verdict = exchange.verdict
        response = exchange.response
        status = verdict.status if verdict else (response.status if response else 0)
        outcome = "allow" if verdict is None else ("error" if verdict.protection == "gateway" else "block")
        route = exchange.route.path_template
        key = (route, outcome, f"{status // 100}xx")
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = REQUESTS.labels(*key)
        counter.inc()
        if verdict is not None:
            block_key = (verdict.protection, verdict.rule_id or "-")
            blocks = self._blocks.get(block_key)
            if blocks is None:
                blocks = self._blocks[block_key] = BLOCKS.labels(*block_key)
            blocks.inc()
        duration = self._durations.get(route)
        if duration is None:
            duration = self._durations[route] = DURATION.labels(route)
        duration.observe(exchange.elapsed_ms / 1000.0)
        if exchange.upstream_ms is not None:
            UPSTREAM.observe(exchange.upstream_ms / 1000.0)


def render_metrics() -> bytes:
    """The exposition text of every metric (aggregated over workers in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()
