"""Glossary CSV files: read what spreadsheets write, check them, render them for spreadsheets.

Read: UTF-8 with or without a BOM, UTF-16 (Excel's "Unicode text", tab-separated),
commas, semicolons or tabs, Excel's quoting (doubled quotes, line breaks inside
quoted cells) and any line ending. Columns may come in any order; columns
Tarjoman does not know are kept. Rendered: UTF-8 with a BOM (so Excel opens it
as UTF-8), commas, CRLF line ends, the columns in the order given.

Cells are Excel-safe: a spreadsheet runs a cell that begins with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return as a formula (CSV injection), so such a cell is written with a
``'`` before it, as OWASP advises; reading takes that ``'`` off again, so every value comes
back as it was. A cell that itself begins with ``'`` gets one more, for the same reason.

The ``version`` column is written by Tarjoman: the version of each term in the review store
when the file was written, the base against which an editor's changes to the row are applied.
"""

from __future__ import annotations

import codecs
import csv
import fcntl
import io
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GlossaryError, Problem
from ..languages import SOURCE, TARGETS, UnknownLanguage, canonical
from .terms import term_key

COLUMNS = ("term", "en", "ar", "fr", "ur", "status", "kind", "note", "decided_by", "decided_at")
VERSION = "version"
STATUSES = ("proposed", "approved", "rejected")
KINDS = ("person", "place", "unit", "operation", "other")
MAX_BYTES = 20 * 1024 * 1024  # a glossary of 100,000 terms is about 10 MB
MAX_FIELD = 100_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A term or rendering is one line of plain text: it is put into drafts, PO comments and books as it is.
_LINE_BREAKS = ("\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!?][^<>]*>|&(?:#\d+|#x[0-9A-Fa-f]+|[A-Za-z]+);")


@dataclass
class Row:
    line: int  # first line of the record in the file (1 is the header); 0 for a row not yet written
    values: dict[str, str]

    def get(self, column: str) -> str:
        return (self.values.get(column) or "").strip()

    @property
    def term(self) -> str:
        return self.get("term")

    @property
    def status(self) -> str:
        return self.get("status").lower() or "proposed"

    def renderings(self, langs=None) -> dict[str, str]:
        """Language → rendering: the four default targets' columns and every other column named by a language code."""
        langs = rendering_columns(self.values) if langs is None else langs
        return {lang: self.get(lang) for lang in langs if self.get(lang)}


def rendering_column(name: str) -> str | None:
    """The language a column holds renderings in: ``en``…, or any other column named by a
    language code (``id``, ``zh-hans`` as a spreadsheet lowercases it → ``zh-Hans``); None for
    the other columns (status, note…)."""
    if name in TARGETS:
        return name
    if not name or name in COLUMNS or name in (VERSION, "term", SOURCE):
        return None
    try:
        code = canonical(name)
    except UnknownLanguage:
        return None
    return code if code != SOURCE else None


def rendering_columns(columns) -> list[str]:
    """The default targets, then the other language columns of ``columns``."""
    found = [c for c in (rendering_column(name) for name in columns) if c]
    return list(dict.fromkeys([*TARGETS, *found]))


@dataclass
class Table:
    path: Path
    columns: list[str] = field(default_factory=lambda: list(COLUMNS))
    rows: list[Row] = field(default_factory=list)

    def find(self, term: str) -> Row | None:
        key = term_key(term)
        return next((row for row in self.rows if term_key(row.term) == key), None)


def _decode(data: bytes, path: Path) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise GlossaryError(f"starts as UTF-16 but byte {exc.start} is not valid UTF-16", path=path) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise GlossaryError(
            f"is neither UTF-8 nor UTF-16 (byte {exc.start}); save it as 'CSV UTF-8' or 'Unicode text'",
            path=path, where=f"line {line}",
        ) from None


def _dialect(text: str) -> str:
    header = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=header.count)


