"""What the desk shows and does, as core functions: a translator's work list, a chapter as a
translator reviews it (source, glossary marks, footnotes, QA, the previous machine draft and
source), saving a sentence against the version it was based on, the glossary as an editor
decides it, the translation memory (fuzzy matches beside a draft, the concordance, what it
finds inconsistent), and a book's state as a publisher watches it.

The desk's pages and its JSON API call these; they hold no rules of their own. Every write
goes through the review store (:mod:`tarjoman.store.translations`, :mod:`tarjoman.glossary`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from .errors import StoreError, TarjomanError
from .glossary import approve as approve_term, load_termbase, reject as reject_term, terms_of
from .glossary.terms import Occurrence, TermIndex
from .languages import SOURCE, TARGETS, canonical, is_language, nearest
from .manuscript import load_manuscript
from .memory import word_diff
from .project import Project
from .qa import approval_problem
from .store import ConflictView, Edit, Store, TranslationView
from .store import translations as store_translations
from .store.core import books as store_books, chapter_keys, chapter_slice, progress, require_book, segment_source
from .store.core import segments as store_segments, translation as store_translation, translations as store_chapter_translations
from .store.core import work_counts
from .store.translations import all_languages as store_all_languages, store_languages
from .store.memory import Occurrence as Remembered, fuzzy_for, inconsistencies, search as memory_search

STATES = ("draft", "approved")


class DeskError(TarjomanError):
    """A request the desk cannot carry out (bad text, a state it does not know)."""


class NotFound(DeskError):
    """No such book, chapter, sentence, conflict or edition."""


# --- a translator's work ---------------------------------------------------------------


@dataclass(frozen=True)
class ChapterWork:
    book: str
    chapter: str
    lang: str
    total: int
    approved: int
    edited: int
    machine: int
    tm: int

    @property
    def percent(self) -> float:
        return round(100 * self.approved / self.total, 1) if self.total else 100.0


_synced: dict[str, tuple[int, int]] = {}


def in_line(project: Project, book: str) -> None:
    """Bring the store in line with the book's manuscript when it was extracted again since
    (review files saved against the old revision go in first, as for every command)."""
    path = project.manuscript_path(book)
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    mark = (info.st_mtime_ns, info.st_size)
    if _synced.get(str(path)) == mark:
        return
    from .queue import BookSegments

    BookSegments.load(project, book).store.close()
    _synced[str(path)] = mark


def books(store: Store) -> list[tuple[str, str]]:
    with store.read() as session:
        return store_books(session)


def work(store: Store, langs: list[str], project: Project | None = None) -> list[ChapterWork]:
    """Books × chapters × ``langs`` with their progress."""
    out = []
    slugs = [slug for slug, _title in books(store)]
    for slug in slugs if project is not None else []:
        in_line(project, slug)
    with store.read() as session:
        for slug in slugs:
            book = require_book(session, slug)
            chapters, _ = progress(session, book)
            counts = work_counts(session, book)
            for chapter, total in chapters:
                for lang in langs:
                    c = counts.get((chapter, lang), dict(approved=0, edited=0, tm=0, machine=0))
                    out.append(ChapterWork(slug, chapter, lang, total, c["approved"], c["edited"], c["machine"], c["tm"]))
    return out


# --- a chapter, as a translator reviews it -----------------------------------------------


@dataclass(frozen=True)
class Note:
    """A footnote mark cited in a sentence, and the first sentence of the footnote."""

    mark: str
    uid: str


@dataclass(frozen=True)
class SegmentRow:
    uid: str
    paragraph: str
    kind: str
    source: str
    source_lang: str
    translation: TranslationView | None
    terms: list[Occurrence] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    cited_in: str = ""  # for a footnote's sentence: the sentence citing it

    @property
    def text(self) -> str:
        return self.translation.text if self.translation else ""

    @property
    def state(self) -> str:
        return self.translation.state if self.translation else "empty"

    @property
    def version(self) -> int:
        return self.translation.version if self.translation else 0

    @property
    def source_pieces(self) -> list[tuple[str, Occurrence | None]]:
        """The source cut around its approved glossary terms, for marking them."""
        out, last = [], 0
        for occ in self.terms:
            out.append((self.source[last:occ.start], None))
            out.append((self.source[occ.start:occ.end], occ))
            last = occ.end
        out.append((self.source[last:], None))
        return [(text, occ) for text, occ in out if text]


@dataclass(frozen=True)
class ChapterPage:
    """A slice of a chapter, whole paragraphs, from sentence ``start``; ``next_start`` is where the
    next slice begins (None at the end). A page shows the first slice and fetches the others as
    the translator reaches them: a chapter of thousands of sentences opens as fast as a short one."""

    book: str
    chapter: str
    lang: str
    paragraphs: list[tuple[str, list[SegmentRow]]]  # (paragraph key, its sentences), in reading order
    chapters: list[str]
    start: int
    total: int
    next_start: int | None

    @property
    def rows(self) -> list[SegmentRow]:
        return [row for _, rows in self.paragraphs for row in rows]


SLICE = 200  # sentences in one slice of a chapter page (more, to end on a paragraph's last sentence)


@lru_cache(maxsize=16)
def _citations(path: str, mtime_ns: int) -> tuple[dict[str, tuple[Note, ...]], dict[str, str]]:
    """From the manuscript: sentence → footnotes it cites, and a footnote's first sentence → the citing sentence."""
    manuscript = load_manuscript(Path(path))
    cites: dict[str, tuple[Note, ...]] = {}
    cited_in: dict[str, str] = {}
    for chapter in manuscript.chapters:
        first = {}
        for note in chapter.footnotes:
            for paragraph in note.paragraphs:
                units = chapter.paragraph_units(paragraph)
                if units:
                    first[note.id] = (note.mark, units[0].id)
                    break
        for paragraph in ([chapter.title] if chapter.title else []) + chapter.paragraphs:
            for unit in chapter.paragraph_units(paragraph):
                found = [first[ref.footnote] for part in unit.parts for ref in part.notes if ref.footnote in first]
                if found:
                    cites[unit.id] = tuple(Note(mark, uid) for mark, uid in found)
                    for _mark, uid in found:
                        cited_in.setdefault(uid, unit.id)
    return cites, cited_in


