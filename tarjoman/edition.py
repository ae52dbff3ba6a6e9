"""An edition: the book as it will be published in one language, assembled from the
manuscript and the review files. Plain data; :mod:`tarjoman.epub` renders it.

Only approved translations go into a book, unless it is a draft edition, which
takes machine drafts (and, where even those are missing, the Persian) and says so.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .errors import EpubError
from .languages import language
from .manuscript import Chapter, Image, Manuscript, Paragraph
from .project import Project
from .qa import approval_problem

CREDITS = {
    "en": {"draft_mark": "DRAFT", "translated": "Translated from the Persian by", "author": "Author", "translators": "Translation", "editors": "Glossary editors", "publisher": "Publisher", "draft": "DRAFT — machine translation not yet approved by translators", "notes": "Notes", "contents": "Contents", "credits": "Credits", "landmarks": "Landmarks", "made": "Made with"},
    "fr": {"draft_mark": "ÉPREUVE", "translated": "Traduit du persan par", "author": "Auteur", "translators": "Traduction", "editors": "Glossaire", "publisher": "Éditeur", "draft": "ÉPREUVE — traduction automatique non encore approuvée", "notes": "Notes", "contents": "Table des matières", "credits": "Crédits", "landmarks": "Repères", "made": "Réalisé avec"},
    "ar": {"draft_mark": "مسودة", "translated": "ترجمه عن الفارسية", "author": "المؤلف", "translators": "الترجمة", "editors": "محررو المسرد", "publisher": "الناشر", "draft": "مسودة — ترجمة آلية لم يعتمدها المترجمون بعد", "notes": "الحواشي", "contents": "المحتويات", "credits": "بيانات النشر", "landmarks": "معالم الكتاب", "made": "أُعدّ باستخدام"},
    "ur": {"draft_mark": "مسودہ", "translated": "فارسی سے ترجمہ", "author": "مصنف", "translators": "ترجمہ", "editors": "فرہنگ کے مدیر", "publisher": "ناشر", "draft": "مسودہ — مشینی ترجمہ جسے مترجمین نے ابھی منظور نہیں کیا", "notes": "حواشی", "contents": "فہرست", "credits": "اشاعتی معلومات", "landmarks": "اہم مقامات", "made": "تیار کردہ بذریعہ"},
}


@dataclass
class Block:
    kind: str  # heading, body, verse, quotation, caption, list_item, table_cell, figure, alt (an image's description)
    text: str  # the translation ("\n" between verse hemistichs)
    source: str  # the Persian paragraph, for bilingual editions
    lang: str  # the language the text is in (an Arabic verse carried into an English book is "ar")
    level: int | None = None
    notes: list[tuple[int, str]] = field(default_factory=list)  # (offset in text, note id)
    images: list[str] = field(default_factory=list)
    cell: list[int] | None = None
    approved: bool = True  # every sentence of it approved (a draft edition's may not be)


@dataclass
class Note:
    id: str
    number: int
    blocks: list[Block]


@dataclass
class EditionChapter:
    id: str
    kind: str
    title: Block | None
    blocks: list[Block]
    notes: list[Note]


@dataclass
class Edition:
    book: str
    lang: str
    draft: bool
    bilingual: bool
    metadata: dict
    chapters: list[EditionChapter]
    images: list[Image]
    image_folder: Path
    signature: str
    untranslated: int = 0  # units that fell back to the Persian (draft editions only)


class _Translator:
    """Looks up each paragraph's translation, counting what is not approved and refusing
    approved text that cannot be published."""

    def __init__(self, found: dict[str, tuple[str, bool]], chapter: Chapter, lang: str):
        self.chapter = chapter
        self.lang = lang
        self.found = found
        self.unapproved = 0
        self.untranslated = 0
        self.refused: list[str] = []

    def block(self, paragraph: Paragraph, kind: str | None = None) -> Block:
        texts, notes, langs, all_approved = [], [], [], True
        for unit in self.chapter.paragraph_units(paragraph):
            text, approved = self.found.get(unit.id, ("", False))
            reason = approval_problem(unit.text, text, self.lang, unit.lang, publishing=True) if approved else None
            if reason:
                self.refused.append(f"{self.chapter.id} {unit.id} «{unit.text[:40]}»: {reason}")
                text, approved = ("", False)
            if not approved:
                self.unapproved += 1
                all_approved = False
            if not text:
                self.untranslated += 1
                text = unit.text
                langs.append("fa")
            else:
                langs.append(unit.lang if text == unit.text else self.lang)
            texts.append(text)
            offset = len(" ".join(texts))
            notes += [(offset, ref.footnote) for part in unit.parts for ref in part.notes]
        lang = self.lang if not langs or any(l == self.lang for l in langs) else langs[0]
        return Block(kind or paragraph.kind, " ".join(texts), paragraph.text, lang, paragraph.level, notes, list(paragraph.images), paragraph.cell,
                     all_approved)


def _metadata(manuscript: Manuscript, lang: str, found_title: str | None) -> dict:
    meta = manuscript.metadata
    local = (meta.get("translations") or {}).get(lang) or {}
    title = local.get("title")
    drafted_title = False
    if not title:
        title, drafted_title = found_title or meta.get("title") or manuscript.book, True
    return {
        "title": title,
        "title_drafted": drafted_title,
        "subtitle": local.get("subtitle", ""),
        "original_title": meta.get("title", ""),
        "author": local.get("author") or meta.get("author", ""),
        "translators": list(local.get("translators") or []),
        "editors": list(meta.get("glossary_editors") or []),
        "publisher": local.get("publisher") or meta.get("publisher", ""),
        "identifier": f"urn:isbn:{local['isbn']}" if local.get("isbn") else f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'tarjoman:{manuscript.book}:{lang}')}",
        "date": str(local.get("date") or meta.get("date") or meta.get("created", ""))[:10],
        "rights": local.get("rights") or meta.get("rights", ""),
        "cover": local.get("cover") or meta.get("cover", ""),  # images/cover….jpg in the book's folder (extract checked it)
        "language": lang,
        "print": meta.get("print") or {},  # page size and margins of the PDF (tarjoman.pdf.page_setup)
        "words": CREDITS.get(lang) or CREDITS["en"],  # other languages: English labels (see README, known limits)
        "words_lang": lang if lang in CREDITS else "en",  # … marked as English where they stand
    }


def _store_translations(project: Project, book: str, lang: str, draft: bool) -> tuple[Manuscript, dict[str, tuple[str, bool]]]:
    """The manuscript, and unit ID → (text, approved) from the store: approved translations, and for a
    draft edition machine drafts too."""
    from .project_store import open_book
    from .store.core import require_book, translations

    store, manuscript = open_book(project, book)
    try:
        with store.read() as session:
            found = translations(session, require_book(session, book), lang)
    finally:
        store.close()
    return manuscript, {uid: (t.text, t.approved) for uid, t in found.items() if t.text and (t.approved or draft)}


def build_edition(project: Project, book: str, lang: str, *, draft: bool = False, bilingual: bool = False) -> Edition:
    """Assemble the ``lang`` edition; without ``draft``, refuse while anything is unapproved."""
    language(lang)
    manuscript, found = _store_translations(project, book, lang, draft)
    book_dir = project.book_dir(book)
    chapters, pending, refused, untranslated, title = [], [], [], 0, None
    note_numbers: dict[str, int] = {}
    for chapter in manuscript.chapters:
        t = _Translator(found, chapter, lang)
        blocks = [t.block(p, "figure" if p.images and not p.segments else None) for p in chapter.paragraphs]
        notes = []
        for note in chapter.footnotes:
            note_numbers[note.id] = len(note_numbers) + 1
            notes.append(Note(note.id, note_numbers[note.id], [t.block(p) for p in note.paragraphs]))
        heading = t.block(chapter.title) if chapter.title else None
        if chapter.kind == "front":
            for paragraph, block in zip(chapter.paragraphs, blocks):
                if paragraph.level == 0 and paragraph.kind == "heading":
                    title = block.text  # the manuscript's own title line, translated
        chapters.append(EditionChapter(chapter.id, chapter.kind, heading, blocks, notes))
        if t.unapproved:
            pending.append(f"{chapter.id}: {t.unapproved} of {sum(1 for _ in chapter.units())}")
        untranslated += t.untranslated
        refused += t.refused
    if refused and not draft:
        raise EpubError(f"{len(refused)} approved translations in {lang} cannot be published: " + "; ".join(refused[:10])
                        + (" …" if len(refused) > 10 else "") + "; correct them in the review files or the desk", path=book_dir / "review")
    if pending and not draft:
        raise EpubError(
            f"not every sentence is approved in {lang} ({'; '.join(pending)}); finish the review, or publish with --draft",
            path=book_dir / "review",
        )
    metadata = _metadata(manuscript, lang, title)
    signature = f"tarjoman {__version__}; manuscript {manuscript.source_sha256[:12]}; segmenter {manuscript.provenance.get('segmenter')}"
    return Edition(book, lang, draft, bilingual, metadata, chapters, manuscript.images, book_dir, signature, untranslated)


def edition_text(edition: Edition) -> str:
    """Every text a page of the edition may show: for choosing its fonts."""
    meta = edition.metadata
    parts = [str(v) for v in meta["words"].values()] + [str(meta.get(k) or "") for k in ("title", "subtitle", "author", "publisher", "rights")]
    parts += [", ".join(meta.get("translators") or []), ", ".join(meta.get("editors") or [])]
    for chapter in edition.chapters:
        parts += [b.text for b in chapter.blocks] + ([chapter.title.text] if chapter.title else [])
        parts += [b.text for note in getattr(chapter, "notes", []) for b in note.blocks]
    return "\n".join(parts)
