"""Whole-book operations that tie the stages together; each is one call for the CLI and the flows."""

from __future__ import annotations

import fcntl
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from .cache import DraftCache
from .drafting import Draft, DraftOptions, LanguageReport, Progress, draft_language
from .engines import Engine
from .errors import ProjectError
from .glossary import load_termbase
from .manuscript import Manuscript, load_manuscript
from .project import Project
from .review import load_previous, write_chapter


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


def draft_book(
    project: Project,
    book: str,
    targets: list[str],
    engine: Engine,
    *,
    options: DraftOptions | None = None,
    progress: Progress | None = None,
) -> DraftResult:
    """Draft every chapter of an extracted book into ``targets`` and write the review files."""
    manuscript: Manuscript = load_manuscript(project.manuscript_path(book))
    book_dir = project.book_dir(book)
    options = _with_terms(project, book, options)
    with book_lock(book_dir, "drafting"):
        cache = DraftCache(book_dir / "drafts.sqlite")
        try:
            drafts: dict[str, dict[str, Draft]] = {}
            reports = []
            # Read (and check) every review file before any model time is spent.
            previous = {lang: load_previous(book_dir, lang) for lang in targets}
            for target in targets:
                approved = previous[target].approved_texts()
                made, report = draft_language(manuscript, target, engine, cache, approved=approved, options=options, progress=progress)
                drafts[target] = {d.unit: d for d in made}
                reports.append(report)
        finally:
            cache.close()
        files = []
        signature = engine.signature_text()
        for chapter in manuscript.chapters:
            units = list(chapter.units())
            files += write_chapter(manuscript, book_dir, chapter.id, units, drafts, signature, previous, terms=options.terms)
    return DraftResult(reports, files, signature)


def draft_chapter(
    project: Project,
    book: str,
    chapter_id: str,
    lang: str,
    engine: Engine,
    *,
    options: DraftOptions | None = None,
    progress: Progress | None = None,
) -> LanguageReport:
    """Draft one chapter into one language and write its review file: the grain of a Prefect task."""
    manuscript = load_manuscript(project.manuscript_path(book))
    if chapter_id not in {c.id for c in manuscript.chapters}:
        raise ProjectError(f"book {book!r} has no chapter {chapter_id!r}", path=project.manuscript_path(book))
    book_dir = project.book_dir(book)
    options = _with_terms(project, book, options)
    with book_lock(book_dir, "drafting", shared=True), book_lock(book_dir, f"drafting {chapter_id}/{lang}", name=f".lock-{chapter_id}-{lang}"):
        previous = load_previous(book_dir, lang, writing={chapter_id})
        cache = DraftCache(book_dir / "drafts.sqlite")
        try:
            made, report = draft_language(manuscript, lang, engine, cache, approved=previous.approved_texts(), options=options, progress=progress, chapters={chapter_id})
        finally:
            cache.close()
        chapter = next(c for c in manuscript.chapters if c.id == chapter_id)
        write_chapter(manuscript, book_dir, chapter_id, list(chapter.units()), {lang: {d.unit: d for d in made}}, engine.signature_text(), {lang: previous}, terms=options.terms)
    return report


@dataclass
class PublishResult:
    path: Path
    lang: str
    draft: bool
    untranslated: int
    review_problems: list[str]


def publish_book(project: Project, book: str, lang: str, *, draft: bool = False, bilingual: bool = False) -> PublishResult:
    """Build and check ``outputs/<book>/epub/<book>.<lang>[.bilingual].epub`` from the reviewed translations."""
    from .edition import build_edition
    from .epub import render_epub
    from .queue import import_reviews

    book_dir = project.book_dir(book)
    with book_lock(book_dir, "publishing"):
        problems = [str(p) for p in import_reviews(project, book, [lang]).problems]
        edition = build_edition(project, book, lang, draft=draft, bilingual=bilingual)
        name = f"{book}.{lang}.bilingual.epub" if bilingual else f"{book}.{lang}.epub"
        path = render_epub(edition, book_dir / "epub" / name)
    return PublishResult(path, lang, draft, edition.untranslated, problems)