def citations(project: Project, book: str) -> tuple[dict[str, tuple[Note, ...]], dict[str, str]]:
    path = project.manuscript_path(book)
    try:
        return _citations(str(path), os.stat(path).st_mtime_ns)
    except FileNotFoundError:
        return {}, {}


def chapter_page(project: Project, store: Store, book: str, chapter: str, lang: str, *, start: int = 0,
                 count: int | None = SLICE) -> ChapterPage:
    """Sentences of a chapter from ``start`` with their text in ``lang``, paragraph by paragraph:
    ``count`` of them and the rest of the last one's paragraph (None: the whole chapter)."""
    check_lang(lang)
    in_line(project, book)
    terms = load_termbase(project, book).binder(lang)
    cites, cited_in = citations(project, book)
    start = max(0, start)
    with store.read() as session:
        row = _book(session, book)
        chapters = chapter_keys(session, row)
        if chapter not in chapters:
            raise NotFound(f"book {book!r} has no chapter {chapter!r}")
        sentences, total = chapter_slice(session, row, chapter, start, (count + 100) if count is not None else 10**9)
        if count is not None and len(sentences) > count:
            end = count
            while end < len(sentences) and sentences[end].paragraph == sentences[end - 1].paragraph:
                end += 1
            sentences = sentences[:end]
        found = store_chapter_translations(session, row, lang, uids=[s.uid for s in sentences])
    paragraphs: list[tuple[str, list[SegmentRow]]] = []
    for s in sentences:
        item = SegmentRow(s.uid, s.paragraph, s.kind, s.source, s.lang, found.get(s.uid), terms.find(s.source) if terms else [],
                          list(cites.get(s.uid, ())), cited_in.get(s.uid, ""))
        if paragraphs and paragraphs[-1][0] == s.paragraph:
            paragraphs[-1][1].append(item)
        else:
            paragraphs.append((s.paragraph, [item]))
    after = start + len(sentences)
    return ChapterPage(book, chapter, lang, paragraphs, chapters, start, total, after if after < total else None)


