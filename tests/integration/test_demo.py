"""`sealgate demo` as a new user runs it: the printed curl commands work."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import sys
from pathlib import Path

import pytest

from tests.support.servers import free_port

SEALGATE = str(Path(sys.executable).with_name("sealgate"))


async def _curl(command: str) -> tuple[int, str]:
    args = shlex.split(command)
    assert args[0] == "curl"
    proc = await asyncio.create_subprocess_exec(*args, "-w", "\n%{http_code}", stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    text = out.decode()
    body, _, code = text.rpartition("\n")
    return int(code), body


@pytest.mark.slow
async def test_demo_prints_commands_that_work(tmp_path: Path) -> None:
    port, api_port, admin_port = free_port(), free_port(), free_port()
    proc = await asyncio.create_subprocess_exec(
        SEALGATE, "demo", "--port", str(port), "--api-port", str(api_port), "--admin-port", str(admin_port),
        "--dir", str(tmp_path / "demo"), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ},
    )
    assert proc.stdout is not None
    printed = ""
    try:
        while "Ctrl-C stops everything" not in printed:
            line = await asyncio.wait_for(proc.stdout.readline(), 30)
            assert line, "the demo exited early"
            printed += line.decode()
        commands = [ln.strip().split("  #")[0].strip() for ln in printed.splitlines() if ln.strip().startswith("curl")]
        # join the one continued command
        joined: list[str] = []
        lines = printed.splitlines()
        for i, ln in enumerate(lines):
            s = ln.strip()
            if s.startswith("curl"):
                cmd = s.split("  #")[0].rstrip()
                if cmd.endswith("\\"):
                    cmd = cmd[:-1] + " " + lines[i + 1].strip()
                joined.append(cmd)
        assert len(joined) == len(commands) >= 8
        results = {}
        for cmd in joined:
            results[cmd] = await _curl(cmd)
        by_kind = {k: v for k, v in results.items()}
        recs = next(v for k, v in by_kind.items() if "recommendations" in k)
        assert recs[0] == 200 and "items" in recs[1]
        segment = next(v for k, v in by_kind.items() if "segments" in k)
        assert segment[0] == 200 and "avgOrderValue" in segment[1]
        chat = next(v for k, v in by_kind.items() if "/chat" in k)
        assert chat[0] == 200
        unknown = next(v for k, v in by_kind.items() if "internal/debug" in k)
        assert unknown[0] == 404 and "request_id" in unknown[1]
        legacy_via_gateway = next(v for k, v in by_kind.items() if "legacy" in k and f":{port}/" in k)
        assert legacy_via_gateway[0] in (400, 403)
        legacy_direct = next(v for k, v in by_kind.items() if "legacy" in k and f":{api_port}/" in k)
        assert legacy_direct[0] == 200  # the flaw is real: the direct call runs the DROP
        union = next(v for k, v in by_kind.items() if "UNION" in k)
        assert union[0] == 403, union
        reset = next(v for k, v in by_kind.items() if "reset" in k)
        assert reset[0] in (200, 204)
        tail = re.search(r"tail -n 3 (\S+)", printed)
        assert tail is not None and Path(tail.group(1)).exists()
        audit = Path(tail.group(1))
        for _ in range(50):  # the audit sink flushes in the background, about twice a second
            if '"verdict":"block"' in audit.read_text().replace(" ", ""):
                break
            await asyncio.sleep(0.1)
        assert '"verdict":"block"' in audit.read_text().replace(" ", "")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    assert proc.stderr is not None
    assert "Traceback" not in (await proc.stderr.read()).decode()
