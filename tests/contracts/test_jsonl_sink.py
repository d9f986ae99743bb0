"""JSON-lines specifics: rotation, whole lines, torn-line recovery, file mode, the stdout sink."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from sealgate.storage._common import Buffering
from sealgate.storage.jsonl import JsonlAuditSink, StdoutAuditSink


def files_of(path: Path, backups: int) -> list[Path]:
    """The log files oldest first: path.N … path.1, path."""
    rotated = [Path(f"{path}.{i}") for i in range(backups, 0, -1)]
    return [p for p in [*rotated, path] if p.exists()]


def lines_of(files: list[Path]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for file in files:
        data = file.read_bytes()
        assert data == b"" or data.endswith(b"\n"), file
        events.extend(json.loads(line) for line in data.splitlines())
    return events


def padded(seq: int, width: int = 80) -> dict[str, Any]:
    return {"seq": seq, "request_id": f"r{seq}", "pad": "p" * width}


async def test_rotation_keeps_n_backups_each_below_max_bytes(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    sink = JsonlAuditSink(path, max_bytes=2000, backups=3)
    await sink.open()
    for i in range(200):
        await sink.write(padded(i))
        if i % 37 == 0:
            await sink.flush()  # rotation within one batch and across batches
    await sink.close()

    assert [p.name for p in files_of(path, 10)] == [
        "audit.jsonl.3", "audit.jsonl.2", "audit.jsonl.1", "audit.jsonl"
    ]
    assert not Path(f"{path}.4").exists()
    for file in files_of(path, 3):
        assert file.stat().st_size <= 2000
    kept = [e["seq"] for e in lines_of(files_of(path, 3))]
    # The newest events, contiguous, in order; only the oldest were dropped.
    assert kept == list(range(200 - len(kept), 200))
    line_len = len(json.dumps(padded(100), separators=(",", ":"))) + 1
    assert len(kept) >= 3 * (2000 // line_len)

    reader = JsonlAuditSink(path, max_bytes=2000, backups=3)
    await reader.open()
    assert [e["seq"] for e in await reader.recent(1000)] == kept[::-1]
    assert [e["seq"] for e in await reader.recent(1000, request_id=f"r{kept[0]}")] == [kept[0]]
    assert await reader.recent(10, request_id="r0") == []  # rotated out
    await reader.close()


async def test_event_larger_than_max_bytes_is_written_alone(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    sink = JsonlAuditSink(path, max_bytes=500, backups=5)
    await sink.open()
    await sink.write({"seq": 0})
    await sink.write({"seq": 1, "big": "b" * 2000})
    await sink.write({"seq": 2})
    await sink.flush()
    per_file = [[e["seq"] for e in lines_of([f])] for f in files_of(path, 5)]
    assert per_file == [[0], [1], [2]]
    assert [e["seq"] for e in await sink.recent()] == [2, 1, 0]
    await sink.close()


@pytest.mark.parametrize(("max_bytes", "backups"), [(200, 0), (0, 3)])
async def test_rotation_off(tmp_path: Path, max_bytes: int, backups: int) -> None:
    path = tmp_path / "audit.jsonl"
    sink = JsonlAuditSink(path, max_bytes=max_bytes, backups=backups)
    await sink.open()
    for i in range(50):
        await sink.write(padded(i))
    await sink.close()
    assert files_of(path, 5) == [path]
    assert [e["seq"] for e in lines_of([path])] == list(range(50))


async def test_sinks_sharing_a_file_follow_each_others_rotation(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    first = JsonlAuditSink(path, max_bytes=1500, backups=100)
    second = JsonlAuditSink(path, max_bytes=1500, backups=100)
    await first.open()
    await second.open()
    for i in range(150):
        sink = first if i % 3 else second
        await sink.write(padded(i, width=40))
        if i % 4 == 0:
            await sink.flush()
    await first.close()
    await second.close()
    files = files_of(path, 100)
    assert len(files) > 5  # rotation happened many times
    for file in files:
        assert file.stat().st_size <= 1500
    # Nothing lost (backups are plenty), nothing written into a rotated-away file twice.
    assert sorted(e["seq"] for e in lines_of(files)) == list(range(150))


async def test_newlines_in_values_never_split_a_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    sink = JsonlAuditSink(path)
    await sink.open()
    await sink.write({"request_id": "x", "v": "a\nb\r\nc\u2028d\u0085e"})
    await sink.write({"request_id": "y", "v": '"}\n{"request_id": "forged"}'})
    await sink.close()
    assert path.read_bytes().count(b"\n") == 2
    reader = JsonlAuditSink(path)
    await reader.open()
    assert await reader.recent(request_id="forged") == []
    assert [e["request_id"] for e in await reader.recent()] == ["y", "x"]
    await reader.close()


async def test_torn_last_line_is_skipped_and_sealed(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b'{"seq":0}\n{"seq":1,"request_id":"tor')  # a crash mid-write
    sink = JsonlAuditSink(path)
    await sink.open()
    await sink.write({"seq": 2})
    assert [e["seq"] for e in await sink.recent()] == [2, 0]
    await sink.close()
    assert path.read_bytes().splitlines()[-1] == b'{"seq":2}'


async def test_files_are_private_and_directories_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "audit.jsonl"
    sink = JsonlAuditSink(path)
    await sink.open()
    await sink.write({"seq": 0})
    await sink.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(f"{path}.lock").stat().st_mode) == 0o600


def test_invalid_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="negative"):
        JsonlAuditSink(tmp_path / "a", max_bytes=-1)
    with pytest.raises(ValueError, match="negative"):
        JsonlAuditSink(tmp_path / "a", backups=-1)
    with pytest.raises(ValueError, match="flush_interval"):
        JsonlAuditSink(tmp_path / "a", buffering=Buffering(flush_interval=0))


async def test_stdout_sink_writes_lines_to_an_in_memory_stream() -> None:
    stream = io.BytesIO()
    sink = StdoutAuditSink(stream, recent_capacity=3)
    await sink.open()
    for i in range(5):
        await sink.write({"seq": i, "request_id": "s" if i % 2 else "t"})
    await sink.flush()
    assert [json.loads(line)["seq"] for line in stream.getvalue().splitlines()] == [0, 1, 2, 3, 4]
    assert [e["seq"] for e in await sink.recent()] == [4, 3, 2]  # only the last 3 are kept
    assert [e["seq"] for e in await sink.recent(request_id="s")] == [3]
    await sink.close()


async def test_stdout_sink_writes_whole_lines_to_a_file_descriptor(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    with open(target, "wb") as stream:
        sink = StdoutAuditSink(stream)
        await sink.open()
        for i in range(100):
            await sink.write({"seq": i, "v": "\n" * (i % 3)})
        await sink.close()
    lines = target.read_bytes().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == list(range(100))
    assert os.path.getsize(target) == sum(len(line) + 1 for line in lines)
