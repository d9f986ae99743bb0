"""Seed data for the bundled sample API: a shop catalogue, its customers and a knowledge base.

Everything here is fictional and deterministic (a fixed-seed generator), so tests can rely on exact
values: the same customers, transactions and embeddings appear on every start. Personal data uses
reserved ranges only: ``example.com`` e-mail addresses and ``+1-555-01xx`` phone numbers.

Config: none. Example::

    from sealgate.demo.data import CUSTOMERS, ITEMS, SEED_ARTICLES
    ITEMS[101].title          # 'Deep Learning in Practice'
    CUSTOMERS[1].email        # 'ava.haddad@example.com'
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

__all__ = [
    "ANALYSIS_DATE",
    "CATEGORIES",
    "CUSTOMERS",
    "EMBEDDING_DIM",
    "ITEMS",
    "SEED_ARTICLES",
    "SEGMENTS",
    "Address",
    "Customer",
    "Item",
    "SeedArticle",
    "Transaction",
]

#: The fixed "today" of the analytics: recency and churn risk are computed against it, not the clock.
ANALYSIS_DATE: Final = datetime(2025, 6, 1, tzinfo=UTC)

CATEGORIES: Final = ("books", "courses", "electronics", "games", "music", "home")
SEGMENTS: Final = ("new", "active", "loyal", "at-risk", "dormant")

#: Latent dimensions of the toy item embeddings, in order (documentation only).
EMBEDDING_AXES: Final = (
    "technical", "creative", "leisure", "practical", "learning", "social", "premium", "budget",
)
EMBEDDING_DIM: Final = len(EMBEDDING_AXES)

# A fixed seed makes the generated data identical on every run. This is demo data, not cryptography.
_RNG_SEED: Final = 20250601


@dataclass(frozen=True, slots=True)
class Item:
    """A catalogue item with its toy embedding (unit length)."""

    id: int
    title: str
    category: str
    price: float
    embedding: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Transaction:
    """One purchase of one item."""

    id: str
    item_id: int
    amount: float
    currency: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address (fictional)."""

    street: str
    city: str
    postal_code: str
    country: str


@dataclass(frozen=True, slots=True)
class Customer:
    """A customer with the personal data an analytics backend typically holds."""

    id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    address: Address
    card_brand: str
    card_last4: str
    segment: str
    transactions: tuple[Transaction, ...]


@dataclass(frozen=True, slots=True)
class SeedArticle:
    """A knowledge-base article as seeded into SQLite on first start."""

    title: str
    slug: str
    lang: str
    summary: str
    body: str
    tags: tuple[str, ...]
    category_id: int
    reading_time_minutes: int


# Per-category centre of the embedding space (axes as in EMBEDDING_AXES).
_CATEGORY_CENTRES: Final[dict[str, tuple[float, ...]]] = {
    "books": (0.4, 0.5, 0.6, 0.1, 0.7, 0.1, 0.2, 0.5),
    "courses": (0.8, 0.2, 0.1, 0.5, 0.9, 0.3, 0.6, 0.2),
    "electronics": (0.9, 0.1, 0.3, 0.8, 0.1, 0.2, 0.8, 0.2),
    "games": (0.3, 0.6, 0.9, 0.1, 0.1, 0.8, 0.4, 0.4),
    "music": (0.1, 0.9, 0.8, 0.1, 0.2, 0.6, 0.3, 0.6),
    "home": (0.2, 0.3, 0.3, 0.9, 0.1, 0.3, 0.4, 0.7),
}

_ITEM_TITLES: Final[dict[str, tuple[str, ...]]] = {
    "books": (
        "Deep Learning in Practice", "The Data Detective", "Designing Data-Intensive Applications",
        "A Short History of Nearly Everything", "The Pragmatic Programmer", "Thinking, Fast and Slow",
    ),
    "courses": (
        "Machine Learning Foundations", "Python for Data Analysis", "Statistics Bootcamp",
        "Prompt Engineering Essentials", "SQL from Zero to Hero", "Applied Computer Vision",
    ),
    "electronics": (
        "Noise-Cancelling Headphones", "4K Webcam", "Mechanical Keyboard",
        "USB-C Docking Station", "E-Reader Paperwhite", "Smart Speaker Mini",
    ),
    "games": (
        "Cosmic Colony", "Puzzle Garden", "Kingdom Cards", "Racing Legends", "Mystery Manor",
        "Farm Together",
    ),
    "music": (
        "Lo-Fi Study Beats", "Jazz Essentials", "Classical Focus", "Indie Summer", "Synthwave Nights",
        "Acoustic Mornings",
    ),
    "home": (
        "Pour-Over Coffee Set", "Standing Desk Converter", "Ergonomic Chair Cushion", "LED Desk Lamp",
        "Indoor Herb Garden", "Weighted Blanket",
    ),
}

