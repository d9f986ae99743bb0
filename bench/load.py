"""Load benchmark behind ``make bench``: sealgate against a bare Python proxy, plain nginx and ModSecurity.

Every target fronts the same upstream, the modsec-reference lab's nginx "backend" (127.0.0.1:19001), and
is driven by wrk with the lab's two request shapes (``bench/wrk/``: a GET with a query string and a
1,097-byte JSON POST), so the figures compare like with like on this machine, in this session:

- ``backend``      the upstream itself (ceiling; nginx ``return 200``)
- ``nginx-plain``  plain nginx reverse proxy (lab, port 19080)
- ``modsec-pl1``   nginx + ModSecurity v3 + OWASP CRS 3.3.4, paranoia level 1 (lab, 19081);
                   ``modsec-pl2``: the same at paranoia level 2 (19082)
- ``baseline``     ``bench/baseline_proxy.py``: uvicorn (httptools, uvloop) + raw ASGI + aiohttp, 1 worker;
                   ``baseline-2w`` with 2 workers; ``baseline-granian`` / ``baseline-granian-2w`` the same
                   app under granian (only if granian is installed: a measurement aid, not a dependency)
- ``sealgate``     ``sealgate serve --upstream ... --workers 1`` with no config (quick mode); ``sealgate-2w``
- ``sealgate-NAME`` one per ``--variant NAME=CONFIG.yaml`` (``--config CONFIG.yaml``; 1 worker, or N
  when NAME ends in ``-Nw``, e.g. ``--variant protected-2w=bench/configs/protected.yaml``)

Per target and shape: one request sent first (its status must be 2xx), a short wrk warm-up (discarded),
then the measured ``wrk -t2 -c64 --latency`` run. The lab is started with its own ``start.sh`` (never
installing packages) and only the instances this run started are stopped again, with its ``stop.sh``;
every server this script starts is stopped on exit, Ctrl-C or error. A target answering anything but 2xx
is flagged loudly: its figures are not comparable (the exit status is then 1).

Besides wrk's figures, the CPU time the target's processes spend per request (from /proc, workers
included) is recorded: on a shared or busy machine requests/s swings with what else runs, CPU per
request hardly does, so CPU ratios are the figures to trust there.

Output: a markdown table per shape (requests/s, p50, p99, CPU µs per request, non-2xx, socket errors,
and requests/s divided by the baseline, nginx-plain and modsec-pl1 figures), a table of the headline
ratios (requests/s and CPU per request), the raw wrk output in ``bench/results/raw/``, server logs in
``bench/results/logs/`` and everything in ``bench/results/latest.json``.

Budget: about 4 minutes by default (8 s measured + 2 s warm-up per target and shape); ``--quick`` about
1 minute (3 s + 1 s, fewer targets); the per-run duration shrinks to fit ``--budget`` unless ``--duration``
is given. ``--rounds N`` repeats the whole sequence (tables show the median round).

Example::

    .venv/bin/python bench/load.py --quick
    .venv/bin/python bench/load.py --variant core=bench/configs/core.yaml \
        --variant tunnel=bench/configs/tunnel.yaml
    .venv/bin/python bench/load.py --targets backend,nginx-plain,baseline,baseline-granian --duration 10
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
WRK_DIR = BENCH_DIR / "wrk"
RESULTS_DIR = BENCH_DIR / "results"
DEFAULT_LAB = REPO.parent / "shared" / "tools" / "modsec-reference"
# The lab's ports follow its MODSEC_REF_PORT_BASE (default 19000), as in its start.sh.
LAB_BASE = int(os.environ.get("MODSEC_REF_PORT_BASE", "19000"))
LAB_PORTS = {"backend": LAB_BASE + 1, "plain": LAB_BASE + 80, "waf-pl1": LAB_BASE + 81, "waf-pl2": LAB_BASE + 82}
DEFAULT_UPSTREAM = f"http://127.0.0.1:{LAB_PORTS['backend']}"
LAB_TARGETS = {"backend": "backend", "nginx-plain": "plain", "modsec-pl1": "waf-pl1", "modsec-pl2": "waf-pl2"}

FULL_TARGETS = [
    "backend",
    "nginx-plain",
    "modsec-pl1",
    "modsec-pl2",
    "baseline",
    "baseline-2w",
    "sealgate",
    "sealgate-2w",
]
QUICK_TARGETS = ["nginx-plain", "modsec-pl1", "baseline", "sealgate", "sealgate-2w"]
EXTRA_TARGETS = ["baseline-granian", "baseline-granian-2w"]


# ---------------------------------------------------------------------------------------------------------
# request shapes (the same as bench/wrk/*.lua, which wrk uses; these are for the one-request pre-flight)
@dataclass(frozen=True)
class Shape:
    """One wrk request shape: its lua script and the same request for the pre-flight check."""

    name: str
    script: str
    method: str
    path: str
    content_type: str | None = None
    body_file: str | None = None

    def body(self) -> bytes:
        """The request body (empty for a GET)."""
        return (WRK_DIR / self.body_file).read_bytes() if self.body_file else b""


SHAPES = {
    "get": Shape("get", "get.lua", "GET", "/api/v1/articles?articleId=42&lang=en&q=machine%20learning"),
    "post": Shape("post", "post_json.lua", "POST", "/api/v1/articles", "application/json", "article.json"),
}
COMMON_HEADERS = {
    "Host": "api.example.com",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Accept": "application/json",
}


# ---------------------------------------------------------------------------------------------------------
# wrk output
class WrkParseError(ValueError):
    """wrk's output has no result (wrk failed, e.g. ``unable to connect``)."""


