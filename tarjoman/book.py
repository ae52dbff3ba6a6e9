"""Whole-book operations that tie the stages together; each is one call for the CLI and the flows."""

from __future__ import annotations

import fcntl
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

from .drafting import Draft, DraftOptions, LanguageReport, Progress, draft_language
from .engines import Engine
from .errors import ProjectError, ReviewFileError
from .files import ensure_room, size_of
from .glossary import load_termbase
from .project import Project
from .queue import BookSegments, import_files, room_for_views, unimported_files, write_views
from .store import DraftIn
from .store.cache import DraftCache
from .store.core import require_book
from .store.memory import Match, remembered
from .store.translations import record_drafts


@contextmanager
def book_lock(book_dir: Path, what: str, *, shared: bool = False, name: str = ".lock") -> Iterator[None]:
    """One whole-book writer at a time: a second run is refused, never interleaved.
    Chapter tasks hold the book lock shared (and their own chapter lock exclusively)."""
    book_dir.mkdir(parents=True, exist_ok=True)
    with open(book_dir / name, "a+") as handle:
        try:
            fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ProjectError(f"another tarjoman process is working on this book; wait for it to finish before {what}", path=book_dir) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _with_terms(project: Project, book: str, options: DraftOptions | None) -> DraftOptions:
    """``options`` with the book's approved glossary terms, read (and checked) now."""
    options = options or DraftOptions()
    return options if options.terms is not None else replace(options, terms=load_termbase(project, book))


@dataclass
class DraftResult:
    reports: list[LanguageReport]
    files: list[Path]
    signature: str
    tm_approved: int = 0  # in-context memory matches approved (``tm_approve``)


_ORIGIN = {"machine": "machine", "cache": "machine", "carried": "carried", "memory": "tm"}


def _record(store, book: str, lang: str, drafts: list[Draft], signature: str, approve: set[str] = frozenset()) -> int:
    """Drafts into the store; the memory's matches as origin ``tm`` naming their source, those of
    ``approve`` (in-context matches, with ``--tm-approve``) approved, by the memory: how many."""

    def engine(d: Draft) -> str:
        if d.origin in ("machine", "cache"):
            return d.engine or signature
        return f"tm:{d.memory}" if d.origin == "memory" else ""

    rows = [DraftIn(d.unit, d.text, _ORIGIN[d.origin], engine(d), approve=d.unit in approve, problem=d.problem)
            for d in drafts if d.origin != "memory" or d.text]
    record_drafts(store, book, lang, [r for r in rows if not r.approve])
    if not any(r.approve for r in rows):
        return 0
    return record_drafts(store, book, lang, [r for r in rows if r.approve], who="memory")["approved"]


def _remembered(store, book: str, lang: str, chapters: set[str] | None = None) -> dict[str, Match]:
    """uid → the memory's approved translation of the sentence (its own, if it is approved)."""
    with store.read() as session:
        return remembered(session, require_book(session, book), lang, chapters=chapters)


def _memory_drafts(found: dict[str, Match], *, tm_approve: bool) -> tuple[dict[str, tuple[str, str]], set[str]]:
    """What :func:`draft_language` takes from the memory, and the matches to record approved."""
    approve = {uid for uid, m in found.items() if m.in_context} if tm_approve else set()
    return {uid: (m.text, m.name) for uid, m in found.items()}, approve


def _pending_reviews(project: Project, book: str, data, langs: list[str]) -> None:
    """Take in what translators saved since the files were written, before any model time is
    spent; a file that cannot be taken in stops the draft (it is never written over)."""
    result = import_files(project, book, data, langs, None)
    if result.problems:
        first = result.problems[0]
        more = f" (and {len(result.problems) - 1} more; run `tarjoman review import {book}`)" if len(result.problems) > 1 else ""
        raise ReviewFileError(first.message + more, path=first.path, where=f"line {first.line}" if first.line else None)


