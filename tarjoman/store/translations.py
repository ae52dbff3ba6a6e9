"""Changing translations: machine drafts, people's edits, conflicts, and the history of each.

The rules, which every writer (``draft``, ``review import``, the desk) goes through:

- Every change makes a new version and appends a :class:`Change` row (who, when, old → new).
- A machine draft never replaces a person's text: it is kept beside it as a *suggestion*.
  It replaces only an empty translation or an earlier machine draft.
- A person's edit is made against a version. If the translation has changed since, and
  another person made one of the changes, the edit is a *conflict*: kept, reported, and left
  for a person to resolve; nothing is overwritten. Changes made since only by machines give
  way to the person (the machine's draft stays in the history).
"""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ..errors import StoreError
from .core import Store, now, require_book, translation_rows
from .models import Book, Change, Chapter, Conflict, Segment, Term, Translation
from .views import PERSON_ORIGINS, ChangeView, ConflictView, DraftIn, Edit, EditOutcome


def change(session: Session, translation: Translation, *, text: str, state: str, origin: str, who: str, action: str,
           why: str = "", engine: str = "", log: list[dict] | None = None) -> None:
    """Set a translation's text and state as a new version, and record it (in ``log``, when given,
    for the caller to insert at once: a book's drafts are thousands of changes)."""
    old_text, old_state = translation.text, translation.state
    translation.text, translation.state, translation.origin, translation.engine = text, state, origin, engine
    translation.version += 1
    translation.changed_by, translation.changed_at = who, now()
    row = dict(book_id=translation.book_id, translation_id=translation.id, action=action, who=who, at=translation.changed_at,
               version=translation.version, old_text=old_text, new_text=text, old_state=old_state, new_state=state,
               origin=origin, why=why)
    if log is None:
        session.add(Change(**row))
    else:
        log.append(row)


def store_languages(session: Session, book: Book) -> list[str]:
    """The languages the book has translations in, in the store."""
    return sorted(session.scalars(select(Translation.lang).where(Translation.book_id == book.id).distinct()))


def all_languages(session: Session) -> list[str]:
    """Every language any book has translations in."""
    return sorted(session.scalars(select(Translation.lang).distinct()))


def record_drafts(store: Store, book: str, lang: str, drafts: list[DraftIn], *, who: str = "machine") -> dict[str, int]:
    """Record machine drafts: each fills an empty or machine-drafted translation, or becomes a
    suggestion beside a person's. Returns counts of ``drafted``, ``approved`` (memory matches
    recorded approved), ``suggested``, ``unchanged``."""

    def work(session: Session) -> dict[str, int]:
        counts = {"drafted": 0, "approved": 0, "suggested": 0, "unchanged": 0}
        book_row = require_book(session, book)
        rows = translation_rows(store, session, book_row, lang, [d.uid for d in drafts])
        log: list[dict] = []
        for draft in drafts:
            row = rows.get(draft.uid)
            if row is None:
                continue
            kept = [f for f in (row.qa or []) if not f.startswith("draft: ")]
            if draft.problem or len(kept) != len(row.qa or []):
                row.qa = ([f"draft: {draft.problem}"] if draft.problem else []) + kept
            if draft.origin == "machine" and not draft.text and draft.problem:
                counts["unchanged"] += 1  # refused: a text already there (a person's, an earlier draft) stays
                continue
            if draft.origin == "machine":
                row.machine_draft, row.machine_engine = draft.text, draft.engine
            if row.state == "approved" or (row.origin in PERSON_ORIGINS and row.text):
                if draft.origin == "machine" and draft.text != row.text and row.suggestion != draft.text:
                    row.suggestion, row.suggestion_engine = draft.text, draft.engine
                    counts["suggested"] += 1
                else:
                    counts["unchanged"] += 1
                continue
            state = "approved" if draft.approve and draft.text else "draft" if draft.text else "empty"
            if (row.text, row.state, row.origin, row.engine) == (draft.text, state, draft.origin, draft.engine):
                counts["unchanged"] += 1
                continue
            if state == "approved":
                change(session, row, text=draft.text, state=state, origin=draft.origin, who=who, action="approve", engine=draft.engine,
                       why=f"the same sentence, between the same sentences, approved in {draft.engine.removeprefix('tm:')}", log=log)
                counts["approved"] += 1
                continue
            change(session, row, text=draft.text, state=state, origin=draft.origin, who=who, action="draft", engine=draft.engine, log=log)
            counts["drafted"] += 1
        if log:
            session.execute(insert(Change), log)
        return counts

    return store.write(work)


