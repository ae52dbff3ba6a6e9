"""Glossaries: how every hero, place, unit and operation is written, decided by editors.

``glossaries/<book>.csv`` and ``glossaries/common.csv`` (shared by every book; a
book's own row wins). Only ``approved`` rows bind drafts (see :mod:`.terms` for
the mechanism) and QA; ``proposed`` rows are suggestions waiting for an editor;
``rejected`` rows are kept so the same suggestion is not made again.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import GlossaryError
from ..files import write_atomic
from ..languages import TARGETS
from ..project import Project, check_slug
from ..text import normalize
from .table import COLUMNS, KINDS, STATUSES, Problem, Row, Table, check_table, read_table, write_table
from .tbx import read_tbx, render_tbx
from .terms import TermBinder, binder_for, cache_part, is_rendered, term_key

__all__ = [
    "COLUMNS", "KINDS", "STATUSES", "Problem", "Row", "Table", "TermBase", "TermBinder",
    "apply_suggestions", "approve", "binder_for", "book_glossary_path", "cache_part", "check_book",
    "export_tbx", "import_file", "is_rendered", "load_termbase", "read_table", "reject", "term_key",
]

SUGGESTION_COLUMNS = ("count", "chapters", "example")


def book_glossary_path(project: Project, book: str) -> Path:
    return project.glossaries / f"{check_slug(book)}.csv"


def common_glossary_path(project: Project) -> Path:
    return project.glossaries / "common.csv"


def check_book(project: Project, book: str) -> list[Problem]:
    """Problems in the common glossary and the book's, each with file and line."""
    problems = []
    for path in (common_glossary_path(project), book_glossary_path(project, book)):
        problems += check_table(read_table(path))
    return problems


@dataclass
class TermBase:
    """The approved terms that bind a book, the book's rows over common ones."""

    terms: dict[str, dict[str, str]]  # term → {lang: rendering}
    version: str

    def binder(self, lang: str) -> TermBinder:
        items = tuple(sorted((term, renderings[lang]) for term, renderings in self.terms.items() if renderings.get(lang)))
        return binder_for(lang, items)

    def renderings(self, lang: str) -> dict[str, str]:
        return {term: r[lang] for term, r in self.terms.items() if r.get(lang)}


def load_termbase(project: Project, book: str) -> TermBase:
    """The approved terms of ``book``; refuses a glossary with problems, naming the first."""
    terms: dict[str, dict[str, str]] = {}
    spelled: dict[str, str] = {}  # term key → the term as its row writes it
    for path in (common_glossary_path(project), book_glossary_path(project, book)):
        table = read_table(path)
        problems = check_table(table)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            first = problems[0]
            raise GlossaryError(f"{first.message}{more}; run `tarjoman glossary check {book}`", path=first.path, where=f"line {first.line}")
        for row in table.rows:
            key = term_key(normalize(row.term))
            terms.pop(spelled.get(key, ""), None)  # the book's row wins over common.csv
            if row.status == "approved":
                spelled[key] = normalize(row.term)
                terms[spelled[key]] = row.renderings()
    version = ";".join(f"{t}={sorted(r.items())}" for t, r in sorted(terms.items()))
    return TermBase(terms, version)


def _checked(path: Path, before: str) -> Table:
    """The table at ``path``, refused with its first problem: a file the editor must fix by hand
    is never rewritten."""
    table = read_table(path)
    problems = check_table(table)
    if problems:
        raise GlossaryError(f"{problems[0].message}; fix it before {before}", path=path, where=f"line {problems[0].line}")
    return table


