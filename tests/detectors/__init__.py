"""Tests of the detection engine and the detectors it owns."""

from __future__ import annotations

import importlib


def detectors_available(*names: str) -> bool:
    """True when the named detector modules (default: all registered ones) import."""
    from sealgate.detectors import DETECTOR_MODULES

    for name in names or DETECTOR_MODULES:
        try:
            importlib.import_module(f"sealgate.detectors.{name}")
        except ImportError:
            return False
    return True
