"""bench/load.py helpers: the wrk-output parser on real wrk 4.1 output (tests/bench/data/), ratios, CPU.

Samples (wrk -t2 -c64 --latency against the modsec-reference lab, 2-vCPU machine):
- wrk_get_backend.txt                  GET shape, nginx backend direct: microsecond latencies, no errors
- wrk_post_modsec_pl1.txt              POST shape, ModSecurity PL1: p99 in seconds ("1.48s ", trailing space)
- wrk_get_non2xx_modsec_pl1.txt        an XSS query blocked by ModSecurity: every response a 403
- wrk_post_timeouts_modsec_pl1.txt     POST shape with --timeout 1s: socket timeout errors
- wrk_get_backend_no_latency.txt       GET shape without --latency (as in the warm-up): no percentiles
- wrk_refused.txt                      wrk against a closed port: no result at all
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from tests.support.bench_scripts import load_bench_script

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"


load = load_bench_script("load.py")


def sample(name: str) -> str:
    return (DATA / name).read_text()


def test_backend_get_microseconds() -> None:
    result = load.parse_wrk(sample("wrk_get_backend.txt"))
    assert result.requests == 221140
    assert result.duration_s == pytest.approx(3.01)
    assert result.requests_per_s == pytest.approx(73536.23)
    assert result.p50_ms == pytest.approx(0.546)  # "546.00us"
    assert result.percentiles_ms == pytest.approx({"50": 0.546, "75": 1.27, "90": 2.96, "99": 6.59})
    assert result.p99_ms == pytest.approx(6.59)
    assert result.latency_avg_ms == pytest.approx(1.11)
    assert result.latency_max_ms == pytest.approx(15.30)
    assert result.non_2xx == 0
    assert result.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    assert result.socket_errors_total == 0


def test_seconds_with_trailing_space() -> None:
    result = load.parse_wrk(sample("wrk_post_modsec_pl1.txt"))
    assert result.requests == 805
    assert result.requests_per_s == pytest.approx(267.94)
    assert result.p50_ms == pytest.approx(211.48)
    assert result.p99_ms == pytest.approx(1480.0)  # "1.48s " : seconds, and wrk pads the unit
    assert result.latency_max_ms == pytest.approx(1930.0)
    assert result.non_2xx == 0


def test_non_2xx_counted() -> None:
    result = load.parse_wrk(sample("wrk_get_non2xx_modsec_pl1.txt"))
    assert result.requests == 3027
    assert result.non_2xx == 3027
    assert result.latency_max_ms == pytest.approx(1010.0)
    assert result.p99_ms == pytest.approx(731.71)


def test_socket_timeouts() -> None:
    result = load.parse_wrk(sample("wrk_post_timeouts_modsec_pl1.txt"))
    assert result.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 18}
    assert result.socket_errors_total == 18
    assert result.non_2xx == 0
    assert result.requests_per_s == pytest.approx(220.64)


def test_connection_refused_is_an_error() -> None:
    with pytest.raises(load.WrkParseError, match="unable to connect"):
        load.parse_wrk(sample("wrk_refused.txt"))


TRUNCATED = "Running 3s test @ http://127.0.0.1:1\n  2 threads and 64 connections\n"


@pytest.mark.parametrize("text", ["", TRUNCATED])
def test_empty_or_truncated_output_is_an_error(text: str) -> None:
    with pytest.raises(load.WrkParseError):
        load.parse_wrk(text)


def test_without_latency_flag_has_no_percentiles() -> None:
    # The warm-up runs without --latency: the summary still parses, the percentiles are absent.
    result = load.parse_wrk(sample("wrk_get_backend_no_latency.txt"))
    assert result.percentiles_ms == {}
    assert result.p50_ms is None
    assert result.requests == 93295
    assert result.requests_per_s == pytest.approx(45984.29)
    assert result.latency_max_ms == pytest.approx(20.94)


@pytest.mark.parametrize(
    ("value", "unit", "ms"),
    [("812.00", "us", 0.812), ("22.97", "ms", 22.97), ("1.16", "s", 1160.0), ("1.50", "m", 90000.0)],
)
def test_to_ms(value: str, unit: str, ms: float) -> None:
    assert load.to_ms(value, unit) == pytest.approx(ms)


def test_shapes_match_the_lua_scripts() -> None:
    # The pre-flight request must be the request wrk sends, or a 2xx pre-flight proves nothing.
    for shape in load.SHAPES.values():
        lua = (REPO / "bench" / "wrk" / shape.script).read_text()
        assert f'wrk.method = "{shape.method}"' in lua
        assert f'wrk.path = "{shape.path}"' in lua
        for name, value in load.COMMON_HEADERS.items():
            assert f'wrk.headers["{name}"] = "{value}"' in lua
        if shape.content_type:
            assert f'wrk.headers["Content-Type"] = "{shape.content_type}"' in lua
    assert len(load.SHAPES["post"].body()) == 1097


def test_comparable_needs_2xx_everywhere() -> None:
    ok = load.parse_wrk(sample("wrk_get_backend.txt"))
    blocked = load.parse_wrk(sample("wrk_get_non2xx_modsec_pl1.txt"))
    m = load.Measurement("t", "get", preflight_status=200, runs=[ok])
    assert m.comparable
    assert not load.Measurement("t", "get", preflight_status=200, runs=[ok, blocked]).comparable
    assert not load.Measurement("t", "get", preflight_status=403, runs=[ok]).comparable
    assert not load.Measurement("t", "get", preflight_status=200, runs=[]).comparable


def test_median_run_and_ratio() -> None:
    fast = load.parse_wrk(sample("wrk_get_backend.txt"))
    slow = load.parse_wrk(sample("wrk_post_modsec_pl1.txt"))
    mid = load.parse_wrk(sample("wrk_post_timeouts_modsec_pl1.txt"))
    m = load.Measurement("a", "get", preflight_status=200, runs=[fast, slow, mid])
    assert m.wrk is slow  # 267.94 req/s is the median of 73536, 268 and 221
    results = {"a": m, "b": load.Measurement("b", "get", preflight_status=200, runs=[mid])}
    assert load.ratio(results, "a", "b") == pytest.approx(267.94 / 220.64)
    assert load.ratio(results, "a", "missing") is None


def test_process_tree_cpu() -> None:
    # CPU time of a process tree from /proc: counts this process, and None for a pid that does not exist.
    before = load.process_tree_cpu_s(os.getpid())
    assert before is not None
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass
    after = load.process_tree_cpu_s(os.getpid())
    assert after is not None and after >= before + 0.02
    assert load.process_tree_cpu_s(2**22 + 12345) is None  # above pid_max's default ceiling
