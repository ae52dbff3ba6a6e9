"""The translation memory over the review store.

The memory is every approved translation in the store, of every book, and the units imported
from other tools' TMX files (:class:`MemoryUnit`); nothing is copied from one to the other. A
source is found by its key (:func:`tarjoman.memory.tm_key`):

- *exact*: the same key hash (``segments.tm_hash``, ``tm_units.tm_hash``: b-tree indexes); a
  match is *in context* when the sentences before and after it are the same too;
- *fuzzy*: candidates from a trigram index of the keys — SQLite's FTS5 ``trigram`` tables:
  the keys holding most of the query's rarest trigrams (by the ``fts5vocab`` document counts),
  counted from their postings; PostgreSQL's pg_trgm (``%``, ranked by ``similarity``) — then
  each candidate scored by :func:`tarjoman.memory.score`. No query compares a sentence with
  every stored one;
- *concordance*: a piece of text in the sources (the same trigram indexes) or the translations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Iterable, Iterator

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from ..memory import FUZZY_THRESHOLD, diff_text, score, tm_key, trigrams
from .models import Book, Chapter, MemoryUnit, Segment, Translation

RAREST = 12  # at most this many of the query's trigrams are asked of the FTS5 index …
FEWEST = 4  # … at least this many, and more only while their postings stay under
POSTINGS = 6000  # this many (the work of one lookup: a trigram every stored key holds is no help)
CANDIDATES = 60  # candidates scored per index


@dataclass(frozen=True)
class Match:
    """One remembered translation of a source like the one asked about."""

    score: int  # 100: the same sentence
    source: str  # the remembered source, as written
    text: str  # its approved translation
    book: str = ""  # "" for a unit of an imported memory
    chapter: str = ""
    uid: str = ""
    origin: str = "store"  # "store", or the TMX file a unit came from
    who: str = ""
    changed_at: datetime | str | None = None
    in_context: bool = False  # the sentences before and after are the same too
    segment_id: int | None = None
    context_hash: str = ""
    key: str = ""
    diff: str = ""  # how the remembered source differs from the one asked about (fuzzy matches)

    @property
    def name(self) -> str:
        """Where it comes from, as the store records it with a draft taken from it."""
        return f"{self.book}/{self.uid}" if self.book else f"tmx:{self.origin}"

    @property
    def where(self) -> str:
        return f"{self.book} {self.chapter}" if self.book else self.origin


def _chunks(items: list, size: int = 500) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _store_columns():
    return (Segment.id, Segment.tm_hash, Segment.context_hash, Segment.tm_key, Segment.source, Segment.uid, Book.slug, Chapter.key,
            Translation.text, Translation.changed_by, Translation.changed_at)


def _approved_in(lang: str):
    return (Translation.segment_id == Segment.id) & (Translation.lang == lang) & (Translation.state == "approved") & (Translation.text != "")


def _store_query(lang: str):
    return (select(*_store_columns()).join(Translation, _approved_in(lang)).join(Book, Book.id == Segment.book_id)
            .join(Chapter, Chapter.id == Segment.chapter_id))


def _store_match(row, score_: int = 100) -> Match:
    sid, _hash, context, key, source, uid, book, chapter, translation, who, at = row
    return Match(score_, source, translation, book, chapter, uid, "store", who, at, segment_id=sid, context_hash=context, key=key)


def _unit_match(unit: MemoryUnit, score_: int = 100) -> Match:
    return Match(score_, unit.source, unit.text, origin=unit.origin, who=unit.who, changed_at=unit.changed, key=unit.tm_key)


def exact(session: Session, lang: str, hashes: Iterable[str]) -> dict[str, list[Match]]:
    """Key hash → every approved translation in ``lang`` of a source with that key."""
    wanted = sorted({h for h in hashes if h})
    found: dict[str, list[Match]] = {}
    for chunk in _chunks(wanted):
        for row in session.execute(_store_query(lang).where(Segment.tm_hash.in_(chunk))):
            found.setdefault(row[1], []).append(_store_match(row))
        for unit in session.scalars(select(MemoryUnit).where(MemoryUnit.tm_hash.in_(chunk), MemoryUnit.lang == lang)):
            found.setdefault(unit.tm_hash, []).append(_unit_match(unit))
    return found


def _latest(match: Match) -> float:
    at = match.changed_at
    return at.timestamp() if isinstance(at, datetime) else 0.0


def remembered(session: Session, book: Book, lang: str, *, chapters: set[str] | None = None) -> dict[str, Match]:
    """uid → the memory's translation of each sentence of ``book`` (of ``chapters``) whose source
    it knows, in ``lang``. A sentence approved itself is its own match; of the others, an
    in-context match is preferred, then one of the same book, then the store's over an imported
    memory's, then the latest approved."""
    query = (select(Segment.id, Segment.uid, Segment.tm_hash, Segment.context_hash).join(Chapter, Chapter.id == Segment.chapter_id)
             .where(Segment.book_id == book.id, Segment.obsolete.is_(False), Segment.tm_hash != ""))
    if chapters is not None:
        query = query.where(Chapter.key.in_(sorted(chapters)))
    sentences = session.execute(query).all()
    found = exact(session, lang, [h for _, _, h, _ in sentences])
    chosen: dict[str, Match] = {}
    for sid, uid, key_hash, context in sentences:
        matches = found.get(key_hash)
        if not matches:
            continue
        own = next((m for m in matches if m.segment_id == sid), None)
        if own is not None:
            chosen[uid] = replace(own, in_context=True)
            continue
        marked = [replace(m, in_context=bool(context) and m.context_hash == context) for m in matches]
        chosen[uid] = max(marked, key=lambda m: (m.in_context, m.book == book.slug, m.origin == "store", _latest(m), m.name))
    return chosen


