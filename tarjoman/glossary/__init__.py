"""Glossaries: how every hero, place, unit and operation is written, decided by editors.

The terms and the editors' decisions live in the review store (:mod:`tarjoman.store.terms`),
with who decided and when and every change in their history. ``glossaries/<book>.csv`` and
``glossaries/common.csv`` (shared by every book; a book's own row wins) are the editors'
spreadsheets: written from the store after every change, and read back into it by the next
command that needs the glossary when an editor changed one (see :func:`_exchange`). Only
``approved`` rows bind drafts (see :mod:`.terms` for the mechanism) and QA; ``proposed`` rows
are suggestions waiting for an editor; ``rejected`` rows are kept so the same suggestion is
not made again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ..errors import GlossaryError
from ..files import replace_if_unchanged, write_atomic
from ..languages import TARGETS
from ..project import Project, check_slug, login_name
from ..store import Store
from ..store import files as store_files
from ..store import terms as store_terms
from ..store.terms import Sheet, SheetRow, TermConflict, Terms, TermView
from ..text import normalize
from .table import COLUMNS, KINDS, STATUSES, VERSION, Problem, Row, Table, check_table, locked, read_table, render_table, text_problem
from .tbx import read_tbx, render_tbx
from .terms import TermBinder, binder_for, cache_part, is_rendered, term_key

__all__ = [
    "COLUMNS", "KINDS", "STATUSES", "Problem", "Row", "Table", "TermBase", "TermBinder",
    "apply_suggestions", "approve", "binder_for", "book_glossary_path", "cache_part", "check_book",
    "export_tbx", "import_file", "is_rendered", "load_termbase", "read_table", "reject", "term_key",
]

T = TypeVar("T")
SUGGESTION_COLUMNS = ("count", "chapters", "example")


def book_glossary_path(project: Project, book: str) -> Path:
    return project.glossaries / f"{check_slug(book)}.csv"


def common_glossary_path(project: Project) -> Path:
    return project.glossaries / "common.csv"


def _sheets(project: Project, book: str) -> list[tuple[str, Path]]:
    """(scope, path) of the glossaries a book reads, common.csv first: the order their locks are taken in."""
    common, own = common_glossary_path(project), book_glossary_path(project, book)
    return [("", common)] if own == common else [("", common), (book, own)]


def _scope(project: Project, book: str) -> str:
    """The scope of the book's own terms ("" for a book named ``common``, whose file is common.csv)."""
    return _sheets(project, book)[-1][0]


def _editor(by: str | None = None) -> str:
    """Who is deciding: ``--by``, else $TARJOMAN_EDITOR, else the login name."""
    return by or os.environ.get("TARJOMAN_EDITOR") or login_name()


def check_book(project: Project, book: str) -> list[Problem]:
    """Problems in the common glossary and the book's, each with file and line: what is wrong
    in the files, else the rows an editor changed where the store changed them first."""
    problems = _file_problems(project, book)
    if problems:
        return problems
    try:
        _exchange(project, book, next_step=f"run `tarjoman glossary check {book}`")
    except _Conflicts as refused:
        return refused.problems
    return _file_problems(project, book)  # as the store wrote them: terms an import brought in are checked too


def _file_problems(project: Project, book: str) -> list[Problem]:
    return [problem for _, path in _sheets(project, book) for problem in check_table(read_table(path), required_languages(project, book))]


def required_languages(project: Project, book: str) -> list[str]:
    """The languages an approved term must have a rendering in: the book's targets (its YAML's
    ``targets:``), or the four default ones."""
    return (project.book_targets(book) if book else None) or list(TARGETS)


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
    _, views = _exchange(project, book, next_step=f"run `tarjoman glossary check {book}`")
    terms: dict[str, dict[str, str]] = {}
    spelled: dict[str, str] = {}  # term key → the term as its row writes it
    for scope, _ in _sheets(project, book):
        for view in views[scope]:
            terms.pop(spelled.get(view.key, ""), None)  # the book's row wins over common.csv
            if view.status == "approved":
                spelled[view.key] = normalize(view.term)
                terms[spelled[view.key]] = dict(view.renderings)
    version = ";".join(f"{t}={sorted(r.items())}" for t, r in sorted(terms.items()))
    return TermBase(terms, version)


def terms_of(project: Project, book: str) -> dict[str, list[TermView]]:
    """scope ("" for common.csv, else the book) → its terms, reading back an editor's saved CSV first."""
    _, views = _exchange(project, book, next_step=f"run `tarjoman glossary check {book}`")
    return views