def segment(store: Store, book: str, lang: str, uid: str) -> tuple[tuple[str, str], TranslationView | None]:
    """((source, its language), translation) of one sentence."""
    check_lang(lang)
    with store.read() as session:
        row = _book(session, book)
        source = _source(session, row, uid)
        return source, store_translation(session, row, lang, uid)


# --- saving a sentence ---------------------------------------------------------------------


@dataclass(frozen=True)
class Saved:
    """The outcome of a save: the translation as it now stands, and the conflict if there was one."""

    text: str
    state: str
    version: int
    changed_by: str
    conflict: ConflictView | None = None


def save(store: Store, book: str, lang: str, uid: str, *, text: str, state: str, base_version: int, who: str) -> Saved:
    """Save (``draft``) or approve (``approved``) a sentence, made against ``base_version``.

    If someone else changed the sentence since that version, nothing is overwritten: the save
    is kept as a conflict (``review conflicts`` lists it) and returned with the text as it
    stands. Machine drafts made since give way to the person, as for every writer."""
    check_lang(lang)
    if state not in STATES:
        raise DeskError(f"state {state!r}: one of {', '.join(STATES)}")
    if "\x00" in text or len(text) > 20000:
        raise DeskError(f"{uid}: the text is not one a sentence can have")
    text = text.strip()
    if state == "approved":
        (source, source_lang), _current = segment(store, book, lang, uid)
        problem = approval_problem(source, text, lang, source_lang)
        if problem:
            raise DeskError(f"{uid}: cannot approve: {problem}")
    outcome = store_translations.apply_edits(store, book, {lang: [Edit(uid, text, state, base_version, "desk")]}, who=who,
                                             origin="translator")  # an unknown book or sentence is refused with its name
    if outcome.applied:
        return Saved(text, state, outcome.versions[(lang, uid)], who)
    _source, now = segment(store, book, lang, uid)  # unchanged, or kept as a conflict: what stands
    assert now is not None
    return Saved(now.text, now.state, now.version, now.changed_by, outcome.conflicts[0] if outcome.conflicts else None)


def resolve(store: Store, book: str, conflict_id: int, *, take: str, who: str) -> ConflictView:
    """Settle a conflict: ``store`` keeps the text that stands, ``theirs`` takes the one kept aside."""
    return store_translations.resolve(store, book, conflict_id, take=take, who=who)


def conflicts(store: Store, book: str, lang: str | None = None) -> list[ConflictView]:
    return [c for c in store_translations.conflicts(store, book) if lang is None or c.lang == lang]


def history(store: Store, book: str, uid: str, lang: str):
    return store_translations.history(store, book, uid=uid, lang=lang)


# --- the translation memory, beside the draft and on its own -------------------------------------


@dataclass(frozen=True)
class MemoryMatch:
    score: int
    text: str  # the remembered translation
    source: str  # the remembered source
    diff: list[tuple[str, str]]  # how it differs from this sentence, word by word ("=", "-", "+")
    where: str  # "book chapter", or the imported memory's file
    book: str
    chapter: str
    uid: str


def matches(store: Store, book: str, lang: str, uid: str, *, limit: int = 3) -> list[MemoryMatch]:
    """The memory's best fuzzy matches for one sentence (70 % or more), best first."""
    check_lang(lang)
    with store.read() as session:
        row = _book(session, book)
        source, _ = _source(session, row, uid)
        found = fuzzy_for(session, row, lang, [uid], limit=limit).get(uid, [])
    return [MemoryMatch(m.score, m.text, m.source, word_diff(m.source, source), m.where, m.book, m.chapter, m.uid) for m in found]


