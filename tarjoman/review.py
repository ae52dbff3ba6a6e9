"""Review files: gettext PO/POT per chapter and language (the only module that uses polib).

Layout, one Weblate component per chapter::

    outputs/<book>/review/<chapter>/<chapter>.pot
    outputs/<book>/review/<chapter>/<lang>.po

An entry is a review unit (a sentence): ``msgid`` the Persian, ``msgstr`` the
draft, ``fuzzy`` while it is a machine draft; ``msgctxt`` only where two
identical sentences in one chapter must be kept apart. Approved means not
fuzzy and not empty: approved entries and translator comments are never
overwritten by a new draft.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import polib

from . import __version__
from .drafting import Draft
from .errors import ReviewFileError
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


@dataclass(frozen=True)
class EntryKey:
    msgctxt: str | None
    msgid: str


def review_dir(book_dir: Path, chapter: str) -> Path:
    return book_dir / "review" / chapter


def po_path(book_dir: Path, chapter: str, lang: str) -> Path:
    return review_dir(book_dir, chapter) / f"{lang}.po"


def read_po(path: Path) -> polib.POFile:
    try:
        return polib.pofile(str(path), wrapwidth=0)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ReviewFileError(f"cannot be read as a PO file ({exc})", path=path) from exc


def approved_translations(book_dir: Path, lang: str) -> dict[str, str]:
    """Source sentence → approved translation, from every chapter's PO file in ``lang``."""
    approved: dict[str, str] = {}
    for path in sorted((book_dir / "review").glob(f"*/{lang}.po")):
        for entry in read_po(path):
            if entry.msgstr and not entry.fuzzy and not entry.obsolete:
                approved.setdefault(entry.msgid, entry.msgstr)
    return approved


def _contexts(units: list[Unit]) -> dict[str, str | None]:
    """msgctxt per unit: the unit ID where the same sentence occurs twice in a chapter, else none."""
    seen: dict[str, int] = {}
    for unit in units:
        seen[unit.text] = seen.get(unit.text, 0) + 1
    return {unit.id: (unit.id if seen[unit.text] > 1 else None) for unit in units}


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
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "X-Generator": f"Tarjoman {__version__}",
        "X-Tarjoman-Segmenter": manuscript.provenance.get("segmenter", ""),
    }
    header["Language"] = ""
    header["Language-Team"] = ""
    if lang:
        header["Language"] = lang
        header["Language-Team"] = f"{language(lang).name} <>"
        header["Plural-Forms"] = PLURAL_FORMS[lang]
        header["X-Tarjoman-Engine"] = signature
    return header


def _entry(unit: Unit, msgctxt: str | None, index: int) -> polib.POEntry:
    comment = [f"{unit.kind} · {unit.where}"]
    if unit.context != unit.text:
        comment.append(f"paragraph: {unit.context}")
    return polib.POEntry(
        msgid=unit.text,
        msgctxt=msgctxt,
        msgstr="",
        occurrences=[(unit.chapter, str(index))],
        comment="\n".join(comment),
    )


def write_chapter(
    manuscript: Manuscript,
    book_dir: Path,
    chapter_id: str,
    units: list[Unit],
    drafts: dict[str, dict[str, Draft]],
    signature: str,
) -> list[Path]:
    """Write the chapter's POT and one PO per language in ``drafts`` (lang → unit id → draft)."""
    folder = review_dir(book_dir, chapter_id)
    contexts = _contexts(units)
    pot = polib.POFile(wrapwidth=0)
    pot.metadata = _header(manuscript, None, signature)
    for index, unit in enumerate(units, start=1):
        pot.append(_entry(unit, contexts[unit.id], index))
    written = [folder / f"{chapter_id}.pot"]
    write_atomic(written[0], pot.__unicode__())
    for lang, by_unit in drafts.items():
        path = folder / f"{lang}.po"
        existing = read_po(path) if path.exists() else None
        old = {EntryKey(e.msgctxt, e.msgid): e for e in existing} if existing is not None else {}
        po = polib.POFile(wrapwidth=0)
        po.metadata = _header(manuscript, lang, signature, existing.metadata if existing is not None else None)
        for index, unit in enumerate(units, start=1):
            entry = _entry(unit, contexts[unit.id], index)
            draft = by_unit.get(unit.id)
            previous = old.get(EntryKey(entry.msgctxt, entry.msgid))
            if previous is not None:
                entry.tcomment = previous.tcomment
            if previous is not None and previous.msgstr and not previous.fuzzy:
                entry.msgstr = previous.msgstr  # a translator approved it: theirs, always
            elif draft is not None:
                entry.msgstr = draft.text
                entry.flags.append("fuzzy")
                note = {"carried": "carried over: already in the target language", "approved": "approved elsewhere in the book"}.get(draft.origin)
                entry.comment += f"\nmachine draft: {signature}" if note is None else f"\n{note}"
            po.append(entry)
        write_atomic(path, po.__unicode__())
        written.append(path)
    return written