def text_at(session: Session, translation: Translation, version: int) -> tuple[str, str] | None:
    """(text, state) of ``translation`` as of ``version``; None when the history does not reach it."""
    if version == translation.version:
        return translation.text, translation.state
    if version == 0:
        return "", "empty"
    found = session.execute(select(Change.new_text, Change.new_state).where(
        Change.translation_id == translation.id, Change.version == version).order_by(Change.id.desc()).limit(1)).first()
    return (found[0], found[1]) if found else None


def apply_edits(store: Store, book: str, edits: dict[str, list[Edit]], *, who: str, origin: str = "import") -> EditOutcome:
    """Apply people's edits (``{lang: [Edit, …]}``) in one transaction (see the rules above)."""

    def work(session: Session) -> EditOutcome:
        outcome = EditOutcome()
        book_row = require_book(session, book)
        for lang, batch in edits.items():
            rows = translation_rows(store, session, book_row, lang, [e.uid for e in batch])
            for edit in batch:
                row = rows.get(edit.uid)
                if row is None:
                    raise StoreError(f"{edit.where}: no segment {edit.uid} in book {book!r}")
                _apply_edit(session, book_row, row, edit, who, origin, outcome)
                outcome.versions[(lang, edit.uid)] = row.version
        return outcome

    return store.write(work)


def _apply_edit(session: Session, book: Book, row: Translation, edit: Edit, who: str, origin: str, outcome: EditOutcome) -> None:
    if edit.note is not None and edit.note != row.note:
        row.note = edit.note
        outcome.notes += 1
    base = _base(session, row, edit)
    if base is None:
        outcome.unchanged += 1  # nothing new from this person (the store may have moved on)
    elif base == row.version or row.state == "empty" or not _person_since(session, row, base, edit.source):
        change(session, row, text=edit.text, state=edit.state, origin=origin, who=who,
               action="approve" if edit.state == "approved" else "edit", why=edit.where)
        if edit.state == "approved":
            row.previous_source = None
        outcome.applied += 1
    else:
        outcome.conflicts.append(_conflict(session, book, row, edit, who))


def _base(session: Session, row: Translation, edit: Edit) -> int | None:
    """The version ``edit`` was made against, or None when it brings nothing new.

    ``base_version`` (m) is what the file was written with; ``known_version`` (r) what the store
    last knew the file to hold. Text equal to either is no change from this person: an
    untouched entry, or an old copy of the file saved over a newer one. Only when the file
    itself brought the changes between m and r (a translator who keeps saving and importing
    one file) is r the base: then a return to m's text is her own choice."""
    m, r = edit.base_version, edit.known_version
    wanted = (edit.text, edit.state)
    if wanted == (row.text, row.state) or (r is not None and wanted == text_at(session, row, r)):
        return None
    continued = m is not None and r is not None and r > m and _from_file_since(session, row, m, r, edit.source)
    if m is not None and not continued and wanted == text_at(session, row, m):
        return None
    if continued or m is None:
        return r if r is not None else (row.version if row.origin not in PERSON_ORIGINS else -1)
    return m


def _from_file_since(session: Session, row: Translation, m: int, r: int, source: str) -> bool:
    """Did the person changes between versions m and r come from ``source`` itself?"""
    if not source:
        return False
    whys = list(session.scalars(select(Change.why).where(Change.translation_id == row.id, Change.version > m, Change.version <= r,
                                                        Change.origin.in_(PERSON_ORIGINS))))
    return bool(whys) and all(why.startswith(f"{source}:") for why in whys)


def _person_since(session: Session, translation: Translation, version: int, source: str = "") -> bool:
    """Did a person change ``translation`` after ``version``, other than through ``source`` itself?"""
    whys = session.scalars(select(Change.why).where(
        Change.translation_id == translation.id, Change.version > version, Change.origin.in_(PERSON_ORIGINS)))
    return any(not (source and why.startswith(f"{source}:")) for why in whys)


