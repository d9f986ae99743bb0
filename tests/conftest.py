"""Shared fixtures: an echo upstream on loopback and a helper to start gateways."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.servers import run_echo_upstream


@pytest.fixture
async def upstream() -> AsyncIterator[str]:
    async with run_echo_upstream() as url:
        yield url


# -- every log line produced by the suite is checked for planted secrets --------------------
import logging  # noqa: E402

from tests.support.secrets import PLANTED_SECRETS  # noqa: E402

_LOG_LINES: list[str] = []


class _Collect(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            _LOG_LINES.append(self.format(record))
        except Exception:
            _LOG_LINES.append(str(record.msg))


def pytest_configure(config: pytest.Config) -> None:
    handler = _Collect(level=logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s %(exc_text)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any planted secret reached a log record or an audit file of the suite."""
    leaks = [line[:200] for line in _LOG_LINES if any(s in line for s in PLANTED_SECRETS)]
    basetemp = session.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    for path in basetemp.rglob("*"):
        if path.is_file() and (path.suffix in (".jsonl", ".log", ".json", ".db") or ".jsonl." in path.name):
            data = path.read_bytes()
            leaks += [f"{path}: {s}" for s in PLANTED_SECRETS if s.encode() in data]
    if leaks:
        print("\nPLANTED SECRETS FOUND IN LOGS:\n" + "\n".join(leaks[:20]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
