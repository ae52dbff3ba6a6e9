"""The translation memory over the review store.

The memory is every approved translation in the store, of every book, and the units imported
from other tools' TMX files (:class:`MemoryUnit`); nothing is copied from one to the other. A
source is found by its key (:func:`tarjoman.memory.tm_key`):

- *exact*: the same key hash (``segments.tm_hash``, ``tm_units.tm_hash``: b-tree indexes); a
  match is *in context* when the sentences before and after it are the same too;
- *fuzzy*: candidates from a trigram index of the keys — SQLite's FTS5 ``trigram`` tables:
  the keys holding all but two of the query's five rarest words, each word stood for by its
  rarest trigram (how rare, estimated from its first postings), asked as FTS5 ``AND`` queries;
  on PostgreSQL, the keys holding all but two of its five longest words, asked as ``LIKE``
  patterns that pg_trgm's GIN index answers — then each candidate scored by
  :func:`tarjoman.memory.score`. No query compares a sentence with every stored one;
- *concordance*: a piece of text in the sources (the same trigram indexes) or the translations.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from itertools import combinations
from typing import Iterable, Iterator

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from ..memory import FUZZY_THRESHOLD, diff_text, score, tm_key, trigrams
from .models import Book, Chapter, MemoryUnit, Segment, Translation

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
#
# On SQLite the candidates come from FTS5 queries that the index answers by itself, in C: each
# an AND of a few trigrams, which FTS5 intersects by skipping through their postings, so that
# its cost follows the rarest of them. Nothing reads every posting of a trigram that thousands
# of keys hold (the ``fts5vocab`` tables do: at a million keys that alone took 100–500 ms a
# lookup), and no candidate is fetched before the index has narrowed them to a few hundred.

# SQLite's candidates are the keys holding all but LEFT_OUT of the query's WORDS rarest words
# (at least two of them), a word stood for by its rarest trigram: one FTS5 question per subset.
WORDS = 5
LEFT_OUT = 2  # 1 for a sentence of common words, whose questions would read more than COSTLY
COSTLY = 100_000  # postings of their rarest trigrams
COMMON = 0.2  # a word this share of the keys hold narrows a question little and slows it: left out of it
SAMPLE = 32  # postings read of each trigram of the query, to estimate how many keys hold it
PER_QUESTION = 400  # keys read per question, at most
FTS_CANDIDATES = 300  # candidates scored per index: those answering most questions


def _phrase(gram: str) -> str:
    return '"' + gram.replace('"', '""') + '"'


def _words(key: str) -> list[set[str]]:
    """The trigrams of each distinct word of a key: a word of four letters or more, its own; a
    shorter one, those of it with the spaces either side that the key holds."""
    grams = trigrams(key)
    return [found for word in sorted(set(key.split(" ")))
            if (found := trigrams(word) if len(word) >= 4 else {g for g in trigrams(f" {word} ") if g in grams})]


def _estimates(session: Session, fts: str, table: str, grams: list[str], counts: dict) -> dict[str, float]:
    """About how many keys hold each trigram: FTS5 hands out a trigram's keys in rowid order, so
    the rowid of its :data:`SAMPLE`-th tells how densely they lie (all of them, for a rarer one).
    ``counts`` keeps the estimates between the lookups of one batch, :data:`_COMMON` those of
    common trigrams between all the process's lookups."""
    connection = session.connection()  # SQLite's own SQL, as it is: these statements are long and asked often
    if (fts, None) not in counts:
        counts[(fts, None)] = connection.exec_driver_sql(f"SELECT max(rowid) FROM {table}").scalar() or 0
    last = counts[(fts, None)]
    known = _common(session, fts, last)
    counts.update({(fts, g): known[g] for g in grams if (fts, g) not in counts and g in known})
    for chunk in _chunks([g for g in grams if (fts, g) not in counts], 200):
        for i, held, nth in connection.exec_driver_sql(_sample(fts, len(chunk)), tuple(_phrase(g) for g in chunk)):
            counts[(fts, chunk[i])] = held if held < SAMPLE else SAMPLE * last / nth
            if held == SAMPLE:
                known[chunk[i]] = counts[(fts, chunk[i])]
    return {g: counts[(fts, g)] for g in grams}