def _conflict(session: Session, book: Book, row: Translation, edit: Edit, who: str) -> ConflictView:
    conflict = Conflict(book_id=book.id, translation_id=row.id, base_version=edit.base_version or 0, current_version=row.version,
                        current_text=row.text, theirs_text=edit.text, theirs_state=edit.state, who=who, where=edit.where, created_at=now())
    session.add(conflict)
    session.flush()
    session.add(Change(book_id=book.id, translation_id=row.id, action="conflict", who=who, at=conflict.created_at, version=row.version,
                       old_text=row.text, new_text=edit.text, old_state=row.state, new_state=edit.state, origin="import",
                       why=f"{edit.where}: based on version {edit.base_version}, the store is at {row.version}; kept as conflict {conflict.id}"))
    return _conflict_view(session, conflict)


def _conflict_view(session: Session, conflict: Conflict) -> ConflictView:
    uid, lang, chapter, source = session.execute(
        select(Segment.uid, Translation.lang, Chapter.key, Segment.source).join(Segment, Translation.segment_id == Segment.id)
        .join(Chapter, Segment.chapter_id == Chapter.id).where(Translation.id == conflict.translation_id)).one()
    return ConflictView(conflict.id, uid, lang, chapter, source, conflict.base_version, conflict.current_version, conflict.current_text,
                        conflict.theirs_text, conflict.theirs_state, conflict.who, conflict.where, conflict.created_at,
                        conflict.resolved_at, conflict.resolution)


def conflicts(store: Store, book: str, *, open_only: bool = True) -> list[ConflictView]:
    with store.read() as session:
        query = select(Conflict).where(Conflict.book_id == require_book(session, book).id)
        if open_only:
            query = query.where(Conflict.resolved_at.is_(None))
        return [_conflict_view(session, c) for c in session.scalars(query.order_by(Conflict.id))]


def resolve(store: Store, book: str, conflict_id: int, *, take: str, who: str) -> ConflictView:
    """Close a conflict: ``take`` "store" keeps the store's text, "theirs" applies the other one."""
    if take not in ("store", "theirs"):
        raise StoreError(f"take must be 'store' or 'theirs', not {take!r}")

    def work(session: Session) -> ConflictView:
        book_row = require_book(session, book)
        conflict = session.get(Conflict, conflict_id, with_for_update=True)
        if conflict is None or conflict.book_id != book_row.id:
            raise StoreError(f"book {book!r} has no conflict {conflict_id}")
        if conflict.resolved_at is not None:
            raise StoreError(f"conflict {conflict_id} was already resolved by {conflict.resolved_by} ({conflict.resolution})")
        row = session.get(Translation, conflict.translation_id, with_for_update=True)
        if take == "theirs":
            change(session, row, text=conflict.theirs_text, state=conflict.theirs_state, origin="translator", who=who,
                   action="resolve", why=f"conflict {conflict.id}: took the text from {conflict.where}")
        conflict.resolved_at, conflict.resolved_by, conflict.resolution = now(), who, "theirs" if take == "theirs" else "kept"
        return _conflict_view(session, conflict)

    return store.write(work)


def history(store: Store, book: str, *, uid: str | None = None, lang: str | None = None) -> list[ChangeView]:
    """Every recorded change of a book (or of one segment, or one language), oldest first."""
    with store.read() as session:
        book_row = require_book(session, book)
        query = (select(Change, Segment.uid, Translation.lang, Term.term)
                 .outerjoin(Translation, Change.translation_id == Translation.id)
                 .outerjoin(Segment, Translation.segment_id == Segment.id)
                 .outerjoin(Term, Change.term_id == Term.id)
                 .where(Change.book_id == book_row.id))
        if uid is not None:
            query = query.where(Segment.uid == uid)
        if lang is not None:
            query = query.where(Translation.lang == lang)
        return [ChangeView(c.id, u, l, term, c.action, c.who, c.at, c.version, c.old_text, c.new_text, c.old_state, c.new_state, c.origin, c.why)
                for c, u, l, term in session.execute(query.order_by(Change.id))]


