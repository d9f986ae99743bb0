"""The negative model: one detector module per attack class, plus decoding (``normalize``).

Every module named in :data:`DETECTOR_MODULES` defines ``DETECTOR``, an object implementing
:class:`~sealgate.detectors.base.Detector`.
"""

from __future__ import annotations

import importlib

from sealgate.detectors.base import Detector, Finding

__all__ = ["DETECTOR_MODULES", "Detector", "Finding", "all_detectors"]

DETECTOR_MODULES: tuple[str, ...] = (
    "sqli",
    "xss",
    "nosql",
    "ssti",
    "ldap",
    "prototype_pollution",
    "command",
    "traversal",
    "ssrf",
    "xxe",
    "header_injection",
    "jndi",
    "code_injection",
    "scanner",
    "session",
)


def all_detectors() -> list[Detector]:
    """One instance of every detector, in :data:`DETECTOR_MODULES` order."""
    detectors: list[Detector] = []
    for module_name in DETECTOR_MODULES:
        module = importlib.import_module(f"sealgate.detectors.{module_name}")
        detectors.append(module.DETECTOR)
    return detectors
