"""Run as a separate process by test_audit_multiprocess.py: write audit events, then close.

Usage: python audit_writer_process.py BACKEND PATH WORKER COUNT [MAX_BYTES BACKUPS]
"""

from __future__ import annotations

import asyncio
import sys

from sealgate.storage.factory import AuditConfig, build_audit_sink


async def main(backend: str, path: str, worker: int, count: int, max_bytes: int, backups: int) -> None:
    config = AuditConfig.model_validate(
        {"backend": backend, "path": path, "max_bytes": max_bytes, "backups": backups, "flush_interval": 0.02}
    )
    sink = build_audit_sink(config)
    await sink.open()
    for i in range(count):
        await sink.write({"request_id": f"w{worker}-{i}", "worker": worker, "seq": i, "pad": "x" * (i % 50)})
        if i % 25 == 0:
            await asyncio.sleep(0.01)  # let the background flusher interleave with the other process
    await sink.close()


if __name__ == "__main__":
    args = sys.argv[1:]
    extra = [int(a) for a in args[4:6]] if len(args) > 4 else [50 * 1024 * 1024, 5]
    asyncio.run(main(args[0], args[1], int(args[2]), int(args[3]), extra[0], extra[1]))