# (database, index) → the estimates of its common trigrams, kept by the process: how common a
# common trigram is changes slowly, and every lookup would sample the same few hundred again. A
# rare one is sampled anew each time: that is cheap, and the sentence approved a moment ago may
# hold it.
_COMMON: dict[tuple[str, str], dict] = {}


def _common(session: Session, fts: str, keys: int) -> dict:
    """The process's estimates for this index, forgotten once it holds a tenth more keys (or fewer)."""
    place = (session.get_bind().url.render_as_string(), fts)
    known = _COMMON.get(place)
    if known is None or not known[None] <= keys <= 1.1 * known[None] or len(known) > 100_000:
        if len(_COMMON) >= 32:
            _COMMON.clear()
        known = _COMMON[place] = {None: keys}
    return known


@lru_cache(maxsize=256)
def _sample(fts: str, size: int) -> str:
    return " UNION ALL ".join(f"SELECT {i}, count(*), max(r) FROM (SELECT rowid AS r FROM {fts} WHERE {fts} MATCH ? LIMIT {SAMPLE})"
                              for i in range(size))


def _length_range(key: str, threshold: int) -> tuple[int, int]:
    """The shortest and longest key, in characters, that can score ``threshold`` against ``key``:
    an Indel similarity is at most 2·shorter/(both lengths), so a much shorter or longer key
    cannot reach it, however many trigrams it shares (``longest`` 0: no bound)."""
    least = max(0.0, (threshold - 0.5) / 100)  # score() rounds to whole percent
    ratio = least / (2 - least)
    return math.floor(ratio * len(key)), math.ceil(len(key) / ratio) if ratio else 0


def _lengths(key: str, threshold: int) -> tuple[bytes, bytes]:
    """:func:`_length_range` in the form of FTS5's ``docsize`` table: a key's number of trigrams
    (two fewer than its characters) as a varint, whose bytes compare as the numbers do."""
    shortest, longest = _length_range(key, threshold)
    return _varint(max(0, shortest - 2)), _varint(min(16383, longest - 2) if longest else 16383)  # two-byte varints at most


def _varint(number: int) -> bytes:
    """SQLite's varint of a number under 16384: seven bits a byte, high bit set on all but the last."""
    return bytes([0x80 | number >> 7, number & 0x7F]) if number >= 0x80 else bytes([number])


def _questions(words: list[set[str]], estimates: dict[str, float], keys: int) -> Counter:
    """The FTS5 queries to ask, each with the number of subsets of the rarest words it stands for
    (a common word left out, two subsets may ask the same)."""
    proxies = sorted({min(held, key=lambda g: (estimates[g], g)) for grams in words if (held := [g for g in grams if estimates[g]])},
                     key=lambda g: (estimates[g], g))[:WORDS]
    size = max(2, len(proxies) - LEFT_OUT) if len(proxies) > 2 else 1
    subsets = _narrowed(proxies, size, estimates, keys)
    if len(proxies) > 3 and sum(estimates[subset[0]] for subset in subsets) > COSTLY:
        subsets = _narrowed(proxies, size + 1, estimates, keys)
    return Counter(" AND ".join(_phrase(g) for g in subset) for subset in subsets)


def _narrowed(proxies: list[str], size: int, estimates: dict[str, float], keys: int) -> list[tuple[str, ...]]:
    """The subsets of ``size`` proxies (rarest first), each without its common ones."""
    return [tuple(g for g in subset if estimates[g] < COMMON * keys) or subset[:1] for subset in combinations(proxies, size)]


# (row id, key) of the keys of a possible length answering most questions, of the store's or the
# imported units' (of ``lang``; whether a segment has an approved translation is asked of the few
# that score well: asking it of every candidate costs more than scoring them all).
_SQLITE_CANDIDATES = {
    "store": ("fts_tm_sources", "segments", "SELECT s.id, s.tm_key FROM ({hits}) c JOIN segments s ON s.id = c.doc"),
    "units": ("fts_tm_units", "tm_units", "SELECT u.id, u.tm_key FROM ({hits}) c JOIN tm_units u ON u.id = c.doc AND u.lang = ?3"),
}
_ANSWER = "SELECT doc, {weight} AS w FROM (SELECT rowid AS doc FROM {fts} WHERE {fts} MATCH ?{i} LIMIT {limit})"
_HITS = ("SELECT c.doc FROM (SELECT doc, sum(w) AS hits FROM ({answers}) GROUP BY doc) c JOIN {fts}_docsize z ON z.id = c.doc "
         "WHERE z.sz BETWEEN ?1 AND ?2 ORDER BY c.hits DESC, c.doc LIMIT {limit}")

