"""Live detection benchmark: replay labelled corpora against running WAFs, side by side.

Every request goes over a real socket to a real server, so this measures what a client sees: the
gateway's HTTP parsing, decoding and blocking, not just its detection engine (``detection_offline.py``
measures the engine in-process, faster, for development).

Targets (``--targets``, comma-separated):

- ``sealgate``      ``sealgate serve --upstream <lab backend>`` with ``bench/configs/detection.yaml``:
  the quick-mode defaults (no spec, detection on everything, blocking, default paranoia), audit off;
- ``sealgate-pl2``  the same at paranoia 2 (``SEALGATE_INJECTION__PARANOIA=2``);
- ``modsec-pl1``, ``modsec-pl2``  nginx + ModSecurity + CRS 3.3.4 from ``shared/tools/modsec-reference``
  (started with its ``start.sh`` if not running; only what this run started is stopped);
- ``NAME=URL``      any other running server on loopback.

Corpora (``--corpus``, comma-separated): ``crs`` (CRS 3.3.4 regression lines, per category), ``csic``
(36,000 benign shop requests) and ``text`` (benign free text from ``bench/data/benign_text.jsonl.gz``,
each line sent as ``GET /search?q=…`` and ``POST /comments {"comment": …}``). The corpus lines are sent
as they are (method, raw path, headers in order, body), on a fresh HTTP/1.1 connection each, like the
lab's ``eval_corpus.py``; ``Accept-Charset`` is dropped (see the corpus README: it is no attack signal).
A request counts as blocked when the answer is 403; other statuses are counted apart, never as blocks.

    .venv/bin/python bench/detection.py [--targets sealgate,modsec-pl1,modsec-pl2] [--corpus crs,csic,text]
        [--limit N] [--concurrency 8] [--misses sealgate:sqli]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_plus, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import (  # the load benchmark's process and lab helpers, shared on purpose
    DEFAULT_LAB,
    DEFAULT_UPSTREAM,
    LAB_PORTS,
    REPO,
    RESULTS_DIR,
    Lab,
    Processes,
    free_port,
    log_tail,
    port_open,
    sealgate_exe,
)

BENCH_DIR = Path(__file__).resolve().parent
CORPUS_DIR = REPO.parent / "shared" / "corpus"
CORPORA = {
    "crs": CORPUS_DIR / "crs-3.3.4-regression.jsonl",
    "csic": CORPUS_DIR / "csic2010-train-benign.jsonl.gz",
    "text": BENCH_DIR / "data" / "benign_text.jsonl.gz",
}
DROPPED_HEADERS = {"accept-charset"}
TARGETED = ("sqli", "xss", "rce", "lfi", "rfi", "php", "java", "nodejs", "session", "scanner")


@dataclass(frozen=True)
class Probe:
    """One request to send, with its label."""

    category: str
    label: str  # "attack" | "benign"
    line_id: str
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass
class Tally:
    """What one target did with one corpus, per category."""

    attacks: Counter[str] = field(default_factory=Counter)
    caught: Counter[str] = field(default_factory=Counter)
    benign: Counter[str] = field(default_factory=Counter)
    false_positives: Counter[str] = field(default_factory=Counter)
    other_status: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    missed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------------------
# corpora
def read_lines(path: Path, limit: int | None) -> Iterator[dict[str, object]]:
    """The JSON objects of a ``.jsonl`` or ``.jsonl.gz`` file, at most ``limit``."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for count, line in enumerate(handle):
            if limit is not None and count >= limit:
                return
            if line.strip():
                yield json.loads(line)


def corpus_probes(name: str, limit: int | None) -> list[Probe]:
    """The requests of corpus ``name`` (see the module docstring)."""
    path = CORPORA[name]
    if not path.exists():
        raise SystemExit(f"corpus {name}: {path} not found")
    if name == "text":
        return [probe for line in read_lines(path, limit) for probe in text_probes(line)]
    probes = []
    for line in read_lines(path, limit):
        headers = tuple(
            (str(k), str(v)) for k, v in line["headers"]  # type: ignore[attr-defined]
            if str(k).lower() not in DROPPED_HEADERS
        )
        probes.append(Probe(
            category=str(line.get("category") or "benign"), label=str(line["label"]), line_id=str(line["id"]),
            method=str(line["method"]), path=str(line["path"]), headers=headers,
            body=str(line.get("body") or "").encode("utf-8"),
        ))
    return probes


