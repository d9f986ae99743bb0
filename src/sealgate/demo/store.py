"""SQLite storage of the sample API: knowledge-base articles, recommendation feedback, chat turns.

Opening a database creates and seeds the ``articles`` table when it does not exist (first start, or
after someone dropped it through the legacy endpoint and restarted); :meth:`KnowledgeBase.reset`
drops and reseeds everything. Every query binds its values as parameters -- except
:meth:`KnowledgeBase.legacy_lookup`, which is DELIBERATELY VULNERABLE to SQL injection (stacked
queries included) so the demo can show sealgate stopping a real attack.

The connection is used from the event-loop thread only (sqlite3's default same-thread check stays
on); every call is short and synchronous, which for a demo backend is simpler and faster than a
thread pool.

Config: ``db_path`` (a file, created if missing; ``None`` or ``":memory:"`` for a private in-memory
database). Example::

    kb = KnowledgeBase(None)
    kb.open()
    kb.search(q="machine learning", lang="en", tag=None, exclude_id=None, limit=5, offset=0)
    kb.close()
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sealgate.demo.data import SEED_ARTICLES

__all__ = ["ARTICLE_COLUMNS", "KnowledgeBase", "NewArticle", "like_escape", "slugify"]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    slug TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT 'en',
    status TEXT NOT NULL DEFAULT 'published',
    summary TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    category_id INTEGER,
    author_id INTEGER,
    author_name TEXT,
    author_email TEXT,
    reading_time_minutes INTEGER,
    allow_comments INTEGER NOT NULL DEFAULT 1,
    published_at TEXT,
    created_at TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}'
);
-- Searches only look at published articles; the index keeps benchmark-created drafts out of the scan.
CREATE INDEX IF NOT EXISTS articles_status_lang ON articles (status, lang);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    item_id INTEGER NOT NULL,
    rating INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chat_turns (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    message TEXT NOT NULL,
    answer TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chat_turns_session ON chat_turns (session_id);
"""

#: Columns every article query selects, in order.
ARTICLE_COLUMNS: Final = (
    "id, title, slug, lang, status, summary, body, tags, category_id, author_id, author_name, "
    "reading_time_minutes, allow_comments, published_at, created_at"
)

_SEED_AUTHOR: Final = (1, "Nimbus Docs Team", "docs@example.com")
_SEED_DATE: Final = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
_MAX_SEARCH_TERMS: Final = 8


_DENIED_ACTIONS: Final = frozenset({sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH, sqlite3.SQLITE_PRAGMA})


def _confine(action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None) -> int:
    """sqlite3 authorizer: deny statements that reach outside the database file (see ``open``)."""
    return sqlite3.SQLITE_DENY if action in _DENIED_ACTIONS else sqlite3.SQLITE_OK


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def like_escape(text: str) -> str:
    """Escape ``\\``, ``%`` and ``_`` so ``text`` matches literally in ``LIKE ? ESCAPE '\\'``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def slugify(title: str) -> str:
    """A URL slug from a title: lower-case ASCII words joined by hyphens (``"article"`` if empty)."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words)[:120].strip("-") or "article"


