"""The :class:`Store`: one database, transactions as the unit of work, and the lookups every
operation shares."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from sqlalchemy import Text, case, cast, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ..errors import StoreError
from . import db
from .models import Book, Chapter, Segment, Translation
from .views import SegmentView, TranslationView

T = TypeVar("T")
RETRIES = 8
MEMORY_INDEXES = ("fts_tm_sources", "fts_tm_units")  # SQLite's trigram indexes of the memory's keys
COMPACT_AFTER = 1000  # rows a write added to a memory index, from which it is merged into one b-tree after it
COMPACT_PAGES = 2000  # index pages written per merge step (a transaction of its own: a few tenths of a second at most)
COMPACT_BUDGET_S = 10.0  # seconds one compaction goes on for; the next one carries on where it stopped


def now() -> datetime:
    return datetime.now(timezone.utc)


class Store:
    """The review store of one project. ``write`` runs a function in one transaction, retried
    when a concurrent writer made it fail (a lock timeout, a deadlock, a row inserted by both)."""

    def __init__(self, url: str):
        self.url = url
        self.engine, self._sessions = db.connect(url)
        self.dialect = self.engine.dialect.name
        self._write_lock = threading.Lock()

    @classmethod
    def for_root(cls, root: Path) -> "Store":
        return cls(db.database_url(root))

    def close(self) -> None:
        if self.dialect == "sqlite":
            # What SQLite advises before a connection closes: statistics for the planner, gathered
            # only where the tables changed enough to need them (milliseconds, usually nothing).
            try:
                with self.engine.execution_options(read_only=True).connect() as connection:
                    connection.exec_driver_sql("PRAGMA busy_timeout=200")  # never hold up a closing command
                    connection.exec_driver_sql("PRAGMA optimize")
                    connection.commit()
            except (OperationalError, DBAPIError):
                pass  # a read-only or busy database keeps its old statistics
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction: one consistent view, never waiting for writers (SQLite WAL)."""
        session = Session(self.engine.execution_options(read_only=True), expire_on_commit=False)
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    def write(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in one transaction: all of it is committed, or none of it."""
        if self.dialect != "sqlite":
            return self._write(work)
        # SQLite has one writer at a time. Threads of one process (the desk's requests) queue on a
        # lock rather than on SQLite's busy handler, whose sleeps and retries serve them out of turn;
        # other processes still wait on the busy timeout.
        with self._write_lock:
            return self._write(work)

    def _write(self, work: Callable[[Session], T]) -> T:
        for attempt in range(RETRIES):
            session = self._sessions()
            try:
                with session.begin():
                    return work(session)
            except (OperationalError, IntegrityError) as exc:
                if attempt == RETRIES - 1 or not _transient(exc):
                    raise StoreError(f"the review store refused a change: {exc.orig}{db.advice(self.url, exc)}; nothing was changed",
                                     path=db.describe(self.url)) from exc
                time.sleep(0.05 * (attempt + 1))
            finally:
                session.close()
        raise AssertionError("unreachable")

    def compact_memory_index(self, budget_s: float = COMPACT_BUDGET_S) -> bool:
        """Merge each of SQLite's memory indexes into one b-tree, as FTS5's ``optimize`` does, but
        a step at a time: each step (``merge`` of -:data:`COMPACT_PAGES` pages) is a short write
        transaction, so that other writers get their turn between two. Every transaction that adds
        to an FTS5 index leaves one more b-tree in it, which every lookup then searches: a memory
        of a million segments added a book at a time has ten, and fuzzy lookups take twice as long
        as in one. Returns whether both are one b-tree (a step that changes nothing says so), or
        False once ``budget_s`` is spent or the database refused a step; the next call carries
        on. Nothing to do on PostgreSQL, whose GIN indexes keep themselves."""
        if self.dialect != "sqlite":
            return True
        deadline = time.monotonic() + budget_s
        for index in MEMORY_INDEXES:
            def step(session: Session, index: str = index) -> int:
                raw = session.connection().connection.dbapi_connection
                before = raw.total_changes
                session.connection().exec_driver_sql(f"INSERT INTO {index}({index}, rank) VALUES ('merge', {-COMPACT_PAGES})")
                return raw.total_changes - before

            while True:
                try:
                    changed = self.write(step)
                except StoreError:  # busy or read-only: the index stays as it is, whole, and the next call carries on
                    return False
                if changed < 2:  # only the structure record written: nothing was left to merge
                    break
                if time.monotonic() >= deadline:
                    return False
        return True

    def insert_ignore(self, session: Session, model, rows: list[dict], keys: list[str]) -> None:
        """INSERT … ON CONFLICT DO NOTHING: rows another writer may be adding at the same moment."""
        if not rows:
            return
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        for start in range(0, len(rows), 500):
            statement = dialect.insert(model).values(rows[start:start + 500]).on_conflict_do_nothing(index_elements=keys)
            session.execute(statement)

    def integrity_check(self) -> str:
        """``ok``, or what the database says is wrong with it."""
        with self.engine.connect() as connection:
            if self.dialect == "sqlite":
                return connection.execute(text("PRAGMA integrity_check")).scalar_one()
            connection.execute(text("SELECT count(*) FROM translations")).scalar_one()
            return "ok"


def _transient(exc: Exception) -> bool:
    message = str(getattr(exc, "orig", exc)).lower()
    return isinstance(exc, IntegrityError) or any(
        word in message for word in ("locked", "busy", "deadlock", "could not serialize", "unique", "duplicate key")
    )


# --- lookups -----------------------------------------------------------------------


def book_row(session: Session, slug: str, *, create: bool = False, lock: bool = False) -> Book | None:
    query = select(Book).where(Book.slug == slug)
    if lock:
        query = query.with_for_update()
    book = session.scalars(query).one_or_none()
    if book is None and create:
        book = Book(slug=slug, created_at=now(), updated_at=now())
        session.add(book)
        session.flush()
    return book


def require_book(session: Session, slug: str) -> Book:
    book = book_row(session, slug)
    if book is None:
        raise StoreError(f"book {slug!r} is not in the review store; run `tarjoman extract SOURCE --book {slug}` first")
    return book


_SEGMENT_COLUMNS = (Segment.uid, Chapter.key, Segment.position, Segment.source, Segment.lang, Segment.kind, Segment.where,
                   Segment.context, Segment.msgctxt, Segment.paragraph, Segment.obsolete)
_TRANSLATION_COLUMNS = (Segment.uid, Translation.lang, Translation.text, Translation.state, Translation.version, Translation.origin,
                        Translation.engine, Translation.changed_by, Translation.changed_at, Translation.previous_source, Translation.note,
                        Translation.suggestion, Translation.suggestion_engine, Translation.machine_draft, Translation.machine_engine,
                        Translation.qa)


def segments(session: Session, book: Book, *, chapter: str | None = None, obsolete: bool | None = False) -> list[SegmentView]:
    """Segments in reading order; ``obsolete`` None for all, True for removed ones only. Columns,
    not ORM objects: a 150k-word book has 15,000 of them."""
    query = select(*_SEGMENT_COLUMNS).join(Chapter, Segment.chapter_id == Chapter.id).where(Segment.book_id == book.id)
    if chapter is not None:
        query = query.where(Chapter.key == chapter)
    if obsolete is not None:
        query = query.where(Segment.obsolete == obsolete)
    return [SegmentView(*row) for row in session.execute(query.order_by(Segment.position, Segment.id))]


def translations(session: Session, book: Book, lang: str, *, chapter: str | None = None,
                 uids: list[str] | None = None) -> dict[str, TranslationView]:
    """uid → translation in ``lang`` (segments never drafted or edited in it are absent); of one
    chapter, or of a few segments (``uids``, looked up by their unique index)."""
    if uids is not None:
        found: dict[str, TranslationView] = {}
        for start in range(0, len(uids), 500):
            query = (select(*_TRANSLATION_COLUMNS).join(Segment, Translation.segment_id == Segment.id)
                     .where(Segment.book_id == book.id, Segment.uid.in_(uids[start:start + 500]), Translation.lang == lang))
            found.update({row[0]: TranslationView(*row[:-1], list(row[-1] or [])) for row in session.execute(query)})
        return found
    query = (select(*_TRANSLATION_COLUMNS).join(Segment, Translation.segment_id == Segment.id)
             .where(Translation.book_id == book.id, Translation.lang == lang))
    if chapter is not None:
        query = query.join(Chapter, Segment.chapter_id == Chapter.id).where(Chapter.key == chapter)
    return {row[0]: TranslationView(*row[:-1], list(row[-1] or [])) for row in session.execute(query)}


def progress(session: Session, book: Book) -> tuple[list[tuple[str, int]], dict[tuple[str, str], dict[str, int]]]:
    """(chapter, sentences) in order, and per (chapter, lang) the counts of ``approved``,
    ``fuzzy``, ``qa`` (with findings) and ``drafted`` (ever written): one query each, for status."""
    chapters = session.execute(
        select(Chapter.key, func.count(Segment.id)).join(Segment, (Segment.chapter_id == Chapter.id) & Segment.obsolete.is_(False), isouter=True)
        .where(Chapter.book_id == book.id, Chapter.present.is_(True)).group_by(Chapter.key, Chapter.position).order_by(Chapter.position)).all()
    filled = Translation.text != ""
    counts = session.execute(
        select(Chapter.key, Translation.lang,
               func.sum(case(((Translation.state == "approved") & filled, 1), else_=0)),
               func.sum(case(((Translation.state == "draft") & filled, 1), else_=0)),
               func.sum(case((cast(Translation.qa, Text) != "[]", 1), else_=0)),
               func.sum(case((Translation.version > 0, 1), else_=0)))
        .join(Segment, Translation.segment_id == Segment.id).join(Chapter, Segment.chapter_id == Chapter.id)
        .where(Translation.book_id == book.id, Segment.obsolete.is_(False)).group_by(Chapter.key, Translation.lang)).all()
    return [(key, n) for key, n in chapters], {(key, lang): dict(approved=a, fuzzy=f, qa=q, drafted=d) for key, lang, a, f, q, d in counts}


def translation_rows(store: Store, session: Session, book: Book, lang: str, uids: list[str], *, lock: bool = True) -> dict[str, Translation]:
    """The translation rows of ``uids`` in ``lang``, created empty where missing, locked for update."""
    wanted = set(uids)
    few = len(wanted) < 500
    query = select(Segment.uid, Segment.id).where(Segment.book_id == book.id)
    ids = {u: i for u, i in session.execute(query.where(Segment.uid.in_(wanted)) if few else query) if u in wanted}
    by_id = {sid: uid for uid, sid in ids.items()}
    if few:  # by segment (the unique segment + lang index), not by book: see translation()
        rows_query = select(Translation).where(Translation.segment_id.in_(list(ids.values())), Translation.lang == lang)
    else:
        rows_query = select(Translation).where(Translation.book_id == book.id, Translation.lang == lang)
    if lock:
        rows_query = rows_query.with_for_update()
    found = {by_id[t.segment_id]: t for t in session.scalars(rows_query) if t.segment_id in by_id}
    missing = [sid for uid, sid in ids.items() if uid not in found]
    if missing:
        store.insert_ignore(session, Translation, [
            {"book_id": book.id, "segment_id": sid, "lang": lang, "text": "", "state": "empty", "version": 0, "origin": "machine",
             "engine": "", "changed_by": "", "note": "", "suggestion": "", "suggestion_engine": "", "machine_draft": "", "machine_engine": "", "qa": []}
            for sid in missing
        ], ["segment_id", "lang"])
        added = select(Translation).where(Translation.segment_id.in_(missing), Translation.lang == lang)
        found.update({by_id[t.segment_id]: t for t in session.scalars(added.with_for_update() if lock else added)})
    return found


def work_counts(session: Session, book: Book) -> dict[tuple[str, str], dict[str, int]]:
    """Per (chapter, lang): translations ``approved``, ``edited`` (a person's unapproved text),
    ``tm`` (an unconfirmed memory match) and ``machine`` (an unread machine draft); one query."""
    filled = Translation.text != ""
    draft = (Translation.state == "draft") & filled
    rows = session.execute(
        select(Chapter.key, Translation.lang,
               func.sum(case(((Translation.state == "approved") & filled, 1), else_=0)),
               func.sum(case((draft & Translation.origin.in_(("translator", "import")), 1), else_=0)),
               func.sum(case((draft & (Translation.origin == "tm"), 1), else_=0)),
               func.sum(case((draft & Translation.origin.in_(("machine", "carried")), 1), else_=0)))
        .join(Segment, Translation.segment_id == Segment.id).join(Chapter, Segment.chapter_id == Chapter.id)
        .where(Translation.book_id == book.id, Segment.obsolete.is_(False)).group_by(Chapter.key, Translation.lang)).all()
    return {(key, lang): dict(approved=a or 0, edited=e or 0, tm=t or 0, machine=m or 0) for key, lang, a, e, t, m in rows}


def translation(session: Session, book: Book, lang: str, uid: str) -> TranslationView | None:
    """One segment's translation in ``lang``, as it stands."""
    # Filtered on the segment (its unique book + uid index, then the translation's unique segment +
    # lang), not on Translation.book_id: without statistics SQLite would scan the book's translations.
    row = session.execute(select(*_TRANSLATION_COLUMNS).join(Segment, Translation.segment_id == Segment.id)
                          .where(Segment.book_id == book.id, Segment.uid == uid, Translation.lang == lang)).first()
    return TranslationView(*row[:-1], list(row[-1] or [])) if row is not None else None


def books(session: Session) -> list[tuple[str, str]]:
    """(slug, title) of every book in the store."""
    return [(slug, title) for slug, title in session.execute(select(Book.slug, Book.title).order_by(Book.slug))]


def segment_source(session: Session, book: Book, uid: str) -> tuple[str, str] | None:
    """(source, the language it is in) of one segment."""
    row = session.execute(select(Segment.source, Segment.lang).where(Segment.book_id == book.id, Segment.uid == uid)).first()
    return (row[0], row[1]) if row is not None else None


def chapter_keys(session: Session, book: Book) -> list[str]:
    """The book's chapters in order (those still in the manuscript)."""
    return list(session.scalars(select(Chapter.key).where(Chapter.book_id == book.id, Chapter.present.is_(True)).order_by(Chapter.position)))


def chapter_slice(session: Session, book: Book, chapter: str, start: int, count: int) -> tuple[list[SegmentView], int]:
    """Sentences ``start`` … ``start + count`` of a chapter in reading order, and how many it has."""
    base = (select(*_SEGMENT_COLUMNS).join(Chapter, Segment.chapter_id == Chapter.id)
            .where(Segment.book_id == book.id, Chapter.key == chapter, Segment.obsolete.is_(False)))
    total = session.scalar(select(func.count()).select_from(Segment).join(Chapter, Segment.chapter_id == Chapter.id)
                           .where(Segment.book_id == book.id, Chapter.key == chapter, Segment.obsolete.is_(False)))
    rows = session.execute(base.order_by(Segment.position, Segment.id).offset(start).limit(count))
    return [SegmentView(*row) for row in rows], int(total or 0)
