"""The Detector protocol and Finding: the negative model's building blocks.

A detector looks at one attacker-controlled value (already decoded by
:mod:`sealgate.detectors.normalize`) and reports findings. The injection protection runs every
detector on every inspected value, sums the findings' scores into an anomaly score and blocks
when it crosses the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sealgate.detectors.normalize import Value

__all__ = ["SEVERITY_SCORES", "Detector", "Finding"]

SEVERITY_SCORES: dict[str, int] = {"critical": 5, "error": 4, "warning": 3, "notice": 2}
"""Anomaly points per severity (the CRS convention, so thresholds read the same)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One suspicious thing found in one value.

    ``location`` names where the value was (``query.articleId``, ``body.$.items[3].name``,
    ``header.user-agent``, ``path[2]``); ``excerpt`` is a short, decoded piece of the value around
    the match (never the whole payload); ``paranoia`` is the lowest paranoia level at which the
    finding counts.
    """

    detector: str
    rule_id: str
    message: str
    severity: str
    location: str
    excerpt: str
    paranoia: int = 1

    @property
    def score(self) -> int:
        """Anomaly points this finding adds."""
        return SEVERITY_SCORES.get(self.severity, 0)

    def to_log(self) -> dict[str, Any]:
        """The finding as it appears in the audit event and the explanation of a block."""
        return {
            "detector": self.detector,
            "rule_id": self.rule_id,
            "message": self.message,
            "severity": self.severity,
            "location": self.location,
            "excerpt": self.excerpt,
        }


class Detector(Protocol):
    """Detects one attack class in one value."""

    name: str
    """Short name (``sqli``, ``xss``...), used in rule ids, config exclusions and logs."""

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Return the findings for ``value`` at ``location``, counting rules up to ``paranoia``."""
        ...
