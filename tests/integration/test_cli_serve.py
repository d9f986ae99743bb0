"""The CLI as a user runs it: real `sealgate` processes, real sockets, signals."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.support.servers import free_port

SEALGATE = str(Path(sys.executable).with_name("sealgate"))


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SEALGATE, *args], capture_output=True, text=True, timeout=30, cwd=cwd,
                          env={**os.environ, "PYTHONWARNINGS": ""})


def test_help_lists_the_verbs() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for verb in ("serve", "check", "demo", "example-config"):
        assert verb in result.stdout


def test_check_broken_config_is_one_screen_with_line_numbers(tmp_path: Path) -> None:
    bad = tmp_path / "sealgate.yaml"
    bad.write_text("server:\n  port: eighty\nupstream:\n  urls: [http://127.0.0.1:9001]\n  timeout: 3\n")
    result = _run("check", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{bad}:2:3: server.port" in result.stderr
    assert f"{bad}:5:3: upstream.timeout: unknown key" in result.stderr
    assert len(result.stderr.splitlines()) <= 24


def test_check_good_config(tmp_path: Path) -> None:
    good = tmp_path / "sealgate.yaml"
    spec = Path(__file__).parent.parent / "data" / "petstore.yaml"
    good.write_text(f"upstream: {{urls: [http://127.0.0.1:9001]}}\nrouting: {{spec: {spec}}}\n")
    result = _run("check", str(good))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout and "4 operations" in result.stdout


def test_check_reports_a_broken_spec(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text("openapi: 2.0\npaths: {}\n")
    (tmp_path / "sealgate.yaml").write_text("routing: {spec: api.yaml}\n")
    result = _run("check", str(tmp_path / "sealgate.yaml"))
    assert result.returncode == 2
    assert "must be 3.0.x or 3.1.x" in result.stderr and "Traceback" not in result.stderr


def test_serve_without_upstream_says_what_to_do() -> None:
    result = _run("serve")
    assert result.returncode == 2
    assert "--upstream" in result.stderr and "Traceback" not in result.stderr


def test_bad_flag_value_is_a_clear_error() -> None:
    result = _run("serve", "--upstream", "not-a-url")
    assert result.returncode == 2
    assert "not an http:// or https:// URL" in result.stderr and "Traceback" not in result.stderr


async def _wait_http(url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as client:
        while time.monotonic() < deadline:
            try:
                async with client.get(url) as resp:
                    if resp.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


@pytest.mark.parametrize("workers", [1, 2])
async def test_serve_proxies_reports_health_and_shuts_down_gracefully(
    upstream: str, tmp_path: Path, workers: int
) -> None:
    port, admin = free_port(), free_port()
    proc = await asyncio.create_subprocess_exec(
        SEALGATE, "serve", "--upstream", upstream, "--port", str(port), "--admin-port", str(admin),
        "--workers", str(workers), "--audit", str(tmp_path / "audit.jsonl"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await _wait_http(f"http://127.0.0.1:{port}/ping")
        await _wait_http(f"http://127.0.0.1:{admin}/healthz")
        async with aiohttp.ClientSession() as client:
            for _ in range(6):
                async with client.get(f"http://127.0.0.1:{port}/hello?x=1") as resp:
                    assert resp.status == 200
            async with client.get(f"http://127.0.0.1:{admin}/readyz") as resp:
                assert resp.status == 200 and (await resp.json())["status"] == "ready"
            async with client.get(f"http://127.0.0.1:{admin}/metrics") as resp:
                text = await resp.text()
            assert 'sealgate_requests_total{route="/*",status="2xx",verdict="allow"}' in text
            count = next(line for line in text.splitlines()
                         if line.startswith('sealgate_requests_total{route="/*",status="2xx"'))
            assert float(count.rsplit(" ", 1)[1]) >= 6  # aggregated over every worker
            # graceful shutdown: a request in flight when SIGTERM arrives still completes
            slow = asyncio.create_task(client.get(f"http://127.0.0.1:{port}/slow?s=1"))
            await asyncio.sleep(0.3)
            proc.send_signal(signal.SIGTERM)
            resp = await slow
            assert resp.status == 200 and (await resp.json()) == {"slow": True}
            resp.release()
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert "Traceback" not in stderr


async def test_quick_mode_with_tunnel_publishes_keys_kept_across_restarts(upstream: str, tmp_path: Path) -> None:
    seen: list[bytes] = []
    for _ in range(2):
        port = free_port()
        proc = await asyncio.create_subprocess_exec(
            SEALGATE, "serve", "--upstream", upstream, "--port", str(port), "--no-admin", "--tunnel",
            "--audit", str(tmp_path / "audit.jsonl"), cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            await _wait_http(f"http://127.0.0.1:{port}/.well-known/ohttp-gateway")
            async with aiohttp.ClientSession() as client:
                async with client.get(f"http://127.0.0.1:{port}/.well-known/ohttp-gateway") as resp:
                    assert resp.status == 200 and resp.content_type == "application/ohttp-keys"
                    seen.append(await resp.read())
        finally:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 20)
    assert seen[0] == seen[1]  # generated once in the embedded store, then reused
    assert (tmp_path / ".sealgate" / "secrets.json").exists()
