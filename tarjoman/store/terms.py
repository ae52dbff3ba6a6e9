"""Glossary terms in the store: every row of ``glossaries/<book>.csv`` and ``common.csv``, the
editors' decisions with who made them and when, and the history of each.

A term belongs to a *scope* (the book's slug, or "" for common.csv) and is found by its *key*
(``tarjoman.glossary.term_key``: spellings of one term share it), which the caller computes.
Its *cells* are the spreadsheet's view of it: column → value, the renderings under their
language codes, columns Tarjoman does not know under their own names.

The rules, which every writer goes through:

- Every change makes a new version and appends a :class:`Change` row (who, when, why, status
  old → new, and the cells before and after as JSON), so two decisions made at the same
  moment are both in the history, and an editor's spreadsheet row can be compared with the
  row as it was when the file was written.
- :meth:`Terms.sync` reads an editor's spreadsheet back. The first time (no terms in the scope:
  a project of the previous release) every row is taken as it stands, decisions included.
  Afterwards a changed row is applied if its term is still at the version the row was written
  with; if the term changed since, the row is a conflict, unless it is just that older version
  as written (a stale copy, not an edit). A term whose version is not known may be changed
  while it is proposed, like an import. Rows missing from the sheet are not deletions.
- :meth:`Terms.merge` brings a foreign TBX or CSV file in: new terms are added, proposed ones
  updated; a decided term (approved or rejected) is never changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .core import Store, book_row, now
from .models import Change, Term
from .views import ChangeView

T = TypeVar("T")
DECIDED = ("approved", "rejected")
FIELDS = ("term", "status", "kind", "note", "decided_by", "decided_at")  # cells that are columns of Term
_ACTIONS = {"approved": "term-approve", "rejected": "term-reject"}


def stamp() -> str:
    """When a decision was made, as the CSV writes it."""
    return now().strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class TermView:
    scope: str
    key: str
    position: int
    term: str
    status: str
    kind: str
    note: str
    renderings: dict[str, str]
    extra: dict[str, str]
    decided_by: str
    decided_at: str
    version: int

    @property
    def decided(self) -> bool:
        return self.status in DECIDED

    def cells(self) -> dict[str, str]:
        """The term as spreadsheet cells, column → value; empty cells left out."""
        cells = {"term": self.term, **self.renderings, "status": self.status, "kind": self.kind, "note": self.note,
                 "decided_by": self.decided_by, "decided_at": self.decided_at, **self.extra}
        return {column: value for column, value in cells.items() if value}


@dataclass(frozen=True)
class SheetRow:
    """One row of an editor's spreadsheet: ``base`` is the version it was written with (None: unknown)."""

    line: int
    key: str
    cells: dict[str, str]
    base: int | None


@dataclass(frozen=True)
class Sheet:
    """An editor's spreadsheet of one scope; ``columns`` are those it has (an edit changes only them)."""

    scope: str
    where: str
    columns: tuple[str, ...]
    rows: tuple[SheetRow, ...]


@dataclass(frozen=True)
class TermConflict:
    """A row the editor changed whose term the store changed since the file was written: not applied."""

    where: str
    line: int
    base: int | None
    current: TermView
    theirs: dict[str, str]
    columns: tuple[str, ...]

    @property
    def message(self) -> str:
        c = self.current
        ours, theirs = c.cells(), self.theirs
        differences = "; ".join(f"{column} «{ours.get(column, '')}» / «{theirs.get(column, '')}»"
                                for column in self.columns if ours.get(column, "") != theirs.get(column, ""))
        since = (f"was changed in the review store since this file was written (version {self.base} → {c.version})"
                 if self.base is not None else f"is {c.status} in the review store and this row has no version")
        return (f"«{c.term}» {since}, {c.status} by {c.decided_by or 'nobody'} at {c.decided_at or '?'}; "
                f"store / file: {differences}. Not applied: put the row back as the store has it, "
                f"or set its version to {c.version} to make the file's row win")


@dataclass
class MergeCounts:
    added: int = 0
    updated: int = 0
    kept: int = 0  # decided terms left as they were