def read_table(path: Path) -> Table:
    """Read a glossary file; a missing file is an empty glossary."""
    path = Path(path)
    if not path.exists():
        return Table(path)
    if path.is_dir():
        raise GlossaryError("is a folder, not a glossary CSV", path=path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise GlossaryError(f"is {size / 1e6:.0f} MB; a glossary over {MAX_BYTES // 2**20} MB is refused (split it, or move shared terms to common.csv)", path=path)
    if size == 0:
        raise GlossaryError(f"is empty (0 bytes), not even a header line; write the header ({','.join(COLUMNS)}) or delete the file", path=path)
    text = _decode(path.read_bytes(), path)
    if "\x00" in text:
        raise GlossaryError("contains NUL characters: it is not a text file (or was saved in an encoding without a BOM)", path=path)
    if not text.strip():
        raise GlossaryError(f"has no header line; write the header ({','.join(COLUMNS)}) or delete the file", path=path)
    delimiter = _dialect(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    old_limit = csv.field_size_limit(MAX_FIELD)
    records, start = [], 1
    try:
        for record in reader:
            records.append((start, record))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise GlossaryError(f"broken quoting: {exc} (a cell opens a quote it never closes?)", path=path, where=f"line {start}") from None
    finally:
        csv.field_size_limit(old_limit)
    header = [excel_value(cell).strip().lower() for cell in records[0][1]]
    header = [rendering_column(name) or name for name in header]  # zh-hans → zh-Hans
    if "term" not in header:
        raise GlossaryError(f"has no 'term' column in its first line (found: {', '.join(header) or 'nothing'}); expected {','.join(COLUMNS)}", path=path, where="line 1")
    seen = set()
    for name in header:
        if name and name in seen:
            raise GlossaryError(f"has the column {name!r} twice", path=path, where="line 1")
        seen.add(name)
    table = Table(path, header, [])
    for line, record in records[1:]:
        if not any(cell.strip() for cell in record):
            continue  # blank lines spreadsheets leave at the end
        if len(record) > len(header):
            extra = [c for c in record[len(header):] if c.strip()]
            if extra:
                raise GlossaryError(
                    f"has {len(record)} cells but the header has {len(header)} (an unquoted {delimiter!r} in a cell?)",
                    path=path, where=f"line {line}",
                )
        values = {name: (excel_value(record[i]) if i < len(record) else "") for i, name in enumerate(header)}
        table.rows.append(Row(line, values))
    return table


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be a term or a rendering: a line break, markup, a control character."""
    if any(mark in value for mark in _LINE_BREAKS):
        return "has a line break (a term and its renderings are one line)"
    if (found := _MARKUP.search(value)) is not None:
        return f"holds markup {found.group(0)!r} (plain text only: it goes into drafts and books as it is)"
    if any(ord(c) < 32 and c != "\t" or c == "\x7f" for c in value):
        return "holds a control character"
    return None


def check_table(table: Table, langs=TARGETS) -> list[Problem]:
    """Every problem in a glossary, with its line: empty terms, unknown status or kind,
    approved terms without a rendering in ``langs`` (the book's targets), duplicate and
    conflicting terms (in any language column)."""
    where = str(table.path)
    required = list(langs)
    langs = list(dict.fromkeys([*required, *rendering_columns(table.columns)]))
    problems = []
    first: dict[str, Row] = {}
    for row in table.rows:
        if not row.term:
            problems.append(Problem(where, row.line, "the term is empty"))
            continue
        for column in ("term", *langs):
            if (problem := text_problem(row.get(column))) is not None:
                problems.append(Problem(where, row.line, f"«{row.term[:40]}»: the {column if column == 'term' else column + ' rendering'} {problem}"))
        if row.status not in STATUSES:
            problems.append(Problem(where, row.line, f"unknown status {row.get('status')!r} (use {', '.join(STATUSES)})"))
        kind = row.get("kind").lower()
        if kind and kind not in KINDS:
            problems.append(Problem(where, row.line, f"unknown kind {row.get('kind')!r} (use {', '.join(KINDS)})"))
        if row.get(VERSION) and not row.get(VERSION).isdecimal():
            problems.append(Problem(where, row.line, f"version {row.get(VERSION)!r} is not a number; Tarjoman writes "
                                                     "that column: put back the number it had, or empty the cell"))
        if row.status == "approved":
            missing = [lang for lang in required if not row.get(lang)]
            if missing:
                problems.append(Problem(where, row.line, f"approved term «{row.term}» has no rendering for {', '.join(missing)}"))
        key = term_key(row.term)
        earlier = first.get(key)
        if earlier is None:
            first[key] = row
            continue
        differences = [
            f"{lang} «{earlier.get(lang)}» / «{row.get(lang)}»" for lang in langs if earlier.get(lang) != row.get(lang)
        ]
        if earlier.status != row.status:
            differences.append(f"status {earlier.status} / {row.status}")
        if differences:
            problems.append(Problem(where, row.line, f"«{row.term}» conflicts with line {earlier.line}: {'; '.join(differences)}"))
        else:
            problems.append(Problem(where, row.line, f"«{row.term}» duplicates line {earlier.line}"))
    return problems


def excel_cell(value: str) -> str:
    """``value`` as a cell no spreadsheet runs as a formula."""
    return "'" + value if value.startswith(_FORMULA_START + ("'",)) else value


def excel_value(cell: str) -> str:
    """The value an :func:`excel_cell` holds; any other cell as it is (a ``'`` a person typed
    before ordinary text stays)."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_START + ("'",)) else cell


def render_table(table: Table) -> bytes:
    """The file's bytes: UTF-8 with a BOM, CRLF, Excel-safe cells, ``table.columns`` in order."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([excel_cell(name) for name in table.columns])
    for row in table.rows:
        writer.writerow([excel_cell(row.values.get(name, "")) for name in table.columns])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


@contextmanager
def locked(paths: list[Path]) -> Iterator[None]:
    """Hold the lock file of each glossary CSV (``.<name>.lock`` beside it, hidden), in the
    order given, waiting for other processes: reading an editor's changes back, changing the
    store and writing the file again must be one step to every other process, or the last
    writer could render the store as it was before another's change. The kernel drops the
    locks of a process that dies."""
    with ExitStack() as stack:
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = stack.enter_context(open(path.parent / f".{path.name}.lock", "a+"))
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