def draft_book(
    project: Project,
    book: str,
    targets: list[str],
    engine: Engine,
    *,
    options: DraftOptions | None = None,
    progress: Progress | None = None,
    tm_approve: bool = False,
    fallback: Engine | None = None,
    usage=None,
) -> DraftResult:
    """Draft every chapter of an extracted book into ``targets``: drafts into the store, then the review files.
    What the translation memory knows is taken from it, not drafted; ``tm_approve`` approves its
    in-context matches (the same sentence between the same sentences) at once. ``engine`` may be
    an :class:`~tarjoman.engines.llm.LLMEngine` (``fallback``: the NMT engine for what it
    answers wrongly; ``usage`` gathers what the server was asked)."""
    options = _with_terms(project, book, options)
    book_dir = project.book_dir(book)
    with book_lock(book_dir, "drafting"):
        room_for_views(project, book, targets, f"draft {book}")
        data = BookSegments.load(project, book)
        try:
            _pending_reviews(project, book, data, targets)
            cache = DraftCache(data.store)
            reports = []
            approved = 0
            signature = engine.signature_text()
            for target in targets:
                memory, approve = _memory_drafts(_remembered(data.store, book, target), tm_approve=tm_approve)
                if getattr(engine, "backend", "") == "llm":
                    made, report = _draft_with_llm(data, book, target, engine, cache, memory, options, progress, fallback, targets, usage)
                else:
                    made, report = draft_language(data.manuscript, target, engine, cache, memory=memory, options=options, progress=progress)
                approved += _record(data.store, book, target, made, signature, approve)
                reports.append(report)
            files, problems = write_views(project, book, data, targets, terms=options.terms)
        finally:
            data.store.close()
    _raise_first(problems, book)
    return DraftResult(reports, files, signature, approved)


def _others(target: str, targets: list[str]) -> tuple[str, ...]:
    """The languages an answer meant to be in ``target`` may be caught in instead (besides Persian)."""
    from .languages import TARGETS

    return tuple(dict.fromkeys(t for t in (*TARGETS, *targets) if t != target))


def _draft_with_llm(data, book: str, target: str, engine, cache, memory, options, progress, fallback, targets, usage):
    """:func:`~tarjoman.llm_drafting.draft_language_llm` with what the store holds now: the
    translations the context shows and the memory's fuzzy matches."""
    from .llm_drafting import draft_language_llm
    from .store.core import translations
    from .store.memory import fuzzy_for

    with data.store.read() as session:
        current = {uid: t.text for uid, t in translations(session, require_book(session, book), target).items() if t.text}

    def matches(uids: list[str]) -> dict:
        with data.store.read() as session:
            return fuzzy_for(session, require_book(session, book), target, uids)

    return draft_language_llm(data.manuscript, target, engine, cache, memory=memory, current=current, matches=matches, options=options,
                              progress=progress, fallback=fallback, others=_others(target, targets), usage=usage)


def llm_settings(project: Project, book: str, overrides: dict | None = None, *, where: str = "the command line"):
    """The LLM engine's settings for ``book``: the built-in defaults, then ``tarjoman.yaml``'s
    ``llm:``, then the book's YAML's (read at extract), then ``overrides`` (the command line, or
    a flow's parameters), each checked naming where it came from. The API key is never one of
    them: it is read from the environment where the requests are sent."""
    from .engines.llm import LLMSettings, project_llm

    settings = LLMSettings().merged(project_llm(project.root), where="llm", path=project.root / "tarjoman.yaml")
    book_values = project.book_metadata(book).get("llm") or {}
    settings = settings.merged(book_values, where="llm", path=project.sources / f"{book}.yaml")
    settings = settings.merged({k: v for k, v in (overrides or {}).items() if v is not None}, where=where)
    settings.check()
    return settings


def estimate_llm(project: Project, book: str, targets: list[str], settings, options: DraftOptions | None = None) -> list[tuple[str, int, int, int, int]]:
    """(lang, requests, sentences, prompt tokens, completion tokens) a draft with the LLM engine
    would send now, given what the memory and the draft cache already hold; nothing is sent."""
    from .engines.llm import LLMEngine, brief_text
    from .glossary import TermBinder
    from .llm_drafting import estimate, plan

    options = _with_terms(project, book, options)
    engine = LLMEngine(settings)
    data = BookSegments.load(project, book)
    rows = []
    try:
        cache = DraftCache(data.store)
        brief = brief_text(data.manuscript.metadata)
        for target in targets:
            memory, _ = _memory_drafts(_remembered(data.store, book, target), tm_approve=False)
            binder = options.terms.binder(target) if options.terms else TermBinder(target, {})
            planned = plan(data.manuscript, target, engine, cache, binder=binder, memory=memory, current={}, split_terms=options.split_terms)
            prompt, completion = estimate(planned, engine, brief)
            rows.append((target, len(planned.requests), sum(len(p.units) for p in planned.requests), prompt, completion))
    finally:
        data.store.close()
        engine.close()
    return rows


def _raise_first(problems, book: str) -> None:
    if problems:
        first = problems[0]
        raise ReviewFileError(f"{first.message}; the drafts are in the store, this file was not rewritten (fix it and run `tarjoman review import {book}`)",
                              path=first.path, where=f"line {first.line}" if first.line else None)


