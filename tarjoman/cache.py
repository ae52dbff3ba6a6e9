"""The draft cache: every machine draft ever made for a book, keyed by content.

A key is a hash of the engine's identity (model, revision, back-end,
settings), the language pair, the glossary version and the source text, so a
draft is made once and found again whatever moved around it. SQLite in WAL
mode, committed per batch: a crash loses at most the batch in flight.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS drafts (
    key TEXT PRIMARY KEY,
    source_lang TEXT NOT NULL,
    target_lang TEXT NOT NULL,
    source TEXT NOT NULL,
    draft TEXT NOT NULL,
    engine TEXT NOT NULL,
    created REAL NOT NULL
)
"""


def draft_key(engine_identity: str, source_lang: str, target_lang: str, terms: str, text: str) -> str:
    """``terms``: the approved glossary terms that applied to ``text`` (see ``glossary.cache_part``)."""
    parts = (engine_identity, source_lang, target_lang, terms, text)
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


class DraftCache:
    """``get_many`` / ``put_many`` over an SQLite file; a damaged file is set aside, never trusted."""

    def __init__(self, path: Path, *, timeout: float = 30.0):
        self.path = Path(path)
        self.timeout = timeout  # seconds SQLite waits on a lock before each retry
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.set_aside: Path | None = None
        try:
            self._db = self._open()
        except sqlite3.OperationalError:
            raise  # busy, locked or unreadable: not damage, and never a reason to move the file
        except sqlite3.DatabaseError:
            # Only machine drafts live here: a damaged cache costs model time, never a translator's work.
            self.set_aside = self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}")
            os.replace(self.path, self.set_aside)
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        """Open (creating if needed); processes opening a new cache at once wait for each other:
        switching to WAL can report "database is locked" at once, without the busy timeout."""
        for attempt in range(100):
            db = sqlite3.connect(self.path, timeout=self.timeout)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(_SCHEMA)
                db.execute("PRAGMA quick_check").fetchone()
                return db
            except sqlite3.OperationalError as exc:
                db.close()
                if "locked" not in str(exc) and "busy" not in str(exc) or attempt == 99:
                    raise
                time.sleep(0.1)
        raise AssertionError("unreachable")

    def get_many(self, keys: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, draft in self._db.execute(f"SELECT key, draft FROM drafts WHERE key IN ({marks})", chunk):
                found[key] = draft
        return found

    def put_many(self, rows: list[tuple[str, str, str, str, str, str]]) -> None:
        """Rows of (key, source_lang, target_lang, source, draft, engine), committed together."""
        now = time.time()
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO drafts (key, source_lang, target_lang, source, draft, engine, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*row, now) for row in rows],
            )

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM drafts").fetchone()[0]

    def close(self) -> None:
        self._db.close()