def set_findings(store: Store, book: str, lang: str, findings: dict[str, list[str]]) -> None:
    """Replace the QA findings of every translation of ``lang`` (not a change of the text: no version)."""

    def work(session: Session) -> None:
        book_row = require_book(session, book)
        for row, uid in session.execute(select(Translation, Segment.uid).join(Segment, Translation.segment_id == Segment.id)
                                        .where(Translation.book_id == book_row.id, Translation.lang == lang)):
            found = findings.get(uid, [])
            if list(row.qa or []) != found:
                row.qa = found

    store.write(work)


def accept_drafts(store: Store, book: str, lang: str, *, who: str, acceptable) -> tuple[int, int]:
    """Approve every draft of ``lang`` as it stands where ``acceptable(uid, text)`` is true
    (the demo's stand-in for translators). Returns (accepted, left)."""

    def work(session: Session) -> tuple[int, int]:
        book_row = require_book(session, book)
        accepted = left = 0
        log: list[dict] = []
        for row, uid in session.execute(select(Translation, Segment.uid).join(Segment, Translation.segment_id == Segment.id)
                                        .where(Translation.book_id == book_row.id, Translation.lang == lang, Segment.obsolete.is_(False),
                                               Translation.state == "draft").with_for_update()):
            if acceptable(uid, row.text):
                change(session, row, text=row.text, state="approved", origin="translator", who=who, action="approve",
                       why="accepted as drafted, unread", log=log)
                accepted += 1
            else:
                left += 1
        if log:
            session.execute(insert(Change), log)
        return accepted, left

    return store.write(work)



def restore(store: Store, book: str, rows: dict[str, list[dict]], *, who: str, why: str) -> int:
    """Take translations kept elsewhere (a previous release's files) into the store as they stand,
    one version each: ``{lang: [{uid, text, state, origin, engine, note, previous_source,
    machine_draft, machine_engine, who}]}``. Rows whose segment already has text are left alone."""

    def work(session: Session) -> int:
        book_row = require_book(session, book)
        restored = 0
        for lang, batch in rows.items():
            found = translation_rows(store, session, book_row, lang, [r["uid"] for r in batch])
            for item in batch:
                row = found.get(item["uid"])
                if row is None or row.version > 0:
                    continue
                row.note, row.previous_source = item.get("note", ""), item.get("previous_source")
                row.machine_draft, row.machine_engine = item.get("machine_draft", ""), item.get("machine_engine", "")
                change(session, row, text=item["text"], state=item["state"], origin=item["origin"], who=item.get("who") or who,
                       action="restore", why=why, engine=item.get("engine", ""))
                restored += 1
        return restored

    return store.write(work)


def add_obsolete(store: Store, book: str, chapter: str, sources: list[str]) -> dict[str, str]:
    """Segments for sentences no longer in the manuscript whose translations must be kept
    (a previous release's ``#~`` entries): source → uid."""
    from ..memory import key_hash, tm_key
    from ..text import content_id

    def work(session: Session) -> dict[str, str]:
        book_row = require_book(session, book)
        chapter_row = session.scalars(select(Chapter).where(Chapter.book_id == book_row.id, Chapter.key == chapter)).one()
        taken = set(session.scalars(select(Segment.uid).where(Segment.book_id == book_row.id)))
        found = {s.source: s.uid for s in session.scalars(select(Segment).where(Segment.book_id == book_row.id, Segment.obsolete.is_(True)))}
        last = session.scalar(select(func.max(Segment.position)).where(Segment.book_id == book_row.id)) or 0
        for source in sources:
            if source in found:
                continue
            uid, n = content_id(source), 1
            while uid in taken:
                n += 1
                uid = f"{content_id(source)}-{n}"
            taken.add(uid)
            last += 1
            key = tm_key(source)
            session.add(Segment(book_id=book_row.id, chapter_id=chapter_row.id, uid=uid, position=last, source=source, obsolete=True,
                                tm_key=key, tm_hash=key_hash(key)))
            found[source] = uid
        return {source: found[source] for source in sources}

    return store.write(work)


def mark_legacy_imported(store: Store, book: str) -> None:
    store.write(lambda session: setattr(require_book(session, book), "legacy_imported", True))
