"""A manuscript into the store, first time or revised: the semantics of ``msgmerge``.

Each unit of the manuscript finds its segment row, in this order:

1. the same unit ID (the same sentence: IDs come from the text) — kept, wherever it moved;
   an approved translation stays approved, unless the sentence moved to another chapter
   *and* into another paragraph (then a person confirms it: it becomes a draft);
2. a removed segment with the same text (its ID changed because a repeat was added or
   removed before it) — taken over, as 1;
3. a removed segment of the same chapter whose text was edited into this one (similarity
   above :data:`SIMILAR`, the memory's Indel ratio) — taken over: its translations stay, as
   drafts (fuzzy), with the old source kept as ``previous_source`` (PO's ``#|``). The removed
   segments are found through a trigram index (:class:`tarjoman.memory.NearIndex`), not by
   comparing each new sentence with every removed one: ten times the edits cost ten times
   the work, not a hundred;
4. otherwise a new segment.

Segments nothing took over become obsolete, translations and history kept.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..manuscript import Manuscript, Unit
from ..memory import NearIndex, keyed
from .core import COMPACT_AFTER, Store, book_row, now
from .models import Chapter, Segment, Translation
from .translations import change
from .views import RevisionReport

SIMILAR = 0.6


def contexts(units: list[Unit]) -> dict[str, str | None]:
    """msgctxt per unit: its ID where the same sentence occurs twice in a chapter, else none."""
    seen: dict[str, int] = {}
    for unit in units:
        seen[unit.text] = seen.get(unit.text, 0) + 1
    return {unit.id: (unit.id if seen[unit.text] > 1 else None) for unit in units}


def _paragraph_number(unit: Unit, index: int) -> str:
    import re

    found = re.search(r"paragraph (\d+)", unit.where)
    return found.group(1) if found else str(index)


def sync_manuscript(store: Store, manuscript: Manuscript, digest: str, *, who: str = "extract") -> RevisionReport:
    """Bring the store's segments of ``manuscript.book`` in line with the manuscript, in one transaction."""

    def work(session: Session) -> RevisionReport:
        book = book_row(session, manuscript.book, create=True, lock=True)
        report = RevisionReport()
        chapters = _sync_chapters(session, book.id, manuscript)
        existing = {s.uid: s for s in session.scalars(select(Segment).where(Segment.book_id == book.id))}
        chapter_of = {c.id: c.key for c in chapters.values()}
        units: list[tuple[Unit, str | None, str, tuple[str, str, str]]] = []
        for chapter in manuscript.chapters:
            chapter_units = list(chapter.units())
            ctx = contexts(chapter_units)
            keys = keyed([(u.text, u.lang) for u in chapter_units])
            units += [(u, ctx[u.id], _paragraph_number(u, i), k) for i, (u, k) in enumerate(zip(chapter_units, keys), start=1)]
        wanted = {u.id for u, _, _, _ in units}
        gone = _Gone([s for uid, s in existing.items() if uid not in wanted], chapter_of)
        for position, (unit, msgctxt, paragraph, (key, key_hash, context_hash)) in enumerate(units):
            chapter_id = chapters[unit.chapter].id
            segment = existing.get(unit.id)
            how = "kept"
            if segment is None:
                segment, how = gone.take_over(unit)
            if segment is None:
                segment = Segment(book_id=book.id, uid=unit.id, chapter_id=chapter_id)
                session.add(segment)
                how = "added"
            elif how == "edited":
                _edited(session, segment, unit.text, who)
            elif segment.chapter_id != chapter_id and segment.context != unit.context:
                _unconfirm(session, segment, who, "the sentence moved to another chapter and paragraph")
                how = "moved"
            setattr(report, how, getattr(report, how) + 1)
            segment.uid, segment.chapter_id, segment.position, segment.source = unit.id, chapter_id, position, unit.text
            segment.lang, segment.kind, segment.where, segment.context = unit.lang, unit.kind, unit.where, unit.context
            segment.msgctxt, segment.paragraph, segment.obsolete = msgctxt, paragraph, False
            segment.tm_key, segment.tm_hash, segment.context_hash = key, key_hash, context_hash
        for segment in gone.segments:
            if segment.id not in gone.taken and not segment.obsolete:
                segment.obsolete, segment.context_hash = True, ""
                report.removed += 1
        book.title = str(manuscript.metadata.get("title") or "")
        book.manuscript_digest, book.source_sha256 = digest, manuscript.source_sha256
        book.segmenter, book.updated_at = str(manuscript.provenance.get("segmenter", "")), now()
        return report

    report = store.write(work)
    if report.added + report.edited >= COMPACT_AFTER:  # a new book, or much of one rewritten
        store.compact_memory_index()
    return report


def _sync_chapters(session: Session, book_id: int, manuscript: Manuscript) -> dict[str, Chapter]:
    rows = {c.key: c for c in session.scalars(select(Chapter).where(Chapter.book_id == book_id))}
    for row in rows.values():
        row.present = False
    for position, chapter in enumerate(manuscript.chapters):
        row = rows.get(chapter.id)
        if row is None:
            row = rows[chapter.id] = Chapter(book_id=book_id, key=chapter.id, position=position, kind=chapter.kind)
            session.add(row)
        row.position, row.kind, row.present = position, chapter.kind, True
    session.flush()
    return rows


class _Gone:
    """The segments whose IDs the revised manuscript no longer has, for its new units to take over."""

    def __init__(self, segments: list[Segment], chapter_of: dict[int, str]):
        self.segments, self.chapter_of = segments, chapter_of
        self.taken: set[int] = set()
        self.by_source: dict[str, list[Segment]] = defaultdict(list)
        self.near: dict[str, NearIndex] = defaultdict(NearIndex)  # chapter → its removed, not yet obsolete segments
        self.by_id = {s.id: s for s in segments}
        for segment in segments:
            self.by_source[segment.source].append(segment)
            if not segment.obsolete:
                self.near[chapter_of.get(segment.chapter_id, "")].add(segment.id, segment.source)

    def _take(self, segment: Segment) -> None:
        self.taken.add(segment.id)
        self.by_source[segment.source].remove(segment)
        self.near[self.chapter_of.get(segment.chapter_id, "")].remove(segment.id)

    def take_over(self, unit: Unit) -> tuple[Segment | None, str]:
        """A removed segment this unit continues: the same text under another ID, or an edit of it."""
        same = self.by_source.get(unit.text)
        if same:
            segment = same[0]
            self._take(segment)
            return segment, "moved" if self.chapter_of.get(segment.chapter_id) != unit.chapter else "kept"
        near = self.near[unit.chapter].best(unit.text, SIMILAR) if unit.chapter in self.near else None
        if near is not None:
            segment = self.by_id[near.id]
            self._take(segment)
            return segment, "edited"
        return None, "added"


def _edited(session: Session, segment: Segment, new_source: str, who: str) -> None:
    """The source was edited: every translation of it becomes a suggestion to confirm, with the old source."""
    for row in session.scalars(select(Translation).where(Translation.segment_id == segment.id)):
        if not row.text:
            continue
        row.previous_source = segment.source
        if row.state == "approved":
            change(session, row, text=row.text, state="draft", origin=row.origin, who=who, action="revise", engine=row.engine,
                   why=f"the source was edited: «{segment.source}» → «{new_source}»")


def _unconfirm(session: Session, segment: Segment, who: str, why: str) -> None:
    for row in session.scalars(select(Translation).where(Translation.segment_id == segment.id, Translation.state == "approved")):
        change(session, row, text=row.text, state="draft", origin=row.origin, who=who, action="revise", engine=row.engine, why=why)
