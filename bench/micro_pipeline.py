"""Micro-benchmark: what sealgate's pipeline costs per request, in µs, in-process (no network, no server).

Builds pipelines with ``sealgate.testing.build_pipeline(config)`` around the in-process
``sealgate.testing.echo_endpoint`` and times ``await pipeline.handle(exchange)`` followed by
``await pipeline.finish(exchange)`` (the LOG phase) for the two request shapes of the load benchmark
(``bench/wrk/``: the GET with a query string and the 1,097-byte JSON POST). Exchanges are built with
``sealgate.testing.make_exchange`` before the clock starts, so the figure is the pipeline's own cost.

Pipelines:

- ``empty``                 no protections at all: the chain's fixed cost (``Pipeline([], echo_endpoint)``)
- ``quick``                 ``build_pipeline(SealgateConfig())``: the defaults without a spec (what
                            ``sealgate serve --upstream URL`` runs)
- ``core``                  routing only, against the demo's OpenAPI spec ``src/sealgate/demo/openapi.yaml``
                            (validation and injection detection off)
- ``validation+detection``  the same spec with request validation and injection detection on
- ``NAME``                  one per ``--variant NAME=CONFIG.yaml`` (loaded like ``sealgate serve --config``)

The spec-based pipelines are skipped while the demo spec does not exist, and any built-in one whose
settings the config model no longer accepts is skipped with a note.

A pipeline that answers a shape with anything but 2xx is flagged: it timed a block, not a pass
(for ``core``, the demo spec must declare ``GET /api/v1/articles`` and ``POST /api/v1/articles``).

Per pipeline and shape: a warm-up that also estimates the cost, then ``--repeat`` timed batches sized to
about ``--batch-seconds`` of CPU each (at most ``-n`` requests); the table shows
the CPU time per request of the median batch and of the best batch, the median minus ``empty``'s, and
the wall-clock time per request (the same on an idle machine, higher when other programs share the
cores; the CPU time is the figure that holds up on a busy machine).
Results also go to ``bench/results/micro.json``.

Example::

    .venv/bin/python bench/micro_pipeline.py
    .venv/bin/python bench/micro_pipeline.py --quick
    .venv/bin/python bench/micro_pipeline.py --variant detect=bench/configs/validation-detection.yaml
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sealgate.config.load import load_config
from sealgate.config.model import SealgateConfig
from sealgate.pipeline.chain import Pipeline
from sealgate.pipeline.exchange import Exchange
from sealgate.testing import build_pipeline, echo_endpoint, make_exchange

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
WRK_DIR = BENCH_DIR / "wrk"
DEMO_SPEC = REPO / "src" / "sealgate" / "demo" / "openapi.yaml"

# The load benchmark's shapes (bench/wrk/get.lua and post_json.lua), as exchanges.
COMMON_HEADERS = [
    ("Host", "api.example.com"),
    ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
    ("Accept", "application/json"),
]
SHAPES: dict[str, tuple[str, str, str, list[tuple[str, str]], bytes | None]] = {
    "get": ("GET", "/api/v1/articles", "articleId=42&lang=en&q=machine%20learning", COMMON_HEADERS, None),
    "post": (
        "POST",
        "/api/v1/articles",
        "",
        [*COMMON_HEADERS, ("Content-Type", "application/json")],
        (WRK_DIR / "article.json").read_bytes(),
    ),
}


@dataclass
class Timing:
    """One pipeline × shape: the response status and µs per request of each timed batch."""

    pipeline: str
    shape: str
    status: int = 0
    n: int = 0
    """Requests per timed batch."""
    batches_us: list[float] = field(default_factory=list)
    """CPU time of this process per request, per batch (µs): what the pipeline costs."""
    wall_batches_us: list[float] = field(default_factory=list)
    """Wall-clock time per request, per batch (µs): higher when other programs share the cores."""
    error: str | None = None

    @property
    def median_us(self) -> float:
        """CPU µs per request of the median batch."""
        return statistics.median(self.batches_us) if self.batches_us else float("nan")

    @property
    def best_us(self) -> float:
        """CPU µs per request of the cheapest batch."""
        return min(self.batches_us) if self.batches_us else float("nan")

    @property
    def wall_median_us(self) -> float:
        """Wall-clock µs per request of the median batch."""
        return statistics.median(self.wall_batches_us) if self.wall_batches_us else float("nan")


def builtin_configs() -> dict[str, dict[str, Any]]:
    """The built-in pipelines' settings (as in sealgate.yaml), by name."""
    spec = {"spec": str(DEMO_SPEC)}
    return {
        "quick": {},
        "core": {"routing": spec, "validation": {"enabled": False}, "injection": {"enabled": False}},
        "validation+detection": {"routing": spec, "validation": {"enabled": True}, "injection": {"enabled": True}},
    }


