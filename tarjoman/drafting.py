"""Machine drafts for every review unit of a book, never made twice.

For each target language a unit is, in this order: remembered (the translation
memory has an approved translation of the same sentence: in this book, another,
or an imported memory — taken as it is, never sent to the engine); carried over
(its text is already in the target language, or has no words to translate);
found in the draft cache; or drafted by the engine, in batches, each batch
committed to the cache as soon as it is made. Sentences cut for length are drafted part by part and joined.
Approved glossary terms bind the engine's drafts (:mod:`tarjoman.glossary.terms`):
each is injected as its approved rendering, checked in the output and repaired
when nearly right; the terms that applied are part of the segment's cache key.
Drafts are finished for the target language (digits, punctuation) last.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .cache import draft_key
from .engines import Engine
from .finishing import finish
from .glossary import TermBase, TermBinder, cache_part, is_rendered
from .manuscript import Manuscript, Segment

if TYPE_CHECKING:
    from .store.cache import DraftCache

ORIGINS = ("memory", "carried", "cache", "machine")
_WORDS = re.compile(r"[^\W\d_]", re.UNICODE)

Progress = Callable[[str, int, int, float], None]
"""``progress(lang, done, total, seconds)``: segments done of those that need the engine."""


@dataclass
class Draft:
    unit: str
    lang: str
    text: str
    origin: str  # one of ORIGINS
    memory: str = ""  # where a remembered translation comes from (book/uid, tmx:file)
    engine: str = ""  # the signature of the engine that made it, when not the run's own (a fallback)
    problem: str = ""  # why the machine left it (or drafted it by another engine), for the translator


@dataclass
class LanguageReport:
    lang: str
    units: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {o: 0 for o in ORIGINS})
    segments_drafted: int = 0
    term_uses: int = 0  # (unit, approved term) pairs in units drafted by the engine or taken from the cache
    terms_missing: int = 0  # of those, drafts without the approved rendering (QA flags them)
    terms_split: int = 0  # segments drafted again in pieces around a term the engine did not render
    model_calls: int = 0
    seconds: float = 0.0


@dataclass
class DraftOptions:
    terms: TermBase | None = None  # approved glossary terms; None: no glossary
    split_terms: bool = True  # re-draft in pieces around a term the engine would not render
    digits: str = "native"
    chunk: int = 64  # segments per engine call, and per cache commit


def needs_no_translation(segment: Segment, target: str) -> bool:
    """Text already in the target language (an Arabic prayer, for the Arabic edition), or
    with no letters at all (a date, a number): carried over. NLLB invents text for
    numbers-only input."""
    return segment.lang == target or not _WORDS.search(segment.text)


def draft_language(
    manuscript: Manuscript,
    target: str,
    engine: Engine,
    cache: "DraftCache",
    *,
    memory: dict[str, tuple[str, str]] | None = None,
    options: DraftOptions | None = None,
    progress: Progress | None = None,
    chapters: set[str] | None = None,
    units: set[str] | None = None,
) -> tuple[list[Draft], LanguageReport]:
    """Drafts of every unit of ``manuscript`` (or of ``chapters``, or of the ``units`` named) in
    ``target``; ``memory`` maps a unit's ID to the memory's approved translation of it and where
    that comes from."""
    options = options or DraftOptions()
    memory = memory or {}
    report = LanguageReport(target)
    started = time.perf_counter()
    calls_before = engine.calls
    identity = engine.cache_identity()
    binder = options.terms.binder(target) if options.terms else TermBinder(target, {})
    wanted = units
    units = [unit for chapter in manuscript.chapters if chapters is None or chapter.id in chapters for unit in chapter.units()
             if wanted is None or unit.id in wanted]
    report.units = len(units)

    def key(segment: Segment) -> str:
        return draft_key(identity, segment.lang, target, cache_part(binder.applied(segment.text), split=options.split_terms), segment.text)

    pending = {}  # cache key → segment (identical sentences are drafted once)
    for unit in units:
        if unit.id in memory:
            continue
        for segment in unit.parts:
            if not needs_no_translation(segment, target):
                for line in _lines(segment):
                    pending.setdefault(key(line), line)
    found = cache.get_many(list(pending))
    missing = [(k, s) for k, s in pending.items() if k not in found]
    drafted = _run_engine(missing, engine, cache, target, identity, options, progress, started, binder, report)
    report.segments_drafted = len(missing)

    drafts = []
    for unit in units:
        if unit.id in memory:
            remembered, name = memory[unit.id]
            drafts.append(Draft(unit.id, target, remembered, "memory", name))
            report.counts["memory"] += 1
            continue
        texts, origins = [], set()
        for segment in unit.parts:
            if needs_no_translation(segment, target):
                texts.append(segment.text)
                origins.add("carried")
                continue
            lines = []
            for line in _lines(segment):
                k = key(line)
                lines.append(drafted[k] if k in drafted else found[k])
                origins.add("machine" if k in drafted else "cache")
            texts.append("\n".join(lines))
        origin = next(o for o in ("machine", "cache", "carried") if o in origins)
        joiners = [(p.split.joiner or " ") if p.split else "" for p in unit.parts]
        text = "".join(t + j for t, j in zip(texts, joiners)).strip()
        if origin != "carried":
            text = finish(text, target, digits=options.digits)
        drafts.append(Draft(unit.id, target, text, origin))
        report.counts[origin] += 1
        if origin != "carried":
            for _term, rendering in binder.applied(unit.text):
                report.term_uses += 1
                report.terms_missing += not is_rendered(rendering, text, target)
    report.model_calls = engine.calls - calls_before
    report.seconds = time.perf_counter() - started
    return drafts, report


def _enforce_terms(engine, binder, segments, outputs, applied, source_lang, target, options, report) -> list[str]:
    """Outputs with each approved term's rendering repaired or, failing that, set in by drafting the
    segment again in pieces around it (see :mod:`tarjoman.glossary.terms`)."""
    outputs = list(outputs)
    retry = []
    for i, terms in enumerate(applied):
        if terms:
            outputs[i], missing = binder.enforce(outputs[i], terms)
            if missing and options.split_terms:
                retry.append((i, binder.pieces(segments[i].text, missing)))
    if not retry:
        return outputs
    texts = [binder.inject(piece) for _, pieces in retry for piece, rendering in pieces if not rendering and _WORDS.search(piece)]
    with engine.lock:
        translated = iter(engine.translate(texts, source_lang, target) if texts else [])
    for i, pieces in retry:
        parts = [piece if rendering else next(translated).strip() if _WORDS.search(piece) else piece.strip() for piece, rendering in pieces]
        outputs[i] = _TIGHT.sub(r"\1", " ".join(p for p in parts if p))
        report.terms_split += 1
    return outputs


_TIGHT = re.compile(r"\s+([.,;:!?،؛؟»)])")


def _lines(segment: Segment) -> list[Segment]:
    """A couplet's hemistichs are drafted line by line, so the translation keeps the verse's shape."""
    if "\n" not in segment.text:
        return [segment]
    return [Segment(segment.id, line, segment.lang) for line in segment.text.split("\n") if line.strip()]


def _run_engine(missing, engine, cache, target, identity, options, progress, started, binder: TermBinder, report: LanguageReport) -> dict[str, str]:
    """Draft the segments no cache has, longest first, committing each chunk as it is made;
    approved terms are injected before the engine and enforced after it."""
    drafted: dict[str, str] = {}
    missing = sorted(missing, key=lambda item: -len(item[1].text))
    by_source: dict[str, list] = {}
    for item in missing:
        by_source.setdefault(item[1].lang, []).append(item)
    done = 0
    if progress:
        progress(target, 0, len(missing), 0.0)
    for source_lang, items in by_source.items():
        for start in range(0, len(items), options.chunk):
            chunk = items[start:start + options.chunk]
            applied = [binder.applied(s.text) for _, s in chunk]
            inputs = [binder.inject(s.text) if terms else s.text for (_, s), terms in zip(chunk, applied)]
            with engine.lock:  # one batch at a time per model: threads share it, the cores are few
                outputs = engine.translate(inputs, source_lang, target)
            outputs = _enforce_terms(engine, binder, [s for _, s in chunk], outputs, applied, source_lang, target, options, report)
            rows = [(k, source_lang, target, s.text, out, identity) for (k, s), out in zip(chunk, outputs)]
            cache.put_many(rows)
            drafted.update((k, out) for (k, _), out in zip(chunk, outputs))
            done += len(chunk)
            if progress:
                progress(target, done, len(missing), time.perf_counter() - started)
    return drafted