def approve(project: Project, book: str, term: str, renderings: dict[str, str | None], *, by: str | None = None,
            kind: str | None = None) -> Row:
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
    given = {lang: text for lang, text in renderings.items() if text is not None}
    for column, value in (("term", term), *given.items()):
        if (problem := text_problem(value)) is not None:
            raise GlossaryError(f"«{term[:40]}»: the {column if column == 'term' else '--' + column + ' rendering'} {problem}", path=path)

    def decide(terms: Terms) -> TermView:
        view = terms.decide(_scope(project, book), term_key(term), term, status, given, kind=kind, who=_editor(by))
        missing = [lang for lang in required_languages(project, book) if not view.renderings.get(lang)]
        if status == "approved" and missing:  # raised inside the transaction: the decision is rolled back
            raise GlossaryError(f"«{term}» cannot be approved without a rendering for {', '.join(missing)}; "
                                + " ".join(f"--{lang} …" for lang in missing), path=path)
        return view

    view, _ = _exchange(project, book, decide, next_step="fix it before changing the glossary")
    return Row(0, view.cells())


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
    incoming = []
    for new in _foreign_rows(source):
        if new.status not in STATUSES:
            raise GlossaryError(f"unknown status {new.get('status')!r}", path=source, where=f"entry {new.line}")
        term = normalize(new.get("term"))
        for column in ("term", *TARGETS):
            if (problem := text_problem(new.get(column))) is not None:
                raise GlossaryError(f"«{term[:40]}»: the {column if column == 'term' else column + ' rendering'} {problem}", path=source, where=f"entry {new.line}")
        # A foreign file's versions belong to another store: never a base here.
        cells = {column: new.get(column) for column in new.values if column and column != VERSION and new.get(column)}
        incoming.append((term_key(term), {**cells, "term": term, "status": new.status}))

    def merge(terms: Terms) -> ImportResult:
        counts = terms.merge(_scope(project, book), incoming, who=_editor(), where=str(source))
        return ImportResult(counts.added, counts.updated, counts.kept)

    result, _ = _exchange(project, book, merge, next_step="fix it before importing")
    return result


def _foreign_rows(source: Path) -> list[Row]:
    """The rows of a TBX or CSV file, a CSV refused with its first problem."""
    if source.suffix.lower() == ".tbx" or source.read_bytes()[:200].lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<"):
        return read_tbx(source)
    theirs = read_table(source)
    problems = check_table(theirs)
    if problems:
        raise GlossaryError(problems[0].message, path=source, where=f"line {problems[0].line}")
    return theirs.rows


def export_tbx(project: Project, book: str, target: Path) -> int:
    _, views = _exchange(project, book, next_step="fix it before exporting")
    table = Table(book_glossary_path(project, book), rows=[Row(0, view.cells()) for view in views[_scope(project, book)]])
    write_atomic(Path(target), render_tbx(table, f"Tarjoman glossary of {book}"))
    return len(table.rows)


def apply_suggestions(project: Project, book: str, suggestions) -> tuple[int, int]:
    """Add suggestions as ``proposed`` rows; refresh the counts of rows still proposed.
    Rows an editor decided, here or in common.csv, are never touched. Returns (added, refreshed)."""
    scope = _scope(project, book)

    def propose(terms: Terms) -> tuple[int, int]:
        common = {view.key for view in terms.of("")} if scope else set()
        outcomes = {"added": 0, "refreshed": 0}
        for s in suggestions:
            key = term_key(s.term)
            if key in common:
                continue
            stats = dict(zip(SUGGESTION_COLUMNS, (str(s.count), " ".join(s.chapters), s.example)))
            outcome = terms.propose(scope, key, s.term, s.kind, stats, who=_editor())
            if outcome is not None:
                outcomes[outcome] += 1
        return outcomes["added"], outcomes["refreshed"]

    result, _ = _exchange(project, book, propose, next_step="fix it before adding suggestions")
    return result


# --- the CSV files: read back into the store, written from it -----------------------------


class _Conflicts(GlossaryError):
    """Rows an editor changed whose terms the store changed first: the command is refused and
    nothing is changed, so the editor decides (the message says how)."""

    def __init__(self, conflicts: list[TermConflict]):
        self.problems = [Problem(c.where, c.line, c.message) for c in conflicts]
        more = f" (and {len(conflicts) - 1} more; `tarjoman glossary check` lists them)" if len(conflicts) > 1 else ""
        super().__init__(conflicts[0].message + more, path=conflicts[0].where, where=f"line {conflicts[0].line}")


def _exchange(project: Project, book: str, change: Callable[[Terms], T] | None = None, *,
              next_step: str) -> tuple[T | None, dict[str, list[TermView]]]:
    """Run ``change`` on the book's terms in one store transaction, first reading back every
    glossary CSV an editor changed since the store wrote it, then writing the changed CSVs
    from the store. Returns what ``change`` returned, and each scope's terms after it.

    All of it happens under the CSVs' lock files, so that the last writer always renders the
    latest state of the store and concurrent decisions all end up in the file. A CSV with
    problems is refused with the first (``next_step`` says what to do), and so is one whose
    rows conflict with the store; then nothing changes, in the store or the files. Without a
    change to make and with every CSV as the store wrote it, this is one read of the store.
    """
    sheets = _sheets(project, book)
    with Store.for_root(project.root) as store:
        if change is None and not _stale(store, project, sheets):
            return None, store_terms.read(store, book, [scope for scope, _ in sheets])
        with locked([path for _, path in sheets]):
            return _exchange_locked(store, project, book, sheets, change, next_step)