_MS_PER_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_TIME = r"([0-9]+(?:\.[0-9]+)?)(us|ms|s|m|h)"
_RE_SUMMARY = re.compile(rf"^\s*(\d+) requests in {_TIME}, ", re.M)
_RE_RPS = re.compile(r"^Requests/sec:\s+([0-9.]+)", re.M)
_RE_LATENCY = re.compile(rf"^\s+Latency\s+{_TIME}\s+{_TIME}\s+{_TIME}", re.M)
_RE_PERCENTILE = re.compile(rf"^\s+(\d+(?:\.\d+)?)%\s+{_TIME}\s*$", re.M)
_RE_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_RE_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_SOCKET_KINDS = ("connect", "read", "write", "timeout")


def to_ms(value: str, unit: str) -> float:
    """A wrk time (``812.00`` ``us``, ``1.48`` ``s``...) in milliseconds."""
    return float(value) * _MS_PER_UNIT[unit]


@dataclass
class WrkResult:
    """What one wrk run measured. ``non_2xx`` is wrk's count of statuses >= 400 (it ignores 3xx)."""

    requests: int
    duration_s: float
    requests_per_s: float
    latency_avg_ms: float
    latency_max_ms: float
    percentiles_ms: dict[str, float]
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_SOCKET_KINDS, 0))

    @property
    def p50_ms(self) -> float | None:
        """Median latency (needs ``--latency``)."""
        return self.percentiles_ms.get("50")

    @property
    def p99_ms(self) -> float | None:
        """99th-percentile latency (needs ``--latency``)."""
        return self.percentiles_ms.get("99")

    @property
    def socket_errors_total(self) -> int:
        """connect + read + write + timeout errors."""
        return sum(self.socket_errors.values())


def parse_wrk(text: str) -> WrkResult:
    """Parse wrk 4.x output (with or without ``--latency``); raise WrkParseError if it holds no result."""
    rps = _RE_RPS.search(text)
    summary = _RE_SUMMARY.search(text)
    latency = _RE_LATENCY.search(text)
    if not (rps and summary and latency):
        first = text.strip().splitlines()[0] if text.strip() else "(no output)"
        raise WrkParseError(f"no wrk result in the output: {first}")
    percentiles = {m.group(1): to_ms(m.group(2), m.group(3)) for m in _RE_PERCENTILE.finditer(text)}
    socket_errors = dict.fromkeys(_SOCKET_KINDS, 0)
    sock = _RE_SOCKET.search(text)
    if sock:
        socket_errors = {kind: int(n) for kind, n in zip(_SOCKET_KINDS, sock.groups(), strict=True)}
    non2xx = _RE_NON2XX.search(text)
    return WrkResult(
        requests=int(summary.group(1)),
        duration_s=to_ms(summary.group(2), summary.group(3)) / 1000.0,
        requests_per_s=float(rps.group(1)),
        latency_avg_ms=to_ms(latency.group(1), latency.group(2)),
        latency_max_ms=to_ms(latency.group(5), latency.group(6)),
        percentiles_ms=percentiles,
        non_2xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=socket_errors,
    )


# ---------------------------------------------------------------------------------------------------------
# targets and the processes behind them
@dataclass
class Target:
    """Something wrk is pointed at: a lab instance, or a server this script starts."""

    name: str
    kind: str  # "lab" | "baseline" | "sealgate"
    workers: str
    port: int = 0
    command: list[str] = field(default_factory=list)
    config: str | None = None
    error: str | None = None
    """Why it was not measured (set when it could not start or is not installed)."""
    root_pid: int | None = None
    """The server's main process (its workers are its descendants), for its CPU time."""


