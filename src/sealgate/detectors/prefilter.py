"""A multi-pattern prefilter: which detectors could possibly find something in which value.

Most values in most requests are clean (``42``, ``alice@example.com``, ``Vino Rioja``), and
the precise detectors (an SQL tokenizer tried in four quoting contexts, an HTML parser) are
too costly to run on each. A detector may declare ``triggers``: lower-case substrings, at least
one of which appears in the lower-cased raw or decoded text of every value it can report on.
The prefilter compiles all triggers into one Aho–Corasick automaton (``pyahocorasick``, C
speed) and scans every value of a request in one pass over their concatenation; a detector
then runs only on the values where one of its triggers was seen.

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

Example::

    >>> pf = Prefilter([sqli.DETECTOR, xss.DETECTOR])
    >>> pf.candidates([" 42 ", " 1' or 1=1 ", " <b> "])
    [set(), {0, 1}, {1}]
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from itertools import accumulate
from typing import Any

import ahocorasick

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
    automaton: Any = ahocorasick.Automaton()
    for trigger in triggers:
        automaton.add_word(trigger, True)
    automaton.make_automaton()

    def matches(text: str) -> bool:
        for _ in automaton.iter(text):
            return True
        return False

    return matches


class Prefilter:
    """Maps probe texts to the indices of the detectors worth running on each."""

    __slots__ = ("_always", "_automaton", "_locations")

    def __init__(self, detectors: Sequence[Detector]) -> None:
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
        self._automaton: Any = None
        if by_trigger:
            automaton = ahocorasick.Automaton()
            for trigger, indices in by_trigger.items():
                automaton.add_word(trigger, frozenset(indices))
            automaton.make_automaton()
            self._automaton = automaton
        self._locations: Any = None
        if by_location:
            automaton = ahocorasick.Automaton()
            for prefix, indices in by_location.items():
                automaton.add_word(prefix, frozenset(indices))
            automaton.make_automaton()
            self._locations = automaton

    @property
    def has_location_triggers(self) -> bool:
        """True when some detector declared ``location_triggers``."""
        return self._locations is not None

    def location_candidates(self, locations: Sequence[str]) -> dict[int, set[int]]:
        """For the values whose location starts with a declared prefix: the detectors to run.

        ``locations[i]`` is value ``i``'s location; values without a match are left out.
        """
        result: dict[int, set[int]] = {}
        if self._locations is None or not locations:
            return result
        haystack = SEPARATOR + SEPARATOR.join(locations).lower()
        if len(haystack) != sum(map(len, locations)) + len(locations):
            # Lower-casing changed a length (rare non-ASCII): map each location on its own.
            for index, location in enumerate(locations):
                for _, indices in self._locations.iter(SEPARATOR + location.lower()):
                    result.setdefault(index, set()).update(indices)
            return result
        starts: list[int] | None = None
        for end, indices in self._locations.iter(haystack):
            if starts is None:
                starts = list(accumulate((len(loc) + 1 for loc in locations[:-1]), initial=0))
            index = bisect_right(starts, end - 1) - 1
            result.setdefault(index, set()).update(indices)
        return result

    @property
    def always(self) -> frozenset[int]:
        """Indices of the detectors that declared no triggers."""
        return self._always

    def matches(self, haystack: str) -> Iterator[tuple[int, frozenset[int]]]:
        """``(end, detector indices)`` for every trigger occurrence in ``haystack``."""
        if self._automaton is None:
            return iter(())
        result: Iterator[tuple[int, frozenset[int]]] = self._automaton.iter(haystack)
        return result

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
        if self._automaton is None or not probes:
            return result
        haystack = SEPARATOR.join(probes)
        starts = list(accumulate((len(p) + 1 for p in probes[:-1]), initial=0))
        for end, indices in self._automaton.iter(haystack):
            index = bisect_right(starts, end) - 1
            result[owners[index] if owners is not None else index].update(indices)
        return result
