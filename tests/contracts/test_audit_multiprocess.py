"""Several processes (like ``uvicorn --workers N``) writing one SQLite database or one JSONL file."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from sealgate.storage.factory import AuditConfig, build_audit_sink

WRITER = Path(__file__).with_name("audit_writer_process.py")


async def run_writers(backend: str, path: Path, processes: int, count: int, *extra: int) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, str(WRITER), backend, str(path), str(worker), str(count), *map(str, extra),
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        for worker in range(processes)
    ]
    for proc in procs:
        _out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
        assert proc.returncode == 0, err.decode(errors="replace")


@pytest.mark.parametrize("backend", ["sqlite", "jsonl"])
async def test_processes_sharing_one_audit_store_land_every_event(tmp_path: Path, backend: str) -> None:
    path = tmp_path / ("audit.db" if backend == "sqlite" else "audit.jsonl")
    processes, count = 3, 300
    # jsonl: small files so the processes rotate under each other, enough backups to keep all.
    await run_writers(backend, path, processes, count, 8000, 1000)

    config = AuditConfig.model_validate(
        {"backend": backend, "path": str(path), "max_bytes": 8000, "backups": 1000}
    )
    sink = build_audit_sink(config)
    await sink.open()
    try:
        events = await sink.recent(10_000)
        assert len(events) == processes * count
        for worker in range(processes):
            # Every event of every process, each process's own order intact.
            assert [e["seq"] for e in events if e["worker"] == worker] == list(range(count - 1, -1, -1))
        assert [e["seq"] for e in await sink.recent(request_id="w1-123")] == [123]
    finally:
        await sink.close()
    if backend == "jsonl":
        rotated = list(tmp_path.glob("audit.jsonl.*[0-9]"))
        assert len(rotated) > 3
        assert all(p.stat().st_size <= 8000 for p in [path, *rotated])