_PRICE_RANGES: Final[dict[str, tuple[float, float]]] = {
    "books": (9.0, 45.0),
    "courses": (29.0, 199.0),
    "electronics": (39.0, 349.0),
    "games": (4.99, 59.99),
    "music": (0.99, 14.99),
    "home": (15.0, 249.0),
}

_FIRST_NAMES: Final = (
    "Ava", "Liam", "Mia", "Noah", "Zoe", "Ethan", "Lena", "Omar", "Sofia", "Lucas", "Hana", "Mateo",
    "Nora", "Ivan", "Chloe", "Ravi", "Elena", "Jonas", "Amara", "Felix",
)
_LAST_NAMES: Final = (
    "Thompson", "Garcia", "Nguyen", "Schmidt", "Okafor", "Rossi", "Kowalski", "Haddad", "Tanaka",
    "Fischer", "Moreau", "Silva", "Novak", "Larsen", "Dubois", "Patel",
)
_STREETS: Final = (
    "Maple Avenue", "Oak Street", "Harbor Road", "Sunset Boulevard", "Birch Lane", "Mill Street",
    "Park Terrace", "Cedar Court",
)
_CITIES: Final = (
    ("Springfield", "62701"), ("Riverton", "82501"), ("Lakewood", "80226"), ("Fairview", "97024"),
    ("Greenville", "29601"), ("Madison", "53703"),
)
_CARD_BRANDS: Final = ("visa", "mastercard", "amex")

# (orders min, orders max, days since last order min, max) per segment: shapes the generated history.
_SEGMENT_SHAPES: Final[dict[str, tuple[int, int, int, int]]] = {
    "new": (1, 2, 1, 25),
    "active": (3, 6, 3, 40),
    "loyal": (8, 14, 1, 15),
    "at-risk": (3, 6, 95, 150),
    "dormant": (1, 3, 220, 400),
}

_CUSTOMER_COUNT: Final = 40


def _unit(vector: list[float]) -> tuple[float, ...]:
    norm = sum(v * v for v in vector) ** 0.5
    return tuple(round(v / norm, 6) for v in vector)


def _build_items(rng: random.Random) -> dict[int, Item]:
    items: dict[int, Item] = {}
    next_id = 101
    for category in CATEGORIES:
        low, high = _PRICE_RANGES[category]
        for title in _ITEM_TITLES[category]:
            centre = _CATEGORY_CENTRES[category]
            vector = [max(0.0, c + rng.uniform(-0.25, 0.25)) for c in centre]
            price = round(rng.uniform(low, high), 2)
            items[next_id] = Item(next_id, title, category, price, _unit(vector))
            next_id += 1
    return items


def _build_customers(rng: random.Random, items: dict[int, Item]) -> dict[int, Customer]:
    by_category: dict[str, list[Item]] = {c: [] for c in CATEGORIES}
    for item in items.values():
        by_category[item.category].append(item)
    customers: dict[int, Customer] = {}
    for cid in range(1, _CUSTOMER_COUNT + 1):
        first = _FIRST_NAMES[(cid - 1) % len(_FIRST_NAMES)]
        last = _LAST_NAMES[(cid * 7) % len(_LAST_NAMES)]
        segment = SEGMENTS[(cid - 1) % len(SEGMENTS)]
        city, postal = _CITIES[cid % len(_CITIES)]
        address = Address(f"{10 + cid * 13} {_STREETS[cid % len(_STREETS)]}", city, postal, "US")
        # Each customer mostly buys from two favourite categories, which gives the recommender signal.
        favourites = rng.sample(CATEGORIES, 2)
        low_n, high_n, low_days, high_days = _SEGMENT_SHAPES[segment]
        order_count = rng.randint(low_n, high_n)
        days_ago = rng.randint(low_days, high_days)
        when = ANALYSIS_DATE - timedelta(days=days_ago, hours=rng.randint(0, 23))
        transactions: list[Transaction] = []
        for n in range(order_count):
            category = favourites[0] if rng.random() < 0.6 else (
                favourites[1] if rng.random() < 0.7 else rng.choice(CATEGORIES)
            )
            item = rng.choice(by_category[category])
            transactions.append(Transaction(f"txn_{cid:03d}{n:02d}", item.id, item.price, "USD", when))
            when -= timedelta(days=rng.randint(5, 40), hours=rng.randint(0, 23))
        transactions.sort(key=lambda t: t.created_at)
        customers[cid] = Customer(
            id=cid,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}.{last.lower()}@example.com",
            phone=f"+1-555-01{cid % 100:02d}",
            address=address,
            card_brand=rng.choice(_CARD_BRANDS),
            card_last4=f"{rng.randint(0, 9999):04d}",
            segment=segment,
            transactions=tuple(transactions),
        )
    return customers


