"""A multi-pattern prefilter: which detectors could possibly find something in which value.

Most values in most requests are clean (``42``, ``alice@example.com``, ``Vino Rioja``), and
the precise detectors (an SQL tokenizer tried in four quoting contexts, an HTML parser) are
too costly to run on each. A detector may declare ``triggers``: lower-case substrings, at least
one of which appears in the lower-cased raw or decoded text of every value it can report on.
The prefilter compiles all triggers into one Aho–Corasick automaton and scans every value of a
request in one pass over their concatenation; a detector then runs only on the values where one
of its triggers was seen. The automaton is ``ahocorasick_rs``'s DFA (Rust): with some 1,400
triggers, ``pyahocorasick`` spent about 20 ns per character on a clean request (it searches a
node's children one by one, and the root has a hundred), the DFA one table lookup (3-4x faster).

The probe texts of a value are its raw text, and when a decoding layer could change it, its
:attr:`~sealgate.detectors.normalize.Value.lower` and
:attr:`~sealgate.detectors.normalize.Value.compact` forms, each lower-cased and padded with one
space on both sides, so a trigger ``" xor "`` also matches a value that is just ``XOR``.

A detector without a ``triggers`` attribute (or with ``triggers = None``) runs on every value:
correct, just slower.

A detector whose signal is *where* a value is rather than what it contains (a scanner header's
name, a query parameter named ``jsessionid``) may also declare ``location_triggers``: lower-case
prefixes of the location (``"header.user-agent"``, ``"query.jsessionid"``, ``"path"``); it then
also runs on every value whose lower-cased location starts with one of them
(:meth:`Prefilter.location_candidates`, one more automaton pass over the joined locations).
The engine builds the locations of a JSON body's members only when it needs them, so it asks
:meth:`Prefilter.location_may_match` whether any prefix could apply there.

Example::

    >>> pf = Prefilter([sqli.DETECTOR, xss.DETECTOR])
    >>> pf.candidates([" 42 ", " 1' or 1=1 ", " <b> "])
    [set(), {0, 1}, {1}]
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from ahocorasick_rs import AhoCorasick, BytesAhoCorasick, Implementation

from sealgate.detectors.base import Detector

__all__ = [
    "SEPARATOR",
    "Prefilter",
    "detector_location_triggers",
    "detector_triggers",
    "probe_texts",
    "trigger_matcher",
]

SEPARATOR = "\x00"
"""Joins the probe texts of one request; never part of a trigger, so no match spans two values."""
_NUL = re.compile(b"\x00")
_FEW_HITS = 16
_LARGE_PROBE = 65_536
"""Probe data longer than this is scanned value by value, each value's hits reduced to its set
of trigger words in C (``set(map(...))``): a megabyte of ``\\r\\n`` has millions of hits, and
mapping each to its value in Python took seconds; the sets are small."""
_FIRST = itemgetter(0)
"""Up to this many hits, each hit's segment is found by counting NULs; beyond, by bisection."""


def detector_triggers(detector: Detector) -> tuple[str, ...] | None:
    """The detector's declared triggers (lower-case), or ``None`` when it must always run."""
    triggers: Any = getattr(detector, "triggers", None)
    if triggers is None:
        return None
    cleaned = tuple(str(t).lower() for t in triggers if t and SEPARATOR not in str(t))
    return cleaned or None


def detector_location_triggers(detector: Detector) -> tuple[str, ...]:
    """The detector's declared location prefixes (lower-case); ``()`` when it declares none."""
    triggers: Any = getattr(detector, "location_triggers", None)
    if not triggers:
        return ()
    return tuple(str(t).lower() for t in triggers if t and SEPARATOR not in str(t))


def probe_texts(raw: str, lower: str, compact: str) -> str:
    """The text the prefilter matches triggers against for one value (see the module docstring)."""
    return f" {raw.lower()} \x01 {lower} \x01 {compact} "


def trigger_matcher(triggers: Sequence[str]) -> Callable[[str], bool]:
    """A fast ``any(trigger in text)`` for a fixed trigger set (one Aho–Corasick automaton).

    Detectors use it to keep the prefilter's promise when called directly: no trigger, no finding.
    """
    automaton = _automaton(triggers)
    if automaton is None:
        return lambda text: False

    def matches(text: str) -> bool:
        return bool(automaton.find_matches_as_indexes(text))

    return matches


def _automaton(words: Sequence[str]) -> AhoCorasick | None:
    """A DFA over ``words`` (``None`` for no words)."""
    return AhoCorasick(list(words), implementation=Implementation.DFA) if words else None


def _bytes_automaton(words: Sequence[str]) -> BytesAhoCorasick | None:
    """A DFA over the UTF-8 encodings of ``words`` (``None`` for no words).

    Matching UTF-8 bytes finds exactly the character matches (UTF-8 is self-synchronising), and
    spares ``ahocorasick_rs`` mapping byte offsets back to character offsets, which costs as much
    as the search on a text with one accented letter.
    """
    if not words:
        return None
    return BytesAhoCorasick([word.encode("utf-8", "surrogatepass") for word in words],
                            implementation=Implementation.DFA)


