"""The review queue over the store: PO files in and out, status, QA, post-edit metrics, TMX.

PO files are the translators' exchange with the store. ``review import`` applies what changed
in them, entry by entry, in one transaction; a file with any problem is refused whole (every
problem reported as file:line) and changes nothing; an entry missing from a file is not a
deletion. ``review export`` (and ``draft``) write them from the store, never over a file a
translator saved since it was written without importing it first.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import Problem, ReviewFileError, TarjomanError
from .files import ensure_room, replace_if_unchanged, size_of, write_atomic
from .languages import SOURCE, TARGETS, canonical, is_language
from .manuscript import Manuscript
from .metrics import chart_png, post_edit_score
from .project import Project
from .project_store import open_book, open_store, who_am_i
from .qa import Finding, approval_problem, check_entry
from .review import FileInfo, memory_lines, po_path, read_entries, read_review_file, render_po, render_pot, review_dir, syntax_errors
from .store import Edit, SegmentView, Store
from .store import files as exchange
from .store.core import progress as store_progress, require_book, segments as store_segments, translations as store_translations
from .store.memory import fuzzy_for, inconsistencies
from .store.translations import accept_drafts as store_accept, apply_edits, set_findings, store_languages
from .tmx import tmx_document


@dataclass
class ImportResult:
    imported: list[str]  # files whose changes were applied (or had none)
    problems: list[Problem]  # files refused, each problem with file and line
    conflicts: list = field(default_factory=list)  # ConflictView: kept for a person to resolve
    notices: list[str] = field(default_factory=list)  # deleted files, nothing applied
    applied: int = 0
    unchanged_files: int = 0


def _relative(project: Project, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(project.root.resolve()))
    except ValueError:
        return str(path)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class BookSegments:
    """One book's segments, read once per command."""

    store: Store
    manuscript: Manuscript
    chapters: dict[str, list[SegmentView]]  # active segments per chapter, in order
    obsolete: dict[str, list[SegmentView]]

    @classmethod
    def load(cls, project: Project, book: str) -> "BookSegments":
        def before_revision(store: Store) -> None:
            """Review files saved against the previous revision go in before it is replaced; those
            that cannot are left for `review import` to report."""
            import_files(project, book, cls.read(store, book, None), None, None)

        store, manuscript = open_book(project, book, before_revision=before_revision)
        return cls.read(store, book, manuscript)

    @classmethod
    def read(cls, store: Store, book: str, manuscript: Manuscript | None) -> "BookSegments":
        chapters: dict[str, list[SegmentView]] = {c.id: [] for c in manuscript.chapters} if manuscript else {}
        obsolete: dict[str, list[SegmentView]] = {}
        with store.read() as session:
            for segment in store_segments(session, require_book(session, book), obsolete=None):
                (obsolete.setdefault(segment.chapter, []) if segment.obsolete else chapters.setdefault(segment.chapter, [])).append(segment)
        return cls(store, manuscript, chapters, obsolete)


@dataclass
class _Parsed:
    edits: list[Edit]
    problems: list[Problem]
    translator: str = ""  # the file's Last-Translator, unless a machine wrote it