def concordance(store: Store, query: str, *, langs: list[str], lang: str | None = None, side: str = "both",
                limit: int = 50) -> list[Remembered]:
    """Remembered sentences holding ``query``, with only the translations in ``langs`` (what the person may read)."""
    if lang is not None:
        check_lang(lang)
        if lang not in langs:
            return []
    if side not in ("both", "source", "target"):
        raise DeskError(f"side {side!r}: both, source or target")
    with store.read() as session:
        found = memory_search(session, query, lang=lang, side=side, limit=limit)
    shown = [replace(o, translations={code: text for code, text in o.translations.items() if code in langs}) for o in found]
    return [o for o in shown if o.translations]


@dataclass(frozen=True)
class Inconsistency:
    lang: str
    chapter: str
    uid: str
    source: str
    text: str
    finding: str


def consistency(store: Store, book: str) -> list[Inconsistency]:
    """The book's approved translations the memory disagrees with (see :func:`tarjoman.store.memory.inconsistencies`)."""
    with store.read() as session:
        row = _book(session, book)
        sentences = store_segments(session, row)
        out = []
        for lang in book_langs(session, row):
            found = inconsistencies(session, row, lang)
            if not found:
                continue
            texts = store_chapter_translations(session, row, lang, uids=list(found))
            out += [Inconsistency(lang, s.chapter, s.uid, s.source, texts[s.uid].text, finding)
                    for s in sentences if s.uid in found and s.uid in texts for finding in found[s.uid]]
    return out


# --- the glossary, as an editor decides it ---------------------------------------------------


@dataclass(frozen=True)
class TermRow:
    term: str
    key: str
    status: str
    kind: str
    note: str
    renderings: dict[str, str]
    decided_by: str
    decided_at: str
    version: int
    common: bool
    count: int
    chapters: list[str]
    examples: list[tuple[str, str, str]]  # (chapter, uid, source)
    drafts_to_change: dict[str, int]  # lang → machine drafts of sentences holding the term, not yet rendering it


@dataclass(frozen=True)
class GlossaryPage:
    rows: list[TermRow]
    total: int  # terms that pass the filter
    offset: int
    limit: int
    status: str
    query: str


_indexes: dict[tuple[str, str], TermIndex] = {}


def _term_index(project: Project, book: str, sentences: list) -> TermIndex:
    """The book's sentences indexed for finding terms, kept while the manuscript stays the same."""
    path = project.manuscript_path(book)
    key = (str(path), f"{path.stat().st_mtime_ns if path.exists() else 0}:{len(sentences)}")
    if key not in _indexes:
        for old in [k for k in _indexes if k[0] == key[0]]:
            del _indexes[old]
        _indexes[key] = TermIndex([s.source for s in sentences])
    return _indexes[key]


def _proposed_count(view) -> int:
    """How often ``suggest`` counted a term (0 when it did not propose it)."""
    value = str(view.extra.get("count", "")).strip()
    return int(value) if value.isdigit() else 0


