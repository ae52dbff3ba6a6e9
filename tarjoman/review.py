"""Review files: gettext PO/POT per chapter and language (the only module that uses polib).

Layout, one Weblate component per chapter::

    outputs/<book>/review/<chapter>/<chapter>.pot
    outputs/<book>/review/<chapter>/<lang>.po

The files are views of the review store and the translators' exchange with it: written from
the store (:func:`render_po`), read back entry by entry (:func:`read_review_file`). An entry is
a review unit (a sentence): ``msgid`` the Persian, ``msgstr`` the translation, ``fuzzy``
while it is a machine draft or unconfirmed, approved when it is neither fuzzy nor empty;
``msgctxt`` only where identical sentences in one chapter must be kept apart. Each entry's
extracted comments end with ``tarjoman: <segment> v<version>``: the segment it belongs to and
the version of the translation the file was written with, the base against which the
translator's changes are applied. Removed sentences with a translation are obsolete ``#~``
entries; an edited sentence keeps its old translation as a fuzzy suggestion with the previous
source in ``#|`` comments.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import polib

from . import __version__
from .errors import Problem, ReviewFileError
from .languages import language

_MARK = re.compile(r"^tarjoman: (\S+) v(\d+)$", re.MULTILINE)
_QA_LINE = re.compile(r"^qa: (.*)$", re.MULTILINE)


def review_dir(book_dir: Path, chapter: str) -> Path:
    return book_dir / "review" / chapter


def po_path(book_dir: Path, chapter: str, lang: str) -> Path:
    return review_dir(book_dir, chapter) / f"{lang}.po"


# --- reading ---------------------------------------------------------------


def read_po(path: Path) -> polib.POFile:
    """Parse a PO file as a translator's editor saved it: UTF-8, UTF-16 with a BOM, or
    the charset its header names. A syntax error names the file and line."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ReviewFileError(f"cannot be read ({exc.strerror})", path=path) from exc
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return polib.pofile(data.decode("utf-16"), wrapwidth=0)
        if data.startswith(b"\xef\xbb\xbf"):
            return polib.pofile(data[3:].decode("utf-8"), wrapwidth=0)
        return polib.pofile(str(path), wrapwidth=0)
    except (OSError, ValueError, UnicodeDecodeError, LookupError) as exc:
        match = re.search(r"line (\d+)", str(exc))
        where = f"line {match.group(1)}" if match else None
        detail = re.sub(r"\s*\(line \d+\)", "", str(exc))
        raise ReviewFileError(f"is not a valid PO file: {detail}", path=path, where=where) from exc


def syntax_errors(path: Path) -> list["Problem"]:
    """What GNU msgfmt finds wrong in a file (polib reads some broken files without a word).
    Empty when msgfmt is not installed."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        return []
    data = Path(path).read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(path)
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            target = Path(tmp) / "utf8.po"  # msgfmt does not read UTF-16; check the same text as UTF-8
            target.write_text(data.decode("utf-16"), encoding="utf-8")
        result = subprocess.run([msgfmt, "-c", "--check-format", "-o", os.devnull, str(target)], capture_output=True, text=True)
    problems = []
    for line in result.stderr.splitlines():
        match = re.match(r"^(.*?):(\d+):(?:\d+:)? (.*)$", line)
        if match and "warning:" not in match.group(3):
            problems.append(Problem(str(path), int(match.group(2)), match.group(3)))
    if result.returncode != 0 and not problems:
        problems.append(Problem(str(path), 0, result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "msgfmt rejects it"))
    return problems


def _line_numbers(path: Path) -> dict[tuple[str | None, str], int]:
    """Line of each entry's msgid, for messages (polib keeps no positions)."""
    lines: dict[tuple[str | None, str], int] = {}
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return lines
    ctx = None
    for n, line in enumerate(text, start=1):
        if line.startswith("msgctxt "):
            ctx = _unquote(line[8:])
        elif line.startswith("msgid "):
            lines.setdefault((ctx, _unquote(line[6:])), n)
            ctx = None
    return lines


def _unquote(value: str) -> str:
    try:
        return json.loads(value)
    except ValueError:
        return value.strip('"')


# --- writing ---------------------------------------------------------------


@dataclass(frozen=True)
class FileInfo:
    """What a chapter's review files say about the book in their headers."""

    book: str
    source_sha256: str
    segmenter: str
    engine: str = ""  # the engine most of the file's drafts came from
    last_translator: str = ""
    revised: datetime | None = None


def _stamp(when: datetime | None = None) -> str:
    return (when or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M+0000")


def _header(info: FileInfo, lang: str | None) -> dict[str, str]:
    header = {
        "Project-Id-Version": f"{info.book} {info.source_sha256[:12]}",
        "Report-Msgid-Bugs-To": "",
        "POT-Creation-Date": _stamp(),
        "PO-Revision-Date": _stamp(info.revised),
        "Last-Translator": info.last_translator or "Tarjoman machine draft",
        "Language-Team": "",
        "Language": "",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "X-Generator": f"Tarjoman {__version__}",
        "X-Tarjoman-Segmenter": info.segmenter,
    }
    if lang:
        header["Language-Team"] = f"{language(lang).name} <>"
        header["Language"] = language(lang).locale
        header["Plural-Forms"] = language(lang).plural_forms
        header["X-Tarjoman-Engine"] = info.engine
    return header


def _entry(segment) -> polib.POEntry:
    comment = [f"{segment.kind} · {segment.where}"]
    if segment.context != segment.source:
        comment.append(f"paragraph: {segment.context}")
    # The reference names the chapter and the manuscript paragraph («ch02:14»), as gettext's file:line.
    return polib.POEntry(msgid=segment.source, msgctxt=segment.msgctxt, msgstr="",
                         occurrences=[(segment.chapter, segment.paragraph)], comment="\n".join(comment))


_ORIGIN_NOTES = {
    "carried": "carried over: already in the target language",
    "tm": "approved translation of the same sentence elsewhere in the book",
}


def memory_lines(matches) -> list[str]:
    """PO comment lines for a sentence's fuzzy memory matches (:class:`tarjoman.store.memory.Match`),
    shown in Poedit's notes: each match's score, where it is, its translation, and how its
    source differs from this one (``[-its words-] {+this sentence's+}``)."""
    return [line for m in matches for line in (f"memory {m.score}% ({m.where}): {m.text}", f"memory {m.score}% source: {m.diff}")]


def _translated(entry: polib.POEntry, uid: str, translation, hints: list[str]) -> None:
    lines = [entry.comment] if entry.comment else []
    if translation is not None:
        entry.msgstr = translation.text
        if translation.state == "draft" and translation.text:
            entry.flags.append("fuzzy")
        if translation.previous_source and translation.state != "approved":
            entry.previous_msgid = translation.previous_source
        entry.tcomment = translation.note or ""
        if translation.text and translation.origin == "tm" and translation.engine.startswith("tm:"):
            lines.append(f"from the memory: the approved translation of the same sentence in {translation.engine[3:]}")
        elif translation.text and translation.origin in _ORIGIN_NOTES:
            lines.append(f"machine draft {_ORIGIN_NOTES[translation.origin]}")
        elif translation.text and translation.origin == "machine":
            lines.append(f"machine draft by {translation.engine}")
        if translation.suggestion and translation.suggestion != translation.text:
            lines.append(f"new machine draft: {translation.suggestion}")
        lines += [f"qa: {finding}" for finding in translation.qa]
    lines += hints
    lines.append(f"tarjoman: {uid} v{translation.version if translation is not None else 0}")
    entry.comment = "\n".join(lines)


def render_pot(info: FileInfo, segments: list) -> str:
    pot = polib.POFile(wrapwidth=0)
    pot.metadata = _header(info, None)
    for segment in segments:
        pot.append(_entry(segment))
    return pot.__unicode__()


def render_po(info: FileInfo, lang: str, segments: list, translations: dict, obsolete: list,
              hints: Callable[[str], list[str]] | None = None, notes: dict[str, list[str]] | None = None) -> tuple[str, dict[str, int]]:
    """A chapter's PO file in ``lang`` from the store's ``segments`` (reading order), their
    ``translations`` (uid → TranslationView) and the ``obsolete`` segments that had one;
    ``hints(source)`` adds comment lines (glossary terms), ``notes`` more of them per uid (the
    memory's fuzzy matches). Returns the text and the version of each entry's translation as written."""
    po = polib.POFile(wrapwidth=0)
    po.metadata = _header(info, lang)
    versions = {}
    for segment in segments:
        entry = _entry(segment)
        translation = translations.get(segment.uid)
        _translated(entry, segment.uid, translation, (hints(segment.source) if hints else []) + (notes or {}).get(segment.uid, []))
        versions[segment.uid] = translation.version if translation is not None else 0
        po.append(entry)
    present = {(e.msgctxt, e.msgid) for e in po}
    for segment in obsolete:
        translation = translations.get(segment.uid)
        if translation is None or not translation.text or (segment.msgctxt, segment.source) in present:
            continue
        entry = polib.POEntry(msgid=segment.source, msgctxt=segment.msgctxt, msgstr=translation.text, obsolete=True,
                              flags=["fuzzy"] if translation.state != "approved" else [], tcomment=translation.note or "")
        present.add((segment.msgctxt, segment.source))
        po.append(entry)
    return po.__unicode__(), versions


# --- reading reviewed files back ---------------------------------------------


@dataclass
class ReviewEntry:
    """One PO entry as Tarjoman's other modules see it."""

    msgid: str
    msgctxt: str | None
    msgstr: str
    fuzzy: bool
    obsolete: bool
    line: int
    qa: list[str] = field(default_factory=list)
    carried: bool = False  # copied from the source: already in the target language
    uid: str | None = None  # the segment, from the ``tarjoman:`` comment
    version: int | None = None  # the translation's version the file was written with
    tcomment: str = ""
    previous_msgid: str | None = None
    comment: str = ""  # the extracted comments, as written

    @property
    def approved(self) -> bool:
        return bool(self.msgstr) and not self.fuzzy and not self.obsolete


def _review_entry(entry: polib.POEntry, line: int) -> ReviewEntry:
    mark = _MARK.search(entry.comment or "")
    return ReviewEntry(
        entry.msgid, entry.msgctxt, entry.msgstr, entry.fuzzy, entry.obsolete, line, _QA_LINE.findall(entry.comment or ""),
        "carried over" in (entry.comment or ""), mark.group(1) if mark else None, int(mark.group(2)) if mark else None,
        entry.tcomment or "", entry.previous_msgid, entry.comment or "",
    )


@dataclass
class ReviewFile:
    """A PO file as read back: its header and its entries, parsed once."""

    metadata: dict[str, str]
    entries: list[ReviewEntry]


def read_review_file(path: Path) -> ReviewFile:
    catalog = read_po(path)
    lines = _line_numbers(path)
    return ReviewFile(dict(catalog.metadata), [_review_entry(e, lines.get((e.msgctxt, e.msgid), 0)) for e in catalog])


def read_entries(path: Path) -> list[ReviewEntry]:
    return read_review_file(path).entries