def pipelines(variants: list[str]) -> tuple[dict[str, Pipeline], list[str]]:
    """The pipelines to time, and notes on those skipped."""
    built: dict[str, Pipeline] = {"empty": Pipeline([], echo_endpoint)}
    notes: list[str] = []
    for name, settings in builtin_configs().items():
        if "routing" in settings and not DEMO_SPEC.is_file():
            notes.append(f"{name} skipped: {DEMO_SPEC.relative_to(REPO)} does not exist yet")
            continue
        try:
            built[name] = build_pipeline(SealgateConfig.model_validate(settings))
        except ValueError as exc:  # pydantic's ValidationError: the config model changed under us
            notes.append(f"{name} skipped: its settings {settings} are not valid any more: {exc}")
    for text in variants:
        name, sep, path = text.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"--variant wants NAME=CONFIG.yaml, got {text!r}")
        built[name] = build_pipeline(load_config(Path(path)))
    return built, notes


def exchanges(shape: str, count: int) -> list[Exchange]:
    """``count`` fresh exchanges of one shape (each request gets its own, as in the server)."""
    method, path, query, headers, body = SHAPES[shape]
    return [make_exchange(method, path, query, headers, body) for _ in range(count)]


async def run_once(pipeline: Pipeline, exchange: Exchange) -> int:
    """One request through the pipeline, LOG phase included; the response status."""
    response = await pipeline.handle(exchange)
    await pipeline.finish(exchange)
    return response.status


async def time_pipeline(
    name: str, pipeline: Pipeline, shape: str, max_n: int, repeat: int, batch_seconds: float
) -> Timing:
    """Warm up, size the batches to about ``batch_seconds`` of CPU each, then time ``repeat`` of them."""
    timing = Timing(name, shape)
    try:
        timing.status = await run_once(pipeline, exchanges(shape, 1)[0])
        # Warm-up (caches, lazy compilation), which also estimates the cost per request: pipelines
        # differ by 1000× (µs to ms), so a fixed batch size would take either no time or forever.
        warm = 0
        start = time.process_time()
        while warm < 2000 and time.process_time() - start < batch_seconds / 3:
            await run_once(pipeline, exchanges(shape, 1)[0])
            warm += 1
        per_request = max((time.process_time() - start) / warm, 1e-7)
        n = timing.n = max(20, min(max_n, int(batch_seconds / per_request)))
        for _ in range(repeat):
            batch = exchanges(shape, n)
            gc.collect()
            # CPU time (single-threaded, so it is the pipeline's) survives a busy machine; wall time too
            # for reference. No network and no other tasks: the event loop only runs these coroutines.
            cpu0, wall0 = time.process_time_ns(), time.perf_counter_ns()
            # Each exchange is released after its request, as in the server: keeping the whole
            # batch alive grows the heap and makes every garbage collection walk it.
            batch.reverse()
            pop = batch.pop
            while batch:
                exchange = pop()
                await pipeline.handle(exchange)
                await pipeline.finish(exchange)
            del exchange
            cpu1, wall1 = time.process_time_ns(), time.perf_counter_ns()
            timing.batches_us.append((cpu1 - cpu0) / n / 1000.0)
            timing.wall_batches_us.append((wall1 - wall0) / n / 1000.0)
    except Exception as exc:  # a broken pipeline is reported in the table, the others still run
        timing.error = f"{type(exc).__name__}: {exc}"
    return timing


