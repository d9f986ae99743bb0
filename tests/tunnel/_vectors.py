"""Loads the JSON test vectors kept beside the tests (copies of /work/shared/vectors)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).parent / "vectors"


def load(name: str) -> Any:
    """The parsed JSON file ``name`` from ``tests/tunnel/vectors``."""
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def h(value: str) -> bytes:
    """Bytes from a lowercase hex string."""
    return bytes.fromhex(value)
