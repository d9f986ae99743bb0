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

Example::

    >>> pf = Prefilter([sqli.DETECTOR, xss.DETECTOR])
    >>> pf.candidates([" 42 ", " 1' or 1=1 ", " <b> "])
    [set(), {0, 1}, {1}]
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import Any

import ahocorasick

from sealgate.detectors.base import Detector

__all__ = ["SEPARATOR", "Prefilter", "detector_triggers", "probe_texts", "trigger_matcher"]

SEPARATOR = "\x00"
"""Joins the probe texts of one request; never part of a trigger, so no match spans two values."""


def detector_triggers(detector: Detector) -> tuple[str, ...] | None:
    """The detector's declared triggers (lower-case), or ``None`` when it must always run."""
    triggers: Any = getattr(detector, "triggers", None)
    if triggers is None:
        return None
    cleaned = tuple(str(t).lower() for t in triggers if t and SEPARATOR not in str(t))
    return cleaned or None


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

    __slots__ = ("_always", "_automaton")

    def __init__(self, detectors: Sequence[Detector]) -> None:
        always: set[int] = set()
        by_trigger: dict[str, set[int]] = {}
        for index, detector in enumerate(detectors):
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

    @property
    def always(self) -> frozenset[int]:
        """Indices of the detectors that declared no triggers."""
        return self._always

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
