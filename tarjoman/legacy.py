"""A project made by Tarjoman 0.1, before the review store: its files into the store, once.

That release kept review state in files: ``outputs/<book>/review/<chapter>/<lang>.po`` (what
translators edit), ``reviewed/`` (the last good copy of each), ``drafts.sqlite`` (the draft
cache) and ``drafts/<chapter>.<lang>.json`` (the machine draft behind each entry, for the
post-edit scores). The first command on such a book takes them all in, losing nothing:

- each PO file as it stands when it is valid, else its last good copy (the broken file is
  left where it is, and reported when it is next imported);
- approved entries as approved by a person, drafts a translator edited as a person's, the rest
  as machine drafts; translator comments, ``#|`` previous sources, obsolete ``#~`` entries;
- every row of the draft cache, and the ledger's drafts as each translation's machine draft.

The files are left in place; they are the store's views from then on.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

from .errors import ReviewFileError
from .manuscript import Manuscript
from .project import Project
from .review import ReviewFile, read_review_file, syntax_errors
from .store import Store
from .store import files as exchange
from .store.cache import DraftCache
from .store.core import require_book, segments
from .store.translations import add_obsolete, mark_legacy_imported, restore

_DRAFT_MARK = re.compile(r"^machine draft ([0-9a-f]{10})(?: by (.*))?$", re.MULTILINE)
_MACHINE = "Tarjoman machine draft"


def import_legacy(store: Store, project: Project, manuscript: Manuscript) -> None:
    book = manuscript.book
    book_dir = project.book_dir(book)
    if (book_dir / "review").is_dir() or (book_dir / "drafts.sqlite").is_file():
        _import_cache(store, book_dir / "drafts.sqlite")
        _import_reviews(store, project, book)
    mark_legacy_imported(store, book)


def _import_cache(store: Store, path: Path) -> None:
    if not path.is_file():
        return
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT key, source_lang, target_lang, source, draft, engine FROM drafts").fetchall()
    except sqlite3.DatabaseError:
        return  # only machine drafts lived there: a damaged cache costs model time, never a translator's work
    cache = DraftCache(store)
    for start in range(0, len(rows), 2000):
        cache.put_many(rows[start:start + 2000])


def _edited(entry, comment: str) -> bool:
    mark = _DRAFT_MARK.search(comment)
    return mark is None or mark.group(1) != hashlib.sha256(entry.msgstr.encode("utf-8")).hexdigest()[:10]


def _read(path: Path) -> ReviewFile | None:
    """The file as a translator left it, or None when it is missing or does not parse."""
    if not path.is_file() or syntax_errors(path):
        return None
    try:
        return read_review_file(path)
    except ReviewFileError:
        return None


def _import_reviews(store: Store, project: Project, book: str) -> None:
    book_dir = project.book_dir(book)
    with store.read() as session:
        active = segments(session, require_book(session, book))
    by_chapter: dict[str, dict[tuple[str | None, str], str]] = {}
    for s in active:
        by_chapter.setdefault(s.chapter, {})[(s.msgctxt, s.source)] = s.uid
    rows: dict[str, list[dict]] = {}
    records = []
    for path in sorted((book_dir / "review").glob("*/*.po")):
        chapter, lang = path.parent.name, path.stem
        if chapter not in by_chapter:
            continue
        found = _read(path)
        if found is not None:
            records.append(path)
        else:
            found = _read(book_dir / "reviewed" / chapter / f"{lang}.po")  # the last good copy
            if found is None:
                continue
        ledger = _ledger(book_dir / "drafts" / f"{chapter}.{lang}.json")
        translator = found.metadata.get("Last-Translator", "")
        engine = found.metadata.get("X-Tarjoman-Engine", "")
        obsolete = [e.msgid for e in found.entries if (e.obsolete or (e.msgctxt, e.msgid) not in by_chapter[chapter]) and e.msgstr]
        uids = dict(by_chapter[chapter])
        uids.update({(None, text): uid for text, uid in add_obsolete(store, book, chapter, obsolete).items()} if obsolete else {})
        for entry in found.entries:
            uid = uids.get((entry.msgctxt, entry.msgid)) or uids.get((None, entry.msgid))
            if uid is not None and entry.msgstr:
                rows.setdefault(lang, []).append(_row(uid, entry, entry.comment, translator, engine, ledger.get(entry.msgid)))
    restore(store, book, rows, who="Tarjoman 0.1 review files", why="imported from the review files of Tarjoman 0.1")
    for path in records:
        exchange.record_written(store, str(path.resolve().relative_to(project.root.resolve())), hashlib.sha256(path.read_bytes()).hexdigest(), {})


def _row(uid: str, entry, comment: str, translator: str, engine: str, recorded: dict | None) -> dict:
    person = not translator.startswith(_MACHINE) and translator or ""
    if entry.approved or (entry.obsolete and not entry.fuzzy):
        state, origin = "approved", "import"
    elif "carried over" in comment:
        state, origin = "draft", "carried"
    elif "elsewhere in the book" in comment:
        state, origin = "draft", "tm"
    else:
        state, origin = "draft", "import" if _edited(entry, comment) else "machine"
    mark = _DRAFT_MARK.search(comment)
    return dict(uid=uid, text=entry.msgstr, state=state, origin=origin, note=entry.tcomment, previous_source=entry.previous_msgid,
                engine=(mark.group(2) if mark and mark.group(2) else engine) if origin == "machine" else "",
                machine_draft=(recorded or {}).get("draft", ""), machine_engine=(recorded or {}).get("signature", ""),
                who=person if origin == "import" else "machine")


def _ledger(path: Path) -> dict[str, dict]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
