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
_JOIN: Final = " \x00 "
"""Joins the raw probes of one request (each probe is padded with one space on both sides)."""
_NEEDS_DECODE = re.compile(r"[%&\\\x01-\x1f]|\+A[CD]|[^\x00-\x7f]|/\*|  ")
_DECODE_CHARS = re.compile(r"[%&\\\x01-\x1f]")


def _needs_decode(joined: str) -> bool:
    """``_NEEDS_DECODE.search(joined) is not None``, as a few C scans instead of one slow regex."""
    return (
        not joined.isascii()
        or _DECODE_CHARS.search(joined) is not None
        or "/*" in joined
        or "  " in joined
        or "+AC" in joined
        or "+AD" in joined
    )


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
        # ``skip`` is applied only to the values the prefilter selects (below): a value no
        # detector wants yields nothing either way, and most values of most requests are such.
        raws = [item for item in inputs if item[1]]
        if not raws:
            return []
        texts = [item[1] for item in raws]
        if max(map(len, texts)) > limit:
            raws = _windows(raws, limit)
            texts = [item[1] for item in raws]
        count = len(texts)
        joined = "\x00".join(texts)
        prefilter = self._prefilter
        values: dict[int, Value] = {}
        if not _needs_decode(joined) and joined.count("\x00") == count - 1:
            # The common case: no value a decoding layer could change, so each value's only probe
            # is its lower-cased raw text, and (ASCII) the whole request is one probe string.
            probes = [" " + _JOIN.join(texts).lower() + " "] if joined.isascii() else [
                f" {text.lower()} " for text in texts]
            if len(probes) == 1:
                wanted_by_value = _split_candidates(prefilter, probes[0], texts)
            else:
                wanted_by_value = dict(enumerate(prefilter.candidates(probes, None, count)))
        else:
            # Probe texts for the prefilter: the lower-cased raw text of every value, and for the
            # few values a decoding layer could change, their decoded and compact forms as well.
            probes = [f" {text.lower()} " for text in texts]
            owners = list(range(count))
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
            wanted_by_value = dict(enumerate(prefilter.candidates(probes, owners, count)))
        if prefilter.has_location_triggers:
            for index, extra in prefilter.location_candidates([item[0] for item in raws]).items():
                wanted = wanted_by_value.get(index)
                if wanted is None:
                    wanted_by_value[index] = extra
                else:
                    wanted.update(extra)
        findings: list[Finding] = []
        paranoia = self.paranoia
        detectors = self._detectors
        excluded = self._exclude
        for index in sorted(wanted_by_value):
            wanted = wanted_by_value[index]
            if not wanted:
                continue
            location, raw, kind = raws[index]
            if location in skip:
                continue
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


def _split_candidates(prefilter: Prefilter, probe: str, texts: list[str]) -> dict[int, set[int]]:
    """Candidates from one probe of all values joined by ``" \\x00 "`` (ASCII, no NUL inside).

    Only values with a detector to run appear in the result (plus every value when some
    detector has no triggers).
    """
    if prefilter.always:
        # Detectors without triggers run everywhere: fall back to one probe per value.
        return dict(enumerate(prefilter.candidates([f" {t.lower()} " for t in texts])))
    result: dict[int, set[int]] = {}
    starts: list[int] | None = None
    for end, indices in prefilter.matches(probe):
        if starts is None:
            # Value i's text starts at starts[i]; each separator " \x00 " is three characters.
            starts = list(accumulate((len(t) + 3 for t in texts[:-1]), initial=1))
        index = bisect_right(starts, end) - 1
        wanted = result.get(index)
        if wanted is None:
            result[index] = set(indices)
        else:
            wanted.update(indices)
    return result


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