# On PostgreSQL the questions are LIKE patterns of whole words, which pg_trgm's GIN index answers
# (intersecting the words' trigrams) and the table then checks: the keys holding all but LEFT_OUT
# of the query's WORDS longest words (PostgreSQL tells nothing cheap of how rare a trigram is; a
# long word is seldom a common one). A word of one or two letters stands where it stands in the
# key: at its start, inside, or at its end. pg_trgm's own similarity (``%``) is not asked: at a
# million keys it reads every posting of every trigram of the query, 0.8–2.3 s a lookup.
_PG_ANSWER = "(SELECT id FROM {table} WHERE {likes}{lang} LIMIT {limit})"
_PG_HITS = ("SELECT k.id, k.tm_key FROM (SELECT id, count(*) AS hits FROM ({answers}) a GROUP BY id) c JOIN {table} k ON k.id = c.id "
            "WHERE length(k.tm_key) BETWEEN :shortest AND :longest ORDER BY c.hits DESC, c.id LIMIT {limit}")
_PG_TABLES = {"store": ("segments", ""), "units": ("tm_units", " AND lang = :lang")}


def _pg_patterns(key: str) -> list[str]:
    """LIKE patterns of the key's :data:`WORDS` longest distinct words."""
    words = key.split(" ")
    patterns = []
    for word in sorted(set(words), key=lambda w: (-len(w), w))[:WORDS]:
        escaped = _like_escape(word)
        if len(word) >= 3:
            patterns.append(f"%{escaped}%")
        elif word == words[0]:
            patterns.append(f"{escaped} %")
        elif word == words[-1]:
            patterns.append(f"% {escaped}")
        else:
            patterns.append(f"% {escaped} %")
    return patterns


def _pg_candidates(session: Session, where: str, lang: str, key: str, threshold: int) -> list[tuple[int, str]]:
    patterns = _pg_patterns(key)
    size = max(2, len(patterns) - LEFT_OUT) if len(patterns) > 2 else 1
    table, in_lang = _PG_TABLES[where]
    answers, params = [], {"lang": lang}
    for subset in combinations(range(len(patterns)), size):
        likes = " AND ".join(f"tm_key LIKE :p{i}" for i in subset)
        answers.append(_PG_ANSWER.format(table=table, likes=likes, lang=in_lang, limit=PER_QUESTION))
    params.update({f"p{i}": pattern for i, pattern in enumerate(patterns)})
    shortest, longest = _length_range(key, threshold)
    params["shortest"], params["longest"] = shortest, longest or 10**9
    statement = _PG_HITS.format(answers=" UNION ALL ".join(answers), table=table, limit=FTS_CANDIDATES)
    return [tuple(row) for row in session.execute(text(statement), params)]


def _candidates(session: Session, where: str, lang: str, key: str, threshold: int, counts: dict) -> list[tuple[int, str]]:
    """(row id, key) of the likeliest matches of ``key`` in the store (``where`` "store") or the imported units ("units")."""
    if (where, lang) not in counts:  # nothing of the kind in this language: no index to ask
        counts[(where, lang)] = _holds(session, where, lang)
    if not counts[(where, lang)]:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _pg_candidates(session, where, lang, key, threshold)
    fts, table, _ = _SQLITE_CANDIDATES[where]
    words = _words(key)
    estimates = _estimates(session, fts, table, sorted(set().union(*words)), counts)
    questions = sorted(_questions(words, estimates, counts[(fts, None)]).items())
    if not questions:
        return []
    params = (*_lengths(key, threshold), lang, *(q for q, _ in questions))
    return [tuple(row) for row in session.connection().exec_driver_sql(_asking(where, tuple(n for _, n in questions)), params)]