class Prefilter:
    """Maps probe texts to the indices of the detectors worth running on each.

    ``markers``: extra lower-case substrings the caller wants located in the same pass (the
    engine's "a decoding layer could change this value" characters); :meth:`hits` reports them
    with ``marker`` set, and :meth:`candidates` ignores them.
    """

    __slots__ = ("_always", "_automaton", "_location_detectors", "_location_prefixes", "_locations", "_words")

    def __init__(self, detectors: Sequence[Detector], markers: Sequence[str] = ()) -> None:
        always: set[int] = set()
        by_trigger: dict[str, set[int]] = {}
        by_location: dict[str, set[int]] = {}
        for index, detector in enumerate(detectors):
            for prefix in detector_location_triggers(detector):
                # Anchored at the start of a location: the joined text has SEPARATOR before each.
                by_location.setdefault(SEPARATOR + prefix, set()).add(index)
            triggers = detector_triggers(detector)
            if triggers is None:
                always.add(index)
                continue
            for trigger in triggers:
                by_trigger.setdefault(trigger, set()).add(index)
        self._always = frozenset(always)
        marker_set = {m for m in markers if m and SEPARATOR not in m}
        words = sorted(by_trigger.keys() | marker_set)
        self._automaton = _bytes_automaton(words)
        # Per word: its detectors and whether it is a marker.
        self._words = [(frozenset(by_trigger.get(word, ())), word in marker_set) for word in words]
        self._location_prefixes = tuple(prefix[len(SEPARATOR) :] for prefix in by_location)
        self._locations = _automaton(list(by_location))
        self._location_detectors = [frozenset(indices) for indices in by_location.values()]

    @property
    def always(self) -> frozenset[int]:
        """Indices of the detectors that declared no triggers."""
        return self._always

    @property
    def has_location_triggers(self) -> bool:
        """True when some detector declared ``location_triggers``."""
        return self._locations is not None

    def location_may_match(self, start: str) -> bool:
        """True when a location trigger could match some location that starts with ``start``."""
        start = start.lower()
        return any(prefix.startswith(start) or start.startswith(prefix) for prefix in self._location_prefixes)

    def location_candidates(self, locations: Sequence[str]) -> dict[int, set[int]]:
        """For the values whose location starts with a declared prefix: the detectors to run.

        ``locations[i]`` is value ``i``'s location; values without a match are left out.
        """
        result: dict[int, set[int]] = {}
        if self._locations is None or not locations:
            return result
        # A NUL inside a location ("query.a%00") would shift the numbering: a space instead can
        # only add a hit, never hide one (no prefix contains a NUL).
        haystack = SEPARATOR + SEPARATOR.join(location.replace(SEPARATOR, " ") for location in locations).lower()
        detectors = self._location_detectors
        matches = self._locations.find_matches_as_indexes(haystack, overlapping=True)
        for word, start, _ in matches:
            # A prefix starts with a SEPARATOR: the ones before it number the location.
            index = haystack.count(SEPARATOR, 0, start)
            result.setdefault(index, set()).update(detectors[word])
        return result

    def scan(self, data: bytes) -> list[tuple[int, tuple[frozenset[int], bool]]]:
        """``(segment, (detector indices, marker?))`` for every trigger or marker in ``data``.

        ``data`` is UTF-8 probe text, its segments (one or more per value) separated by NUL;
        ``segment`` is the number of NULs before the hit.
        """
        if self._automaton is None:
            return []
        if len(data) > _LARGE_PROBE:
            return self._scan_by_segment(data)
        matches = self._automaton.find_matches_as_indexes(data, overlapping=True)
        if not matches:
            return []
        words = self._words
        if len(matches) <= _FEW_HITS:
            count = data.count
            return [(count(b"\x00", 0, start), words[word]) for word, start, _ in matches]
        nuls = [match.start() for match in _NUL.finditer(data)]
        return [(bisect_right(nuls, start), words[word]) for word, start, _ in matches]

    def _scan_by_segment(self, data: bytes) -> list[tuple[int, tuple[frozenset[int], bool]]]:
        """:meth:`scan` for large data: one pass per segment, one entry per distinct trigger."""
        assert self._automaton is not None
        find = self._automaton.find_matches_as_indexes
        words = self._words
        found: list[tuple[int, tuple[frozenset[int], bool]]] = []
        for segment, piece in enumerate(data.split(b"\x00")):
            if piece:
                found += [(segment, words[word]) for word in set(map(_FIRST, find(piece, overlapping=True)))]
        return found

    def candidates(self, probes: Sequence[str], owners: Sequence[int] | None = None,
                   count: int | None = None) -> list[set[int]]:
        """For each value, the detector indices to run on it.

        ``probes`` are lower-case texts; probe ``i`` belongs to value ``owners[i]`` (default:
        value ``i``), so a value can contribute several probes (raw, decoded, compact).
        ``count`` is the number of values (default: the number of probes).
        """
        total = len(probes) if count is None else count
        always = self._always
        result: list[set[int]] = [set(always) for _ in range(total)] if always else [set() for _ in range(total)]
        if not probes:
            return result
        # A NUL inside a probe would shift the numbering; no trigger contains one, so a space in
        # its place can only add a hit (" or " in "1\x00or\x002"), never hide one.
        data = SEPARATOR.join(probe.replace(SEPARATOR, " ") for probe in probes).encode("utf-8", "surrogatepass")
        for segment, (indices, _) in self.scan(data):
            if indices:
                result[owners[segment] if owners is not None else segment].update(indices)
        return result
