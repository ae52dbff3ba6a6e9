"""The review store's tables, as typed SQLAlchemy models. Nothing outside the store sees them:
the store hands out the dataclasses of :mod:`tarjoman.store.views`.

A *segment* is a review unit (a sentence) of a book, with the stable ID the manuscript gave
it; it keeps its row, and so its translations and history, across revisions of the
manuscript (an edited sentence is the same row with a new source). A *translation* is one
segment in one language: its text, state, version and where it came from. Every change to a
translation or a glossary term appends a *change* row; a change that could not be applied
because someone else changed the same translation first is kept as a *conflict*.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text, default="")
    manuscript_digest: Mapped[str] = mapped_column(String(64), default="")  # sha256 of manuscript.json last synced
    source_sha256: Mapped[str] = mapped_column(String(64), default="")
    segmenter: Mapped[str] = mapped_column(String(200), default="")
    legacy_imported: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Chapter(Base):
    __tablename__ = "chapters"
    __table_args__ = (UniqueConstraint("book_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))
    key: Mapped[str] = mapped_column(String(32))  # ch00, ch01, …
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    present: Mapped[bool] = mapped_column(Boolean, default=True)  # still in the manuscript


class Segment(Base):
    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("book_id", "uid"), Index("ix_segments_book_chapter", "book_id", "chapter_id"),
                      Index("ix_segments_tm_hash", "tm_hash"))

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id"))
    uid: Mapped[str] = mapped_column(String(64))  # the manuscript's unit ID (s1a2b3c4d5, s1a2b3c4d5-2)
    position: Mapped[int] = mapped_column(Integer)  # reading order within the book
    source: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(16), default="fa")  # the language the source is in
    kind: Mapped[str] = mapped_column(String(32), default="body")
    where: Mapped[str] = mapped_column(Text, default="")
    context: Mapped[str] = mapped_column(Text, default="")  # the paragraph
    msgctxt: Mapped[str | None] = mapped_column(Text, nullable=True)
    paragraph: Mapped[str] = mapped_column(String(16), default="")  # for PO references, ch02:14
    obsolete: Mapped[bool] = mapped_column(Boolean, default=False)  # no longer in the manuscript
    # The translation memory's view of the source (tarjoman.memory): its key, the key's hash, and
    # the hash of the keys of the sentences before and after it (an in-context match shares it).
    tm_key: Mapped[str] = mapped_column(Text, default="")
    tm_hash: Mapped[str] = mapped_column(String(16), default="")
    context_hash: Mapped[str] = mapped_column(String(16), default="")


class Translation(Base):
    __tablename__ = "translations"
    __table_args__ = (UniqueConstraint("segment_id", "lang"), Index("ix_translations_book_lang", "book_id", "lang"))

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"))
    lang: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="empty")  # empty · draft · approved
    version: Mapped[int] = mapped_column(Integer, default=0)
    origin: Mapped[str] = mapped_column(String(16), default="machine")  # machine · tm · carried · translator · import
    engine: Mapped[str] = mapped_column(Text, default="")  # signature of the machine draft, if the text is one
    changed_by: Mapped[str] = mapped_column(Text, default="")
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    previous_source: Mapped[str | None] = mapped_column(Text, nullable=True)  # the source this text translated, if edited since
    note: Mapped[str] = mapped_column(Text, default="")  # the translator's own comment
    suggestion: Mapped[str] = mapped_column(Text, default="")  # a machine draft beside a person's text
    suggestion_engine: Mapped[str] = mapped_column(Text, default="")
    machine_draft: Mapped[str] = mapped_column(Text, default="")  # the last machine draft, for post-edit scores
    machine_engine: Mapped[str] = mapped_column(Text, default="")
    qa: Mapped[list] = mapped_column(JSON, default=list)  # findings of the last `qa`, ["numbers: …"]


class Change(Base):
    """Append-only: every change to a translation or a term, and every conflict."""

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_book", "book_id", "id"), Index("ix_changes_translation", "translation_id", "version"))

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int | None] = mapped_column(ForeignKey("books.id"), nullable=True)
    translation_id: Mapped[int | None] = mapped_column(ForeignKey("translations.id"), nullable=True)
    term_id: Mapped[int | None] = mapped_column(ForeignKey("terms.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    who: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=0)  # the version this change made
    old_text: Mapped[str] = mapped_column(Text, default="")
    new_text: Mapped[str] = mapped_column(Text, default="")
    old_state: Mapped[str] = mapped_column(String(16), default="")
    new_state: Mapped[str] = mapped_column(String(16), default="")
    origin: Mapped[str] = mapped_column(String(16), default="")
    why: Mapped[str] = mapped_column(Text, default="")


class Conflict(Base):
    __tablename__ = "conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))
    translation_id: Mapped[int] = mapped_column(ForeignKey("translations.id"))
    base_version: Mapped[int] = mapped_column(Integer)
    current_version: Mapped[int] = mapped_column(Integer)
    current_text: Mapped[str] = mapped_column(Text, default="")
    theirs_text: Mapped[str] = mapped_column(Text)
    theirs_state: Mapped[str] = mapped_column(String(16))
    who: Mapped[str] = mapped_column(Text, default="")
    where: Mapped[str] = mapped_column(Text, default="")  # file:line, or "desk"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_by: Mapped[str] = mapped_column(Text, default="")
    resolution: Mapped[str] = mapped_column(String(16), default="")  # kept · theirs · text


class Term(Base):
    """A glossary row: ``book_id`` None for glossaries/common.csv."""

    __tablename__ = "terms"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int | None] = mapped_column(ForeignKey("books.id"), nullable=True)
    scope: Mapped[str] = mapped_column(String(64))  # the book slug, or "" for common terms
    key: Mapped[str] = mapped_column(Text)  # term_key: spellings of one term share it
    position: Mapped[int] = mapped_column(Integer, default=0)  # row order in the CSV
    term: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    kind: Mapped[str] = mapped_column(String(16), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    renderings: Mapped[dict] = mapped_column(JSON, default=dict)  # lang → rendering
    extra: Mapped[dict] = mapped_column(JSON, default=dict)  # columns Tarjoman does not know, kept
    decided_by: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[str] = mapped_column(Text, default="")  # as the editor wrote it in the CSV
    version: Mapped[int] = mapped_column(Integer, default=1)


class MemoryUnit(Base):
    """A translation from another tool's memory (``tarjoman tm import FILE.tmx``). The store's own
    approved translations are the rest of the memory; they are not copied here."""

    __tablename__ = "tm_units"
    __table_args__ = (UniqueConstraint("tm_hash", "lang", "text_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    tm_key: Mapped[str] = mapped_column(Text)
    tm_hash: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(Text)  # the file it came from, as named when imported
    line: Mapped[int] = mapped_column(Integer, default=0)
    who: Mapped[str] = mapped_column(Text, default="")  # the translator the file names
    changed: Mapped[str] = mapped_column(Text, default="")  # the date the file gives, as written
    note: Mapped[str] = mapped_column(Text, default="")
    imported_by: Mapped[str] = mapped_column(Text, default="")
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


HAND_MADE = ("fts_", "ix_segments_tm_key_trgm", "ix_tm_units_tm_key_trgm")
"""Names of what migration 0003 makes by hand, outside these models: SQLite's FTS5 trigram tables
(and their shadow tables) and PostgreSQL's pg_trgm indexes, the memory's fuzzy-match indexes."""


def modelled(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's ``include_name``: leave the hand-made indexes out of comparisons with the models."""
    return not (name or "").startswith(HAND_MADE)


