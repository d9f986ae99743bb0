"""Golden cases for every detector: tests/golden/<detector>.json.

Each file is a list of ``{"input", "location", "expected", "note"}`` objects (optional
``"paranoia"``, default :data:`~sealgate.detectors.engine.DEFAULT_PARANOIA`; optional ``"host"`` and
``"referer"``, the request context of detectors that judge a value relative to it). A case runs the
one detector named by the file through the :class:`~sealgate.detectors.engine.DetectionEngine`
(so decoding and the prefilter are exercised too) and checks whether the request would be
blocked. The value's kind follows from the location: ``...:name``/``:key``/``:tag`` are names,
``...:filename`` a filename, ``header.*`` a header, ``path*`` a path segment, ``body`` a raw body.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from sealgate.detectors.context import request_context
from sealgate.detectors.engine import DEFAULT_PARANOIA, DetectionEngine

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def kind_of(location: str) -> str:
    """The input kind a location implies (see sealgate.detectors.inputs)."""
    if location.endswith((":name", ":key", ":tag")):
        return "name"
    if location.endswith(":filename"):
        return "filename"
    if location.startswith("header."):
        return "header"
    if location.startswith("path"):
        return "path"
    if location == "body":
        return "body"
    return "value"


def _cases() -> list[Any]:
    params = []
    for path in sorted(GOLDEN.glob("*.json")):
        cases = json.loads(path.read_text(encoding="utf-8"))
        for index, case in enumerate(cases):
            params.append(pytest.param(path.stem, case, id=f"{path.stem}-{index}"))
    return params


def test_every_golden_file_is_well_formed() -> None:
    files = sorted(GOLDEN.glob("*.json"))
    assert files, "no golden files"
    for path in files:
        cases = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(cases, list) and cases, path.name
        assert any(c["expected"] for c in cases), f"{path.name} has no attack case"
        assert any(not c["expected"] for c in cases), f"{path.name} has no benign look-alike"
        for case in cases:
            assert {"input", "location", "expected", "note"} <= set(case), (path.name, case)
            assert isinstance(case["input"], str) and isinstance(case["expected"], bool)


@pytest.mark.parametrize(("detector_name", "case"), _cases())
def test_golden_case(detector_name: str, case: dict[str, Any]) -> None:
    try:
        module = importlib.import_module(f"sealgate.detectors.{detector_name}")
    except ImportError:
        pytest.skip(f"detector module {detector_name} is not available")
    paranoia = int(case.get("paranoia", DEFAULT_PARANOIA))
    engine = DetectionEngine([module.DETECTOR], paranoia=paranoia)
    inputs = [(case["location"], case["input"], kind_of(case["location"]))]
    if "host" in case:
        with request_context(host=case["host"], referer=case.get("referer")):
            result = engine.assess(inputs)
    else:
        result = engine.assess(inputs)  # no request context: value-only evidence
    explanation = [(f.rule_id, f.paranoia, f.excerpt) for f in result.findings]
    assert result.blocked is case["expected"], f"{case['note']}: {case['input']!r} -> {explanation}"