def _build() -> tuple[dict[int, Item], dict[int, Customer]]:
    rng = random.Random(_RNG_SEED)  # noqa: S311 - deterministic demo data, not a security use
    items = _build_items(rng)
    return items, _build_customers(rng, items)


_BUILT: Final = _build()
#: The catalogue by item id (101..136, six items per category).
ITEMS: Final[dict[int, Item]] = _BUILT[0]
#: The customers by id (1..40); customer ids double as recommendation user ids.
CUSTOMERS: Final[dict[int, Customer]] = _BUILT[1]


SEED_ARTICLES: Final[tuple[SeedArticle, ...]] = (
    SeedArticle(
        "Getting started with the Nimbus API", "getting-started", "en",
        "Create a project, get an API key and make your first request in five minutes.",
        "Every request goes to https://api.example.com/api/v1 and returns JSON. Create a project in the "
        "console, copy its API key and send it in the X-API-Key header. Start with the recommendations "
        "endpoint: pass a userId and a limit and you get scored items back.",
        ("getting started", "api", "tutorial"), 1, 3,
    ),
    SeedArticle(
        "Authenticating with API keys", "api-keys", "en",
        "API keys identify your project; keep them out of source code and rotate them regularly.",
        "Send your key in the X-API-Key header on every request. Never embed keys in a mobile app or a "
        "public web page: anyone can read them there. Store keys in a secret manager, give each service "
        "its own key and rotate keys every ninety days or at once if one may have leaked.",
        ("security", "api keys", "authentication"), 2, 4,
    ),
    SeedArticle(
        "Rate limits and quotas", "rate-limits", "en",
        "Each key may make 600 requests per minute; bursts above that get HTTP 429.",
        "The API allows 600 requests per minute per key and 50,000 per day on the free plan. When you go "
        "over the limit you get status 429 with a Retry-After header telling you how many seconds to "
        "wait. Back off exponentially and cache recommendation results for a few minutes.",
        ("rate limits", "quotas", "api"), 2, 3,
    ),
    SeedArticle(
        "How recommendations are computed", "how-recommendations-work", "en",
        "Recommendations compare item embeddings with the embedding of what a user bought before.",
        "Every catalogue item has an embedding, a short vector that places it in a space of tastes. A "
        "user's profile is the average of the embeddings of the items they bought or rated highly. We "
        "rank unseen items by cosine similarity with that profile. New users without history get the "
        "most popular items instead.",
        ("recommendations", "machine learning", "embeddings"), 3, 5,
    ),
    SeedArticle(
        "Giving feedback on recommendations", "recommendation-feedback", "en",
        "Ratings of four or five stars pull similar items up; one or two stars hide an item.",
        "Send POST /api/v1/recommendations/feedback with the userId, the itemId, a rating from 1 to 5 and "
        "an optional comment. High ratings are added to the user's profile at once, low ratings remove "
        "the item from future recommendations.",
        ("recommendations", "feedback"), 3, 2,
    ),
    SeedArticle(
        "An introduction to machine learning", "intro-machine-learning", "en",
        "What machine learning is, how models learn from data and where it is used in Nimbus.",
        "Machine learning builds models from examples instead of hand-written rules. A model has "
        "parameters; training adjusts them to reduce a loss on the training data, usually with gradient "
        "descent. We use machine learning for recommendations and churn prediction, and keep every model "
        "small enough to explain.",
        ("machine learning", "tutorial"), 4, 6,
    ),
    SeedArticle(
        "Embeddings explained", "embeddings-explained", "en",
        "Embeddings turn items, words or users into vectors whose distance means similarity.",
        "An embedding is a list of numbers. Items that people buy together end up with similar vectors. "
        "Cosine similarity measures the angle between two vectors: 1 means the same direction, 0 means "
        "unrelated. Embeddings power search, recommendations and clustering in machine learning systems.",
        ("machine learning", "embeddings"), 4, 4,
    ),
    SeedArticle(
        "Customer segments", "customer-segments", "en",
        "Customers are grouped into new, active, loyal, at-risk and dormant segments.",
        "Segments group customers by how recently and how often they buy. The segment summary endpoint "
        "returns the number of customers, the average order value and the churn risk of a segment, so "
        "your dashboard can show trends without handling personal data.",
        ("analytics", "segments", "customers"), 5, 3,
    ),
    SeedArticle(
        "Understanding the churn risk score", "churn-risk", "en",
        "The churn risk score estimates from 0 to 1 how likely a customer is to stop buying.",
        "Churn risk combines the days since the last order with how many orders a customer placed. A "
        "score below 0.33 is low, up to 0.66 medium and above that high. Reach out to high-risk "
        "customers with an offer before they become dormant.",
        ("analytics", "churn", "machine learning"), 5, 4,
    ),
    SeedArticle(
        "Privacy and personal data", "privacy", "en",
        "We process personal data only to provide the service and never sell it.",
        "Customer names, e-mail addresses, phone numbers and payment details are personal data. Our API "
        "returns aggregates wherever it can. You can ask for a copy of your data or its deletion at any "
        "time from the privacy page in the console.",
        ("privacy", "gdpr", "security"), 6, 3,
    ),
    SeedArticle(
        "Exporting your data", "data-export", "en",
        "Export articles, feedback and analytics as JSON or CSV from the console.",
        "Open Settings, then Export. Choose JSON or CSV and the data sets you need. Large exports are "
        "prepared in the background and you get an e-mail with a download link that is valid for 24 "
        "hours.",
        ("export", "data"), 6, 2,
    ),
    SeedArticle(
        "Billing and invoices", "billing", "en",
        "Invoices are issued monthly; you can pay by card or bank transfer.",
        "We bill at the start of every month for the previous month's usage. Invoices are in the console "
        "under Billing. Card payments are charged automatically; bank transfers are due within 14 days.",
        ("billing", "invoices", "payments"), 7, 2,
    ),
    SeedArticle(
        "Changing your plan", "change-plan", "en",
        "Upgrade or downgrade at any time; changes apply from the next billing period.",
        "Plans differ in request quota, number of API keys and support level. Upgrades take effect at "
        "once and are charged pro rata. Downgrades take effect at the next billing period.",
        ("billing", "plans"), 7, 2,
    ),
    SeedArticle(
        "Receiving webhooks", "webhooks", "en",
        "Webhooks notify your server when a model is retrained or an export is ready.",
        "Register an HTTPS endpoint in the console. Each webhook is signed with HMAC-SHA256 in the "
        "X-Nimbus-Signature header; verify the signature and reject deliveries older than five minutes "
        "to prevent replay.",
        ("webhooks", "api", "security"), 1, 3,
    ),
    SeedArticle(
        "Troubleshooting error codes", "error-codes", "en",
        "What 400, 401, 403, 404, 429 and 500 responses mean and how to fix them.",
        "400 means the request does not match the API description: check types and required fields. 401 "
        "means the API key is missing or wrong, 403 that the key may not use this endpoint. 404 means the "
        "resource does not exist, 429 that you hit the rate limit, and 500 that something failed on our "
        "side.",
        ("errors", "troubleshooting", "api"), 1, 4,
    ),
    SeedArticle(
        "How the assistant finds answers", "assistant", "en",
        "The chat assistant searches this knowledge base for articles matching your question.",
        "The assistant picks the keywords of your message, scores every published article by how often "
        "they appear in its title, tags and text, and answers with the summary of the best match. It "
        "lists the articles it used as sources.",
        ("chatbot", "assistant", "search"), 8, 2,
    ),
    SeedArticle(
        "Resetting your password", "reset-password", "en",
        "Use the forgotten password link on the sign-in page to get a reset e-mail.",
        "The reset link is valid for one hour and can be used once. If you do not get the e-mail, check "
        "your spam folder. Enable two-factor authentication afterwards to protect your account.",
        ("account", "password", "security"), 9, 1,
    ),
    SeedArticle(
        "Team accounts and roles", "team-roles", "en",
        "Invite colleagues as viewers, editors or admins of a project.",
        "Viewers can read analytics, editors can also publish articles and manage feedback, admins can "
        "manage API keys and billing. Give everyone the smallest role that lets them do their job.",
        ("account", "roles", "security"), 9, 2,
    ),
    SeedArticle(
        "Data retention", "data-retention", "en",
        "Chat transcripts are kept for 30 days, feedback and transactions for two years.",
        "We delete chat transcripts after 30 days and anonymise feedback and transactions after two years. "
        "Audit logs of API key usage are kept for one year.",
        ("privacy", "retention", "data"), 6, 2,
    ),
    SeedArticle(
        "Einführung in maschinelles Lernen", "einfuehrung-maschinelles-lernen", "de",
        "Was maschinelles Lernen ist und wie Nimbus es für Empfehlungen nutzt.",
        "Maschinelles Lernen erstellt Modelle aus Beispielen statt aus festen Regeln. Beim Training werden "
        "die Parameter eines Modells so angepasst, dass der Fehler auf den Trainingsdaten sinkt. Nimbus "
        "nutzt es für Empfehlungen und die Vorhersage von Kundenabwanderung.",
        ("machine learning", "tutorial"), 4, 5,
    ),
)