def _parse(path: Path, segments: list[SegmentView], lang: str, recorded: dict) -> _Parsed:
    """The edits a reviewed file brings, or its problems (then nothing of it is applied). The file
    is checked by msgfmt once and parsed once."""
    problems = syntax_errors(path)
    if problems:
        return _Parsed([], problems)
    try:
        found = read_review_file(path)
    except ReviewFileError as exc:
        line = int(exc.where.split()[-1]) if exc.where and exc.where.split()[-1].isdigit() else 0
        return _Parsed([], [Problem(str(path), line, exc.detail)])
    entries, declared = found.entries, found.metadata.get("Language", "")
    if declared and not _same_language(declared, lang):
        problems.append(Problem(str(path), 0, f"the header says Language: {declared}, but the file is {lang}.po"))
    by_uid = {s.uid: s for s in segments}
    by_key = {(s.msgctxt, s.source): s for s in segments}
    contexts = {s.msgctxt for s in segments}
    seen: set[str] = set()
    edits = []
    for entry in entries:
        if entry.obsolete:
            continue
        segment = by_uid.get(entry.uid) if entry.uid else None
        if segment is None or segment.source != entry.msgid or segment.msgctxt != entry.msgctxt:
            segment = by_key.get((entry.msgctxt, entry.msgid))
        where = f"{path}:{entry.line}"
        if segment is None:
            if entry.msgid not in {s.source for s in segments}:
                problems.append(Problem(str(path), entry.line, "msgid does not match any sentence of the chapter: the source text was edited here (edit the manuscript instead)"))
            elif entry.msgctxt not in contexts:
                problems.append(Problem(str(path), entry.line, f"msgctxt {entry.msgctxt!r} was edited"))
            continue
        if segment.uid in seen:
            problems.append(Problem(str(path), entry.line, "this entry appears twice"))
            continue
        seen.add(segment.uid)
        if entry.approved:
            reason = approval_problem(segment.source, entry.msgstr, lang, segment.lang)
            if reason:
                problems.append(Problem(str(path), entry.line, f"approved translation refused: {reason}"))
                continue
        if entry.msgstr:
            written = entry.version if entry.uid == segment.uid else None
            edits.append(Edit(segment.uid, entry.msgstr, "approved" if entry.approved else "draft", written, where, entry.tcomment,
                              known_version=recorded.get(segment.uid), source=str(path)))
    missing = len(segments) - len(seen)
    if missing and not problems:
        problems.append(Problem(str(path), 0, f"has {len(seen)} of the chapter's {len(segments)} sentences (cut short, or saved with only its header?); "
                                              f"nothing in it was applied and the store keeps every translation; `tarjoman review export` writes it again"))
    return _Parsed(edits, problems, _person(found.metadata.get("Last-Translator", "")))


def import_files(project: Project, book: str, data: BookSegments, langs: list[str] | None, who: str | None) -> ImportResult:
    result = ImportResult([], [])
    book_dir = project.book_dir(book)
    present = sorted((book_dir / "review").glob("*/*.po"))
    records = exchange.written(data.store, [_relative(project, p) for p in present])
    edits: dict[str, list[Edit]] = {}
    accepted: list[tuple[Path, str, bytes]] = []
    translators: list[str] = []
    for path in present:
        chapter, lang = path.parent.name, path.stem
        if langs and lang not in langs:
            continue
        if chapter not in data.chapters:
            result.problems.append(Problem(str(path), 0, f"chapter {chapter} is no longer in the manuscript; its translations are kept here, not imported"))
            continue
        if not is_language(lang) or canonical(lang) != lang or lang == SOURCE:
            result.problems.append(Problem(str(path), 0, f"{lang}.po is not named by a target language's code (ar.po, id.po, zh-Hans.po)"))
            continue
        raw = path.read_bytes()
        sha, versions = records.get(_relative(project, path), ("", {}))
        if sha == _sha(raw):
            result.unchanged_files += 1
            result.imported.append(str(path))
            continue
        parsed = _parse(path, data.chapters[chapter], lang, versions)
        if parsed.problems:
            result.problems += parsed.problems
            continue
        edits.setdefault(lang, []).extend(parsed.edits)
        accepted.append((path, lang, raw))
        translators.append(parsed.translator)
    if edits:
        who = who or next((t for t in translators if t), None)
        outcome = apply_edits(data.store, book, edits, who=who_am_i(who))
        result.applied, result.conflicts = outcome.applied, outcome.conflicts
    for path, lang, raw in accepted:
        versions = {uid: v for (_, uid), v in _versions(data, book, lang, path.parent.name).items()}
        exchange.record_written(data.store, _relative(project, path), _sha(raw), versions)
        result.imported.append(str(path))
    return result


