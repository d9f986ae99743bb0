"""Toy recommendation model of the sample API: cosine similarity of item embeddings to a user profile.

A user's profile is the mean embedding of the items they bought (seed transactions) plus the items
they rated 4 or 5 stars through the feedback endpoint. Unseen items are ranked by cosine similarity
with that profile; items rated 1 or 2 stars are never recommended again. Users without any history
get the most purchased items ("popular" strategy). Fully deterministic: ties break on the item id.

Config: none. Example::

    from sealgate.demo.recommender import recommend
    result = recommend(user_id=3, limit=5, category=None, feedback=[])
    result.strategy, result.items[0].score      # ('cosine', 0.98...)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from sealgate.demo.data import CUSTOMERS, ITEMS, Item

__all__ = ["MODEL_NAME", "Recommendation", "Recommendations", "cosine", "recommend"]

MODEL_NAME: Final = "nimbus-rec-cosine-1"

# A rating at or above this joins the profile; at or below the other it hides the item.
_LIKED_RATING: Final = 4
_DISLIKED_RATING: Final = 2


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One recommended item and its score (cosine similarity, or normalised popularity)."""

    item: Item
    score: float


@dataclass(frozen=True, slots=True)
class Recommendations:
    """The model's answer for one user."""

    user_id: int
    strategy: str
    items: tuple[Recommendation, ...]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two equally long vectors; 0.0 when either is all zeros."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = (sum(x * x for x in a) ** 0.5) * (sum(y * y for y in b) ** 0.5)
    return dot / norm if norm else 0.0


def _popularity() -> Counter[int]:
    counts: Counter[int] = Counter()
    for customer in CUSTOMERS.values():
        counts.update(t.item_id for t in customer.transactions)
    return counts


_POPULARITY: Final = _popularity()


def recommend(
    user_id: int, limit: int, category: str | None, feedback: Iterable[tuple[int, int]]
) -> Recommendations:
    """Rank catalogue items for ``user_id``.

    ``feedback`` holds ``(item_id, rating)`` pairs the user sent through the feedback endpoint.
    ``category`` restricts the result to one catalogue category; ``limit`` caps its length.
    """
    history: list[int] = []
    customer = CUSTOMERS.get(user_id)
    if customer is not None:
        history.extend(t.item_id for t in customer.transactions)
    hidden: set[int] = set()
    for item_id, rating in feedback:
        if item_id not in ITEMS:
            continue
        if rating >= _LIKED_RATING:
            history.append(item_id)
        elif rating <= _DISLIKED_RATING:
            hidden.add(item_id)
    seen = set(history) | hidden
    candidates = [
        item for item in ITEMS.values()
        if item.id not in seen and (category is None or item.category == category)
    ]
    if history:
        dim = len(ITEMS[history[0]].embedding)
        profile = [sum(ITEMS[i].embedding[d] for i in history) / len(history) for d in range(dim)]
        scored = [Recommendation(item, round(cosine(profile, item.embedding), 4)) for item in candidates]
        strategy = "cosine"
    else:
        top = max(_POPULARITY.values())
        scored = [Recommendation(item, round(_POPULARITY[item.id] / top, 4)) for item in candidates]
        strategy = "popular"
    scored.sort(key=lambda r: (-r.score, r.item.id))
    return Recommendations(user_id, strategy, tuple(scored[:limit]))
