"""The draft cache inside the store: every machine draft ever made, keyed by content, so a
sentence is drafted once whatever moved around it. Each batch is its own transaction: a
crash loses at most the batch in flight."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from .core import Store
from .models import DraftCacheEntry


class DraftCache:
    """``get_many`` / ``put_many`` over the store's ``draft_cache`` table."""

    def __init__(self, store: Store):
        self.store = store

    def get_many(self, keys: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        with self.store.read() as session:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                found.update(session.execute(select(DraftCacheEntry.key, DraftCacheEntry.draft).where(DraftCacheEntry.key.in_(chunk))).all())
        return found

    def put_many(self, rows: list[tuple[str, str, str, str, str, str]]) -> None:
        """Rows of (key, source_lang, target_lang, source, draft, engine), committed together; a key
        another process drafted at the same moment keeps its first draft."""
        created = time.time()
        values = [dict(key=k, source_lang=s, target_lang=t, source=src, draft=d, engine=e, created=created) for k, s, t, src, d, e in rows]
        self.store.write(lambda session: self.store.insert_ignore(session, DraftCacheEntry, values, ["key"]))

    def __len__(self) -> int:
        with self.store.read() as session:
            return session.scalar(select(func.count()).select_from(DraftCacheEntry))

    def close(self) -> None:
        """The store is closed by its owner."""