def _versions(data: BookSegments, book: str, lang: str, chapter: str) -> dict[tuple[str, str], int]:
    with data.store.read() as session:
        found = store_translations(session, require_book(session, book), lang, chapter=chapter)
    return {(lang, uid): t.version for uid, t in found.items()}


_MACHINE_TRANSLATOR = "Tarjoman machine draft"


def _person(translator: str) -> str:
    """A PO header's Last-Translator, unless it is Tarjoman's machine or an editor's placeholder."""
    name = translator.strip()
    return "" if not name or name.startswith(_MACHINE_TRANSLATOR) or name.upper().startswith("FULL NAME") else name


def room_for_views(project: Project, book: str, langs: list[str], what: str) -> None:
    """Refuse now, with nothing changed, when the review files of ``langs`` would not fit: the
    files there now are written again, a new language takes about what the manuscript does."""
    folder = project.book_dir(book)
    existing = {p.stem for p in (folder / "review").glob("*/*.po")}
    need = size_of(folder / "review") + size_of(folder / "qa.json") + sum(lang not in existing for lang in langs) * size_of(folder / "manuscript.json")
    ensure_room(folder, need, what)


def _same_language(declared: str, lang: str) -> bool:
    """Whether a PO header's Language (``fr_FR``, ``zh_Hans``) names the file's language (``fr``, ``zh-Hans``): region aside."""
    try:
        return canonical(declared, territory=False) == canonical(lang, territory=False)
    except TarjomanError:
        return False


def book_languages(project: Project, book: str, *, also=()) -> list[str]:
    """What "all languages" means for ``book``: the targets its YAML names (or the four default
    ones), then any other language it has translations in (in the store), or review files for."""
    langs = list(project.book_targets(book) or TARGETS)
    found = set(also) | {p.stem for p in (project.book_dir(book) / "review").glob("*/*.po")}
    if not also:
        try:
            store, _ = open_book(project, book, manuscript=False)
        except TarjomanError:  # a book never extracted: its defaults; the caller refuses it itself
            store = None
        if store is not None:
            try:
                with store.read() as session:
                    found |= set(store_languages(session, require_book(session, book)))
            finally:
                store.close()
    return langs + sorted(c for c in found if c not in langs and c != SOURCE and is_language(c) and canonical(c) == c)


def import_reviews(project: Project, book: str, langs: list[str] | None = None, *, who: str | None = None) -> ImportResult:
    """Apply what translators changed in the PO files of ``book`` (of ``langs``)."""
    every = langs or book_languages(project, book)
    room_for_views(project, book, every, f"import the review files of {book}")
    data = BookSegments.load(project, book)
    try:
        result = import_files(project, book, data, langs, who)
        drafted = _drafted(data, book, every)
        for chapter in data.chapters:
            for lang in drafted:
                path = po_path(project.book_dir(book), chapter, lang)
                if not path.exists():
                    result.notices.append(f"{path} is missing: its translations are safe in the store; `tarjoman review export {book}` writes it again")
        return result
    finally:
        data.store.close()


def _drafted(data: BookSegments, book: str, langs: list[str]) -> list[str]:
    """Those of ``langs`` the store has translations in (one aggregate query)."""
    with data.store.read() as session:
        _, counts = store_progress(session, require_book(session, book))
    return [lang for lang in langs if any(c["drafted"] for (_, l), c in counts.items() if l == lang)]


# --- writing the views --------------------------------------------------------------


def _file_info(data: BookSegments, translations: dict) -> FileInfo:
    people = [t for t in translations.values() if t.origin in ("translator", "import") and t.changed_at]
    latest = max(people, key=lambda t: t.changed_at, default=None)
    engines = Counter(t.engine for t in translations.values() if t.origin == "machine" and t.engine)
    m = data.manuscript
    return FileInfo(m.book, m.source_sha256, str(m.provenance.get("segmenter", "")), engines.most_common(1)[0][0] if engines else "",
                    latest.changed_by if latest else "", latest.changed_at if latest else None)


