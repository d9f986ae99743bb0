"""The detection engine: runs the negative model over every attacker-controlled value.

The engine takes the inputs of a request (:func:`~sealgate.detectors.inputs.collect_inputs`),
asks the :class:`~sealgate.detectors.prefilter.Prefilter` which detectors can possibly match
which value, wraps only those values in a :class:`~sealgate.detectors.normalize.Value` (decoded
lazily, once, shared by all detectors), runs only those detectors, and adds the findings up into
an anomaly score
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
  values containing one of them. A detector without ``triggers`` runs on every value.
- Cost of a clean request (why it is shaped this way): all values are joined into one probe
  and scanned in one Aho–Corasick pass, which also finds the values a decoding layer could change
  (only those, and non-ASCII ones, are decoded and probed again); a JSON body's locations are
  built only for the values a detector runs on. What remains is the detectors' own work on the
  few values with a trigger (a quote in a name, ``;`` and ``(`` in a User-Agent).

``inspect_value(raw, location, kind)`` inspects one string (tests, other protections such as
GraphQL arguments). ``anomaly_score(findings)`` scores findings collected elsewhere.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from sealgate.detectors.base import SEVERITY_SCORES, Detector, Finding
from sealgate.detectors.context import RequestContext, current_context, request_context
from sealgate.detectors.inputs import Input, Inputs, collect_inputs
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

HEADER_CACHE_ENTRIES: Final = 1024
"""Header values whose findings each engine remembers (least recently used dropped first)."""
_HEADER_CACHE_MAX_CHARS: Final = 512
"""Longer header values are not remembered (they are rarely repeated, and would bloat the cache)."""

_HeaderKey = tuple[str, str, "RequestContext | None"]

_JOIN: Final = " \x00 "
"""Joins the texts of one request into one probe: every value padded with one space on both
sides (a trigger ``" xor "`` matches a value that is just ``XOR``) and NUL, never part of a
trigger, between them, so no trigger match spans two values."""

# What a decoding layer (or ``compact``) could change: a value containing one of these (or any
# non-ASCII character) is probed in its decoded and compact forms as well as raw. The prefilter
# locates them in the same pass as the triggers (lower-case: "+ac" also flags "+AC", the UTF-7
# marker; a few values too many are only probed twice more).
_DECODE_MARKERS: Final = ("%", "&", "\\", "/*", "  ", "+ac", "+ad", *map(chr, range(1, 32)))
_DECODE_CHARS = re.compile(r"[%&\\\x01-\x1f]|\+A[CD]|/\*|  ")


def _needs_decode(text: str) -> bool:
    """True when a decoding layer or ``compact`` could change ``text`` (see above)."""
    return not text.isascii() or _DECODE_CHARS.search(text) is not None


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

    __slots__ = ("_detectors", "_exclude", "_header_cache", "_json_locations", "_prefilter", "max_value_chars",
                 "paranoia", "threshold")

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
        self._prefilter = Prefilter(self._detectors, _DECODE_MARKERS)
        # A JSON body's member locations (built on demand) all start with "body.$": they are
        # matched against location triggers only when some trigger could apply there.
        self._json_locations = self._prefilter.location_may_match("body.$")
        self.paranoia = paranoia
        self.threshold = threshold
        self.max_value_chars = max_value_chars
        # Header values repeat from request to request (one User-Agent per client, the same
        # Origin and Referer for a page), and a browser User-Agent hits SQL and code triggers
        # ("like Gecko)", "(X11; Linux"): measured ~160 µs for Chrome's. The findings of a header
        # value depend only on the value, its location and the request context (detectors are
        # pure functions of those; Finding is frozen), so they are remembered per engine.
        self._header_cache: OrderedDict[_HeaderKey, tuple[Finding, ...]] = OrderedDict()

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
                return self._inspect(collect_inputs(source, skip), skip)
        return self._inspect(Inputs.from_triples(source), skip)

    def _inspect(self, inputs: Inputs, skip: Collection[str]) -> list[Finding]:
        texts = inputs.texts
        if not texts:
            return []
        if max(map(len, texts)) > self.max_value_chars:
            inputs = Inputs.from_triples(_windows(list(inputs), self.max_value_chars))
            texts = inputs.texts
        kinds = inputs.kinds
        wanted_by_value, values = self._candidates(texts, kinds)
        prefilter = self._prefilter
        if prefilter.has_location_triggers:
            # The stored locations, and a JSON body's too only if a location trigger could match.
            locations = [inputs.location(i) for i in range(len(texts))] if self._json_locations else inputs.known
            for index, extra in prefilter.location_candidates(locations).items():
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
            raw = texts[index]
            if not wanted or not raw:
                continue
            location = inputs.location(index)
            if location in skip:
                continue
            key: _HeaderKey | None = None
            if kinds[index] == "header" and len(raw) <= _HEADER_CACHE_MAX_CHARS:
                key = (location, raw, current_context())
                cached = self._header_cache.get(key)
                if cached is not None:
                    self._header_cache.move_to_end(key)
                    findings.extend(cached)
                    continue
            found: list[Finding] = []
            value = values.get(index) or Value(raw, kinds[index])
            for detector_index in sorted(wanted):
                for finding in detectors[detector_index].detect(value, location, paranoia):
                    if finding.paranoia > paranoia:
                        continue
                    if excluded and f"{finding.detector}:{finding.rule_id}" in excluded:
                        continue
                    found.append(finding)
            if key is not None:
                self._remember(key, tuple(found))
            findings += found
        return _dedupe(findings)

    def _remember(self, key: _HeaderKey, found: tuple[Finding, ...]) -> None:
        cache = self._header_cache
        cache[key] = found
        if len(cache) > HEADER_CACHE_ENTRIES:
            cache.popitem(last=False)

    def _candidates(self, texts: list[str], kinds: list[str]) -> tuple[dict[int, set[int]], dict[int, Value]]:
        """For each value worth inspecting, the detectors to run; and the values already decoded.

        One probe for the whole request: every text joined by :data:`_JOIN`, UTF-8 encoded and
        lower-cased (``bytes.lower``: ASCII letters only, and ten times faster than
        ``str.lower`` on a text with one accented letter), one Aho–Corasick pass for the
        triggers and the decoding markers. The values a decoding layer could change, and the
        non-ASCII ones, are then probed again: lower-cased properly, decoded and compact (their
        :class:`Value` objects are returned, for the detectors to reuse).
        """
        prefilter = self._prefilter
        count = len(texts)
        joined = _JOIN.join(texts)
        if joined.count("\x00") != count - 1:
            return self._candidates_each(texts, kinds)  # a NUL inside a value
        always = prefilter.always
        result: dict[int, set[int]] = {index: set(always) for index in range(count)} if always else {}
        data = f" {joined} ".encode("utf-8", "surrogatepass").lower()
        # (A regex for the non-ASCII bytes costs four times this loop.)
        flagged: set[int] = set() if joined.isascii() else {
            i for i, text in enumerate(texts) if not text.isascii() and not _plain_unicode(text)}
        for index, (indices, marker) in prefilter.scan(data):
            if marker:
                flagged.add(index)
            if indices:
                wanted = result.get(index)
                if wanted is None:
                    result[index] = set(indices)
                else:
                    wanted.update(indices)
        values: dict[int, Value] = {}
        if flagged:
            probes: list[str] = []
            owners: list[int] = []
            for index in sorted(flagged):
                text = texts[index]
                value = values[index] = Value(text, kinds[index])
                if not text.isascii():
                    probes.append(text.lower())
                    owners.append(index)
                probes += (value.lower, value.compact)
                owners += (index, index)
            extra = f" {_JOIN.join(probes)} ".encode("utf-8", "surrogatepass")
            for segment, (indices, _) in prefilter.scan(extra):
                if indices:
                    index = owners[segment]
                    wanted = result.get(index)
                    if wanted is None:
                        result[index] = set(indices)
                    else:
                        wanted.update(indices)
        return result, values

    def _candidates_each(self, texts: list[str], kinds: list[str]) -> tuple[dict[int, set[int]], dict[int, Value]]:
        """:meth:`_candidates` with one probe per value (when the joined probe cannot be mapped)."""
        probes = [f" {text.lower()} " for text in texts]
        owners = list(range(len(texts)))
        values: dict[int, Value] = {}
        for index, text in enumerate(texts):
            if "\x00" in text or _needs_decode(text):
                value = values[index] = Value(text, kinds[index])
                probes += (f" {value.lower} ", f" {value.compact} ")
                owners += (index, index)
        candidates = self._prefilter.candidates(probes, owners, len(texts))
        return {index: wanted for index, wanted in enumerate(candidates) if wanted}, values

    def assess(self, source: Exchange | Iterable[Input], skip: Collection[str] = ()) -> Assessment:
        """Inspect ``source`` and score the findings against the threshold."""
        findings = self.inspect(source, skip)
        return Assessment(tuple(findings), anomaly_score(findings), self.threshold)

    def inspect_value(self, raw: str, location: str = "value", kind: str = "value") -> list[Finding]:
        """Findings for one string."""
        return self.inspect([(location, raw, kind)])


def _plain_unicode(text: str) -> bool:
    """True when every form of :class:`Value` probes the same as ``text``'s UTF-8 bytes lowered.

    So for "Renée": printable (no control or invisible character), no double space, already
    NFKC, lower-case and case-folded alike, and no non-ASCII capital (``bytes.lower`` leaves
    those). Decoding markers ("%", "&", ...) are found by the prefilter and flag the value anyway.
    """
    if not text.isprintable() or "  " in text or not unicodedata.is_normalized("NFKC", text):
        return False
    lower = text.lower()
    return lower == text.casefold() and lower.encode("utf-8") == text.encode("utf-8").lower()


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