def glossary_page(project: Project, store: Store, book: str, *, status: str = "", query: str = "", term: str | None = None,
                  offset: int = 0, limit: int = 50) -> GlossaryPage:
    """The book's terms (and the common ones): proposed first, the most frequent first, ``limit``
    from ``offset``, optionally only one ``status``, those whose term or renderings hold ``query``,
    or one ``term``; each with where it occurs and how many machine drafts approving it changes."""
    in_line(project, book)
    scopes = terms_of(project, book)
    needle = query.strip().casefold()
    views = [(scope, view) for scope, found in scopes.items() for view in found
             if (not status or view.status == status) and (term is None or view.term == term)
             and (not needle or needle in view.term.casefold() or any(needle in r.casefold() for r in view.renderings.values()))]
    order = {"proposed": 0, "approved": 1, "rejected": 2}
    views.sort(key=lambda item: (order.get(item[1].status, 3), -_proposed_count(item[1]), item[1].term))
    offset, limit = max(0, offset), max(1, limit)
    shown = views[offset:offset + limit]
    with store.read() as session:
        row = _book(session, book)
        sentences = store_segments(session, row)
        index = _term_index(project, book, sentences)
        hits = {view.term: [sentences[i] for i in index.find(view.term)] for _, view in shown if view.term.strip()}
        uids = sorted({s.uid for found in hits.values() for s in found})
        langs = book_langs(session, row)
        by_lang = {lang: store_chapter_translations(session, row, lang, uids=uids) for lang in langs}
    out = []
    for scope, view in shown:
        found = hits.get(view.term, [])
        to_change = {}
        for lang in langs:
            rendering = view.renderings.get(lang, "")
            to_change[lang] = sum(1 for s in found if (t := by_lang[lang].get(s.uid)) is not None and t.state == "draft"
                                  and t.origin in ("machine", "tm") and not (rendering and rendering in t.text))
        out.append(TermRow(view.term, view.key, view.status, view.kind, view.note, dict(view.renderings), view.decided_by, view.decided_at,
                           view.version, scope == "" and book != "", len(found), sorted({s.chapter for s in found}),
                           [(s.chapter, s.uid, s.source) for s in found[:3]], to_change))
    return GlossaryPage(out, len(views), offset, limit, status, query)


def decide_term(project: Project, book: str, term: str, decision: str, *, renderings: dict[str, str] | None = None,
                kind: str | None = None, who: str) -> None:
    if decision == "approve":
        approve_term(project, book, term, dict(renderings or {}), by=who, kind=kind or None)
    elif decision == "reject":
        reject_term(project, book, term, by=who)
    else:
        raise DeskError(f"decision {decision!r}: approve or reject")


def term_history(project: Project, store: Store, book: str, key: str):
    from .store.terms import history as store_term_history

    return store_term_history(store, book, key) + (store_term_history(store, "", key) if book else [])


# --- helpers ---------------------------------------------------------------------------


def check_lang(lang: str) -> None:
    if not is_language(lang) or canonical(lang) != lang or lang == SOURCE:
        near = ", ".join(nearest(lang)) if not is_language(lang) else canonical(lang)
        raise DeskError(f"language {lang!r} is not a target language's code" + (f" (nearest: {near})" if near else ""))


def book_langs(session, book_row) -> list[str]:
    """The default targets, then every other language the book has translations in."""
    found = store_languages(session, book_row)
    return list(TARGETS) + [lang for lang in found if lang not in TARGETS and lang != SOURCE]


def known_languages(store: Store) -> list[str]:
    """The languages of every book in the store: what the desk lists for those who see them all."""
    with store.read() as session:
        found = store_all_languages(session)
    return list(TARGETS) + [lang for lang in found if lang not in TARGETS and lang != SOURCE]


def _book(session, book: str):
    try:
        return require_book(session, book)
    except StoreError as exc:
        raise NotFound(f"no book {book!r} in the review store") from exc


def _source(session, book_row, uid: str) -> tuple[str, str]:
    source = segment_source(session, book_row, uid)
    if source is None:
        raise NotFound(f"book {book_row.slug!r} has no sentence {uid}")
    return source


@dataclass(frozen=True)
class Blocker:
    chapter: str
    uid: str
    lang: str
    source: str
    text: str
    problem: str