def _hints(terms, lang: str):
    if terms is None:
        return None
    binder = terms.binder(lang)
    return lambda source: [f"glossary: {t} → {r}" for t, r in binder.applied(source)]


def write_views(project: Project, book: str, data: BookSegments, langs: list[str], *, chapters: list[str] | None = None, terms=None) -> tuple[list[Path], list[Problem]]:
    """Write the POT and the PO files of ``langs`` from the store. A file changed since the store
    last wrote it is imported first; one that cannot be imported is left as it is, and reported."""
    book_dir = project.book_dir(book)
    written, problems = [], []
    for chapter in chapters or list(data.chapters):
        segments = data.chapters.get(chapter, [])
        if not segments and not data.obsolete.get(chapter):
            continue
        pot = review_dir(book_dir, chapter) / f"{chapter}.pot"
        write_atomic(pot, render_pot(FileInfo(book, data.manuscript.source_sha256, str(data.manuscript.provenance.get("segmenter", ""))), segments))
        written.append(pot)
        for lang in langs:
            path = po_path(book_dir, chapter, lang)
            found = _write_view(project, book, data, chapter, lang, path, _hints(terms, lang))
            (problems.extend(found) if found else written.append(path))
    return written, problems


def _write_view(project: Project, book: str, data: BookSegments, chapter: str, lang: str, path: Path, hints) -> list[Problem]:
    relative = _relative(project, path)
    for _attempt in range(3):
        raw = path.read_bytes() if path.exists() else None
        sha, _ = exchange.written(data.store, [relative]).get(relative, ("", {}))
        if raw is not None and _sha(raw) != sha:
            result = _import_one(project, book, data, path, lang)  # a translator saved it since: take that in first
            if result.problems:
                return result.problems
        with data.store.read() as session:
            book_row = require_book(session, book)
            found = store_translations(session, book_row, lang, chapter=chapter)
            open_uids = [s.uid for s in data.chapters[chapter] if not (s.uid in found and (found[s.uid].approved or found[s.uid].origin == "tm"))]
            matches = fuzzy_for(session, book_row, lang, open_uids)
        notes = {uid: memory_lines(m) for uid, m in matches.items()}
        text, versions = render_po(_file_info(data, found), lang, data.chapters[chapter], found, data.obsolete.get(chapter, []), hints, notes)
        if replace_if_unchanged(path, text, raw):  # never over a save made while we worked: import it, and again
            exchange.record_written(data.store, relative, _sha(text.encode("utf-8")), versions)
            return []
    return [Problem(str(path), 0, "kept changing while Tarjoman tried to rewrite it; import it when it is saved")]


def _import_one(project: Project, book: str, data: BookSegments, path: Path, lang: str) -> ImportResult:
    records = exchange.written(data.store, [_relative(project, path)])
    _, versions = records.get(_relative(project, path), ("", {}))
    parsed = _parse(path, data.chapters[path.parent.name], lang, versions)
    result = ImportResult([], parsed.problems)
    if not parsed.problems and parsed.edits:
        outcome = apply_edits(data.store, book, {lang: parsed.edits}, who=who_am_i(parsed.translator or None))
        result.applied, result.conflicts = outcome.applied, outcome.conflicts
    return result


def export_reviews(project: Project, book: str, langs: list[str] | None = None, *, terms=None) -> tuple[list[Path], list[Problem]]:
    """``review export``: rewrite every review file of ``book`` from the store."""
    langs = langs or book_languages(project, book)
    room_for_views(project, book, langs, f"write the review files of {book}")
    if terms is None:
        from .glossary import load_termbase

        terms = load_termbase(project, book)
    data = BookSegments.load(project, book)
    try:
        drafted = _drafted(data, book, langs)
        return write_views(project, book, data, drafted, terms=terms)
    finally:
        data.store.close()


# --- status, QA, metrics, TMX --------------------------------------------------------