# --- fuzzy matches ---------------------------------------------------------------


def _rarest(session: Session, fts: str, key: str, counts: dict) -> list[str]:
    """The key's trigrams that fewest stored keys hold (at least one does), rarest first (see
    :data:`RAREST`). ``counts`` keeps the index's document counts between the lookups of one batch."""
    grams = sorted(trigrams(key))
    needed = [g for g in grams if (fts, g) not in counts]
    if needed:
        found = dict(session.execute(text(f"SELECT term, doc FROM {fts}_vocab WHERE term IN :grams").bindparams(
            bindparam("grams", expanding=True)), {"grams": needed}).all())
        counts.update({(fts, g): found.get(g, 0) for g in needed})
    chosen, postings = [], 0
    for gram in sorted((g for g in grams if counts[(fts, g)]), key=lambda g: (counts[(fts, g)], g)):
        if len(chosen) == RAREST or (len(chosen) >= FEWEST and postings + counts[(fts, gram)] > POSTINGS):
            break
        chosen.append(gram)
        postings += counts[(fts, gram)]
    return chosen


# The keys holding most of the rarest trigrams, counted from the index's postings (its
# ``instance`` vocabulary), of those in the memory: with an approved translation, or imported.
_SQLITE_CANDIDATES = {
    "store": ("fts_tm_sources", "SELECT s.id, s.tm_key FROM ({shared}) c JOIN segments s ON s.id = c.doc WHERE EXISTS (SELECT 1 FROM translations t "
              "WHERE t.segment_id = c.doc AND t.lang = :lang AND t.state = 'approved' AND t.text != '') ORDER BY c.shared DESC LIMIT :n"),
    "units": ("fts_tm_units", "SELECT u.id, u.tm_key FROM ({shared}) c JOIN tm_units u ON u.id = c.doc AND u.lang = :lang ORDER BY c.shared DESC LIMIT :n"),
}
_SHARED = "SELECT doc, count(*) AS shared FROM {fts}_instance WHERE term IN :grams GROUP BY doc ORDER BY shared DESC LIMIT {limit}"
_PG_CANDIDATES = {
    "store": "SELECT s.id, s.tm_key FROM segments s WHERE s.tm_key % :key AND EXISTS (SELECT 1 FROM translations t WHERE t.segment_id = s.id "
             "AND t.lang = :lang AND t.state = 'approved' AND t.text != '') ORDER BY similarity(s.tm_key, :key) DESC LIMIT :n",
    "units": "SELECT u.id, u.tm_key FROM tm_units u WHERE u.lang = :lang AND u.tm_key % :key ORDER BY similarity(u.tm_key, :key) DESC LIMIT :n",
}
PG_SIMILARITY = 0.3  # pg_trgm's own measure, below which it offers no candidate