def _view(row: Term) -> TermView:
    return TermView(row.scope, row.key, row.position, row.term, row.status, row.kind, row.note,
                    dict(row.renderings or {}), dict(row.extra or {}), row.decided_by, row.decided_at, row.version)


def _before(row: Term) -> dict[str, str]:
    """The cells a change starts from: none for a row just made."""
    return _view(row).cells() if row.version else {}


def _text(cells: dict[str, str]) -> str:
    """Cells as the history keeps them: JSON, in a fixed order, readable in any script."""
    return json.dumps(cells, ensure_ascii=False, sort_keys=True) if cells else ""


def _same(a: dict[str, str], b: dict[str, str], columns: Iterable[str]) -> bool:
    return all(a.get(column, "") == b.get(column, "") for column in columns)


class Terms:
    """The glossary terms of one book (and the common ones) inside one store transaction;
    made by :func:`transaction` and :func:`read`, never kept beyond them."""

    def __init__(self, session: Session, book: str):
        self._session, self._book = session, book
        found = book_row(session, book)
        self._book_id = found.id if found is not None else None  # the book may not be extracted yet
        self._history: list[tuple[Term, Change]] = []  # changes made, added once their terms have ids

    def of(self, scope: str) -> list[TermView]:
        """The terms of ``scope`` in the CSV's order."""
        return [_view(row) for row in self._rows(scope)]

    def decide(self, scope: str, key: str, term: str, status: str, renderings: dict[str, str], *,
               kind: str | None, who: str) -> TermView:
        """Approve or reject a term (adding it if it has no row), setting the given renderings
        (an empty one removes that language's)."""
        row = self._row(scope, key, term)
        before = _before(row)
        merged = dict(row.renderings or {})
        for lang, text in renderings.items():
            merged[lang] = text.strip()
        row.renderings = {lang: text for lang, text in merged.items() if text}
        row.kind = kind or row.kind
        row.status, row.decided_by, row.decided_at = status, who, stamp()
        self._changed(row, before, _ACTIONS[status], who=who, origin="editor")
        self._record_history()
        return _view(row)

    def sync(self, sheet: Sheet, *, who: str) -> list[TermConflict]:
        """Take an editor's spreadsheet in (see the module's rules); the conflicts are not applied."""
        rows = {row.key: row for row in self._rows(sheet.scope, lock=True)}
        first = not rows
        rows |= self._new(sheet.scope, [(r.key, r.cells.get("term", "")) for r in sheet.rows if r.key not in rows])
        conflicts = []
        with self._session.no_autoflush:  # new terms are inserted once, with their cells
            for sheet_row in sheet.rows:
                row, why = rows[sheet_row.key], f"{sheet.where}:{sheet_row.line}"
                if row.version == 0 and first:  # the glossary as the previous release left it: decisions as they stand
                    self._edit(row, sheet_row.cells, sheet.columns, action="term-import", who=who, origin="import", why=why)
                elif row.version == 0:
                    self._edit_from_sheet(row, sheet, sheet_row, who=who)
                else:
                    conflict = self._apply(row, sheet, sheet_row, who=who)
                    if conflict is not None:
                        conflicts.append(conflict)
        self._reorder(rows, [sheet_row.key for sheet_row in sheet.rows])
        self._record_history()
        return conflicts

    def merge(self, scope: str, incoming: list[tuple[str, dict[str, str]]], *, who: str, where: str) -> MergeCounts:
        """Bring (key, cells) pairs of a foreign file in: new terms added, proposed ones updated
        where the file has a different non-empty cell, decided ones kept."""
        rows = {row.key: row for row in self._rows(scope, lock=True)}
        rows |= self._new(scope, [(key, cells["term"]) for key, cells in incoming if key not in rows])
        counts, why = MergeCounts(), f"imported from {where}"
        for key, cells in incoming:
            row = rows[key]
            current = _before(row)
            changed = [column for column, value in cells.items() if value and current.get(column, "") != value]
            if row.version == 0:
                self._edit(row, cells, changed, action="term-add", who=who, origin="import", why=why)
                counts.added += 1
            elif row.status in DECIDED:
                counts.kept += 1
            elif changed:
                self._edit(row, cells, changed, action="term-edit", who=who, origin="import", why=why)
                counts.updated += 1
        self._record_history()
        return counts

    def propose(self, scope: str, key: str, term: str, kind: str, extra: dict[str, str], *, who: str) -> str | None:
        """A machine's suggestion: added as a proposed term, or refreshing the ``extra`` cells of a
        term still proposed; a decided term is never touched. Returns "added", "refreshed" or None."""
        row = self._row(scope, key, term)
        if row.version == 0:
            cells = {"term": term, "status": "proposed", "kind": kind, **extra}
            self._edit(row, cells, list(cells), action="term-suggest", who=who, origin="machine")
            outcome = "added"
        elif row.status == "proposed" and not _same(_view(row).extra, extra, extra):
            self._edit(row, extra, list(extra), action="term-suggest", who=who, origin="machine")
            outcome = "refreshed"
        else:
            return None
        self._record_history()
        return outcome

    # --- rows and their history ----------------------------------------------------------

    def _rows(self, scope: str, *, lock: bool = False) -> list[Term]:
        query = select(Term).where(Term.scope == scope).order_by(Term.position, Term.id)
        return list(self._session.scalars(query.with_for_update() if lock else query))

    def _row(self, scope: str, key: str, term: str) -> Term:
        """The term's row, locked for update; a new one (version 0, no cells yet) if it has none."""
        found = self._session.scalars(select(Term).where(Term.scope == scope, Term.key == key).with_for_update()).one_or_none()
        return found if found is not None else self._new(scope, [(key, term)])[key]

    def _new(self, scope: str, terms: list[tuple[str, str]]) -> dict[str, Term]:
        """New rows at the end of the scope for (key, term) pairs it lacks: version 0, no cells
        yet, written with their first cells in one batch. Another writer adding the same term at
        the same moment makes the transaction fail on the unique key, and the store retries it."""
        unique: dict[str, str] = {}
        for key, term in terms:
            unique.setdefault(key, term)  # a TBX file may hold one term twice
        if not unique:
            return {}
        end = self._session.scalar(select(func.coalesce(func.max(Term.position) + 1, 0)).where(Term.scope == scope))
        rows = {key: Term(book_id=self._book_id_of(scope), scope=scope, key=key, position=end + i, term=term, status="proposed",
                          kind="", note="", renderings={}, extra={}, decided_by="", decided_at="", version=0)
                for i, (key, term) in enumerate(unique.items())}
        self._session.add_all(rows.values())
        return rows

    def _book_id_of(self, scope: str) -> int | None:
        return self._book_id if scope and scope == self._book else None

    def _apply(self, row: Term, sheet: Sheet, sheet_row: SheetRow, *, who: str) -> TermConflict | None:
        current = _view(row)
        if _same(sheet_row.cells, current.cells(), sheet.columns):
            return None
        base = sheet_row.base
        if base == row.version or (base is None and not current.decided):
            self._edit_from_sheet(row, sheet, sheet_row, who=who)
            return None
        then = self._cells_at(row, base) if base is not None and base < row.version else None
        if then is not None and _same(sheet_row.cells, then, sheet.columns):
            return None  # a copy written before the store's change, not edited since: the store's row stands
        return TermConflict(sheet.where, sheet_row.line, base, current, sheet_row.cells, sheet.columns)

    def _edit_from_sheet(self, row: Term, sheet: Sheet, sheet_row: SheetRow, *, who: str) -> None:
        """An editor's row applied. A decision made in the spreadsheet (a status set to approved
        or rejected, or a decided term's renderings changed) is signed with who read it in and
        when, unless the editor wrote their own name or date in those cells."""
        cells, columns = dict(sheet_row.cells), list(sheet.columns)
        before = _before(row)
        status = cells.get("status", row.status) if "status" in columns else row.status
        from ..glossary.table import rendering_columns

        renderings = [lang for lang in rendering_columns(columns) if lang in columns]
        decision = status in DECIDED and (status != before.get("status") or not _same(cells, before, renderings))
        signature = [column for column in ("decided_by", "decided_at") if column in columns]
        own = any(cells.get(column) and cells.get(column) != before.get(column, "") for column in signature)
        if decision and not own:
            cells["decided_by"], cells["decided_at"] = who, stamp()
            columns += [column for column in ("decided_by", "decided_at") if column not in columns]
        self._edit(row, cells, columns, action=_ACTIONS[status] if decision else "term-edit", who=who, origin="sheet",
                   why=f"{sheet.where}:{sheet_row.line}")

    def _edit(self, row: Term, cells: dict[str, str], columns: Iterable[str], *, action: str, who: str, origin: str,
              why: str = "") -> None:
        """Set the row's ``columns`` to ``cells`` (a missing cell empties its column) as a new version."""
        from ..glossary.table import rendering_column

        before = _before(row)
        renderings, extra = dict(row.renderings or {}), dict(row.extra or {})
        for column in columns:
            value = cells.get(column, "")
            if column == "status":
                row.status = value or "proposed"
            elif column in FIELDS:
                setattr(row, column, value)
            else:
                target = renderings if rendering_column(column) else extra
                target[column] = value
        row.renderings = {lang: text for lang, text in renderings.items() if text}
        row.extra = {column: value for column, value in extra.items() if value}
        if row.book_id is None:
            row.book_id = self._book_id_of(row.scope)
        self._changed(row, before, action, who=who, origin=origin, why=why)

    def _changed(self, row: Term, before: dict[str, str], action: str, *, who: str, origin: str, why: str = "") -> None:
        row.version += 1
        self._history.append((row, Change(book_id=row.book_id, action=action, who=who, at=now(), version=row.version,
                                          old_text=_text(before), new_text=_text(_view(row).cells()),
                                          old_state=before.get("status", ""), new_state=row.status, origin=origin, why=why)))

    def _record_history(self) -> None:
        """Add the changes made so far, now that every new term gets its id: new terms are
        inserted with their first cells, and the changes after them, each in one batch."""
        if not self._history:
            return
        self._session.flush()
        for row, change in self._history:
            change.term_id = row.id
        self._session.add_all(change for _, change in self._history)
        self._history.clear()

    def _cells_at(self, row: Term, version: int) -> dict[str, str] | None:
        """The term's cells as of ``version``; None when the history does not reach it."""
        found = self._session.scalar(select(Change.new_text).where(Change.term_id == row.id, Change.version == version)
                                     .order_by(Change.id.desc()).limit(1))
        return json.loads(found) if found else None

    def _reorder(self, rows: dict[str, Term], order: list[str]) -> None:
        """The spreadsheet's row order becomes the store's; terms the sheet lacks follow, in their order."""
        listed = set(order)
        keys = list(dict.fromkeys(order)) + [key for key in rows if key not in listed]
        for position, key in enumerate(keys):
            if rows[key].position != position:
                rows[key].position = position


def transaction(store: Store, book: str, work: Callable[[Terms], T]) -> T:
    """``work(terms)`` in one store transaction: all of it is committed, or none of it (an
    exception ``work`` raises rolls everything back)."""
    return store.write(lambda session: work(Terms(session, book)))


def read(store: Store, book: str, scopes: Iterable[str]) -> dict[str, list[TermView]]:
    """scope → its terms in the CSV's order, from one consistent read."""
    with store.read() as session:
        terms = Terms(session, book)
        return {scope: terms.of(scope) for scope in scopes}


def history(store: Store, scope: str, key: str | None = None) -> list[ChangeView]:
    """Every recorded change of the terms of ``scope`` (or of one term), oldest first."""
    with store.read() as session:
        query = select(Change, Term.term).join(Term, Change.term_id == Term.id).where(Term.scope == scope)
        if key is not None:
            query = query.where(Term.key == key)
        return [ChangeView(c.id, None, None, term, c.action, c.who, c.at, c.version, c.old_text, c.new_text,
                           c.old_state, c.new_state, c.origin, c.why)
                for c, term in session.execute(query.order_by(Change.id))]
