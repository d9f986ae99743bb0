"""Worst-case detection cost: CPU seconds for a 1 MiB body made of one attack's building blocks.

A gateway that inspects bodies must cost time linear in their size, with a constant small enough
that the body limit (``limits.max_body_bytes``, 1 MiB by default) is also a sane CPU limit. Each
shape below is repeated to 1 MiB and sent through the whole detection engine (every detector,
paranoia 1), once as a JSON document ``{"comment": ...}`` through an :class:`Exchange` (body
parsing and input collection included) and once as a raw form-less body. The baseline, measured
in the same run, is an ordinary 1 MiB JSON document (an array of article objects with prose);
the table prints each shape's cost and its ratio to that baseline.

    .venv/bin/python bench/pathological.py [--repeat 3] [--shapes esc-crlf,quote-semi]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sealgate.detectors.engine import DetectionEngine  # noqa: E402
from sealgate.pipeline.exchange import Exchange  # noqa: E402

MIB = 1_048_576

# Building blocks of the attack classes, repeated: the separators, escapes and openers each
# detector's analysis is driven by.
SHAPES: dict[str, str] = {
    "esc-crlf": "\\r\\n",
    "esc-crlf-header": "\\r\\nSet-Cookie: a=b",
    "quote-semicolon": "';",
    "statement-breakout": "';a(1);",
    "pipes-and-ands": "a|b&&c||",
    "dots": "/...",
    "sql-or-empty": "' or ''-'",
    "sql-constant-call": "1 ELT(1=1,",
    "sql-if": ";IF(1=1) ",
    "shell-ifs": "${IFS}",
    "url-hosts": "http://1.2.3.4.",
    "html-tags": "<a onx=(/*--",
    "template-openers": "{{${",
    "parentheses": "(",
}


def ordinary_json() -> bytes:
    """About 1 MiB of ordinary API traffic: articles with titles, tags and prose."""
    article = {
        "id": 0, "title": "Rotating API keys without downtime", "lang": "en",
        "tags": ["security", "operations", "keys"], "author": {"name": "Ana Ruiz", "email": "ana@example.com"},
        "body": "Keys should expire. When you rotate one, issue the new key first, let clients pick it up, "
                "then revoke the old one; don't revoke first or you'll lock everyone out. It's that simple.",
    }
    record_bytes = len(json.dumps(article)) + 2  # ", " between records; ids grow a few digits
    items = [{**article, "id": index} for index in range(MIB // record_bytes + 1)]
    while len(body := json.dumps(items).encode()) > MIB + 2048:
        items.pop()
    return body


def exchange_for(body: bytes) -> Exchange:
    return Exchange(method="POST", path="/comments", raw_path=b"/comments",
                    headers=[("host", "api.example"), ("content-type", "application/json")], body=body)


def cpu_seconds(run: Callable[[], object], repeat: int) -> float:
    """Median CPU seconds of ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shapes", default=",".join(SHAPES))
    args = parser.parse_args(argv)
    names = [name for name in args.shapes.split(",") if name]
    unknown = [name for name in names if name not in SHAPES]
    if unknown:
        parser.error(f"unknown shapes {unknown}; known: {', '.join(SHAPES)}")
    engine = DetectionEngine(paranoia=1)
    baseline_body = ordinary_json()
    baseline = cpu_seconds(lambda: engine.assess(exchange_for(baseline_body)), args.repeat)
    print(f"baseline: ordinary JSON, {len(baseline_body):,} bytes: {baseline:.2f} s CPU\n")
    print("| shape | as a JSON string: s CPU | x baseline | as a raw body: s CPU | x baseline | blocked |")
    print("|---|---:|---:|---:|---:|---|")
    for name in names:
        text = (SHAPES[name] * (MIB // len(SHAPES[name]) + 1))[: MIB - 16]
        body = json.dumps({"comment": text}).encode()
        blocked = engine.assess(exchange_for(body)).blocked
        as_json = cpu_seconds(lambda body=body: engine.assess(exchange_for(body)), args.repeat)
        as_raw = cpu_seconds(lambda text=text: engine.inspect([("body", text, "body")]), args.repeat)
        print(f"| {name} | {as_json:.2f} | {as_json / baseline:.1f} | {as_raw:.2f} | {as_raw / baseline:.1f} "
              f"| {'yes' if blocked else 'no'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
