"""The detection engine: runs the negative model over every attacker-controlled value.

The engine takes the inputs of a request (:func:`~sealgate.detectors.inputs.iter_inputs`),
wraps each in a :class:`~sealgate.detectors.normalize.Value` (decoded lazily, once, shared by
all detectors), asks the :class:`~sealgate.detectors.prefilter.Prefilter` which detectors can
possibly match which value, runs only those, and adds the findings up into an anomaly score
(CRS style: :data:`~sealgate.detectors.base.SEVERITY_SCORES`, critical = 5, error = 4,
warning = 3, notice = 2; each ``detector:rule_id`` counts once per request, at its highest
severity). The request is an attack when the score reaches the threshold (default 5: one
critical finding, or two weaker ones that agree).

Paranoia (1-3, default :data:`DEFAULT_PARANOIA` = 1): level 1 reports structural evidence
(a quote that closes and is followed by a SQL tautology; a script-executing tag; SQL syntax in
a parameter *name*); level 2 adds fragments and weaker shapes in values (``ORDER BY x``,
``ABS(``, DOM sink references); level 3 adds lone keywords and operators. A finding counts
when its ``paranoia`` is at most the engine's. Measured trade-offs: ``bench/detection_offline.py``.

API for the injection protection (``protections/injection.py``)::

    engine = DetectionEngine(all_detectors(), paranoia=1, threshold=5, exclude={"scanner"})
    result = engine.assess(exchange, skip=typed_locations)   # or an iterable of (loc, raw, kind)
    if result.blocked:
        ...  # result.findings / result.score -> Verdict; finding.to_log() for the audit event
    findings = engine.inspect(exchange)                     # just the findings, no scoring

- The engine is built once (it compiles the prefilter) and is safe to share between requests:
  it keeps no per-request state. ``inspect``/``assess`` are synchronous and CPU-bound
  (microseconds for a clean request, milliseconds for a hostile 1 MB body).
- ``skip``: locations the validator already typed (``query.limit``, ``body.$.items[0].qty``),
  in :mod:`~sealgate.detectors.inputs` syntax: a value proven to be an integer, enum, date or
  UUID cannot carry an injection and is not inspected. Names (``query.limit:name``) are still
  inspected unless listed themselves.
- ``exclude``: ``{"detector"}`` or ``{"detector:rule_id"}`` switches detectors/rules off
  (per-route configuration, known false positives).
- ``inspect(exchange)`` sets :func:`~sealgate.detectors.context.request_context` (Host and
  Referer) around the detector calls, for detectors that judge a value relative to the request.
- Values longer than ``max_value_chars`` (default 16 KiB) are inspected in windows that overlap
  by 512 characters, so a 1 MB body costs linear time and padding cannot push a payload out of
  sight; findings repeated across windows are merged.
- Detectors may declare ``triggers`` (lower-case substrings; see
  :mod:`~sealgate.detectors.prefilter` for the exact probe texts): a detector then runs only on
  values containing one of them, and a clean request costs one Aho–Corasick pass. A detector
  without ``triggers`` runs on every value.

``inspect_value(raw, location, kind)`` inspects one string (tests, other protections such as
GraphQL arguments). ``anomaly_score(findings)`` scores findings collected elsewhere.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Final

from sealgate.detectors.base import SEVERITY_SCORES, Detector, Finding
from sealgate.detectors.context import request_context
from sealgate.detectors.inputs import Input, iter_inputs
from sealgate.detectors.normalize import Value
from sealgate.detectors.prefilter import Prefilter
from sealgate.pipeline.exchange import Exchange

__all__ = [
    "DEFAULT_PARANOIA",
    "DEFAULT_THRESHOLD",
    "MAX_VALUE_CHARS",
    "Assessment",
    "DetectionEngine",
    "anomaly_score",
]

DEFAULT_PARANOIA: Final = 1
DEFAULT_THRESHOLD: Final = 5
MAX_VALUE_CHARS: Final = 16384
"""Longer values are cut into windows of this size (overlapping by :data:`_WINDOW_OVERLAP`)."""
_WINDOW_OVERLAP: Final = 512

# Anything that a decoding layer (or ``compact``) could change: then the decoded text and the
# compact form are probed as well as the raw text.
_NEEDS_DECODE = re.compile(r"[%&\\\x01-\x1f]|\+A[CD]|[^\x00-\x7f]|/\*|  ")


@dataclass(frozen=True, slots=True)
class Assessment:
    """The engine's answer for one request: the findings, their score, and the verdict."""

    findings: tuple[Finding, ...]
    score: int
    threshold: int

    @property
    def blocked(self) -> bool:
        """True when the anomaly score reaches the threshold."""
        return self.score >= self.threshold


def anomaly_score(findings: Iterable[Finding]) -> int:
    """Sum of severity points, each ``detector:rule_id`` counted once at its highest severity."""
    best: dict[tuple[str, str], int] = {}
    for finding in findings:
        key = (finding.detector, finding.rule_id)
        points = SEVERITY_SCORES.get(finding.severity, 0)
        if points > best.get(key, -1):
            best[key] = points
    return sum(best.values())