def free_port() -> int:
    """A free loopback port (the OS picks it; a tiny race with other programs is accepted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int) -> bool:
    """True if something accepts TCP connections on 127.0.0.1:port."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def send_shape(port: int, shape: Shape, timeout: float = 5.0) -> tuple[int, bytes]:
    """Send ``shape`` once and return (status, first bytes of the body); raises OSError on failure."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = dict(COMMON_HEADERS)
        if shape.content_type:
            headers["Content-Type"] = shape.content_type
        conn.request(shape.method, shape.path, body=shape.body() or None, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()[:300]
    finally:
        conn.close()


class Processes:
    """Servers started by this run, each in its own session so that its workers are stopped with it."""

    def __init__(self) -> None:
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(
        self, name: str, command: list[str], log: Path, cwd: Path = REPO, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``command`` in ``cwd`` (with ``env``, default ours) with stdout/stderr to ``log``."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            proc = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
                env=env,
                start_new_session=True,
            )
        self.running[name] = proc
        return proc

    def stop(self, name: str) -> None:
        """Stop one server and its workers (its own process group, by id): TERM, then KILL after 10 s."""
        proc = self.running.pop(name, None)
        if proc is None:
            return
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            if proc.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)  # start_new_session: the group id is the child's pid
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(wait)
        with contextlib.suppress(ProcessLookupError):  # workers left behind by a crashed master
            os.killpg(proc.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        """Stop every server still running, newest first."""
        for name in reversed(list(self.running)):
            self.stop(name)


def wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 30.0) -> None:
    """Wait until the server answers HTTP on ``port`` (any status); raise RuntimeError with its log tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with status {proc.returncode}: {log_tail(log)}")
        if port_open(port):
            try:
                send_shape(port, SHAPES["get"], timeout=2.0)
                return
            except (OSError, http.client.HTTPException):
                pass
        time.sleep(0.2)
    raise RuntimeError(f"not answering on port {port} after {timeout:.0f} s: {log_tail(log)}")


def log_tail(log: Path, lines: int = 6) -> str:
    """The last lines of a server log, for error messages."""
    try:
        tail = log.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return "(no log)"
    return " | ".join(tail) or "(empty log)"


# ---------------------------------------------------------------------------------------------------------
# the modsec-reference lab
def lab_run_dir() -> Path:
    """The lab's run dir (its start.sh default unless MODSEC_REF_RUN is set)."""
    return Path(os.environ.get("MODSEC_REF_RUN", "/tmp/modsec-reference"))


def lab_master_pid(instance: str) -> int | None:
    """The nginx master pid of a lab instance, from its pid file."""
    try:
        return int((lab_run_dir() / instance / "nginx.pid").read_text().strip())
    except (OSError, ValueError):
        return None