def _exchange_locked(store: Store, project: Project, book: str, sheets: list[tuple[str, Path]],
                     change: Callable[[Terms], T] | None, next_step: str) -> tuple[T | None, dict[str, list[TermView]]]:
    """:func:`_exchange`'s work, under the locks: the changed files in, the change, the files out."""
    names = {scope: _name(project, path) for scope, path in sheets}
    read = {scope: path.read_bytes() if path.is_file() else None for scope, path in sheets}  # what an editor's save is told from
    records = store_files.written(store, list(names.values()))
    required = required_languages(project, book)
    incoming = {scope: _read_sheet(scope, path, records.get(names[scope]), next_step, required) for scope, path in sheets}
    who = _editor()

    def work(terms: Terms) -> tuple[T | None, dict[str, list[TermView]]]:
        conflicts = [c for found in incoming.values() if found for c in terms.sync(found[0], who=who)]
        if conflicts:
            raise _Conflicts(conflicts)  # raised inside the transaction: the files' other rows are not taken either
        result = change(terms) if change is not None else None
        return result, {scope: terms.of(scope) for scope, _ in sheets}

    result, views = store_terms.transaction(store, book, work)
    for scope, path in sheets:
        record = records.get(names[scope])
        # The columns as the editor has them now, else as last written.
        columns = incoming[scope][1] if incoming[scope] else (record[1].get("columns") if record else None) or COLUMNS
        _write_sheet(store, path, names[scope], _header(columns, views[scope]), views[scope], record, read[scope])
    return result, views


def _name(project: Project, path: Path) -> str:
    """The CSV's name in the store's record of exchange files: its path from the project root."""
    return path.relative_to(project.root).as_posix()


def _digest(path: Path) -> str | None:
    """sha256 of the file; None if there is none ("" for a folder in its place, which reading refuses)."""
    if not path.exists():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def _stale(store: Store, project: Project, sheets: list[tuple[str, Path]]) -> bool:
    """Has any glossary CSV changed since the store wrote it (edited, replaced or removed)?"""
    records = store_files.written(store, [_name(project, path) for _, path in sheets])
    return any(_digest(path) != _written_digest(records.get(_name(project, path))) for _, path in sheets)


def _written_digest(record: tuple[str, dict] | None) -> str | None:
    return record[0] if record is not None else None


def _read_sheet(scope: str, path: Path, record: tuple[str, dict] | None,
                next_step: str, required=TARGETS) -> tuple[Sheet, list[str]] | None:
    """An editor's CSV as a :class:`Sheet`, with its columns; None when the file is as the store
    wrote it, or gone (it is written again: rows missing from a CSV are not deletions)."""
    if not path.exists() or _digest(path) == _written_digest(record):
        return None
    table = read_table(path)
    problems = check_table(table, required)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        first = problems[0]
        raise GlossaryError(f"{first.message}{more}; {next_step}", path=first.path, where=f"line {first.line}")
    written = (record[1].get("terms") if record else None) or {}
    columns = tuple(column for column in table.columns if column and column != VERSION)
    rows = []
    for row in table.rows:
        key = term_key(normalize(row.term))
        # The row's own version says what the editor started from, even in a copy saved over a
        # newer file; the versions the store last wrote stand in where the cell is empty.
        base = int(row.get(VERSION)) if row.get(VERSION) else written.get(key)
        cells = {column: row.get(column) for column in columns if row.get(column)}
        rows.append(SheetRow(row.line, key, {**cells, "status": row.status}, base))
    return Sheet(scope, str(path), columns, tuple(rows)), table.columns


def _header(columns: list[str], views: list[TermView]) -> list[str]:
    """The columns to write: the file's (or those last written), then any standard or other
    column a term has a cell in, then the version."""
    header = [column for column in columns if column]
    for column in [*COLUMNS, *(lang for view in views for lang in view.renderings), *(column for view in views for column in view.extra), VERSION]:
        if column not in header:
            header.append(column)
    return header


def _write_sheet(store: Store, path: Path, name: str, header: list[str], views: list[TermView],
                 record: tuple[str, dict] | None, read: bytes | None) -> None:
    """Write the CSV from the store unless it already says the same, and record what it holds.
    A spreadsheet saved since it was ``read`` (Excel takes no lock) is left in place, unrecorded,
    for the next command to take in."""
    if not views and not path.exists():
        return
    data = render_table(Table(path, header, [Row(0, {**view.cells(), VERSION: str(view.version)}) for view in views]))
    digest = hashlib.sha256(data).hexdigest()
    if _digest(path) != digest and not replace_if_unchanged(path, data, read):
        return
    if _written_digest(record) != digest:
        versions = {"columns": header, "terms": {view.key: view.version for view in views}}
        store_files.record_written(store, name, digest, versions)