def report(timings: list[Timing]) -> tuple[str, list[str]]:
    """The markdown table and the loud warnings (non-2xx, errors)."""
    base = {t.shape: t.median_us for t in timings if t.pipeline == "empty" and t.batches_us}
    lines = [
        "| pipeline | shape | status | CPU µs/request (median) | best | over empty | wall µs/request "
        "| requests/s (one core) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    warnings = []
    for t in timings:
        if t.error:
            lines.append(f"| {t.pipeline} | {t.shape} | error | {t.error[:80]} ||||| ")
            warnings.append(f"{t.pipeline} {t.shape}: {t.error}")
            continue
        mark = "" if 200 <= t.status < 300 else " ⚠"
        over = t.median_us - base[t.shape] if t.shape in base else float("nan")
        lines.append(
            f"| {t.pipeline}{mark} | {t.shape} | {t.status} | {t.median_us:.1f} | {t.best_us:.1f} "
            f"| {over:+.1f} | {t.wall_median_us:.1f} | {1e6 / t.median_us:,.0f} |"
        )
        if mark:
            warnings.append(
                f"{t.pipeline} answered {t.shape} with {t.status}: this timed a BLOCK, not a pass "
                "(NOT COMPARABLE; does its spec declare the route?)"
            )
    return "\n".join(lines), warnings


async def amain(args: argparse.Namespace) -> int:
    """Time every pipeline on every shape, print the table, write the JSON."""
    built, notes = pipelines(args.variant)
    timings = []
    for name, pipeline in built.items():
        for shape in args.shapes.split(","):
            timing = await time_pipeline(name, pipeline, shape.strip(), args.n, args.repeat, args.batch_seconds)
            timings.append(timing)
            print(f"{name:>22} {shape:<4} {timing.median_us:8.1f} CPU µs/request  status {timing.status}", flush=True)
    table, warnings = report(timings)
    print(f"\n### pipeline cost per request, in-process ({args.repeat} batches of ~{args.batch_seconds} s CPU)\n")
    print(table)
    for note in notes:
        print(f"note: {note}")
    if warnings:
        print("\n" + "!" * 100)
        for w in warnings:
            print(f"!!! {w}")
        print("!" * 100)
    doc: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "batch_seconds": args.batch_seconds,
        "repeat": args.repeat,
        "timings": [
            asdict(t) | {"median_us": t.median_us, "best_us": t.best_us, "wall_median_us": t.wall_median_us}
            for t in timings
        ],
        "notes": notes,
        "warnings": warnings,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nresults: {args.json}")
    return 1 if warnings else 0


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run (uvloop, as in the server)."""
    p = argparse.ArgumentParser(description="in-process µs/request of sealgate's pipeline")
    p.add_argument("-n", type=int, default=20_000, help="at most this many requests per timed batch")
    p.add_argument("--batch-seconds", type=float, default=1.0, help="CPU seconds per batch (quick: 0.3)")
    p.add_argument("--repeat", type=int, default=5, help="timed batches (quick: 3)")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--shapes", default="get,post")
    p.add_argument("--variant", action="append", default=[], metavar="NAME=CONFIG")
    p.add_argument("--json", type=Path, default=BENCH_DIR / "results" / "micro.json")
    args = p.parse_args(argv)
    if args.quick:
        args.batch_seconds, args.repeat = min(args.batch_seconds, 0.3), min(args.repeat, 3)
    try:
        import uvloop
    except ImportError:  # uvloop is a dependency except on Windows; the asyncio loop is fine there
        return asyncio.run(amain(args))
    return uvloop.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())
