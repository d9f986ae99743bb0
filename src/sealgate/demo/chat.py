"""Toy retrieval for the sample API's knowledge-base chatbot (keyword matching, no ML).

The message is cut into lower-case words; stop words and words shorter than three letters are
dropped. Each published article scores 3 per keyword in its title, 2 per keyword in a tag, 1.5 per
keyword in its summary and 0.5 per occurrence in its body (at most 3 per keyword). The answer is
the summary of the best article plus the titles of up to two runners-up; below a minimum score the
assistant says it found nothing.

Config: none. Example::

    from sealgate.demo.chat import answer
    reply = answer("How do rate limits work?", kb.published_articles())
    reply.text, [s.title for s in reply.sources]
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

__all__ = ["FALLBACK_ANSWER", "ArticleRow", "Reply", "Source", "answer", "keywords"]

FALLBACK_ANSWER: Final = (
    "I could not find an article about that. Try asking about API keys, rate limits, recommendations, "
    "customer segments, privacy or billing."
)

_STOP_WORDS: Final = frozenset((
    "about", "and", "are", "can", "could", "did", "does", "for", "from", "get", "have", "how", "please",
    "the", "this", "was", "what", "when", "where", "which", "who", "why", "will", "with", "would", "you",
    "your", "there", "their", "they", "tell",
))
_MAX_KEYWORDS: Final = 12
_MIN_SCORE: Final = 1.5
_MAX_SOURCES: Final = 3


class ArticleRow(Protocol):
    """What retrieval needs of an article: item access by column name (``sqlite3.Row`` or a dict)."""

    def __getitem__(self, key: str, /) -> Any: ...


@dataclass(frozen=True, slots=True)
class Source:
    """An article the answer is based on."""

    article_id: int
    title: str
    score: float


@dataclass(frozen=True, slots=True)
class Reply:
    """The assistant's answer and its sources (best first; empty when nothing matched)."""

    text: str
    sources: tuple[Source, ...]


def keywords(message: str) -> list[str]:
    """The distinct keywords of a message, in order of first appearance (at most 12)."""
    seen: list[str] = []
    for word in re.findall(r"[^\W_]+", message.lower()):
        if len(word) >= 3 and word not in _STOP_WORDS and word not in seen:
            seen.append(word)
    return seen[:_MAX_KEYWORDS]


def _score(terms: Sequence[str], article: ArticleRow) -> float:
    title = str(article["title"]).lower()
    summary = str(article["summary"]).lower()
    body = str(article["body"]).lower()
    tags = [str(t).lower() for t in json.loads(article["tags"])]
    score = 0.0
    for term in terms:
        score += 3.0 * (term in title) + 2.0 * any(term in tag for tag in tags) + 1.5 * (term in summary)
        score += 0.5 * min(3, body.count(term))
    return score


def answer(message: str, articles: Sequence[ArticleRow]) -> Reply:
    """Answer ``message`` from ``articles`` (rows with id, title, summary, body and JSON tags)."""
    terms = keywords(message)
    ranked = sorted(
        ((_score(terms, a), int(a["id"]), str(a["title"]), str(a["summary"])) for a in articles),
        key=lambda r: (-r[0], r[1]),
    )
    hits = [r for r in ranked if r[0] >= _MIN_SCORE][:_MAX_SOURCES]
    if not hits:
        return Reply(FALLBACK_ANSWER, ())
    best = hits[0]
    text = f"{best[3]} You can read more in \u201c{best[2]}\u201d."
    if len(hits) > 1:
        text += " Related: " + ", ".join(f"\u201c{h[2]}\u201d" for h in hits[1:]) + "."
    return Reply(text, tuple(Source(h[1], h[2], round(h[0], 2)) for h in hits))