def draft_chapter(
    project: Project,
    book: str,
    chapter_id: str,
    lang: str,
    engine: Engine,
    *,
    options: DraftOptions | None = None,
    progress: Progress | None = None,
    tm_approve: bool = False,
) -> LanguageReport:
    """Draft one chapter into one language and write its review file: the grain of a Prefect task."""
    book_dir = project.book_dir(book)
    options = _with_terms(project, book, options)
    with book_lock(book_dir, "drafting", shared=True), book_lock(book_dir, f"drafting {chapter_id}/{lang}", name=f".lock-{chapter_id}-{lang}"):
        room_for_views(project, book, [lang], f"draft {book} {chapter_id}/{lang}")
        data = BookSegments.load(project, book)
        try:
            if chapter_id not in data.chapters:
                raise ProjectError(f"book {book!r} has no chapter {chapter_id!r}", path=project.manuscript_path(book))
            memory, approve = _memory_drafts(_remembered(data.store, book, lang, {chapter_id}), tm_approve=tm_approve)
            made, report = draft_language(data.manuscript, lang, engine, DraftCache(data.store), memory=memory,
                                          options=options, progress=progress, chapters={chapter_id})
            _record(data.store, book, lang, made, engine.signature_text(), approve)
            _, problems = write_views(project, book, data, [lang], chapters=[chapter_id], terms=options.terms)
        finally:
            data.store.close()
    _raise_first(problems, book)
    return report


FORMATS = ("epub", "pdf", "docx")


def parse_formats(value: str) -> tuple[str, ...]:
    """``"pdf,epub"`` or ``"all"`` → the formats, checked, in publishing order."""
    named = [f.strip().lower() for f in value.split(",") if f.strip()]
    if value.strip() == "all":
        return FORMATS
    unknown = [f for f in named if f not in FORMATS]
    if unknown or not named:
        raise ProjectError(f"cannot publish as {(unknown or [value])[0]!r}; the formats are {', '.join(FORMATS)} (comma-separated), or 'all'")
    return tuple(f for f in FORMATS if f in named)


@dataclass
class PublishResult:
    path: Path  # the first format's file (the EPUB when it was asked for)
    lang: str
    draft: bool
    untranslated: int
    review_problems: list[str]
    ace: object | None = None  # tarjoman.accessibility.AceReport, when Ace checked the book
    conforms: bool = False
    ace_report: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)  # format → file written
    pages: int | None = None  # the PDF's


def edition_path(book_dir: Path, book: str, lang: str, form: str, *, bilingual: bool = False) -> Path:
    """``outputs/<book>/<format>/<book>.<lang>[.bilingual].<format>``."""
    return book_dir / form / (f"{book}.{lang}.bilingual.{form}" if bilingual else f"{book}.{lang}.{form}")


def publish_book(project: Project, book: str, lang: str, *, draft: bool = False, bilingual: bool = False, ace: bool = False,
                 formats: tuple[str, ...] = ("epub",)) -> PublishResult:
    """Build and check ``outputs/<book>/<format>/<book>.<lang>[.bilingual].<format>`` from the store, for each
    of ``formats`` (epub, pdf, docx) from the one edition."""
    from .edition import build_edition

    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ProjectError(f"cannot publish as {(unknown or [''])[0]!r}; the formats are {', '.join(FORMATS)}")
    book_dir = project.book_dir(book)
    # An edition holds the text, the images and the fonts; each file is written beside the old one first.
    fonts = size_of(Path(__file__).parent / "fonts")
    need = 2 * size_of(project.manuscript_path(book)) + size_of(book_dir / "images") + fonts
    for form in formats:
        ensure_room(book_dir / form, need, f"publish {book} in {lang} as {form}")
    with book_lock(book_dir, "publishing", name=".lock-publish"):
        edition = build_edition(project, book, lang, draft=draft, bilingual=bilingual)
        result = PublishResult(Path(), lang, draft, edition.untranslated, [])
        for form in formats:
            target = edition_path(book_dir, book, lang, form, bilingual=bilingual)
            if form == "epub":
                from .epub import render_epub

                written = render_epub(edition, target, ace=ace)
                result.ace, result.conforms, result.ace_report = written.ace, written.conforms, written.report
            elif form == "pdf":
                from .pdf import render_pdf

                result.pages = render_pdf(edition, target).pages
            else:
                from .worddoc import render_docx

                render_docx(edition, target)
            result.files[form] = target
    result.path = result.files[formats[0]]
    result.review_problems = unimported_files(project, book, [lang])
    return result