def _candidates(session: Session, where: str, lang: str, key: str, counts: dict) -> list[tuple[int, str]]:
    """(row id, key) of the likeliest matches of ``key`` in the store (``where`` "store") or the imported units ("units")."""
    if (where, lang) not in counts:  # nothing of the kind in this language: no index to ask
        counts[(where, lang)] = _holds(session, where, lang)
    if not counts[(where, lang)]:
        return []
    params = {"lang": lang, "n": CANDIDATES}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL pg_trgm.similarity_threshold = {PG_SIMILARITY}"))
        return [tuple(row) for row in session.execute(text(_PG_CANDIDATES[where]), {**params, "key": key})]
    fts, query = _SQLITE_CANDIDATES[where]
    rare = _rarest(session, fts, key, counts)
    if not rare:
        return []
    statement = text(query.format(shared=_SHARED.format(fts=fts, limit=CANDIDATES * 4))).bindparams(bindparam("grams", expanding=True))
    return [tuple(row) for row in session.execute(statement, {**params, "grams": rare})]


def _holds(session: Session, where: str, lang: str) -> bool:
    if where == "units":
        return session.scalar(select(MemoryUnit.id).where(MemoryUnit.lang == lang).limit(1)) is not None
    approved = select(Translation.id).where(Translation.lang == lang, Translation.state == "approved", Translation.text != "").limit(1)
    return session.scalar(approved) is not None


def fuzzy(session: Session, lang: str, key: str, *, limit: int = 3, threshold: int = FUZZY_THRESHOLD,
          exclude: int | None = None, counts: dict | None = None) -> list[Match]:
    """The best ``limit`` approved translations in ``lang`` of sources like ``key`` (scores of
    ``threshold`` or more, best first; one per remembered source and translation). ``exclude``:
    the segment asked about, which is not its own match; ``counts``: what the index told about
    its trigrams, kept by the caller across the lookups of one transaction."""
    if len(key) < 3:
        return []
    counts = {} if counts is None else counts
    scored = {where: {row_id: score(key, other) for row_id, other in _candidates(session, where, lang, key, counts)
                      if row_id != (exclude if where == "store" else None)} for where in ("store", "units")}
    good = {where: [i for i, s in found.items() if s >= threshold] for where, found in scored.items()}
    matches: list[Match] = []
    if good["store"]:
        matches += [_store_match(row, scored["store"][row[0]]) for row in session.execute(_store_query(lang).where(Segment.id.in_(good["store"])))]
    if good["units"]:
        matches += [_unit_match(unit, scored["units"][unit.id]) for unit in session.scalars(select(MemoryUnit).where(MemoryUnit.id.in_(good["units"])))]
    best: dict[tuple[str, str], Match] = {}
    for match in matches:
        seen = best.get((match.key, match.text))
        if seen is None or (match.origin == "store", _latest(match)) > (seen.origin == "store", _latest(seen)):
            best[(match.key, match.text)] = match
    return sorted(best.values(), key=lambda m: (-m.score, m.origin != "store", -_latest(m), m.name))[:limit]


def fuzzy_for(session: Session, book: Book, lang: str, uids: list[str], **options) -> dict[str, list[Match]]:
    """uid → :func:`fuzzy` matches of each of these sentences of ``book``, each with its
    :func:`~tarjoman.memory.diff_text` (none for one the memory knows exactly: a 100 % match
    is drafted from the memory, not offered beside the draft)."""
    found: dict[str, list[Match]] = {}
    counts: dict = {}
    for chunk in _chunks(sorted(set(uids))):
        for sid, uid, key, source in session.execute(select(Segment.id, Segment.uid, Segment.tm_key, Segment.source).where(
                Segment.book_id == book.id, Segment.uid.in_(chunk))):
            matches = fuzzy(session, lang, key, exclude=sid, counts=counts, **options)
            if matches and matches[0].score < 100:
                found[uid] = [replace(m, diff=diff_text(m.source, source)) for m in matches]
    return found


# --- concordance -----------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    """A concordance hit: a remembered sentence, with where it stands."""

    source: str
    translations: dict[str, str]  # lang → approved translation
    book: str = ""
    chapter: str = ""
    uid: str = ""
    context: str = ""  # the paragraph, in the book
    origin: str = "store"


