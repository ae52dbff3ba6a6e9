"""A manuscript into the store, first time or revised: the semantics of ``msgmerge``.

Each unit of the manuscript finds its segment row, in this order:

1. the same unit ID (the same sentence: IDs come from the text) — kept, wherever it moved;
   an approved translation stays approved, unless the sentence moved to another chapter
   *and* into another paragraph (then a person confirms it: it becomes a draft);
2. a removed segment with the same text (its ID changed because a repeat was added or
   removed before it) — taken over, as 1;
3. a removed segment of the same chapter whose text was edited into this one (difflib ratio
   above :data:`SIMILAR`) — taken over: its translations stay, as drafts (fuzzy), with the
   old source kept as ``previous_source`` (PO's ``#|``);
4. otherwise a new segment.

Segments nothing took over become obsolete, translations and history kept.
"""

from __future__ import annotations

import difflib

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..manuscript import Manuscript, Unit
from .core import Store, book_row, now
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
        units: list[tuple[Unit, str | None, str]] = []
        for chapter in manuscript.chapters:
            chapter_units = list(chapter.units())
            ctx = contexts(chapter_units)
            units += [(u, ctx[u.id], _paragraph_number(u, i)) for i, u in enumerate(chapter_units, start=1)]
        wanted = {u.id for u, _, _ in units}
        gone = [s for uid, s in existing.items() if uid not in wanted]
        taken: set[int] = set()
        for position, (unit, msgctxt, paragraph) in enumerate(units):
            chapter_id = chapters[unit.chapter].id
            segment = existing.get(unit.id)
            how = "kept"
            if segment is None:
                segment, how = _take_over(gone, taken, unit, chapter_of)
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
        for segment in gone:
            if segment.id not in taken and not segment.obsolete:
                segment.obsolete = True
                report.removed += 1
        book.title = str(manuscript.metadata.get("title") or "")
        book.manuscript_digest, book.source_sha256 = digest, manuscript.source_sha256
        book.segmenter, book.updated_at = str(manuscript.provenance.get("segmenter", "")), now()
        return report

    return store.write(work)


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


def _take_over(gone: list[Segment], taken: set[int], unit: Unit, chapter_of: dict[int, str]) -> tuple[Segment | None, str]:
    """A removed segment this unit continues: the same text under another ID, or an edit of it."""
    free = [s for s in gone if s.id not in taken]
    same = next((s for s in free if s.source == unit.text), None)
    if same is not None:
        taken.add(same.id)
        return same, "moved" if chapter_of.get(same.chapter_id) != unit.chapter else "kept"
    best, best_ratio = None, SIMILAR
    for segment in free:
        if segment.obsolete or chapter_of.get(segment.chapter_id) != unit.chapter:
            continue
        ratio = difflib.SequenceMatcher(None, segment.source, unit.text, autojunk=False).ratio()
        if ratio > best_ratio:
            best, best_ratio = segment, ratio
    if best is not None:
        taken.add(best.id)
        return best, "edited"
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
