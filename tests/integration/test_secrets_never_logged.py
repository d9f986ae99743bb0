"""Secrets never reach the audit log, the operational log or an error body."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest

from tests.support.secrets import PLANTED_SECRETS
from tests.support.servers import free_port, make_config, run_gateway

BEARER, APIKEY, COOKIE, PASSWORD = PLANTED_SECRETS


@pytest.mark.parametrize("backend", ["jsonl", "sqlite"])
async def test_planted_secrets_are_redacted_everywhere(
    upstream: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, backend: str
) -> None:
    caplog.set_level(logging.DEBUG)
    target = tmp_path / ("audit.jsonl" if backend == "jsonl" else "audit.db")
    dead = f"http://127.0.0.1:{free_port()}"
    for base_upstream in (upstream, dead):
        config = make_config(
            f'upstream: {{urls: ["{base_upstream}"]}}\naudit: {{backend: {backend}, path: "{target}"}}\n'
            "admin: {enabled: false}\nobservability: {log_headers: true}\n"
        )
        async with run_gateway(config) as (base, gateway), aiohttp.ClientSession() as client:
            headers = {"Authorization": f"Bearer {BEARER}", "X-API-Key": APIKEY, "Cookie": f"session={COOKIE}"}
            async with client.post(f"{base}/login?password={PASSWORD}&user=bob", headers=headers,
                                   json={"password": PASSWORD}) as resp:
                body = await resp.text()
                assert resp.status in (200, 502)
                if resp.status == 502:
                    assert not any(s in body for s in PLANTED_SECRETS)
            await gateway.audit_sink.flush()
            events = await gateway.audit_sink.recent(10)
            assert events, "the request must be audited"
            assert events[0]["headers"]["authorization"] == "[redacted]"
            assert events[0]["query_params"] == ["password", "user"]
    raw = target.read_bytes()
    assert raw, "the audit store must have data"
    for secret in PLANTED_SECRETS:
        assert secret.encode() not in raw
        assert all(secret not in record.getMessage() for record in caplog.records)