def book_status(project: Project, book: str) -> list[dict]:
    """Per chapter and language: units, approved, fuzzy, untranslated, with QA findings, percent approved."""
    store, _ = open_book(project, book, manuscript=False)
    try:
        with store.read() as session:
            chapters, counts = store_progress(session, require_book(session, book))
    finally:
        store.close()
    rows = []
    langs = book_languages(project, book, also={lang for _, lang in counts})  # once, not per chapter: it reads the manuscript
    for chapter, total in chapters:
        for lang in langs:
            c = counts.get((chapter, lang), dict(approved=0, fuzzy=0, qa=0, drafted=0))
            rows.append(dict(
                chapter=chapter, lang=lang, total=total, approved=c["approved"], fuzzy=c["fuzzy"],
                untranslated=total - c["approved"] - c["fuzzy"], qa=c["qa"],
                percent=round(100 * c["approved"] / total, 1) if total else 100.0, drafted=c["drafted"] > 0,
            ))
    return rows


def run_qa(project: Project, book: str, langs: list[str] | None = None, glossary: dict[str, dict[str, str]] | None = None) -> list[dict]:
    """Check every translation, keep the findings in the store (and so in the PO comments), return them.
    Approved translations are also checked against the whole memory (consistency: the same
    sentence approved otherwise, one translation approved for different sentences).
    ``glossary`` ({lang: {term: rendering}}) defaults to the book's approved glossary terms."""
    from .glossary import load_termbase

    langs = langs or book_languages(project, book)
    room_for_views(project, book, langs, f"check {book} and write the findings into its review files")
    terms = load_termbase(project, book)
    if glossary is None:
        glossary = {lang: terms.renderings(lang) for lang in langs}
    data = BookSegments.load(project, book)
    report = []
    try:
        with data.store.read() as session:
            row = require_book(session, book)
            by_lang = {lang: store_translations(session, row, lang) for lang in langs}
            consistency = {lang: inconsistencies(session, row, lang) for lang, found in by_lang.items() if found}
        for lang, found in by_lang.items():
            if not found:
                continue
            findings: dict[str, list[str]] = {}
            for chapter, segments in data.chapters.items():
                for segment in segments:
                    t = found.get(segment.uid)
                    if t is None:
                        continue
                    results = check_entry(segment.source, t.text, lang, carried=t.origin == "carried", glossary=glossary.get(lang))
                    results += [Finding(*line.split(": ", 1)) for line in consistency[lang].get(segment.uid, [])]
                    findings[segment.uid] = [str(f) for f in results]
                    report += [dict(chapter=chapter, lang=lang, segment=segment.uid, line=0, check=f.check, message=f.message,
                                    source=segment.source, approved=t.approved) for f in results]
            set_findings(data.store, book, lang, findings)
        report += undescribed_images(data.manuscript)
        write_views(project, book, data, [lang for lang, found in by_lang.items() if found], terms=terms)
    finally:
        data.store.close()
    _number_lines(project, book, report)
    write_atomic(project.book_dir(book) / "qa.json", json.dumps(report, ensure_ascii=False, indent=1))
    return report


def undescribed_images(manuscript: Manuscript) -> list[dict]:
    """A finding for each image with no description to translate: a reader who cannot see it gets
    nothing, and no edition of the book can claim accessibility conformance."""
    from .manuscript.build import image_descriptions

    described = image_descriptions(manuscript)
    report = []
    for chapter in manuscript.chapters:
        for paragraph in chapter.paragraphs:
            for image_id in paragraph.images:
                if image_id not in described:
                    described.add(image_id)  # one finding where it first appears (a logo may stand on many pages)
                    report.append(dict(chapter=chapter.id, lang="", segment="", line=0, check="image-description",
                                       message=f"image {image_id} ({paragraph.where}) has no description: give it Alt Text in Word, or write one under "
                                               f"descriptions: in sources/{manuscript.book}.yaml, then extract again",
                                       source="", approved=False))
    return report