def blockers(project: Project, store: Store, book: str) -> list[Blocker]:
    """Approved translations that cannot go into a book (publish refuses them), in reading order."""
    with store.read() as session:
        row = _book(session, book)
        sentences = store_segments(session, row)
        by_lang = {lang: store_chapter_translations(session, row, lang) for lang in book_langs(session, row)}
    out = []
    for lang in by_lang:
        for s in sentences:
            t = by_lang[lang].get(s.uid)
            if t is not None and t.state == "approved":
                problem = approval_problem(s.source, t.text, lang, s.lang, publishing=True)
                if problem:
                    out.append(Blocker(s.chapter, s.uid, lang, s.source, t.text, problem))
    return out


EDITION_TYPES = {"epub": "application/epub+zip", "pdf": "application/pdf",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
EDITION_KINDS = {"epub": "EPUBCheck: no errors, no warnings", "pdf": "print edition (PDF, fonts embedded)", "docx": "Word manuscript for copy-editing"}


@dataclass(frozen=True)
class Edition:
    name: str
    path: Path
    lang: str
    size: int
    built_at: datetime
    checked: str  # what EPUBCheck said, and Ace by DAISY where it checked this build; what a PDF or Word file is
    format: str = "epub"


def editions(project: Project, book: str) -> list[Edition]:
    """The book's published files: EPUBs, PDFs, Word files (``outputs/<book>/<format>/``). ``publish``
    writes an EPUB only when EPUBCheck finds nothing in it (no error, no warning), so every EPUB here
    passed when it was built."""
    from datetime import timezone

    out = []
    for form in EDITION_TYPES:
        folder = project.book_dir(book) / form
        for path in sorted(folder.glob(f"*.{form}")) if folder.is_dir() else []:
            info = path.stat()
            checked = [EDITION_KINDS[form], *(_ace_verdict(path) if form == "epub" else [])]
            out.append(Edition(path.name, path, path.name.split(".")[1] if path.name.count(".") >= 2 else "", info.st_size,
                               datetime.fromtimestamp(info.st_mtime, timezone.utc), "; ".join(checked), form))
    return out


def _ace_verdict(path: Path) -> list[str]:
    """Ace's verdict on the book at ``path``, from the report ``publish --ace`` kept beside it, if
    that report is of this build (a later ``publish`` without ``--ace`` leaves an older one)."""
    import json
    import zipfile

    from .accessibility import CONFORMS_TO, IMPACTS, parse_report

    report = path.with_name(path.name + ".ace") / "report.json"
    try:
        if report.stat().st_mtime < path.stat().st_mtime - 1:
            return []
        verdict = parse_report(json.loads(report.read_text(encoding="utf-8")))
        with zipfile.ZipFile(path) as archive:
            claims = CONFORMS_TO.encode() in archive.read("EPUB/content.opf")
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return []
    counts = ", ".join(f"{verdict.count(impact)} {impact}" for impact in IMPACTS)
    return [f"Ace: {verdict.outcome} ({counts})", "claims EPUB Accessibility 1.1, WCAG 2.1 AA" if claims else "claims no accessibility conformance"]


@dataclass(frozen=True)
class PostEditScores:
    """What the last ``tarjoman report`` found: chrF per language (weighted by sentences), and when."""

    chrf: dict[str, float]
    computed_at: datetime
    chart: bool


def post_edit_scores(project: Project, book: str) -> PostEditScores | None:
    """The scores of the last post-edit report (``outputs/<book>/post-edit.json``), None before the first.
    Scoring a novel takes seconds, so the dashboard shows the last report and runs the next as a job."""
    import json
    from datetime import timezone

    path = project.book_dir(book) / "post-edit.json"
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        at = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    except (OSError, ValueError):
        return None
    per_lang: dict[str, list[dict]] = {}
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and {"lang", "chrf", "segments"} <= set(row):
            per_lang.setdefault(str(row["lang"]), []).append(row)
    chrf = {lang: round(sum(r["chrf"] * r["segments"] for r in found) / max(1, sum(r["segments"] for r in found)), 1)
            for lang, found in sorted(per_lang.items())}
    return PostEditScores(chrf, at, (project.book_dir(book) / "post-edit.png").is_file())


def when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else ""
