"""Offline detection benchmark: replays the labelled corpora through inputs + engine in-process.

Corpora (see /work/shared/corpus/README.md and bench/build_benign_text.py):

- ``crs-3.3.4-regression.jsonl``: CRS rule tests; per category, the share of attack lines the
  engine blocks (detection rate) and of benign lines it blocks;
- ``csic2010-train-benign.jsonl.gz``: 36,000 benign shop requests; any block is a false positive;
- ``bench/data/benign_text.jsonl.gz``: free text (docstrings, man pages) sent as query ``q`` and
  as JSON ``{"comment": ...}``; the share blocked is the free-text false-positive rate.

Each line becomes an :class:`~sealgate.pipeline.exchange.Exchange` (method; path split into path
and query; headers lower-cased, ``Accept-Charset`` dropped as the corpus README explains; body
bytes). A detector module that does not import yet is left out and named in the output.

Usage::

    .venv/bin/python bench/detection_offline.py [--paranoia 1] [--threshold 5]
        [--misses sqli] [--fps] [--corpus crs|csic|text|all] [--detectors sqli,xss]
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import sys
import time
import timeit
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sealgate.detectors import DETECTOR_MODULES  # noqa: E402
from sealgate.detectors.base import Detector  # noqa: E402
from sealgate.detectors.engine import DetectionEngine  # noqa: E402
from sealgate.pipeline.exchange import Exchange  # noqa: E402

CORPUS = Path("/work/shared/corpus")
CRS = CORPUS / "crs-3.3.4-regression.jsonl"
CSIC = CORPUS / "csic2010-train-benign.jsonl.gz"
TEXT = ROOT / "bench" / "data" / "benign_text.jsonl.gz"


def load_detectors(names: list[str] | None) -> tuple[list[Detector], list[str]]:
    """Import every registered detector module that imports; return them and the missing names."""
    detectors: list[Detector] = []
    missing: list[str] = []
    for module_name in DETECTOR_MODULES:
        if names and module_name not in names:
            continue
        try:
            module = importlib.import_module(f"sealgate.detectors.{module_name}")
            detectors.append(module.DETECTOR)
        except Exception as exc:  # a colleague's module may be mid-edit
            missing.append(f"{module_name} ({type(exc).__name__})")
    return detectors, missing


def exchange_from_line(line: dict[str, Any]) -> Exchange:
    """Build the exchange a server would have built for one corpus line."""
    target: str = line["path"]
    raw_path, _, query = target.partition("?")
    headers = [
        (name.lower(), value) for name, value in line["headers"] if name.lower() != "accept-charset"
    ]
    body = line["body"].encode("utf-8") if line["body"] else None
    try:
        path = unquote_to_bytes(raw_path).decode("utf-8", "replace")
    except ValueError:
        path = raw_path
    return Exchange(
        method=line["method"],
        path=path,
        raw_path=raw_path.encode("utf-8"),
        query_string=query.encode("utf-8"),
        headers=headers,
        body=body,
    )


def text_exchanges(text: str) -> list[Exchange]:
    """The free-text line as a query value ``q`` and as a JSON comment."""
    from urllib.parse import quote_plus

    query = Exchange(method="GET", path="/search", raw_path=b"/search",
                     query_string=("q=" + quote_plus(text)).encode("ascii"),
                     headers=[("host", "localhost"), ("user-agent", "Mozilla/5.0")])
    body = json.dumps({"comment": text}).encode("utf-8")
    post = Exchange(method="POST", path="/comments", raw_path=b"/comments",
                    headers=[("host", "localhost"), ("content-type", "application/json"),
                             ("user-agent", "Mozilla/5.0")], body=body)
    return [query, post]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def run_crs(engine: DetectionEngine, misses: set[str], show_fps: bool) -> None:
    attack: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    benign: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    miss_lines: dict[str, list[str]] = defaultdict(list)
    for line in read_jsonl(CRS):
        category = line["category"]
        result = engine.assess(exchange_from_line(line))
        if line["label"] == "attack":
            attack[category] += 1
            if result.blocked:
                caught[category] += 1
            elif category in misses or "all" in misses:
                miss_lines[category].append(
                    f"  {line['id']:<14} score={result.score} {line['path'][:80]!r} {line['body'][:100]!r}"
                )
        else:
            benign[category] += 1
            if result.blocked:
                flagged[category] += 1
                if show_fps:
                    print(f"  CRS benign blocked {line['id']}: "
                          f"{[f.rule_id + '@' + f.location for f in result.findings]}")
    print("CRS 3.3.4 regression corpus (attack lines detected / benign lines blocked)")
    for category in sorted(attack, key=lambda c: -attack[c]):
        rate = 100.0 * caught[category] / attack[category]
        print(f"  {category:<10} attacks {caught[category]:>4}/{attack[category]:<4} {rate:6.1f}%"
              f"   benign blocked {flagged[category]}/{benign[category]}")
    total = sum(attack.values())
    print(f"  {'all':<10} attacks {sum(caught.values()):>4}/{total:<4} "
          f"{100.0 * sum(caught.values()) / total:6.1f}%   benign blocked "
          f"{sum(flagged.values())}/{sum(benign.values())}")
    for category, lines in miss_lines.items():
        print(f"misses in {category}:")
        print("\n".join(lines))


def run_csic(engine: DetectionEngine, show_fps: bool) -> None:
    lines = read_jsonl(CSIC)
    exchanges = [exchange_from_line(line) for line in lines]
    blocked = 0
    rules: Counter[str] = Counter()
    start = time.perf_counter()
    for line, exchange in zip(lines, exchanges, strict=True):
        result = engine.assess(exchange)
        if result.blocked:
            blocked += 1
            for finding in result.findings:
                rules[f"{finding.detector}:{finding.rule_id}"] += 1
            if show_fps and blocked <= 30:
                print(f"  CSIC blocked {line['id']}: {[(f.rule_id, f.location, f.excerpt) for f in result.findings]}")
    elapsed = time.perf_counter() - start
    print(f"CSIC 2010 benign: blocked {blocked}/{len(lines)} ({100.0 * blocked / len(lines):.3f}%), "
          f"{1e6 * elapsed / len(lines):.1f} µs/request")
    if rules:
        print(f"  by rule: {rules.most_common(10)}")


def run_text(engine: DetectionEngine, show_fps: bool, text_path: Path = TEXT) -> None:
    if not text_path.exists():
        print(f"free text: {text_path} missing (run bench/build_benign_text.py or bench/build_heldout_text.py)")
        return
    lines = read_jsonl(text_path)
    blocked = 0
    total = 0
    rules: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    shown = 0
    for line in lines:
        for exchange in text_exchanges(line["text"]):
            total += 1
            result = engine.assess(exchange)
            if result.blocked:
                blocked += 1
                sources[line.get("source", "?").split(":")[0]] += 1
                for finding in result.findings:
                    rules[f"{finding.detector}:{finding.rule_id}"] += 1
                if show_fps and shown < 40:
                    shown += 1
                    print(f"  text blocked ({line.get('source')}): "
                          f"{[(f.rule_id, f.excerpt) for f in result.findings]}")
    print(f"free text: blocked {blocked}/{total} ({100.0 * blocked / max(total, 1):.3f}%)")
    if rules:
        print(f"  by rule: {rules.most_common(12)}")
        print(f"  by source: {sources.most_common(5)}")


CLEAN_BODY = {
    "order_id": "A-10293", "customer": {"name": "Renée O'Brien", "email": "renee.obrien@example.com",
    "phone": "+1 415 555 0134", "address": {"street": "1200 Market Street", "city": "San Francisco",
    "zip": "94102", "country": "US"}}, "items": [
        {"sku": "SKU-4411", "name": "Espresso beans 1kg", "qty": 2, "price": 24.5},
        {"sku": "SKU-1020", "name": "Ceramic mug, blue", "qty": 1, "price": 12.0},
        {"sku": "SKU-3391", "name": "Milk frother", "qty": 1, "price": 39.9}],
    "coupon": "SPRING24", "gift": False, "note": "Please leave the parcel at the front desk if nobody answers.",
    "delivery": {"date": "2024-05-03", "window": "09:00-12:00"}, "tags": ["web", "returning"],
}


def clean_exchange() -> Exchange:
    """A typical clean API request: a few query parameters and a ~1 KB JSON body."""
    body = json.dumps(CLEAN_BODY).encode() + b" " * max(0, 1000 - len(json.dumps(CLEAN_BODY)))
    return Exchange(
        method="POST", path="/api/v1/orders", raw_path=b"/api/v1/orders",
        query_string=b"page=2&limit=25&sort=created_at&lang=en-US",
        headers=[("host", "shop.example.com"), ("content-type", "application/json"),
                 ("accept", "application/json"), ("user-agent", "shop-app/3.2.1 (iOS 17.4; iPhone14,2)"),
                 ("authorization", "Bearer abc.def.ghi")],
        body=body,
    )


# What an OpenAPI schema for this endpoint types (the validator's ``typed`` set: integers, enums,
# formats and patterns it has already checked), which the engine then skips.
SCHEMA_TYPED = frozenset({
    "query.page", "query.limit", "query.sort", "query.lang", "body.$.order_id", "body.$.customer.email",
    "body.$.customer.phone", "body.$.customer.address.zip", "body.$.customer.address.country",
    "body.$.items[0].sku", "body.$.items[1].sku", "body.$.items[2].sku", "body.$.coupon",
    "body.$.delivery.date", "body.$.delivery.window", "body.$.tags[0]", "body.$.tags[1]",
})


def _best_us(func: Any, rounds: int) -> float:
    """Best per-call time of ``func`` in µs: the machine is shared, the minimum is the code's cost."""
    number = max(1, rounds // 10)
    return 1e6 * min(timeit.repeat(func, number=number, repeat=10)) / number


def run_speed(engine: DetectionEngine, rounds: int = 3000) -> None:
    from sealgate.detectors.inputs import collect_inputs

    exchange = clean_exchange()
    count = len(collect_inputs(exchange))
    findings = engine.inspect(exchange)
    per_request = _best_us(lambda: engine.inspect(exchange), rounds)
    walk = _best_us(lambda: collect_inputs(exchange), rounds)
    print(f"clean request ({count} inputs, {len(exchange.body or b'')} byte JSON body): "
          f"{per_request:.1f} µs/request (input walk alone {walk:.1f} µs), findings {findings}")
    typed = _best_us(lambda: engine.inspect(exchange, skip=SCHEMA_TYPED), rounds)
    print(f"  the same request schema-aware ({len(SCHEMA_TYPED)} typed locations skipped): {typed:.1f} µs/request, "
          f"findings {engine.inspect(exchange, skip=SCHEMA_TYPED)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paranoia", type=int, default=1)
    parser.add_argument("--threshold", type=int, default=5)
    parser.add_argument("--misses", default="", help="comma-separated categories whose misses to list")
    parser.add_argument("--fps", action="store_true", help="list benign lines that were blocked")
    parser.add_argument("--corpus", default="all", choices=["crs", "csic", "text", "speed", "all"])
    parser.add_argument("--detectors", default="", help="comma-separated detector modules (default all)")
    parser.add_argument("--text", type=Path, default=TEXT,
                        help="free-text corpus (default bench/data/benign_text.jsonl.gz; see build_heldout_text.py)")
    args = parser.parse_args()
    names = [n for n in args.detectors.split(",") if n] or None
    detectors, missing = load_detectors(names)
    print(f"detectors: {[d.name for d in detectors]}; paranoia {args.paranoia}, threshold {args.threshold}")
    if missing:
        print(f"not loaded: {missing}")
    engine = DetectionEngine(detectors, paranoia=args.paranoia, threshold=args.threshold)
    misses = {m for m in args.misses.split(",") if m}
    if args.corpus in ("crs", "all"):
        run_crs(engine, misses, args.fps)
    if args.corpus in ("csic", "all"):
        run_csic(engine, args.fps)
    if args.corpus in ("text", "all"):
        run_text(engine, args.fps, args.text)
    if args.corpus in ("speed", "all"):
        run_speed(engine)


if __name__ == "__main__":
    main()