class Lab:
    """Starts the lab with its start.sh and stops, with its stop.sh, only the instances this run started."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.run_dir = lab_run_dir()
        self.started: list[str] = []
        self.message = ""

    def running(self) -> set[str]:
        """Lab instances whose pid file points at a live process."""
        alive = set()
        for name in LAB_PORTS:
            with contextlib.suppress(OSError, ValueError):
                os.kill(int((self.run_dir / name / "nginx.pid").read_text().strip()), 0)
                alive.add(name)
        return alive

    def start(self) -> None:
        """Run start.sh (no package installs); on failure, keep whatever instances did come up."""
        script = self.home / "start.sh"
        before = self.running()
        if not script.is_file():
            self.message = f"lab not found at {self.home} (start.sh missing)"
            return
        env = dict(os.environ, MODSEC_REF_NO_INSTALL="1")
        try:
            done = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=90, check=False)
            out = (done.stdout + done.stderr).strip()
            if done.returncode != 0:
                self.message = f"lab start.sh failed (status {done.returncode}): {out.splitlines()[-1:]}"
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.message = f"lab start.sh failed: {exc}"
        self.started = sorted(self.running() - before)

    def stop(self) -> None:
        """Stop the instances this run started (others were running before and are left alone)."""
        if not self.started:
            return
        env = dict(os.environ, ONLY=" ".join(self.started))
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run([str(self.home / "stop.sh")], env=env, capture_output=True, timeout=60, check=False)
        self.started = []


# ---------------------------------------------------------------------------------------------------------
# running wrk
@dataclass
class Measurement:
    """One target × shape over the rounds: pre-flight status, wrk runs, or why there are none."""

    target: str
    shape: str
    preflight_status: int | None = None
    """The first non-2xx pre-flight status seen, else the last one."""
    preflight_body: str = ""
    runs: list[WrkResult] = field(default_factory=list)
    busy_before_pct: list[float] = field(default_factory=list)
    cpu_us_per_request: list[float] = field(default_factory=list)
    """CPU time of the target's processes during each measured run, per request (µs)."""
    """CPU use of the whole machine just before each run, while the target idles: others' load."""
    error: str | None = None
    raw_files: list[str] = field(default_factory=list)

    @property
    def cpu_us(self) -> float | None:
        """Median CPU µs per request over the runs (None if not measured)."""
        return statistics.median(self.cpu_us_per_request) if self.cpu_us_per_request else None

    @property
    def wrk(self) -> WrkResult | None:
        """The run with the median requests/s (the lower middle one for an even count)."""
        if not self.runs:
            return None
        ordered = sorted(self.runs, key=lambda run: run.requests_per_s)
        return ordered[(len(ordered) - 1) // 2]

    @property
    def comparable(self) -> bool:
        """Measured, 2xx on every pre-flight and no non-2xx during any run."""
        return (
            bool(self.runs)
            and self.preflight_status is not None
            and 200 <= self.preflight_status < 300
            and all(run.non_2xx == 0 for run in self.runs)
        )


def run_wrk(port: int, shape: Shape, seconds: int, threads: int, connections: int, latency: bool) -> str:
    """Run wrk once and return its output; raises RuntimeError if wrk fails."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    cmd += ["--latency"] if latency else []
    cmd += ["-s", str(WRK_DIR / shape.script), f"http://127.0.0.1:{port}"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed (status {done.returncode}): {(done.stdout + done.stderr).strip()[:300]}")
    return done.stdout


def cpu_busy_pct(interval: float = 0.5) -> float:
    """Share of the machine's CPU time spent busy over ``interval`` seconds (from /proc/stat; 0 elsewhere)."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    try:
        total0, idle0 = sample()
        time.sleep(interval)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return 0.0
    return 100.0 * (1 - (idle1 - idle0) / max(total1 - total0, 1))


def process_tree_cpu_s(root: int) -> float | None:
    """User + system CPU seconds used so far by ``root`` and all its descendants (Linux /proc; else None).

    CPU time per request is the figure that survives a busy machine: requests/s drops when other
    programs take the cores, the CPU a server spends on each request hardly changes.
    """
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:  # the process just exited
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": comm may hold spaces
        children.setdefault(int(fields[1]), []).append(int(entry))
        ticks[int(entry)] = int(fields[11]) + int(fields[12])  # utime + stime
    if root not in ticks:
        return None
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += ticks.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total / os.sysconf("SC_CLK_TCK")


def measure(target: Target, shape: Shape, args: argparse.Namespace, into: Measurement, rnd: int) -> None:
    """Pre-flight, warm-up and one measured run of one target and shape, added to ``into``."""
    result = into
    try:
        time.sleep(0.3)  # let the previous run's tail drain, then see what else the machine is doing
        result.busy_before_pct.append(round(cpu_busy_pct(), 1))
        status, body = send_shape(target.port, shape)
        if result.preflight_status is None or 200 <= result.preflight_status < 300:
            result.preflight_status, result.preflight_body = status, body.decode("utf-8", "replace")
        if args.warmup > 0:
            run_wrk(target.port, shape, args.warmup, args.threads, args.connections, latency=False)
        cpu0 = process_tree_cpu_s(target.root_pid) if target.root_pid else None
        text = run_wrk(target.port, shape, args.duration, args.threads, args.connections, latency=True)
        cpu1 = process_tree_cpu_s(target.root_pid) if target.root_pid else None
        suffix = f".r{rnd + 1}" if args.rounds > 1 else ""
        raw = RESULTS_DIR / "raw" / f"{target.name}.{shape.name}{suffix}.txt"
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(text)
        result.raw_files.append(str(raw.relative_to(REPO)))
        run = parse_wrk(text)
        result.runs.append(run)
        if cpu0 is not None and cpu1 is not None and run.requests:
            result.cpu_us_per_request.append(round((cpu1 - cpu0) / run.requests * 1e6, 1))
    except (
        OSError,
        http.client.HTTPException,
        RuntimeError,
        subprocess.TimeoutExpired,
        WrkParseError,
    ) as exc:
        result.error = f"{type(exc).__name__}: {exc}"


# ---------------------------------------------------------------------------------------------------------
# plan
def sealgate_exe() -> Path:
    """The sealgate console script of the venv running this script."""
    return Path(sys.executable).parent / "sealgate"


def sealgate_available() -> str | None:
    """None if ``sealgate serve --help`` works, else why not."""
    exe = sealgate_exe()
    if not exe.exists():
        return f"{exe} does not exist (pip install -e . ?)"
    try:
        done = subprocess.run([str(exe), "serve", "--help"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"sealgate serve --help failed: {exc}"
    if done.returncode != 0:
        return f"sealgate serve --help failed: {(done.stdout + done.stderr).strip().splitlines()[-1:]}"
    return None


def build_targets(args: argparse.Namespace) -> list[Target]:
    """The targets to measure, in order, with their commands (ports are picked when they start)."""
    names = args.targets.split(",") if args.targets else list(QUICK_TARGETS if args.quick else FULL_TARGETS)
    variants = dict(parse_variant(v) for v in args.variant)
    names += [f"sealgate-{v}" for v in variants if f"sealgate-{v}" not in names]
    lab_workers = os.environ.get("NGINX_WORKERS", f"auto ({os.cpu_count()})")
    targets = []
    for name in names:
        name = name.strip()
        if name in LAB_TARGETS:
            workers = (
                os.environ.get("BACKEND_WORKERS", f"auto ({os.cpu_count()})") if name == "backend" else lab_workers
            )
            targets.append(Target(name, "lab", workers, port=LAB_PORTS[LAB_TARGETS[name]]))
        elif name.startswith("baseline"):
            m = re.fullmatch(r"baseline(-granian)?(?:-(\d+)w)?", name)
            if not m:
                raise SystemExit(f"unknown target {name!r}")
            server, workers = ("granian" if m.group(1) else "uvicorn"), m.group(2) or "1"
            cmd = [
                sys.executable,
                str(BENCH_DIR / "baseline_proxy.py"),
                "--upstream",
                args.upstream,
                "--workers",
                workers,
                "--server",
                server,
            ]
            targets.append(Target(name, "baseline", workers, command=cmd))
        elif name.startswith("sealgate"):
            m = re.fullmatch(r"sealgate(?:-(\d+)w)?", name)
            workers, config = (m.group(1) or "1") if m else "1", None
            if not m:
                variant = name.removeprefix("sealgate-")
                if variant not in variants:
                    raise SystemExit(f"unknown target {name!r}: give its config with --variant {variant}=FILE")
                config = variants[variant]
                # "--variant protected-2w=FILE": a name ending in -<N>w runs N workers
                sized = re.fullmatch(r".+-(\d+)w", variant)
                workers = sized.group(1) if sized else "1"
            cmd = [
                str(sealgate_exe()),
                "serve",
                "--upstream",
                args.upstream,
                "--host",
                "127.0.0.1",
                "--workers",
                workers,
            ] + (["--config", config] if config else [])
            targets.append(Target(name, "sealgate", workers, command=cmd, config=config))
        else:
            raise SystemExit(f"unknown target {name!r} (known: {', '.join(FULL_TARGETS + EXTRA_TARGETS)})")
    return targets


def parse_variant(text: str) -> tuple[str, str]:
    """``NAME=CONFIG.yaml`` -> (name, path); the file must exist."""
    name, sep, path = text.partition("=")
    if not sep or not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name) or not path:
        raise SystemExit(f"--variant wants NAME=CONFIG.yaml (lower-case name), got {text!r}")
    if not (REPO / path).is_file() and not Path(path).is_file():
        raise SystemExit(f"--variant {name}: config file {path} not found")
    return name, str(Path(path).resolve() if Path(path).is_file() else REPO / path)


def fit_budget(args: argparse.Namespace, targets: list[Target], shapes: list[Shape]) -> float:
    """Shrink the measured duration to fit ``--budget`` (unless --duration was given); return the estimate."""
    runs = len(targets) * len(shapes) * args.rounds
    # lab start/stop; each server's start and stop; per run: wrk start-up, the pre-flight, the CPU probe
    overhead = 8.0 + 4.0 * args.rounds * sum(t.kind != "lab" for t in targets) + 1.5 * runs
    if args.duration is None:
        args.duration = 3 if args.quick else 8
        affordable = int((args.budget - overhead) / max(runs, 1) - args.warmup)
        if affordable < args.duration:
            args.duration = max(2, affordable)
            print(f"(shrinking measured runs to {args.duration} s to fit the {args.budget:.0f} s budget)")
    return float(overhead + runs * (args.warmup + args.duration))


# ---------------------------------------------------------------------------------------------------------
# report
def ratio(results: dict[str, Measurement], a: str, b: str) -> float | None:
    """requests/s of ``a`` divided by that of ``b``, when both were measured."""
    ra, rb = results.get(a), results.get(b)
    if ra is None or rb is None or ra.wrk is None or rb.wrk is None or rb.wrk.requests_per_s <= 0:
        return None
    return ra.wrk.requests_per_s / rb.wrk.requests_per_s


def cpu_ratio(results: dict[str, Measurement], a: str, b: str) -> float | None:
    """CPU µs per request of ``a`` divided by that of ``b``, when both were measured."""
    ca = results[a].cpu_us if a in results else None
    cb = results[b].cpu_us if b in results else None
    return ca / cb if ca is not None and cb else None


def headline_pairs(names: list[str]) -> list[tuple[str, str]]:
    """The ratios worth a line: sealgate (and each variant) against the references, and worker scaling."""
    pairs = [
        ("sealgate", "baseline"),
        ("sealgate", "nginx-plain"),
        ("sealgate", "modsec-pl1"),
        ("sealgate-2w", "sealgate"),
        ("sealgate-2w", "baseline-2w"),
        ("baseline-2w", "baseline"),
        ("baseline-granian", "baseline"),
        ("baseline-granian-2w", "baseline-2w"),
    ]
    for name in names:
        if name.startswith("sealgate-") and not re.fullmatch(r"sealgate-\d+w", name):
            pairs += [(name, "baseline"), (name, "modsec-pl1"), (name, "sealgate")]
    return [(a, b) for a, b in pairs if a in names and b in names]


def fmt(value: float | None, digits: int = 2) -> str:
    """A number for the tables, or n/a."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def report(
    targets: list[Target], shapes: list[Shape], results: dict[str, dict[str, Measurement]]
) -> tuple[str, list[str]]:
    """The markdown tables and the list of loud warnings."""
    lines: list[str] = []
    warnings: list[str] = []
    names = [t.name for t in targets]
    for shape in shapes:
        by_target = results.get(shape.name, {})
        lines += [
            "",
            f"### {shape.name}: {shape.method} {shape.path}",
            "",
            "| target | workers | req/s | p50 ms | p99 ms | CPU µs/req | non-2xx | socket errors "
            "| ÷ baseline | ÷ nginx-plain | ÷ modsec-pl1 |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for t in targets:
            m = by_target.get(t.name)
            if m is None or m.wrk is None:
                why = t.error or (m.error if m else None) or "not run"
                short = why if len(why) <= 70 else why[:67] + "..."
                lines.append(f"| {t.name} | {t.workers} | not measured: {short.replace('|', '/')} ||||||||")
                continue
            w = m.wrk
            mark = "" if m.comparable else " ⚠"
            sock = ", ".join(f"{k} {v}" for k, v in w.socket_errors.items() if v) or "0"
            rps = f"{w.requests_per_s:.0f}"
            if len(m.runs) > 1:
                each = [r.requests_per_s for r in m.runs]
                rps += f" ({min(each):.0f}–{max(each):.0f})"
            cells = [t.name + mark, t.workers, rps, fmt(w.p50_ms), fmt(w.p99_ms)]
            cells += [fmt(m.cpu_us, 0), str(w.non_2xx), sock]
            cells += [fmt(ratio(by_target, t.name, ref)) for ref in ("baseline", "nginx-plain", "modsec-pl1")]
            lines.append("| " + " | ".join(cells) + " |")
            if not m.comparable:
                warnings.append(
                    f"{t.name} answered {shape.name} with status {m.preflight_status} on the "
                    f"pre-flight and {sum(r.non_2xx for r in m.runs)} non-2xx in the runs: NOT COMPARABLE "
                    f"(body: {m.preflight_body[:120]!r})"
                )
            elif w.socket_errors_total:
                warnings.append(f"{t.name} {shape.name}: {sock} socket errors (wrk timeouts/resets)")
        for t in targets:
            m = by_target.get(t.name)
            if m is not None and m.error and t.error is None:
                warnings.append(f"{t.name} {shape.name}: {m.error}")
    for t in targets:
        if t.error and t.kind != "lab" and "granian" not in t.name:
            warnings.append(f"{t.name} was not measured: {t.error}")
    pairs = headline_pairs(names)
    if pairs:
        lines += [
            "",
            "### ratios",
            "",
            "req/s: throughput ratio (higher = a is faster). CPU/req: CPU time per request ratio (higher = a"
            " costs more); it holds up on a busy machine, where req/s does not.",
            "",
            "| a / b | "
            + " | ".join(f"{s.name} req/s" for s in shapes)
            + " | "
            + " | ".join(f"{s.name} CPU/req" for s in shapes)
            + " |",
            "|---|" + "---:|" * (2 * len(shapes)),
        ]
        for a, b in pairs:
            cells = []
            for s in shapes:
                by_target = results.get(s.name, {})
                value = ratio(by_target, a, b)
                bad = any(by_target.get(n) is not None and not by_target[n].comparable for n in (a, b))
                cells.append(fmt(value) + (" ⚠" if bad and value is not None else ""))
            for s in shapes:
                cells.append(fmt(cpu_ratio(results.get(s.name, {}), a, b)))
            lines.append(f"| {a} / {b} | " + " | ".join(cells) + " |")
    return "\n".join(lines), warnings


def write_json(
    path: Path,
    args: argparse.Namespace,
    targets: list[Target],
    shapes: list[Shape],
    results: dict[str, dict[str, Measurement]],
    warnings: list[str],
    notes: list[str],
    interrupted: bool,
) -> None:
    """bench/results/latest.json: settings, machine, targets, per-shape results and ratios."""

    def measurement(m: Measurement) -> dict[str, Any]:
        out: dict[str, Any] = asdict(m)
        out["comparable"] = m.comparable
        out["rounds_requests_per_s"] = [run.requests_per_s for run in m.runs]
        out["cpu_us"] = m.cpu_us
        if m.wrk is not None:  # the median run's figures at the top level
            out.update(asdict(m.wrk), p50_ms=m.wrk.p50_ms, p99_ms=m.wrk.p99_ms)
        return out

    doc = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "interrupted": interrupted,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_at_start": list(os.getloadavg()),
        },
        "settings": {
            "threads": args.threads,
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "upstream": args.upstream,
        },
        "targets": [asdict(t) for t in targets],
        "results": {s: {t: measurement(m) for t, m in r.items()} for s, r in results.items()},
        "cpu_ratios": {
            s.name: {
                f"{a}/{b}": cpu_ratio(results.get(s.name, {}), a, b)
                for a, b in headline_pairs([t.name for t in targets])
            }
            for s in shapes
        },
        "ratios": {
            s.name: {
                f"{a}/{b}": ratio(results.get(s.name, {}), a, b) for a, b in headline_pairs([t.name for t in targets])
            }
            for s in shapes
        },
        "warnings": warnings,
        "notes": notes,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")


# ---------------------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    p = argparse.ArgumentParser(description="wrk load benchmark: sealgate vs a bare proxy, nginx, ModSecurity")
    p.add_argument("--quick", action="store_true", help="about 1 minute: 3 s runs, fewer targets")
    p.add_argument("--duration", type=int, help="measured seconds per target and shape (default 8, quick 3)")
    p.add_argument("--warmup", type=int, help="warm-up seconds, discarded (default 2, quick 1)")
    p.add_argument("--budget", type=float, help="total seconds to fit in (default 240, quick 75)")
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=CONFIG",
        help="also measure sealgate with --config CONFIG as target sealgate-NAME (repeatable)",
    )
    p.add_argument(
        "--targets",
        help="comma-separated target names instead of the default set "
        f"(known: {', '.join(FULL_TARGETS + EXTRA_TARGETS)}, sealgate-NAME for a variant)",
    )
    p.add_argument("--rounds", type=int, default=1, help="repeat the whole sequence; tables show the median round")
    p.add_argument("--shapes", default="get,post", help="get, post or get,post")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--upstream", default=DEFAULT_UPSTREAM, help="what every proxy fronts (the lab backend)")
    p.add_argument("--lab", type=Path, default=DEFAULT_LAB, help="the modsec-reference folder")
    p.add_argument("--no-lab", action="store_true", help="do not start the lab (use what is already running)")
    p.add_argument(
        "--keep-audit", action="store_true", help="keep sealgate's working dirs and audit logs (bench/results/run/)"
    )
    p.add_argument("--json", type=Path, default=RESULTS_DIR / "latest.json", help="results file")
    args = p.parse_args(argv)
    if args.warmup is None:
        args.warmup = 1 if args.quick else 2
    if args.budget is None:
        args.budget = 75.0 if args.quick else 240.0
    return args


def run_target(
    t: Target,
    shapes: list[Shape],
    args: argparse.Namespace,
    procs: Processes,
    results: dict[str, dict[str, Measurement]],
    rnd: int,
) -> None:
    """Start the target (unless it is a lab instance), measure every shape once, stop it."""
    log = RESULTS_DIR / "logs" / f"{t.name}.log"
    try:
        if t.kind != "lab":
            t.port = free_port()
            extra = ["--port", str(t.port)]
            if t.kind == "sealgate":  # its admin port (default 9090) must not clash with anything running
                extra += ["--admin-port", str(free_port())]
            # sealgate runs in a scratch dir: the audit log stays as configured (quick mode: the default
            # jsonl file, part of the cost) but lands in results/, not in the repo, and is deleted after.
            cwd = scratch_dir(t) if t.kind == "sealgate" else REPO
            cwd.mkdir(parents=True, exist_ok=True)
            proc = procs.start(t.name, [*t.command, *extra], log, cwd=cwd)
            t.root_pid = proc.pid
            wait_ready(proc, t.port, log)
        else:
            t.root_pid = lab_master_pid(LAB_TARGETS[t.name])
        for shape in shapes:
            m = results[shape.name].setdefault(t.name, Measurement(t.name, shape.name))
            before = len(m.runs)
            measure(t, shape, args, m, rnd)
            tag = f"{t.name:>22} {shape.name:<4}" + (f" r{rnd + 1}" if args.rounds > 1 else "")
            if len(m.runs) > before:
                run = m.runs[-1]
                cpu = m.cpu_us_per_request[-1] if m.cpu_us_per_request else float("nan")
                print(
                    f"{tag} {run.requests_per_s:9.0f} req/s  p50 {fmt(run.p50_ms):>7} ms  "
                    f"p99 {fmt(run.p99_ms):>8} ms  status {m.preflight_status}  non-2xx {run.non_2xx}  "
                    f"CPU {cpu:.0f} µs/req = {cpu * run.requests_per_s / 1e6:.2f} cores  "
                    f"(machine {m.busy_before_pct[-1]:.0f}% busy before)"
                )
            else:
                print(f"{tag} FAILED: {m.error}")
    except RuntimeError as exc:
        t.error = f"did not start: {exc}"
        print(f"SKIP {t.name}: {t.error}")
    finally:
        procs.stop(t.name)
        if t.kind == "sealgate" and not args.keep_audit:
            shutil.rmtree(scratch_dir(t), ignore_errors=True)


def scratch_dir(t: Target) -> Path:
    """The working directory of a sealgate target (its default audit file and SQLite files go there)."""
    return RESULTS_DIR / "run" / t.name


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM: clean up exactly as on Ctrl-C


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark: 0 if everything answered 2xx and sealgate and the baseline ran; 1 otherwise; 130
    if interrupted."""
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1
    shapes = [SHAPES[s.strip()] for s in args.shapes.split(",")]
    targets = build_targets(args)
    estimate = fit_budget(args, targets, shapes)
    notes: list[str] = []
    load1 = os.getloadavg()[0]
    print(
        f"# sealgate load benchmark — {len(targets)} targets × {len(shapes)} shapes, wrk -t{args.threads} "
        f"-c{args.connections}, {args.warmup} s warm-up + {args.duration} s measured, about {estimate:.0f} s"
    )
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, load average {load1:.2f}")
    if load1 > 0.7:
        notes.append(f"load average {load1:.2f} at start: something else uses the CPU, figures will be low")
        print(f"WARNING: {notes[-1]}")

    signal.signal(signal.SIGTERM, _terminate)
    procs, lab = Processes(), Lab(args.lab)
    results: dict[str, dict[str, Measurement]] = {s.name: {} for s in shapes}
    interrupted = False
    try:
        if not args.no_lab:
            lab.start()
            if lab.message:
                notes.append(lab.message)
                print(f"WARNING: {lab.message}; continuing with what is up")
        up = args.upstream.rsplit(":", 1)[-1].rstrip("/")
        if up.isdigit() and not port_open(int(up)):
            print(f"bench: the upstream {args.upstream} is not reachable; nothing to measure", file=sys.stderr)
            return 1
        missing_sealgate = sealgate_available() if any(t.kind == "sealgate" for t in targets) else None
        granian = importlib.util.find_spec("granian") is not None
        for t in targets:
            if t.kind == "lab" and not port_open(t.port):
                t.error = f"lab instance on port {t.port} is not running"
            elif t.kind == "sealgate" and missing_sealgate:
                t.error = f"sealgate CLI unavailable: {missing_sealgate}"
            elif "granian" in t.name and not granian:
                t.error = "granian is not installed (pip install granian; a measurement aid only)"
            if t.error:
                print(f"SKIP {t.name}: {t.error}")
        # Rounds run the whole sequence again (servers restarted), so that slow drifts of the machine
        # (other processes, thermal) spread over all targets instead of penalising the last ones.
        for rnd in range(args.rounds):
            for t in targets:
                if t.error is None:
                    run_target(t, shapes, args, procs, results, rnd)
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: stopping what was started", file=sys.stderr)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        procs.stop_all()
        lab.stop()

    table, warnings = report(targets, shapes, results)
    print(table)
    if warnings:
        print("\n" + "!" * 100)
        for w in warnings:
            print(f"!!! {w}")
        print("!" * 100)
    for n in notes:
        print(f"note: {n}")
    write_json(args.json, args, targets, shapes, results, warnings, notes, interrupted)
    print(f"\nresults: {args.json.relative_to(REPO) if args.json.is_relative_to(REPO) else args.json}")
    if interrupted:
        return 130
    measured = [m for r in results.values() for m in r.values() if m.wrk is not None]
    # The lab and granian are optional references; sealgate and the baseline are the point of the run.
    failed = [t.name for t in targets if t.error and t.kind != "lab" and "granian" not in t.name]
    return 0 if measured and all(m.comparable for m in measured) and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