def _decide(row: Row, status: str, renderings: dict[str, str], by: str | None) -> None:
    for lang, text in renderings.items():
        if text is not None:
            row.values[lang] = text.strip()
    row.values["status"] = status
    row.values["decided_by"] = by or os.environ.get("TARJOMAN_EDITOR") or getpass.getuser()
    row.values["decided_at"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def approve(project: Project, book: str, term: str, renderings: dict[str, str | None], *, by: str | None = None, kind: str | None = None) -> Row:
    """Approve ``term`` (adding its row if it has none) with ``renderings``; every other row is kept as it was."""
    return _set_status(project, book, term, "approved", renderings, by, kind)


def reject(project: Project, book: str, term: str, *, by: str | None = None) -> Row:
    return _set_status(project, book, term, "rejected", {}, by, None)


def _set_status(project, book, term, status, renderings, by, kind) -> Row:
    term = normalize(term).strip()
    if not term:
        raise GlossaryError("the term is empty")
    if kind is not None and kind not in KINDS:
        raise GlossaryError(f"unknown kind {kind!r} (use {', '.join(KINDS)})")
    path = book_glossary_path(project, book)
    table = _checked(path, "changing the glossary")
    row = table.find(term)
    if row is None:
        row = Row(0, {"term": term})
        table.rows.append(row)
    if kind:
        row.values["kind"] = kind
    _decide(row, status, {k: v for k, v in renderings.items() if v is not None}, by)
    if status == "approved":
        missing = [lang for lang in TARGETS if not row.get(lang)]
        if missing:
            raise GlossaryError(f"«{term}» cannot be approved without a rendering for {', '.join(missing)}; "
                                + " ".join(f"--{lang} …" for lang in missing), path=path)
    write_table(table)
    return row


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    kept: int = 0  # decided rows left as they were


def import_file(project: Project, book: str, source: Path) -> ImportResult:
    """Merge a TBX or CSV file into the book's glossary: new terms are added, proposed rows
    updated; a row an editor decided (approved or rejected) is never changed."""
    source = Path(source)
    if not source.is_file():
        raise GlossaryError("no such file", path=source)
    if source.suffix.lower() == ".tbx" or source.read_bytes()[:200].lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<"):
        incoming = read_tbx(source)
    else:
        theirs = read_table(source)
        problems = check_table(theirs)
        if problems:
            raise GlossaryError(problems[0].message, path=source, where=f"line {problems[0].line}")
        incoming = theirs.rows
    table = _checked(book_glossary_path(project, book), "importing")
    result = ImportResult()
    for new in incoming:
        new.values["term"] = normalize(new.get("term"))
        status = new.status
        if status not in STATUSES:
            raise GlossaryError(f"unknown status {new.get('status')!r}", path=source, where=f"entry {new.line}")
        row = table.find(new.term)
        if row is None:
            table.rows.append(Row(0, {k: v for k, v in new.values.items() if v}))
            result.added += 1
        elif row.status in ("approved", "rejected"):
            result.kept += 1
        else:
            changed = False
            for column, value in new.values.items():
                if value and row.get(column) != value.strip():
                    row.values[column] = value.strip()
                    changed = True
            result.updated += changed
    write_table(table)
    return result


def export_tbx(project: Project, book: str, target: Path) -> int:
    table = read_table(book_glossary_path(project, book))
    write_atomic(Path(target), render_tbx(table, f"Tarjoman glossary of {book}"))
    return sum(1 for row in table.rows if row.term)


def apply_suggestions(project: Project, book: str, suggestions) -> tuple[int, int]:
    """Add suggestions as ``proposed`` rows; refresh the counts of rows still proposed.
    Rows an editor decided, here or in common.csv, are never touched. Returns (added, refreshed)."""
    table = _checked(book_glossary_path(project, book), "adding suggestions")
    common = read_table(common_glossary_path(project))
    for name in SUGGESTION_COLUMNS:
        if name not in table.columns:
            table.columns.append(name)
    added = refreshed = 0
    for s in suggestions:
        if common.find(s.term) is not None:
            continue
        stats = {"count": str(s.count), "chapters": " ".join(s.chapters), "example": s.example}
        row = table.find(s.term)
        if row is None:
            table.rows.append(Row(0, {"term": s.term, "status": "proposed", "kind": s.kind, **stats}))
            added += 1
        elif row.status == "proposed" and any(row.get(k) != v for k, v in stats.items()):
            row.values.update(stats)
            refreshed += 1
    write_table(table)
    return added, refreshed