def text_probes(line: dict[str, object]) -> list[Probe]:
    """A free-text line as a query value and as a JSON field (the same shapes as detection_offline.py)."""
    text = str(line["text"])
    source = str(line.get("source", "?")).split(":")[0]
    base = (("Host", "localhost"), ("User-Agent", "Mozilla/5.0"))
    return [
        Probe(source, "benign", str(line.get("source")), "GET", "/search?q=" + quote_plus(text), base, b""),
        Probe(source, "benign", str(line.get("source")), "POST", "/comments",
              (*base, ("Content-Type", "application/json")), json.dumps({"comment": text}).encode("utf-8")),
    ]


# ---------------------------------------------------------------------------------------------------------
# sending
def send(host: str, port: int, probe: Probe, timeout: float) -> int | None:
    """Send one probe on a fresh connection; its status, or None on a transport error."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.putrequest(probe.method, probe.path, skip_host=True, skip_accept_encoding=True)
        has_length = False
        for name, value in probe.headers:
            has_length = has_length or name.lower() == "content-length"
            conn.putheader(name, value.encode("utf-8"))
        if probe.body and not has_length:
            conn.putheader("Content-Length", str(len(probe.body)))
        conn.endheaders(probe.body or None)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def replay(url: str, probes: list[Probe], concurrency: int, timeout: float) -> Tally:
    """Send every probe to ``url`` (``concurrency`` at a time) and count what was blocked."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    tally = Tally()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        statuses = pool.map(lambda p: send(host, port, p, timeout), probes, chunksize=16)
        for probe, status in zip(probes, statuses, strict=True):
            blocked = status == 403
            if status is None:
                tally.errors += 1
            elif not blocked and status >= 400:
                tally.other_status[status] += 1
            if probe.label == "attack":
                tally.attacks[probe.category] += 1
                if blocked:
                    tally.caught[probe.category] += 1
                else:
                    tally.missed[probe.category].append(probe.line_id)
            else:
                tally.benign[probe.category] += 1
                if blocked:
                    tally.false_positives[probe.category] += 1
    tally.seconds = time.monotonic() - started
    return tally