def _number_lines(project: Project, book: str, report: list[dict]) -> None:
    """The line of each finding's entry in its PO file, as translators see it."""
    lines: dict[tuple[str, str], dict[str, int]] = {}
    for finding in report:
        if not finding["segment"]:
            continue
        key = (finding["chapter"], finding["lang"])
        if key not in lines:
            path = po_path(project.book_dir(book), *key)
            lines[key] = {e.uid: e.line for e in read_entries(path) if e.uid} if path.exists() else {}
        finding["line"] = lines[key].get(finding["segment"], 0)


def post_edit_report(project: Project, book: str) -> tuple[list[dict], Path | None]:
    """chrF/TER/BLEU of recorded machine drafts against approved translations, per chapter × language × engine."""
    groups: dict[tuple[str, str, str], tuple[list[str], list[str]]] = {}
    for chapter, lang, _segment, t in approved_translations(project, book, book_languages(project, book)):
        if t.machine_draft:
            drafts, approved = groups.setdefault((chapter, lang, t.machine_engine), ([], []))
            drafts.append(t.machine_draft)
            approved.append(t.text)
    rows = [dict(chapter=chapter, lang=lang, engine=engine, **asdict(post_edit_score(drafts, approved)))
            for (chapter, lang, engine), (drafts, approved) in sorted(groups.items())]
    chart = None
    if rows:
        book_dir = project.book_dir(book)
        chart = book_dir / "post-edit.png"
        chart_png(rows, chart)
        write_atomic(book_dir / "post-edit.json", json.dumps(rows, ensure_ascii=False, indent=1))
    return rows, chart


def approved_translations(project: Project, book: str, langs: list[str]) -> list[tuple[str, str, SegmentView, object]]:
    """(chapter, lang, segment, translation) of every approved translation, in reading order."""
    data = BookSegments.load(project, book)
    try:
        with data.store.read() as session:
            row = require_book(session, book)
            by_lang = {lang: store_translations(session, row, lang) for lang in langs}
    finally:
        data.store.close()
    return [(chapter, lang, s, by_lang[lang][s.uid]) for lang in langs for chapter, segments in data.chapters.items()
            for s in segments if s.uid in by_lang[lang] and by_lang[lang][s.uid].approved]


def export_tmx(project: Project, book: str, out: Path, langs: list[str] | None = None) -> int:
    """Write approved translations as TMX; returns how many translation units were written."""
    pairs = [(f"{chapter}-{s.uid}", lang, s.source, t.text) for chapter, lang, s, t in approved_translations(project, book, langs or book_languages(project, book))]
    if not pairs:
        raise ReviewFileError("no approved translations to export yet", path=project.book_dir(book) / "review")
    write_atomic(out, tmx_document(pairs))
    return len(pairs)


def accept_drafts(project: Project, book: str, lang: str, who: str) -> int:
    """Approve every draft of ``lang`` as it stands — what ``make demo`` does in place of a
    translator; drafts that could not be published (empty, the Persian itself) are left."""
    data = BookSegments.load(project, book)
    try:
        sources = {s.uid: s for segments in data.chapters.values() for s in segments}
        accepted, _left = store_accept(data.store, book, lang, who=who,
                                       acceptable=lambda uid, text: uid in sources and not approval_problem(sources[uid].source, text, lang, sources[uid].lang))
        write_views(project, book, data, [lang])
    finally:
        data.store.close()
    return accepted



def unimported_files(project: Project, book: str, langs: list[str] | None = None) -> list[str]:
    """Review files saved since the store last wrote or imported them: work not in the store yet."""
    book_dir = project.book_dir(book)
    present = [p for p in sorted((book_dir / "review").glob("*/*.po")) if not langs or p.stem in langs]
    store = open_store(project)
    try:
        records = exchange.written(store, [_relative(project, p) for p in present])
    finally:
        store.close()
    return [f"{p} was saved after the store last read it: run `tarjoman review import {book}` to take it in"
            for p in present if records.get(_relative(project, p), ("",))[0] != _sha(p.read_bytes())]