def search(session: Session, query: str, *, lang: str | None = None, side: str = "both", limit: int = 50) -> list[Occurrence]:
    """Remembered sentences with ``query`` in their source (``side`` "source"), in an approved
    translation ("target"), or either ("both"); approved in ``lang``, or in any language."""
    query = query.strip()
    if not query:
        return []
    ids: list[int] = []
    units: list[MemoryUnit] = []
    approved = (Translation.state == "approved") & (Translation.text != "")
    if lang is not None:
        approved &= Translation.lang == lang
    if side in ("source", "both"):
        key = tm_key(query)
        if key:
            ids += _source_hits(session, key, approved, limit)
            units += _unit_hits(session, MemoryUnit.tm_key, key, lang, limit)
    if side in ("target", "both"):
        pattern = f"%{_like_escape(query)}%"
        ids += list(session.scalars(select(Translation.segment_id).where(approved, Translation.text.ilike(pattern, escape="\\"))
                                    .distinct().limit(limit)))
        units += _unit_hits(session, MemoryUnit.text, query, lang, limit)
    return _occurrences(session, list(dict.fromkeys(ids))[:limit], lang) + _unit_occurrences(units, limit)


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _source_hits(session: Session, key: str, approved, limit: int) -> list[int]:
    has_approved = select(Translation.id).where(Translation.segment_id == Segment.id, approved).exists()
    if session.get_bind().dialect.name == "sqlite" and len(key) >= 3:
        phrase = '"' + key.replace('"', '""') + '"'  # a trigram phrase: the key as a substring
        matching = text("SELECT rowid FROM fts_tm_sources WHERE fts_tm_sources MATCH :q").bindparams(q=phrase).columns(rowid=Segment.id.type)
        where = Segment.id.in_(select(matching.subquery().c.rowid))
    else:  # pg_trgm's GIN index serves LIKE too
        where = Segment.tm_key.like(f"%{_like_escape(key)}%", escape="\\")
    return list(session.scalars(select(Segment.id).where(where, has_approved).order_by(Segment.book_id, Segment.position).limit(limit)))


def _unit_hits(session: Session, column, value: str, lang: str | None, limit: int) -> list[MemoryUnit]:
    query = select(MemoryUnit).where(column.ilike(f"%{_like_escape(value)}%", escape="\\"))
    if lang is not None:
        query = query.where(MemoryUnit.lang == lang)
    return list(session.scalars(query.order_by(MemoryUnit.id).limit(limit)))


def _occurrences(session: Session, ids: list[int], lang: str | None) -> list[Occurrence]:
    if not ids:
        return []
    rows = session.execute(select(Segment.id, Segment.source, Segment.uid, Segment.context, Book.slug, Chapter.key)
                           .join(Book, Book.id == Segment.book_id).join(Chapter, Chapter.id == Segment.chapter_id)
                           .where(Segment.id.in_(ids))).all()
    query = select(Translation.segment_id, Translation.lang, Translation.text).where(
        Translation.segment_id.in_(ids), Translation.state == "approved", Translation.text != "")
    if lang is not None:
        query = query.where(Translation.lang == lang)
    texts: dict[int, dict[str, str]] = {}
    for sid, code, translation in session.execute(query):
        texts.setdefault(sid, {})[code] = translation
    order = {sid: i for i, sid in enumerate(ids)}
    return [Occurrence(source, dict(sorted(texts.get(sid, {}).items())), book, chapter, uid, context)
            for sid, source, uid, context, book, chapter in sorted(rows, key=lambda r: order[r[0]])]


def _unit_occurrences(units: list[MemoryUnit], limit: int) -> list[Occurrence]:
    grouped: dict[str, Occurrence] = {}
    for unit in units:
        seen = grouped.setdefault(f"{unit.origin}\x1f{unit.source}", Occurrence(unit.source, {}, origin=unit.origin))
        seen.translations.setdefault(unit.lang, unit.text)
    return list(grouped.values())[:limit]


# --- imported memories, and the whole memory out -----------------------------------