# ---------------------------------------------------------------------------------------------------------
# targets
class Targets:
    """Starts the servers this run needs and stops them again."""

    def __init__(self, lab_home: Path, upstream: str) -> None:
        self.processes = Processes()
        self.lab = Lab(lab_home)
        self.upstream = upstream

    def resolve(self, names: list[str]) -> dict[str, str]:
        """Target name → base URL, starting sealgate and the lab as needed."""
        urls: dict[str, str] = {}
        needs_lab = any(n.startswith("modsec") or n.startswith("sealgate") for n in names)
        if needs_lab and not port_open(LAB_PORTS["backend"]):
            self.lab.start()
        for name in names:
            if "=" in name:
                label, url = name.split("=", 1)
                if urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
                    raise SystemExit(f"target {label}: only loopback URLs are allowed, got {url}")
                urls[label] = url
            elif name in ("modsec-pl1", "modsec-pl2"):
                port = LAB_PORTS["waf-" + name.removeprefix("modsec-")]
                if not port_open(port):
                    self.lab.start()
                if not port_open(port):
                    raise SystemExit(f"{name}: the lab is not answering on {port}: {self.lab.message}")
                urls[name] = f"http://127.0.0.1:{port}"
            elif name in ("sealgate", "sealgate-pl2"):
                urls[name] = self._start_sealgate(name)
            else:
                raise SystemExit(f"unknown target {name!r}: sealgate, sealgate-pl2, modsec-pl1, modsec-pl2 or NAME=URL")
        return urls

    def _start_sealgate(self, name: str) -> str:
        port = free_port()
        log = RESULTS_DIR / "logs" / f"detection-{name}.log"
        env = dict(os.environ)
        if name == "sealgate-pl2":
            env["SEALGATE_INJECTION__PARANOIA"] = "2"
        command = [str(sealgate_exe()), "serve", "--config", str(BENCH_DIR / "configs" / "detection.yaml"),
                   "--upstream", self.upstream, "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
        log.parent.mkdir(parents=True, exist_ok=True)
        proc = self.processes.start(name, command, log, env=env)
        deadline = time.monotonic() + 30
        while not port_open(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{name} did not start: {log_tail(log)}")
            time.sleep(0.2)
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        """Stop what this run started."""
        self.processes.stop_all()
        self.lab.stop()


# ---------------------------------------------------------------------------------------------------------
# report
def pct(part: int, whole: int) -> str:
    """A percentage with enough digits for small false-positive rates."""
    if not whole:
        return "n/a"
    value = 100.0 * part / whole
    return f"{value:.1f}%" if value >= 10 or value == 0 else f"{value:.2f}%" if value >= 1 else f"{value:.3f}%"


def report(corpus: str, tallies: dict[str, Tally]) -> None:
    """A markdown table for one corpus: per category, each target's detection and false-positive rates."""
    names = list(tallies)
    first = tallies[names[0]]
    print(f"\n### {corpus}\n")
    head = "| category | attacks | " + " | ".join(f"{n} detected" for n in names)
    head += " | benign | " + " | ".join(f"{n} FP" for n in names) + " |"
    print(head)
    print("|---" * (3 + 2 * len(names)) + "|")
    categories = sorted(set(first.attacks) | set(first.benign),
                        key=lambda c: (c not in TARGETED, -first.attacks[c], c))
    for cat in categories:
        cells = [cat, str(first.attacks[cat] or "")]
        cells += [pct(t.caught[cat], t.attacks[cat]) if first.attacks[cat] else "" for t in tallies.values()]
        cells.append(str(first.benign[cat] or ""))
        cells += [pct(t.false_positives[cat], t.benign[cat]) if first.benign[cat] else "" for t in tallies.values()]
        print("| " + " | ".join(cells) + " |")
    total_attacks = sum(first.attacks.values())
    total_benign = sum(first.benign.values())
    cells = ["**all**", str(total_attacks or "")]
    cells += [pct(sum(t.caught.values()), total_attacks) if total_attacks else "" for t in tallies.values()]
    cells.append(str(total_benign or ""))
    cells += [pct(sum(t.false_positives.values()), total_benign) if total_benign else "" for t in tallies.values()]
    print("| " + " | ".join(cells) + " |")
    for name, tally in tallies.items():
        extra = f", other statuses {dict(tally.other_status.most_common(5))}" if tally.other_status else ""
        print(f"- {name}: {tally.seconds:.0f} s, transport errors {tally.errors}{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", default="sealgate,modsec-pl1,modsec-pl2")
    parser.add_argument("--corpus", default="crs,csic,text")
    parser.add_argument("--limit", type=int, default=None, help="first N lines of each corpus")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--upstream", default=DEFAULT_UPSTREAM)
    parser.add_argument("--lab", type=Path, default=DEFAULT_LAB)
    parser.add_argument("--misses", default="", help="TARGET:CATEGORY pairs whose missed line ids to list")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "detection.json")
    args = parser.parse_args()

    targets = Targets(args.lab, args.upstream)
    results: dict[str, dict[str, dict[str, object]]] = {}
    try:
        urls = targets.resolve([n.strip() for n in args.targets.split(",") if n.strip()])
        print(f"targets: {urls}")
        for corpus in [c.strip() for c in args.corpus.split(",") if c.strip()]:
            if corpus not in CORPORA:
                raise SystemExit(f"unknown corpus {corpus!r} (known: {', '.join(CORPORA)})")
            probes = corpus_probes(corpus, args.limit)
            tallies = {name: replay(url, probes, args.concurrency, args.timeout) for name, url in urls.items()}
            report(f"{corpus} ({len(probes)} requests)", tallies)
            results[corpus] = {
                name: {"attacks": dict(t.attacks), "caught": dict(t.caught), "benign": dict(t.benign),
                       "false_positives": dict(t.false_positives), "errors": t.errors,
                       "other_status": {str(k): v for k, v in t.other_status.items()}, "seconds": t.seconds}
                for name, t in tallies.items()
            }
            for pair in filter(None, args.misses.split(",")):
                name, _, category = pair.partition(":")
                if name in tallies:
                    print(f"  {name} missed {category}: {tallies[name].missed.get(category, [])}")
    finally:
        targets.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"\nresults: {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")


if __name__ == "__main__":
    main()
