"""The review queue as a whole: import what translators saved, status, QA, post-edit metrics, TMX.

Reviewed files are validated on import; the last good copy of each is kept in
``outputs/<book>/reviewed/<chapter>/<lang>.po``, so a file a translator broke
never destroys the work before it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import ReviewFileError
from .files import write_atomic
from .languages import TARGETS
from .manuscript import Manuscript, load_manuscript
from .metrics import chart_png, post_edit_score
from .project import Project
from .qa import check_entry
from .review import Problem, read_entries, read_ledger, review_dir, snapshot, validate_po, write_findings
from .tmx import tmx_document


def _review_files(book_dir: Path, manuscript: Manuscript, langs: list[str] | None = None):
    """(chapter id or None for an unknown chapter, lang, path) for every PO file present."""
    chapters = {c.id for c in manuscript.chapters}
    for path in sorted((book_dir / "review").glob("*/*.po")):
        lang = path.stem
        if langs and lang not in langs:
            continue
        chapter = path.parent.name
        yield (chapter if chapter in chapters else None), lang, path


@dataclass
class ImportResult:
    imported: list[str]
    problems: list[Problem]


def import_reviews(project: Project, book: str, langs: list[str] | None = None) -> ImportResult:
    """Validate every review file (of ``langs``); keep a good copy of each valid one. Bad files are
    reported, never applied."""
    manuscript = load_manuscript(project.manuscript_path(book))
    book_dir = project.book_dir(book)
    units = {c.id: list(c.units()) for c in manuscript.chapters}
    imported, problems = [], []
    for chapter, lang, path in _review_files(book_dir, manuscript, langs):
        if chapter is None:
            problems.append(Problem(str(path), 0, f"chapter {path.parent.name} is no longer in the manuscript; its translations are kept here, not imported"))
            continue
        if lang not in TARGETS:
            problems.append(Problem(str(path), 0, f"{lang}.po is not a target language ({', '.join(TARGETS)})"))
            continue
        found = validate_po(path, units[chapter], lang)
        if found:
            problems += found
            continue
        snapshot(path, book_dir / "reviewed" / chapter / f"{lang}.po")
        imported.append(str(path))
    return ImportResult(imported, problems)


def book_status(project: Project, book: str) -> list[dict]:
    """Per chapter and language: units, approved, fuzzy, untranslated, with QA findings, percent approved."""
    manuscript = load_manuscript(project.manuscript_path(book))
    book_dir = project.book_dir(book)
    rows = []
    for chapter in manuscript.chapters:
        total = sum(1 for _ in chapter.units())
        for lang in TARGETS:
            path = review_dir(book_dir, chapter.id) / f"{lang}.po"
            if not path.exists():
                rows.append(dict(chapter=chapter.id, lang=lang, total=total, approved=0, fuzzy=0, untranslated=total, qa=0, percent=0.0, drafted=False))
                continue
            entries = [e for e in read_entries(path) if not e.obsolete]
            approved = sum(e.approved for e in entries)
            fuzzy = sum(1 for e in entries if e.fuzzy and e.msgstr)
            rows.append(dict(
                chapter=chapter.id, lang=lang, total=total, approved=approved, fuzzy=fuzzy,
                untranslated=total - approved - fuzzy, qa=sum(1 for e in entries if e.qa),
                percent=round(100 * approved / total, 1) if total else 100.0, drafted=True,
            ))
    return rows


def run_qa(project: Project, book: str, langs: list[str] | None = None, glossary: dict[str, dict[str, str]] | None = None) -> list[dict]:
    """Check every translated entry, write the findings into the PO comments, and return them.
    ``glossary`` ({lang: {term: rendering}}) defaults to the book's approved glossary terms."""
    if glossary is None:
        from .glossary import load_termbase

        terms = load_termbase(project, book)
        glossary = {lang: terms.renderings(lang) for lang in TARGETS}
    manuscript = load_manuscript(project.manuscript_path(book))
    book_dir = project.book_dir(book)
    report = []
    for chapter, lang, path in _review_files(book_dir, manuscript, langs or list(TARGETS)):
        if chapter is None:
            continue
        findings = {}
        for entry in read_entries(path):
            if entry.obsolete:
                continue
            found = check_entry(entry.msgid, entry.msgstr, lang, carried=entry.carried, glossary=(glossary or {}).get(lang))
            findings[(entry.msgctxt, entry.msgid)] = [str(f) for f in found]
            for finding in found:
                report.append(dict(chapter=chapter, lang=lang, line=entry.line, check=finding.check, message=finding.message, source=entry.msgid, approved=entry.approved))
        write_findings(path, findings)
    write_atomic(book_dir / "qa.json", json.dumps(report, ensure_ascii=False, indent=1))
    return report


def post_edit_report(project: Project, book: str) -> tuple[list[dict], Path | None]:
    """chrF/TER/BLEU of recorded drafts against approved translations, per chapter × language × engine."""
    manuscript = load_manuscript(project.manuscript_path(book))
    book_dir = project.book_dir(book)
    groups: dict[tuple[str, str, str], tuple[list[str], list[str]]] = {}
    for chapter, lang, path in _review_files(book_dir, manuscript):
        if chapter is None:
            continue
        ledger = read_ledger(book_dir, chapter, lang)
        for entry in read_entries(path):
            recorded = ledger.get(entry.msgid)
            if entry.approved and recorded:
                drafts, approved = groups.setdefault((chapter, lang, recorded["signature"]), ([], []))
                drafts.append(recorded["draft"])
                approved.append(entry.msgstr)
    rows = []
    for (chapter, lang, engine), (drafts, approved) in sorted(groups.items()):
        score = post_edit_score(drafts, approved)
        rows.append(dict(chapter=chapter, lang=lang, engine=engine, **asdict(score)))
    chart = None
    if rows:
        chart = book_dir / "post-edit.png"
        chart_png(rows, chart)
        write_atomic(book_dir / "post-edit.json", json.dumps(rows, ensure_ascii=False, indent=1))
    return rows, chart


def export_tmx(project: Project, book: str, out: Path, langs: list[str] | None = None) -> int:
    """Write approved translations as TMX; returns how many translation units were written."""
    manuscript = load_manuscript(project.manuscript_path(book))
    pairs = []
    for chapter, lang, path in _review_files(project.book_dir(book), manuscript, langs):
        if chapter is None:
            continue
        for entry in read_entries(path):
            if entry.approved:
                unit_id = hashlib.blake2b(f"{entry.msgctxt}|{entry.msgid}".encode(), digest_size=6).hexdigest()
                pairs.append((f"{chapter}-{unit_id}", lang, entry.msgid, entry.msgstr))
    if not pairs:
        raise ReviewFileError("no approved translations to export yet", path=project.book_dir(book) / "review")
    write_atomic(out, tmx_document(pairs))
    return len(pairs)