@dataclass(frozen=True, slots=True)
class NewArticle:
    """The fields of an article to create (already type-checked by the handler)."""

    title: str
    body: str
    slug: str
    lang: str = "en"
    status: str = "draft"
    summary: str = ""
    tags: tuple[str, ...] = ()
    category_id: int | None = None
    author_id: int | None = None
    author_name: str | None = None
    author_email: str | None = None
    reading_time_minutes: int | None = None
    allow_comments: bool = True
    published_at: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class KnowledgeBase:
    """The sample API's SQLite database. Call :meth:`open` before use and :meth:`close` after."""

    def __init__(self, db_path: str | os.PathLike[str] | None) -> None:
        self._path = ":memory:" if db_path is None else os.fspath(db_path)
        self._conn: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        """The open connection (raises ``RuntimeError`` before :meth:`open`)."""
        if self._conn is None:
            raise RuntimeError("KnowledgeBase.open() was not called")
        return self._conn

    def open(self) -> None:
        """Connect, create missing tables and seed the articles if their table did not exist."""
        # isolation_level=None: autocommit, every statement is its own transaction (and executescript,
        # used by the legacy lookup, needs no pending transaction).
        conn = sqlite3.connect(self._path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        if self._path != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode skips the fsync per commit: the demo favours throughput over durability.
            conn.execute("PRAGMA synchronous=NORMAL")
        # The legacy endpoint runs attacker-chosen SQL on purpose. Keep the blast radius inside this
        # database: no ATTACH / VACUUM INTO (they write files anywhere the process may) and no PRAGMA.
        conn.set_authorizer(_confine)
        self._conn = conn
        self._ensure_schema()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _ensure_schema(self) -> None:
        seed = not self.has_articles_table()
        self.conn.executescript(_SCHEMA)
        if seed:
            self._seed()

    def _seed(self) -> None:
        author_id, author_name, author_email = _SEED_AUTHOR
        rows = []
        for n, article in enumerate(SEED_ARTICLES):
            published = (_SEED_DATE + timedelta(days=3 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
            rows.append((
                n + 1, article.title, article.slug, article.lang, "published", article.summary,
                article.body, json.dumps(list(article.tags)), article.category_id, author_id, author_name,
                author_email, article.reading_time_minutes, 1, published, published, "{}",
            ))
        # One explicit transaction for the whole seed (the connection is in autocommit mode).
        self.conn.execute("BEGIN")
        try:
            self.conn.executemany(
                "INSERT INTO articles (id, title, slug, lang, status, summary, body, tags, category_id, "
                "author_id, author_name, author_email, reading_time_minutes, allow_comments, published_at, "
                "created_at, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def reset(self) -> int:
        """Drop every table and reseed; returns the number of articles afterwards."""
        self.conn.executescript(
            "DROP TABLE IF EXISTS temp.legacy_result; DROP TABLE IF EXISTS articles; "
            "DROP TABLE IF EXISTS feedback; DROP TABLE IF EXISTS chat_turns;"
        )
        self._ensure_schema()
        return self.count_articles()

    def has_articles_table(self) -> bool:
        """Whether the ``articles`` table exists (false after a successful ``DROP TABLE``)."""
        row = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'articles'"
        ).fetchone()
        return row is not None

    def count_articles(self) -> int:
        """Number of stored articles, any status."""
        return int(self.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    # -- articles ---------------------------------------------------------------------------------

    def search(
        self,
        *,
        q: str | None,
        lang: str | None,
        tag: str | None,
        exclude_id: int | None,
        limit: int,
        offset: int,
    ) -> tuple[list[sqlite3.Row], int]:
        """Published articles matching every word of ``q`` (title, summary, body or tags).

        Ranked by where the words occur (title 3, tags 2, summary 1), then by id. Returns one page of
        rows and the total number of matches. Every value is bound as a parameter; only fixed SQL
        fragments are joined.
        """
        where = ["status = 'published'"]
        params: list[Any] = []
        score_parts = ["0"]
        score_params: list[Any] = []
        if lang is not None:
            where.append("lang = ?")
            params.append(lang)
        if tag is not None:
            where.append("tags LIKE ? ESCAPE '\\'")
            params.append('%"' + like_escape(tag) + '"%')
        if exclude_id is not None:
            where.append("id != ?")
            params.append(exclude_id)
        for term in (q or "").split()[:_MAX_SEARCH_TERMS]:
            pattern = "%" + like_escape(term) + "%"
            where.append(
                "(title LIKE ? ESCAPE '\\' OR summary LIKE ? ESCAPE '\\' OR body LIKE ? ESCAPE '\\' "
                "OR tags LIKE ? ESCAPE '\\')"
            )
            params.extend([pattern] * 4)
            score_parts.append(
                "(title LIKE ? ESCAPE '\\') * 3 + (tags LIKE ? ESCAPE '\\') * 2 "
                "+ (summary LIKE ? ESCAPE '\\')"
            )
            score_params.extend([pattern] * 3)
        condition = " AND ".join(where)
        total = int(
            self.conn.execute(f"SELECT COUNT(*) FROM articles WHERE {condition}", params).fetchone()[0]  # noqa: S608 - fixed fragments, values bound
        )
        rows = self.conn.execute(
            f"SELECT {ARTICLE_COLUMNS}, ({' + '.join(score_parts)}) AS score FROM articles "  # noqa: S608 - fixed fragments, values bound
            f"WHERE {condition} ORDER BY score DESC, id ASC LIMIT ? OFFSET ?",
            [*score_params, *params, limit, offset],
        ).fetchall()
        return rows, total

    def get_article(self, article_id: str) -> sqlite3.Row | None:
        """The article with this id, any status -- the SAFE lookup.

        ``article_id`` is the raw path segment, bound as a parameter without further checks: SQLite
        converts a numeric string for the comparison and an injection payload simply matches nothing.
        """
        row: sqlite3.Row | None = self.conn.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = ?", (article_id,)  # noqa: S608 - constant column list
        ).fetchone()
        return row

    def legacy_lookup(self, article_id: str) -> list[sqlite3.Row]:
        """Look an article up the way the old reporting code did. DELIBERATELY VULNERABLE.

        !!! SQL INJECTION ON PURPOSE !!! ``article_id`` is pasted into the SQL text unchecked and the
        result is run with ``executescript``, which executes every ``;``-separated statement. So
        ``1 OR 1=1`` returns all articles, ``0 UNION SELECT ...`` reads any table, and
        ``1; DROP TABLE articles; --`` really drops the table (an authorizer keeps it inside this
        database: ``ATTACH``, ``VACUUM INTO`` and ``PRAGMA`` are denied). This exists only so the demo can show
        sealgate blocking the attack (the OpenAPI description declares ``articleId`` as an integer).
        The sample API refuses to listen on anything but a loopback address. Never copy this.
        """
        # vvv THE INJECTION POINT: article_id is pasted into the SQL text. vvv
        query = "SELECT id, title, summary, body FROM articles WHERE id = " + article_id  # noqa: S608 - deliberate
        script = f"DROP TABLE IF EXISTS temp.legacy_result;\nCREATE TEMP TABLE legacy_result AS {query};"
        self.conn.executescript(script)
        return self.conn.execute("SELECT * FROM temp.legacy_result").fetchall()

    def create_article(self, article: NewArticle) -> sqlite3.Row:
        """Insert an article and return its stored row."""
        now = _now()
        published_at = article.published_at
        if published_at is None and article.status == "published":
            published_at = now
        cursor = self.conn.execute(
            "INSERT INTO articles (title, slug, lang, status, summary, body, tags, category_id, author_id, "
            "author_name, author_email, reading_time_minutes, allow_comments, published_at, created_at, "
            "metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                article.title, article.slug, article.lang, article.status, article.summary, article.body,
                json.dumps(list(article.tags)), article.category_id, article.author_id, article.author_name,
                article.author_email, article.reading_time_minutes, int(article.allow_comments),
                published_at, now, json.dumps(article.metadata),
            ),
        )
        row = self.get_article(str(cursor.lastrowid))
        assert row is not None  # just inserted, same connection
        return row

    def published_articles(self) -> list[sqlite3.Row]:
        """Every published article (the chatbot's retrieval corpus)."""
        return self.conn.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE status = 'published' ORDER BY id"  # noqa: S608 - constant column list
        ).fetchall()

    # -- chat and feedback ------------------------------------------------------------------------

    def add_chat_turn(self, session_id: str, message: str, answer: str) -> int:
        """Store one exchange of a chat session; returns the session's turn count including it."""
        self.conn.execute(
            "INSERT INTO chat_turns (session_id, message, answer, created_at) VALUES (?, ?, ?, ?)",
            (session_id, message, answer, _now()),
        )
        row = self.conn.execute("SELECT COUNT(*) FROM chat_turns WHERE session_id = ?", (session_id,))
        return int(row.fetchone()[0])

    def add_feedback(self, user_id: int, item_id: int, rating: int, comment: str) -> int:
        """Store a rating; returns the feedback id."""
        cursor = self.conn.execute(
            "INSERT INTO feedback (user_id, item_id, rating, comment, created_at) VALUES (?, ?, ?, ?, ?)",
            (user_id, item_id, rating, comment, _now()),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def feedback_for(self, user_id: int) -> Sequence[tuple[int, int]]:
        """The user's ``(item_id, rating)`` pairs, oldest first."""
        rows = self.conn.execute(
            "SELECT item_id, rating FROM feedback WHERE user_id = ? ORDER BY id", (user_id,)
        ).fetchall()
        return [(int(r[0]), int(r[1])) for r in rows]