def import_units(store, units, *, origin: str, who: str) -> dict[str, int]:
    """Take the (source, lang, text, line, who, changed, note) units of one TMX file into the
    memory, all or none, in one transaction. Returns per language the units added (a unit the
    memory already holds, the same source and translation, is not added twice)."""
    from ..memory import key_hash
    from .core import now

    rows: dict[tuple[str, str, str], dict] = {}
    for unit in units:
        key = tm_key(unit.source)
        if not key:
            continue
        row = {"source": unit.source, "tm_key": key, "tm_hash": key_hash(key), "lang": unit.lang, "text": unit.text,
               "text_hash": key_hash(unit.text), "origin": origin, "line": unit.line, "who": unit.who, "changed": unit.changed,
               "note": unit.note, "imported_by": who}
        rows.setdefault((row["tm_hash"], row["lang"], row["text_hash"]), row)

    def work(session: Session) -> dict[str, int]:
        at = now()
        before = dict(session.execute(select(MemoryUnit.lang, func.count()).group_by(MemoryUnit.lang)).all())
        store.insert_ignore(session, MemoryUnit, [dict(row, imported_at=at) for row in rows.values()], ["tm_hash", "lang", "text_hash"])
        after = dict(session.execute(select(MemoryUnit.lang, func.count()).group_by(MemoryUnit.lang)).all())
        return {lang: after[lang] - before.get(lang, 0) for lang in sorted(after) if after[lang] != before.get(lang, 0)}

    return store.write(work)


def everything(session: Session, langs: list[str]) -> list[tuple[str, str, str, str]]:
    """(unit id, lang, source, translation) of the whole memory in ``langs``: every approved
    translation of the store, book by book in reading order, then the imported units."""
    pairs = [(f"{book}-{uid}", lang, source, translation) for book, uid, lang, source, translation in session.execute(
        select(Book.slug, Segment.uid, Translation.lang, Segment.source, Translation.text)
        .join(Translation, (Translation.segment_id == Segment.id) & (Translation.state == "approved") & (Translation.text != ""))
        .join(Book, Book.id == Segment.book_id).where(Translation.lang.in_(langs))
        .order_by(Book.slug, Translation.lang, Segment.position, Segment.id))]
    pairs += [(f"tmx-{unit_id}", lang, source, translation) for unit_id, lang, source, translation in session.execute(
        select(MemoryUnit.id, MemoryUnit.lang, MemoryUnit.source, MemoryUnit.text).where(MemoryUnit.lang.in_(langs)).order_by(MemoryUnit.id))]
    return pairs


# --- consistency -------------------------------------------------------------------

SAME_WORDS_MIN = 4
"""One translation given to different sources is reported only from this many words on: «Yes.»
may well translate both «بله.» and «آری.»; a sentence of testimony should not."""


def inconsistencies(session: Session, book: Book, lang: str) -> dict[str, list[str]]:
    """uid → consistency findings of the book's approved translations in ``lang``, against the
    whole memory: the same source approved with another translation (here or in another book,
    or an imported memory), and one translation approved for different sources."""
    mine = session.execute(
        select(Segment.id, Segment.uid, Segment.tm_hash, Segment.tm_key, Translation.text).join(Translation, _approved_in(lang))
        .where(Segment.book_id == book.id, Segment.obsolete.is_(False), Segment.tm_hash != "")).all()
    findings: dict[str, list[str]] = {}
    found = exact(session, lang, [h for _, _, h, _, _ in mine])
    for sid, uid, key_hash, _key, translation in mine:
        others = {tm_key(m.text, lang): m for m in found.get(key_hash, []) if m.segment_id != sid}
        others.pop(tm_key(translation, lang), None)
        for m in sorted(others.values(), key=lambda m: m.name)[:3]:
            findings.setdefault(uid, []).append(f"consistency: the same sentence is approved as «{m.text}» in {_place(m)}")
    long_enough = [row for row in mine if len(row[4].split()) >= SAME_WORDS_MIN]
    same_text: dict[str, list] = {}
    for chunk in _chunks(sorted({row[4] for row in long_enough})):
        for row in session.execute(_store_query(lang).where(Translation.text.in_(chunk))):
            same_text.setdefault(row[8], []).append(_store_match(row))
        for unit in session.scalars(select(MemoryUnit).where(MemoryUnit.lang == lang, MemoryUnit.text.in_(chunk))):
            same_text.setdefault(unit.text, []).append(_unit_match(unit))
    for sid, uid, _hash, key, translation in long_enough:
        elsewhere = {m.key: m for m in same_text.get(translation, []) if m.segment_id != sid and m.key != key}
        for m in sorted(elsewhere.values(), key=lambda m: m.name)[:3]:
            findings.setdefault(uid, []).append(f"consistency: the same translation is approved for another sentence, «{m.source}», in {_place(m)}")
    return findings


def _place(match: Match) -> str:
    return f"{match.book} {match.chapter} ({match.uid})" if match.book else f"the imported memory {match.origin}"