@lru_cache(maxsize=256)
def _asking(where: str, weights: tuple[int, ...]) -> str:
    """The candidates statement for questions of these weights; its parameters: the shortest and
    longest key, ``lang``, the questions."""
    fts, _, query = _SQLITE_CANDIDATES[where]
    answers = " UNION ALL ".join(_ANSWER.format(weight=n, fts=fts, i=i + 4, limit=PER_QUESTION) for i, n in enumerate(weights))
    return query.format(hits=_HITS.format(answers=answers, fts=fts, limit=FTS_CANDIDATES))


_HOLDS = {  # asked before each lookup: built once (a select built anew costs more than running it)
    "store": text("SELECT 1 FROM translations WHERE lang = :lang AND state = 'approved' AND text != '' LIMIT 1"),
    "units": text("SELECT 1 FROM tm_units WHERE lang = :lang LIMIT 1"),
}


# (database, "store" or "units", lang) found to hold something: kept by the process, since a
# memory seldom loses a whole language, and one that did only costs its lookups an empty answer.
_HELD: set[tuple[str, str, str]] = set()


def _holds(session: Session, where: str, lang: str) -> bool:
    place = (session.get_bind().url.render_as_string(), where, lang)
    if place in _HELD:
        return True
    if session.connection().execute(_HOLDS[where], {"lang": lang}).first() is None:
        return False
    if len(_HELD) >= 1024:
        _HELD.clear()
    _HELD.add(place)
    return True


def fuzzy(session: Session, lang: str, key: str, *, limit: int = 3, threshold: int = FUZZY_THRESHOLD,
          exclude: int | None = None, counts: dict | None = None) -> list[Match]:
    """The best ``limit`` approved translations in ``lang`` of sources like ``key`` (scores of
    ``threshold`` or more, best first; one per remembered source and translation). ``exclude``:
    the segment asked about, which is not its own match; ``counts``: what the index told about
    its trigrams, kept by the caller across the lookups of one transaction."""
    if len(key) < 3:
        return []
    counts = {} if counts is None else counts
    scored = sorted(((found, where, row_id) for where in ("store", "units") for row_id, other in _candidates(session, where, lang, key, threshold, counts)
                     if not (where == "store" and row_id == exclude) and (found := score(key, other)) >= threshold), reverse=True)
    best: dict[tuple[str, str], Match] = {}
    start = 0
    while start < len(scored) and len(best) < limit:  # the best ``limit`` and their equals, then the next (if some had no approved translation)
        end = min(len(scored), start + limit)
        while end < len(scored) and scored[end][0] == scored[end - 1][0]:
            end += 1
        for match in _fetch(session, lang, scored[start:end]):
            seen = best.get((match.key, match.text))
            if seen is None or (match.origin == "store", _latest(match)) > (seen.origin == "store", _latest(seen)):
                best[(match.key, match.text)] = match
        start = end
    return sorted(best.values(), key=lambda m: (-m.score, m.origin != "store", -_latest(m), m.name))[:limit]


def _fetch(session: Session, lang: str, scored: list[tuple[int, str, int]]) -> list[Match]:
    """The matches of these (score, where, row id): a segment's only with an approved translation in ``lang``."""
    of = {(where, row_id): found for found, where, row_id in scored}
    store = [row_id for where, row_id in of if where == "store"]
    units = [row_id for where, row_id in of if where == "units"]
    matches = []
    if store:
        matches += [_store_match(row, of[("store", row[0])]) for row in session.execute(_store_rows(lang), {"ids": store})]
    if units:
        matches += [_unit_match(unit, of[("units", unit.id)]) for unit in session.scalars(_UNIT_ROWS, {"ids": units})]
    return matches


@lru_cache(maxsize=64)
def _store_rows(lang: str):
    """The store's rows of some segments (``ids``) approved in ``lang``: built once per language,
    as it is asked at every lookup."""
    return _store_query(lang).where(Segment.id.in_(bindparam("ids", expanding=True)))


_UNIT_ROWS = select(MemoryUnit).where(MemoryUnit.id.in_(bindparam("ids", expanding=True)))


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
    from .core import COMPACT_AFTER, now

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

    added = store.write(work)
    if sum(added.values()) >= COMPACT_AFTER:
        store.compact_memory_index()
    return added


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