class DetectionEngine:
    """Runs detectors over a request's inputs; see the module docstring for the API."""

    __slots__ = ("_detectors", "_exclude", "_prefilter", "max_value_chars", "paranoia", "threshold")

    def __init__(
        self,
        detectors: Sequence[Detector] | None = None,
        paranoia: int = DEFAULT_PARANOIA,
        threshold: int = DEFAULT_THRESHOLD,
        *,
        exclude: Collection[str] = (),
        max_value_chars: int = MAX_VALUE_CHARS,
    ) -> None:
        if detectors is None:
            from sealgate.detectors import all_detectors

            detectors = all_detectors()
        if not 1 <= paranoia <= 3:
            raise ValueError(f"paranoia must be 1, 2 or 3, not {paranoia}")
        if threshold < 1:
            raise ValueError(f"threshold must be at least 1, not {threshold}")
        if max_value_chars < 2 * _WINDOW_OVERLAP:
            raise ValueError(f"max_value_chars must be at least {2 * _WINDOW_OVERLAP}")
        excluded = frozenset(exclude)
        self._detectors: tuple[Detector, ...] = tuple(d for d in detectors if d.name not in excluded)
        self._exclude = excluded
        self._prefilter = Prefilter(self._detectors)
        self.paranoia = paranoia
        self.threshold = threshold
        self.max_value_chars = max_value_chars

    @property
    def detectors(self) -> tuple[Detector, ...]:
        """The detectors this engine runs (after ``exclude``)."""
        return self._detectors

    def inspect(
        self, source: Exchange | Iterable[Input], skip: Collection[str] = ()
    ) -> list[Finding]:
        """Findings for every input of ``source`` (an exchange or ``(location, raw, kind)``s)."""
        if isinstance(source, Exchange):
            with request_context(source.header("host") or "", source.header("referer")):
                return self._inspect(iter_inputs(source), skip)
        return self._inspect(source, skip)

    def _inspect(self, inputs: Iterable[Input], skip: Collection[str]) -> list[Finding]:
        limit = self.max_value_chars
        raws = [item for item in inputs if item[1] and item[0] not in skip]
        if not raws:
            return []
        texts = [item[1] for item in raws]
        if max(map(len, texts)) > limit:
            raws = _windows(raws, limit)
            texts = [item[1] for item in raws]
        # Probe texts for the prefilter: the lower-cased raw text of every value, and for the
        # few values a decoding layer could change, their decoded and compact forms as well.
        probes = [f" {text.lower()} " for text in texts]
        owners: list[int] | None = None
        values: dict[int, Value] = {}
        joined = "\x00".join(texts)
        if _NEEDS_DECODE.search(joined) is not None or joined.count("\x00") != len(texts) - 1:
            owners = list(range(len(texts)))
            starts = list(accumulate((len(t) + 1 for t in texts[:-1]), initial=0))
            flagged = {bisect_right(starts, m.start()) - 1 for m in _NEEDS_DECODE.finditer(joined)}
            flagged.update(i for i, text in enumerate(texts) if "\x00" in text)
            for index in sorted(flagged):
                value = Value(texts[index], raws[index][2])
                values[index] = value
                probes.append(f" {value.lower} ")
                probes.append(f" {value.compact} ")
                owners.append(index)
                owners.append(index)
        findings: list[Finding] = []
        paranoia = self.paranoia
        detectors = self._detectors
        excluded = self._exclude
        for index, wanted in enumerate(self._prefilter.candidates(probes, owners, len(texts))):
            if not wanted:
                continue
            location, raw, kind = raws[index]
            value = values.get(index) or Value(raw, kind)
            for detector_index in sorted(wanted):
                detector = detectors[detector_index]
                for finding in detector.detect(value, location, paranoia):
                    if finding.paranoia > paranoia:
                        continue
                    if excluded and f"{finding.detector}:{finding.rule_id}" in excluded:
                        continue
                    findings.append(finding)
        return _dedupe(findings)

    def assess(self, source: Exchange | Iterable[Input], skip: Collection[str] = ()) -> Assessment:
        """Inspect ``source`` and score the findings against the threshold."""
        findings = self.inspect(source, skip)
        return Assessment(tuple(findings), anomaly_score(findings), self.threshold)

    def inspect_value(self, raw: str, location: str = "value", kind: str = "value") -> list[Finding]:
        """Findings for one string."""
        return self.inspect([(location, raw, kind)])


def _windows(raws: list[Input], limit: int) -> list[Input]:
    """Cut values longer than ``limit`` into overlapping windows (same location and kind)."""
    out: list[Input] = []
    step = limit - _WINDOW_OVERLAP
    for location, raw, kind in raws:
        if len(raw) <= limit:
            out.append((location, raw, kind))
            continue
        for start in range(0, len(raw), step):
            out.append((location, raw[start : start + limit], kind))
            if start + limit >= len(raw):
                break
    return out


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Drop repeats of the same rule at the same location (windows, decoding variants)."""
    if len(findings) < 2:
        return findings
    seen: set[tuple[str, str, str]] = set()
    unique: list[Finding] = []
    for finding in findings:
        key = (finding.detector, finding.rule_id, finding.location)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique
