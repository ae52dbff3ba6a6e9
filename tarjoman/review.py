"""Review files: gettext PO/POT per chapter and language (the only module that uses polib).

Layout, one Weblate component per chapter::

    outputs/<book>/review/<chapter>/<chapter>.pot
    outputs/<book>/review/<chapter>/<lang>.po

An entry is a review unit (a sentence): ``msgid`` the Persian, ``msgstr`` the
translation, ``fuzzy`` while it is a machine draft or unconfirmed;
``msgctxt`` only where identical sentences in one chapter must be kept apart.
Approved means not fuzzy and not empty.

Rewriting a file merges like ``msgmerge``: approved translations of unchanged
sentences stay approved (a sentence that moved keeps its translation, fuzzy if
its paragraph changed); a changed sentence keeps its old translation as a fuzzy
suggestion with the previous source in ``#|`` comments; removed sentences become
obsolete ``#~`` entries; a draft the translator edited is never replaced, and
translator comments survive. Machine drafts are recorded in
``outputs/<book>/drafts/<chapter>.<lang>.json`` for the post-edit metrics.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import polib

from . import __version__
from .drafting import Draft
from .glossary import TermBase
from .errors import Problem, ReviewFileError
from .files import write_atomic
from .languages import language
from .manuscript import Manuscript, Unit

PLURAL_FORMS = {
    "ar": "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);",
    "en": "nplurals=2; plural=(n != 1);",
    "fr": "nplurals=2; plural=(n > 1);",
    "ur": "nplurals=2; plural=(n != 1);",
    "fa": "nplurals=2; plural=(n > 1);",
}
_DRAFT_MARK = re.compile(r"^machine draft ([0-9a-f]{10})", re.MULTILINE)
SIMILAR = 0.6  # difflib ratio above which a new sentence is taken as an edit of an old one


def is_approved(entry: polib.POEntry) -> bool:
    return bool(entry.msgstr) and not entry.fuzzy and not entry.obsolete


def draft_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def edited_by_translator(entry: polib.POEntry) -> bool:
    """Did someone change this entry's translation since the machine wrote it?"""
    if not entry.msgstr:
        return False
    mark = _DRAFT_MARK.search(entry.comment or "")
    return mark is None or mark.group(1) != draft_hash(entry.msgstr)


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


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M+0000")


def _header(manuscript: Manuscript, lang: str | None, signature: str, previous: dict | None = None) -> dict[str, str]:
    previous = previous or {}
    header = {
        "Project-Id-Version": f"{manuscript.book} {manuscript.source_sha256[:12]}",
        "Report-Msgid-Bugs-To": "",
        "POT-Creation-Date": _now(),
        "PO-Revision-Date": previous.get("PO-Revision-Date", _now()),
        "Last-Translator": previous.get("Last-Translator", "Tarjoman machine draft"),
        "Language-Team": "",
        "Language": "",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "X-Generator": f"Tarjoman {__version__}",
        "X-Tarjoman-Segmenter": manuscript.provenance.get("segmenter", ""),
    }
    if lang:
        header["Language-Team"] = previous.get("Language-Team") or f"{language(lang).name} <>"
        header["Language"] = lang
        header["Plural-Forms"] = PLURAL_FORMS[lang]
        header["X-Tarjoman-Engine"] = signature
    return header


def _contexts(units: list[Unit]) -> dict[str, str | None]:
    """msgctxt per unit: the unit ID where the same sentence occurs twice in a chapter, else none."""
    seen: dict[str, int] = {}
    for unit in units:
        seen[unit.text] = seen.get(unit.text, 0) + 1
    return {unit.id: (unit.id if seen[unit.text] > 1 else None) for unit in units}


def _entry(unit: Unit, msgctxt: str | None, index: int) -> polib.POEntry:
    comment = [f"{unit.kind} · {unit.where}"]
    if unit.context != unit.text:
        comment.append(f"paragraph: {unit.context}")
    # The reference names the chapter and the manuscript paragraph («ch02:14»), as gettext's file:line.
    paragraph = re.search(r"paragraph (\d+)", unit.where)
    return polib.POEntry(
        msgid=unit.text, msgctxt=msgctxt, msgstr="",
        occurrences=[(unit.chapter, paragraph.group(1) if paragraph else str(index))], comment="\n".join(comment),
    )


def _same_paragraph(entry: polib.POEntry, context: str) -> bool:
    """Is ``entry``'s recorded paragraph ``context``? Editors re-wrap long comments, so
    the comment is compared with all whitespace collapsed."""
    comment = entry.comment or ""
    at = comment.find("paragraph: ")
    recorded = comment[at + len("paragraph: "):] if at >= 0 else entry.msgid
    return " ".join(context.split()) in " ".join(recorded.split()) if at >= 0 else recorded == context


@dataclass
class _Previous:
    """Every existing entry of one language across the book, to merge from."""

    by_key: dict[tuple[str, str | None, str], polib.POEntry] = field(default_factory=dict)  # (chapter, ctx, msgid)
    by_msgid: dict[str, list[tuple[str, polib.POEntry]]] = field(default_factory=dict)
    by_chapter: dict[str, list[polib.POEntry]] = field(default_factory=dict)
    used: set[int] = field(default_factory=set)
    approved: set[int] = field(default_factory=set)  # as loaded: a later obsolete flag does not unapprove
    metadata: dict[str, dict] = field(default_factory=dict)

    def was_approved(self, entry: polib.POEntry) -> bool:
        return id(entry) in self.approved

    @classmethod
    def load(cls, book_dir: Path, lang: str, writing: set[str] | None = None) -> "_Previous":
        """Every entry of ``lang`` in the book. The files about to be rewritten (``writing``
        chapters; all when None) are checked with msgfmt first."""
        previous = cls()
        for path in sorted((book_dir / "review").glob(f"*/{lang}.po")):
            chapter = path.parent.name
            errors = syntax_errors(path) if writing is None or chapter in writing else []
            if errors:
                # Never write over a file a translator broke: it may hold their work.
                raise ReviewFileError(errors[0].message, path=path, where=f"line {errors[0].line}" if errors[0].line else None)
            catalog = read_po(path)
            previous.metadata[chapter] = catalog.metadata
            for entry in catalog:
                if is_approved(entry):
                    previous.approved.add(id(entry))
                previous.by_chapter.setdefault(chapter, []).append(entry)
                if not entry.obsolete:
                    previous.by_key[(chapter, entry.msgctxt, entry.msgid)] = entry
                previous.by_msgid.setdefault(entry.msgid, []).append((chapter, entry))
        return previous

    def approved_texts(self) -> dict[str, str]:
        """Source sentence → approved translation, the translation memory for drafting."""
        approved: dict[str, str] = {}
        for entries in self.by_chapter.values():
            for entry in entries:
                if id(entry) in self.approved:
                    approved.setdefault(entry.msgid, entry.msgstr)
        return approved

    def take(self, entry: polib.POEntry) -> polib.POEntry:
        self.used.add(id(entry))
        return entry

    def exact(self, chapter: str, msgctxt: str | None, msgid: str) -> polib.POEntry | None:
        entry = self.by_key.get((chapter, msgctxt, msgid))
        if entry is None:
            candidates = [e for c, e in self.by_msgid.get(msgid, []) if c == chapter and id(e) not in self.used and not e.obsolete]
            entry = candidates[0] if candidates else None
        return self.take(entry) if entry is not None and id(entry) not in self.used else None

    def moved(self, msgid: str) -> polib.POEntry | None:
        """The same sentence translated elsewhere in the book (another chapter, or obsolete)."""
        candidates = [e for _, e in self.by_msgid.get(msgid, []) if e.msgstr]
        candidates.sort(key=lambda e: (not self.was_approved(e), id(e) in self.used))
        return candidates[0] if candidates else None

    def similar(self, chapter: str, msgid: str, wanted: set[str]) -> polib.POEntry | None:
        """An unused old entry of this chapter whose source was edited into ``msgid``."""
        best, best_ratio = None, SIMILAR
        for entry in self.by_chapter.get(chapter, []):
            if id(entry) in self.used or entry.obsolete or entry.msgid in wanted or not entry.msgstr:
                continue
            ratio = difflib.SequenceMatcher(None, entry.msgid, msgid, autojunk=False).ratio()
            if ratio > best_ratio:
                best, best_ratio = entry, ratio
        return self.take(best) if best is not None else None


def _mark_draft(entry: polib.POEntry, draft: Draft, signature: str) -> None:
    entry.msgstr = draft.text
    if "fuzzy" not in entry.flags:
        entry.flags.append("fuzzy")
    note = {
        "carried": "carried over: already in the target language",
        "approved": "approved translation of the same sentence elsewhere in the book",
    }.get(draft.origin, f"by {signature}")
    entry.comment += f"\nmachine draft {draft_hash(draft.text)} {note}"


def _merge_entry(entry, unit, chapter, draft, previous: _Previous, wanted: set[str], signature: str) -> None:
    old = previous.exact(chapter, entry.msgctxt, entry.msgid)
    if old is not None:
        entry.tcomment = old.tcomment
        if is_approved(old) or edited_by_translator(old) or draft is None:
            entry.msgstr, entry.flags = old.msgstr, list(old.flags)
            entry.comment += "".join(f"\n{line}" for line in (old.comment or "").splitlines() if _DRAFT_MARK.match(line))
            return
        _mark_draft(entry, draft, signature)
        return
    moved = previous.moved(entry.msgid)
    if moved is not None and (previous.was_approved(moved) or edited_by_translator(moved)):
        entry.msgstr, entry.tcomment = moved.msgstr, moved.tcomment
        same_place = previous.was_approved(moved) and _same_paragraph(moved, unit.context)
        entry.flags = [] if same_place else ["fuzzy"]
        if not same_place:
            entry.comment += "\nfrom the same sentence elsewhere in the book"
        previous.take(moved)
        return
    edited = previous.similar(chapter, entry.msgid, wanted)
    if edited is not None:
        entry.tcomment = edited.tcomment
        entry.previous_msgid = edited.msgid
        if is_approved(edited) or edited_by_translator(edited):
            entry.msgstr, entry.flags = edited.msgstr, ["fuzzy"]
            if draft is not None:
                entry.comment += f"\nnew machine draft: {draft.text}"
            return
    if draft is not None:
        _mark_draft(entry, draft, signature)


def write_chapter(
    manuscript: Manuscript,
    book_dir: Path,
    chapter_id: str,
    units: list[Unit],
    drafts: dict[str, dict[str, Draft]],
    signature: str,
    previous: dict[str, "_Previous"] | None = None,
    *,
    terms: "TermBase | None" = None,
) -> list[Path]:
    """Write the chapter's POT and, merged with what is there, one PO per language in ``drafts``.
    Each entry's comments show the approved glossary terms (``terms``) found in its source."""
    folder = review_dir(book_dir, chapter_id)
    contexts = _contexts(units)
    pot = polib.POFile(wrapwidth=0)
    pot.metadata = _header(manuscript, None, signature)
    for index, unit in enumerate(units, start=1):
        pot.append(_entry(unit, contexts[unit.id], index))
    written = [folder / f"{chapter_id}.pot"]
    write_atomic(written[0], pot.__unicode__())
    wanted = {unit.text for unit in units}
    for lang, by_unit in drafts.items():
        prev = (previous or {}).get(lang) or _Previous.load(book_dir, lang)
        po = polib.POFile(wrapwidth=0)
        po.metadata = _header(manuscript, lang, signature, prev.metadata.get(chapter_id))
        ledger = {}
        for index, unit in enumerate(units, start=1):
            entry = _entry(unit, contexts[unit.id], index)
            draft = by_unit.get(unit.id)
            _merge_entry(entry, unit, chapter_id, draft, prev, wanted, signature)
            if terms is not None:
                entry.comment += "".join(f"\nglossary: {t} → {r}" for t, r in terms.binder(lang).applied(unit.text))
            if draft is not None and draft.origin in ("machine", "cache"):
                ledger[unit.text] = {"draft": draft.text, "signature": signature}
            po.append(entry)
        _keep_obsolete(po, prev, chapter_id)
        path = folder / f"{lang}.po"
        write_atomic(path, po.__unicode__())
        _write_ledger(book_dir, chapter_id, lang, ledger)
        written.append(path)
    return written


def _keep_obsolete(po: polib.POFile, previous: _Previous, chapter: str) -> None:
    """Old entries nothing took over become obsolete: a translator's work is never dropped."""
    present = {(e.msgctxt, e.msgid) for e in po}
    for entry in previous.by_chapter.get(chapter, []):
        if id(entry) in previous.used or not entry.msgstr or (entry.msgctxt, entry.msgid) in present:
            continue
        if not entry.obsolete and any(e.msgid == entry.msgid and e.msgstr == entry.msgstr for e in po):
            continue  # the sentence is still here, with this very translation
        entry.obsolete = True
        present.add((entry.msgctxt, entry.msgid))
        po.append(entry)


def _ledger_path(book_dir: Path, chapter: str, lang: str) -> Path:
    return book_dir / "drafts" / f"{chapter}.{lang}.json"


def _write_ledger(book_dir: Path, chapter: str, lang: str, fresh: dict) -> None:
    path = _ledger_path(book_dir, chapter, lang)
    ledger = read_ledger(book_dir, chapter, lang)
    ledger.update(fresh)
    write_atomic(path, json.dumps(ledger, ensure_ascii=False, indent=1, sort_keys=True))


def read_ledger(book_dir: Path, chapter: str, lang: str) -> dict[str, dict]:
    """Source sentence → the machine draft recorded for it (and what made it)."""
    path = _ledger_path(book_dir, chapter, lang)
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def load_previous(book_dir: Path, lang: str, writing: set[str] | None = None) -> _Previous:
    return _Previous.load(book_dir, lang, writing)


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

    @property
    def approved(self) -> bool:
        return bool(self.msgstr) and not self.fuzzy and not self.obsolete


_QA_LINE = re.compile(r"^qa: (.*)$", re.MULTILINE)


def read_entries(path: Path) -> list[ReviewEntry]:
    catalog = read_po(path)
    lines = _line_numbers(path)
    return [
        ReviewEntry(
            e.msgid, e.msgctxt, e.msgstr, e.fuzzy, e.obsolete, lines.get((e.msgctxt, e.msgid), 0),
            _QA_LINE.findall(e.comment or ""), "carried over" in (e.comment or ""),
        )
        for e in catalog
    ]


def write_findings(path: Path, findings: dict[tuple[str | None, str], list[str]]) -> None:
    """Replace the ``qa:`` lines of each entry's extracted comments with ``findings``."""
    catalog = read_po(path)
    for entry in catalog:
        kept = [line for line in (entry.comment or "").splitlines() if not line.startswith("qa: ")]
        kept += [f"qa: {finding}" for finding in findings.get((entry.msgctxt, entry.msgid), [])]
        entry.comment = "\n".join(kept)
    write_atomic(path, catalog.__unicode__())


def validate_po(path: Path, units: list[Unit], lang: str) -> list[Problem]:
    """What is wrong with a reviewed file: unreadable, wrong language, an edited or
    duplicated source. An empty list means it can be imported."""
    errors = syntax_errors(path)
    if errors:
        return errors
    try:
        entries = read_entries(path)
    except ReviewFileError as exc:
        line = int(exc.where.split()[-1]) if exc.where else 0
        return [Problem(str(path), line, exc.detail)]
    catalog_language = read_po(path).metadata.get("Language", "")
    problems = []
    if catalog_language and catalog_language.split("_")[0] != lang:
        problems.append(Problem(str(path), 0, f"the header says Language: {catalog_language}, but the file is {lang}.po"))
    sources = {unit.text for unit in units}
    contexts = set(_contexts(units).values())
    seen: set[tuple[str | None, str]] = set()
    for entry in entries:
        if entry.obsolete:
            continue
        key = (entry.msgctxt, entry.msgid)
        if key in seen:
            problems.append(Problem(str(path), entry.line, "this entry appears twice"))
        seen.add(key)
        if entry.msgid not in sources:
            problems.append(Problem(str(path), entry.line, "msgid does not match any sentence of the chapter: the source text was edited here (edit the manuscript instead)"))
        elif entry.msgctxt not in contexts:
            problems.append(Problem(str(path), entry.line, f"msgctxt {entry.msgctxt!r} was edited"))
    return problems


def snapshot(path: Path, target: Path) -> None:
    """Keep the last good copy of a reviewed file, normalised to UTF-8."""
    write_atomic(target, read_po(path).__unicode__())


def translations(book_dir: Path, chapter: str, lang: str, units: list[Unit]) -> dict[str, tuple[str, bool]]:
    """Unit ID → (translation, approved) from a chapter's PO file; units with no translation are absent.
    Reads the working file when it is valid, else the last good copy from ``review import``."""
    path = po_path(book_dir, chapter, lang)
    if path.exists() and syntax_errors(path):
        path = book_dir / "reviewed" / chapter / f"{lang}.po"
    if not path.exists():
        return {}
    contexts = _contexts(units)
    found = {(e.msgctxt, e.msgid): e for e in read_po(path) if not e.obsolete and e.msgstr}
    out = {}
    for unit in units:
        entry = found.get((contexts[unit.id], unit.text))
        if entry is not None:
            out[unit.id] = (entry.msgstr, is_approved(entry))
    return out


def accept_drafts(book_dir: Path, lang: str, translator: str) -> int:
    """Approve every draft of ``lang`` as it stands — what ``make demo`` does in place of a
    translator. An empty draft is approved as the Persian, marked in a translator comment."""
    accepted = 0
    for path in sorted((book_dir / "review").glob(f"*/{lang}.po")):
        catalog = read_po(path)
        for entry in catalog:
            if entry.obsolete or is_approved(entry):
                continue
            if not entry.msgstr:
                entry.msgstr = entry.msgid
                entry.tcomment = ((entry.tcomment or "") + "\nleft in Persian: the draft was empty").strip()
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            accepted += 1
        catalog.metadata["Last-Translator"] = translator
        catalog.metadata["PO-Revision-Date"] = _now()
        write_atomic(path, catalog.__unicode__())
    return accepted