class DraftCacheEntry(Base):
    """Every machine draft ever made, keyed by content (see :func:`tarjoman.cache.draft_key`)."""

    __tablename__ = "draft_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    source_lang: Mapped[str] = mapped_column(String(16))
    target_lang: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    draft: Mapped[str] = mapped_column(Text)
    engine: Mapped[str] = mapped_column(Text)
    created: Mapped[float] = mapped_column(Float)


class ExchangeFile(Base):
    """What the store last wrote to an exchange file (a PO file, a glossary CSV), so that a
    file changed since can be told from one that was not, and its entries' base versions."""

    __tablename__ = "exchange_files"

    path: Mapped[str] = mapped_column(String(500), primary_key=True)  # relative to the project root
    sha256: Mapped[str] = mapped_column(String(64))
    versions: Mapped[dict] = mapped_column(JSON, default=dict)  # PO: segment uid → version; CSV: {"columns": […], "terms": {key: version}}
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class User(Base):
    """A person who works in the desk. ``langs`` is the comma-separated languages a translator
    may edit; the password is kept only as an argon2 hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # translator · editor · publisher · admin
    langs: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text, default="")


class LoginSession(Base):
    """A desk login. Only the SHA-256 of the cookie's token is kept, so the table opens no session."""

    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginFailure(Base):
    """A failed login, for rate limiting across every server process on one store."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_name", "name", "at"), Index("ix_login_failures_client", "client", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Job(Base):
    """A background run started from the desk (drafting, publishing): a CLI command in its own process."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_book", "book", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    book: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # draft · publish
    args: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16), default="running")  # running · done · failed
    started_by: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    host: Mapped[str] = mapped_column(String(255), default="")  # the machine whose process runs it
    pid: Mapped[int] = mapped_column(Integer, default=0)
    returncode: Mapped[int | None] = mapped_column(Integer, nullable=True)
    log: Mapped[str] = mapped_column(Text, default="")  # the log file, relative to the project root
