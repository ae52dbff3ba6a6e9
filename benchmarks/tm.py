"""What the translation memory costs and finds: a memory of a million remembered sentences built on
SQLite and PostgreSQL, exact and fuzzy lookups in it against a scan of every key, and the
manuscript-revision merge's pairing of edited sentences against the all-pairs loop it replaced.

    .venv/bin/python benchmarks/tm.py [--segments 1000000] [--queries 300] [--rounds 3] [--quick] [--no-postgres] [--keep DIR]

``--quick``: 20,000 segments, 50 queries, the bundled sources/sample.docx for the revision part.
``--keep DIR``: the SQLite store is built as DIR/tm-memory.sqlite and left there; a later run
that finds it there with the same segments (count, first and last keys) uses it without building
(the build line then says so), so lookups can be measured again in seconds rather than minutes; its
file is read once first (untimed), so that its lookups, like those of a store just built, find it in
the page cache and do not time the disk.

The memory is real Persian prose: ../shared/realdata/text/** (the Safarnama and 13 essays; YAML
front matter, HTML tags, links and emphasis stripped from the Markdown) and the sentences of the
150k-word novel in ../shared/realdata/docx (``read_manuscript``, nothing written). The texts alone
give 1,533 sentences of 4–60 words: a million segments would be 650 variants of each, which no
memory of real books looks like; with the novel there are about 14,600, so about 70 variants each
— still many near-duplicates, as memoirs of one war have. Paragraphs are normalised
(``tarjoman.text.normalize``), cut by ``split_sentences``, kept at 4–60 words, one per key.
``--queries`` of them are held out, never stored. Segment i takes sentence i mod P, and four in
five get 1–3 random edits (``random.Random(7)``): a word deleted, inserted or replaced (words from
the same texts), two digits swapped, a ZWNJ added or removed (the key drops ZWNJ: such a variant
is an exact match). 200 books × 10 chapters, segments in reading order; keys, key hashes and
context hashes from ``tarjoman.memory.keyed`` per chapter (timed apart, not in the build); one
approved translation per segment in "en". Segments keep ``context`` empty.

Build, per database: SQLAlchemy Core bulk inserts, 20,000 segments and their 20,000 translations
per ``store.write`` (one transaction). On SQLite the FTS5 triggers index every row as it goes in,
each transaction leaving a b-tree of its own in the index; then ``Store.compact_memory_index``
merges them into one, as ``sync_manuscript`` does after each book (timed apart), and the store is
closed (``PRAGMA optimize``, as every command does) and opened again. PostgreSQL
is a throwaway cluster from tests/pg_cluster.py (fsync off, other settings PostgreSQL's defaults:
shared_buffers 128 MB) whose pg_trgm GIN index is kept up as rows go in; then ``VACUUM ANALYZE``
(what autovacuum does after a million inserts: statistics, and GIN's pending list merged), timed
apart. Rows per second count segments and translations.

Lookups, per database, ``--queries`` each, kinds alternated (exact, seen, unseen, exact …), each
in its own ``with store.read() as session:`` (a caller's whole transaction), ``time.perf_counter``
around the block, after 10 untimed lookups: *exact* — ``exact(session, "en", [hash])`` of a stored
segment's key; *fuzzy, seen* — ``fuzzy(session, "en", key)`` of a stored segment's source edited
once more (its key changed, so a match of about 70 % or more exists); *fuzzy, unseen* — of a
held-out sentence. p50, p95 (nearest rank) and max.

The fuzzy baseline is what a competent user writes without an index: rapidfuzz's
``process.extract(key, keys, scorer=fuzz.ratio, score_cutoff=69.5, limit=3)`` over all N keys in a
Python list (loaded once, not timed). ``fuzz.ratio`` is the memory's own Indel similarity and the
memory rounds to whole percent (69.5 shows as 70), so the baseline's top 3 are the true top 3: it
is the reference for recall as well as for speed. It is one core's work: ``process.extract`` has
no ``workers``, and ``cdist(…, workers=-1)`` on this machine's two cores, shared with other work,
was no faster. On min(200, 2 × ``--queries``) queries, half seen and half unseen, index (SQLite) and
baseline alternate query by query. Recall, over the queries where the baseline finds a match (and
apart, of each kind):
*top-1 agreement* — the index's best score equals the baseline's; *top-3 by score* — of the
baseline's 1st, 2nd, 3rd best scores, the share the index's 1st, 2nd, 3rd reach (ties make which
segment is "the" match arbitrary); *top-3 by segment* — the share of the baseline's matches that
the index returned itself (tie-sensitive, printed for completeness).

Revision merge: the novel (``--quick``: sources/sample.docx) extracted into a temporary project,
synced into a fresh SQLite store, every sentence given an approved "en" translation (Core insert).
Revised manuscripts: 1 % and 10 % of its sentences (single-part ones with a plain word) get one
word replaced by another word of the book, in the paragraph's text; then the extraction's own
segmenter (``tarjoman.manuscript.build._segment_book``) cuts the paragraphs and gives the IDs
again, as a second ``tarjoman extract`` of the edited file would: an edited sentence gets a new ID,
and the merge must find its old segment by similarity. Per revision and round: the whole
``sync_manuscript`` on a fresh copy of the original store (copy and open not timed), then the
pairing step alone both ways on the same inputs (the removed segments as loaded from the store,
the units whose IDs are new, in reading order): new — ``_Gone(removed, chapters)`` and its
``take_over`` per unit (index build included); old — the loop of 33f240e's ``_take_over``, copied
here (every free removed segment of the chapter compared by ``difflib.SequenceMatcher`` ratio >
0.6). Growth is the median at 10 % over the median at 1 % (linear ≈ 10, quadratic ≈ 100).
Differing pairs: units the two ways give a different segment, or a different outcome.

The last line is ``RESULT …``: ``merge_*pct_s`` the whole ``sync_manuscript``; ``merge_growth`` and
``merge_growth_baseline`` the pairing step's growth, new and old; ``pairing_*`` its times.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import hashlib
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
TEXTS = REPO.parent / "shared" / "realdata" / "text"
NOVEL = REPO.parent / "shared" / "realdata" / "docx" / "fa" / "fa_novel_anche-bar-man-gozasht.docx"
SAMPLE = REPO / "sources" / "sample.docx"
BOOKS, CHAPTERS, BATCH = 200, 10, 20_000
LANG = "en"
WARMUP, COMPARED = 10, 200
ZWNJ = "\u200c"
_ENGLISH = "the war was long and we walked by night to the river where the guns were silent at last".split()


def percentile(values: list[float], p: int) -> float:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))] if ordered else float("nan")


def spread(values: list[float]) -> str:
    return f"p50 {percentile(values, 50):8.2f}  p95 {percentile(values, 95):8.2f}  max {max(values):8.2f} ms"


# --- the sentences (not timed) ------------------------------------------------------------------


def _plain(markdown: str) -> str:
    """Markdown as prose, lightly: no front matter, code, images, links' targets, tags, marks."""
    text = re.sub(r"\A---\n.*?\n---\n", "", markdown, flags=re.S)
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"^\s{0,3}(#{1,6}|>|[-*+]|\d+\.)\s+", "", text, flags=re.M)
    return re.sub(r"[*_`]{1,3}", "", text)


def read_pool() -> list[str]:
    """Every sentence of 4–60 words of the texts and the novel, one per memory key, in reading order."""
    from tarjoman.manuscript import read_manuscript
    from tarjoman.memory import tm_key
    from tarjoman.text import normalize, split_sentences

    sentences = []
    for path in sorted(TEXTS.rglob("*")):
        if path.suffix not in (".txt", ".md"):
            continue
        text = path.read_text(encoding="utf-8")
        for paragraph in re.split(r"\n\s*\n", _plain(text) if path.suffix == ".md" else text):
            paragraph = normalize(" ".join(paragraph.split()))
            sentences += [paragraph[s.start:s.end] for s in split_sentences(paragraph)]
    novel, _ = read_manuscript(NOVEL, book="novel")
    sentences += [u.text for c in novel.chapters for u in c.units()]
    seen, pool = set(), []
    for sentence in sentences:
        key = tm_key(sentence)
        if 4 <= len(sentence.split()) <= 60 and key not in seen:
            seen.add(key)
            pool.append(sentence)
    return pool


def edit(sentence: str, rng: random.Random, vocabulary: list[str], kind: str | None = None) -> str:
    """One random edit: a word deleted, inserted or replaced, two digits swapped, a ZWNJ added or removed."""
    kind = kind or rng.choice(("delete", "insert", "replace", "digits", "zwnj"))
    words = sentence.split()
    at = rng.randrange(len(words))
    if kind == "digits":
        digits = [i for i, c in enumerate(sentence) if c.isdigit()]
        pairs = [i for i in digits if i + 1 < len(sentence) and sentence[i + 1].isdigit() and sentence[i] != sentence[i + 1]]
        if pairs:
            i = rng.choice(pairs)
            return sentence[:i] + sentence[i + 1] + sentence[i] + sentence[i + 2:]
        if digits:
            i = rng.choice(digits)
            return sentence[:i] + str((int(sentence[i]) + 1) % 10) + sentence[i + 1:]
        kind = "replace"
    if kind == "zwnj":
        if ZWNJ in sentence:
            i = rng.choice([i for i, c in enumerate(sentence) if c == ZWNJ])
            return sentence[:i] + sentence[i + 1:]
        long = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
        if long:
            i = rng.choice(long)
            cut = rng.randrange(2, len(words[i]) - 1)
            words[i] = words[i][:cut] + ZWNJ + words[i][cut:]
            return " ".join(words)
        kind = "replace"
    if kind == "delete" and len(words) > 4:
        del words[at]
    elif kind == "insert" or kind == "delete":
        words.insert(at, rng.choice(vocabulary))
    else:
        words[at] = rng.choice(vocabulary)
    return " ".join(words)


@dataclass
class Memory:
    """N segments' sources with their keys, key hashes and context hashes; the held-out sentences."""

    sources: list[str]
    keys: list[str]
    hashes: list[str]
    contexts: list[str]
    held_out: list[str]
    pool: int
    per_chapter: int
    vocabulary: list[str]


def make_memory(n: int, held_out: int) -> tuple[Memory, float]:
    """The memory's rows, and the seconds spent keying them."""
    from tarjoman.memory import keyed

    rng = random.Random(7)
    pool = read_pool()
    vocabulary = sorted({w for s in pool for w in s.split() if w.isalpha() and len(w) > 1})
    rng.shuffle(pool)
    unseen, stored = pool[:held_out], pool[held_out:]
    sources = []
    for i in range(n):
        sentence = stored[i % len(stored)]
        if rng.random() < 0.8:
            for _ in range(rng.randint(1, 3)):
                sentence = edit(sentence, rng, vocabulary)
        sources.append(sentence)
    per_chapter = -(-n // (BOOKS * CHAPTERS))
    began = time.perf_counter()
    keys, hashes, contexts = [], [], []
    for start in range(0, n, per_chapter):
        for key, key_hash, context in keyed([(s, "fa") for s in sources[start:start + per_chapter]]):
            keys.append(key)
            hashes.append(key_hash)
            contexts.append(context)
    return Memory(sources, keys, hashes, contexts, unseen, len(stored), per_chapter, vocabulary), time.perf_counter() - began


# --- the build ----------------------------------------------------------------------------------


def _translation(i: int) -> str:
    return f"EN {i}: " + " ".join(_ENGLISH[(i + k * 7) % len(_ENGLISH)] for k in range(4 + i % 5))


def _rows(memory: Memory, start: int, end: int, at: datetime) -> tuple[list[dict], list[dict]]:
    segments, translations = [], []
    for i in range(start, end):
        chapter = i // memory.per_chapter
        book, position = chapter // CHAPTERS + 1, i - (chapter // CHAPTERS) * CHAPTERS * memory.per_chapter
        segments.append(dict(id=i + 1, book_id=book, chapter_id=chapter + 1, uid=f"s{i:010x}", position=position,
                             source=memory.sources[i], lang="fa", kind="body", where=f"paragraph {position}", context="",
                             msgctxt=None, paragraph=str(position), obsolete=False, tm_key=memory.keys[i],
                             tm_hash=memory.hashes[i], context_hash=memory.contexts[i]))
        translations.append(dict(id=i + 1, book_id=book, segment_id=i + 1, lang=LANG, text=_translation(i), state="approved",
                                 version=1, origin="translator", engine="", changed_by="bench", changed_at=at, previous_source=None,
                                 note="", suggestion="", suggestion_engine="", machine_draft="", machine_engine="", qa=[]))
    return segments, translations


def build(url: str, memory: Memory) -> dict[str, float]:
    """Every row into an empty store; seconds of the inserts (and, on PostgreSQL, of VACUUM ANALYZE)."""
    from sqlalchemy import insert, text

    from tarjoman.store import Store
    from tarjoman.store.models import Book, Chapter, Segment, Translation

    n, at = len(memory.sources), datetime.now(timezone.utc)
    chapters = -(-n // memory.per_chapter)
    store = Store(url)
    try:
        began = time.perf_counter()

        def heads(session) -> None:
            session.execute(insert(Book), [dict(id=b + 1, slug=f"memoir-{b:03d}", title=f"Memoir {b}", manuscript_digest="",
                                                source_sha256="", segmenter="", legacy_imported=True, created_at=at, updated_at=at)
                                           for b in range(-(-chapters // CHAPTERS))])
            session.execute(insert(Chapter), [dict(id=c + 1, book_id=c // CHAPTERS + 1, key=f"ch{c % CHAPTERS + 1:02d}",
                                                   position=c % CHAPTERS, kind="chapter", present=True) for c in range(chapters)])

        store.write(heads)
        for start in range(0, n, BATCH):
            segments, translations = _rows(memory, start, min(start + BATCH, n), at)

            def batch(session, segments=segments, translations=translations) -> None:
                session.execute(insert(Segment), segments)
                session.execute(insert(Translation), translations)

            store.write(batch)
        found = {"insert": time.perf_counter() - began}
        if store.dialect == "sqlite":
            found["compact"] = compact(store)
        if store.dialect == "postgresql":
            began = time.perf_counter()
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
            found["analyze"] = time.perf_counter() - began
    finally:
        store.close()  # SQLite: PRAGMA optimize, as every command's close does
    return found


def compact(store) -> float:
    """Seconds of merging SQLite's memory index into one b-tree, as ``sync_manuscript`` does after a book goes in."""
    began = time.perf_counter()
    if not store.compact_memory_index(budget_s=float("inf")):
        raise RuntimeError("the memory index was not merged")
    return time.perf_counter() - began


def kept_store(path: Path, memory: Memory) -> bool:
    """Whether ``path`` is a store this memory built: the same number of segments, the same first and last keys."""
    import sqlite3

    if not path.exists():
        return False
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        count, first, last = connection.execute(
            "SELECT count(*), (SELECT tm_key FROM segments ORDER BY id LIMIT 1), (SELECT tm_key FROM segments ORDER BY id DESC LIMIT 1) "
            "FROM segments").fetchone()
    except sqlite3.Error:
        return False
    finally:
        connection.close()
    return count == len(memory.keys) and (first, last) == (memory.keys[0], memory.keys[-1])


def warm(path: Path) -> float:
    """Reads a kept store's file once, untimed, so its lookups find it in the page cache as those of
    a store just built do (and as a desk's do after its first minutes): a file left for hours may
    have been evicted, and its first lookups would time the disk."""
    began = time.perf_counter()
    with path.open("rb") as file:
        while file.read(1 << 24):
            pass
    return time.perf_counter() - began


def build_kept(path: Path, memory: Memory) -> dict[str, float]:
    """:func:`build` into ``path``, by way of a file beside it: an interrupted build leaves no store that looks whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    building = path.with_name(path.name + ".building")
    for end in ("", "-wal", "-shm"):
        path.with_name(path.name + end).unlink(missing_ok=True)
        building.with_name(building.name + end).unlink(missing_ok=True)
    found = build(f"sqlite:///{building}", memory)
    if any(building.with_name(building.name + end).exists() for end in ("-wal", "-shm")):
        raise RuntimeError(f"{building} kept its WAL after closing; not keeping it")
    building.replace(path)
    return found


# --- lookups ------------------------------------------------------------------------------------


@dataclass
class Query:
    kind: str  # exact · seen · unseen
    key: str
    hash: str = ""
    origin: int | None = None  # the stored segment it was made from


def make_queries(memory: Memory, count: int) -> dict[str, list[Query]]:
    from tarjoman.memory import key_hash, tm_key

    rng = random.Random(11)
    stored = rng.sample(range(len(memory.sources)), 2 * count)
    exact = [Query("exact", memory.keys[i], memory.hashes[i], i) for i in stored[:count]]
    seen = []
    for i in stored[count:]:
        key = memory.keys[i]
        for _ in range(20):  # an edit the key sees (not a ZWNJ)
            key = tm_key(edit(memory.sources[i], rng, memory.vocabulary, rng.choice(("delete", "insert", "replace", "digits"))))
            if key != memory.keys[i]:
                break
        seen.append(Query("seen", key, key_hash(key), i))
    unseen = [Query("unseen", tm_key(s), key_hash(tm_key(s))) for s in memory.held_out[:count]]
    return {"exact": exact, "seen": seen, "unseen": unseen}


def lookup(store, query: Query) -> tuple[float, list]:
    """ms of one lookup in its own read transaction, and what it found."""
    from tarjoman.store.memory import exact, fuzzy

    start = time.perf_counter()
    with store.read() as session:
        found = exact(session, LANG, [query.hash]).get(query.hash, []) if query.kind == "exact" else fuzzy(session, LANG, query.key)
    return (time.perf_counter() - start) * 1000, found


def lookups(url: str, queries: dict[str, list[Query]]) -> dict[str, dict]:
    """Per kind: ms of every lookup, and how many found something."""
    from tarjoman.store import Store

    store = Store(url)
    try:
        for query in [q for trio in zip(*queries.values()) for q in trio][:WARMUP]:
            lookup(store, query)
        found = {kind: {"ms": [], "hits": 0, "matches": 0} for kind in queries}
        for trio in zip(*queries.values()):
            for query in trio:
                ms, matches = lookup(store, query)
                found[query.kind]["ms"].append(ms)
                found[query.kind]["hits"] += bool(matches)
                found[query.kind]["matches"] += len(matches)
    finally:
        store.close()
    missing = len(queries["exact"]) - found["exact"]["hits"]
    if missing:
        raise RuntimeError(f"{store.dialect}: {missing} exact lookups of stored sentences found nothing")
    return found


def baseline_rounds(url: str, keys: list[str], queries: list[Query]) -> dict:
    """Index and baseline alternated per query: ms of each, and what each found."""
    from rapidfuzz import fuzz, process

    from tarjoman.memory import score
    from tarjoman.store import Store

    store = Store(url)
    times, results = {"index": [], "baseline": []}, []
    try:
        lookup(store, queries[0])
        process.extract(queries[0].key, keys, scorer=fuzz.ratio, score_cutoff=69.5, limit=3)
        for query in queries:
            ms, index = lookup(store, query)
            times["index"].append(ms)
            start = time.perf_counter()
            base = process.extract(query.key, keys, scorer=fuzz.ratio, score_cutoff=69.5, limit=3)
            times["baseline"].append((time.perf_counter() - start) * 1000)
            results.append(([(m.score, m.segment_id) for m in index], [(score(query.key, k), i + 1) for k, _, i in base]))
    finally:
        store.close()
    by_kind = {kind: recall([r for r, q in zip(results, queries) if q.kind == kind]) for kind in ("seen", "unseen")}
    return {"times": times, "recall": recall(results), "by_kind": by_kind, "queries": len(queries)}


def recall(results: list[tuple[list, list]]) -> dict:
    """Top-1 agreement by score, top-3 by score and by segment, over queries the baseline finds a match for."""
    with_match = [(index, base) for index, base in results if base]
    top1 = sum(bool(index) and index[0][0] == base[0][0] for index, base in with_match)
    slots = sum(len(base) for _, base in with_match)
    by_score = sum(sum(k < len(index) and index[k][0] >= s for k, (s, _) in enumerate(base)) for index, base in with_match)
    by_segment = sum(len({i for _, i in base} & {i for _, i in index}) for index, base in with_match)
    extra = sum(bool(index) for index, base in results if not base)  # impossible if the baseline is exhaustive
    return {"with_match": len(with_match), "top1": top1 / max(1, len(with_match)), "by_score": by_score / max(1, slots),
            "by_segment": by_segment / max(1, slots), "index_only": extra}


# --- the revision merge ------------------------------------------------------------------------


def _old_take_over(gone: list, taken: set[int], unit, chapter_of: dict[int, str]):
    """33f240e's ``tarjoman.store.revision._take_over``, as it was."""
    free = [s for s in gone if s.id not in taken]
    same = next((s for s in free if s.source == unit.text), None)
    if same is not None:
        taken.add(same.id)
        return same, "moved" if chapter_of.get(same.chapter_id) != unit.chapter else "kept"
    best, best_ratio = None, 0.6
    for segment in free:
        if segment.obsolete or chapter_of.get(segment.chapter_id) != unit.chapter:
            continue
        ratio = difflib.SequenceMatcher(None, segment.source, unit.text, autojunk=False).ratio()
        if ratio > best_ratio:
            best, best_ratio = segment, ratio
    if best is not None:
        taken.add(best.id)
        return best, "edited"
    return None, "added"


def pair_new(removed: list, chapter_of: dict, pending: list) -> dict[str, tuple]:
    from tarjoman.store.revision import _Gone

    gone = _Gone(removed, chapter_of)
    return {u.id: ((s.id if s is not None else None), how) for u in pending for s, how in [gone.take_over(u)]}


def pair_old(removed: list, chapter_of: dict, pending: list) -> dict[str, tuple]:
    taken: set[int] = set()
    return {u.id: ((s.id if s is not None else None), how) for u in pending for s, how in [_old_take_over(removed, taken, u, chapter_of)]}


def _digest(manuscript) -> str:
    return hashlib.sha256(manuscript.to_json().encode("utf-8")).hexdigest()


def revise(manuscript, share: float, rng: random.Random):
    """A copy with ``share`` of its sentences each given one word of the book in place of one of
    theirs, cut and numbered again by the extraction's segmenter; the number edited."""
    from tarjoman.manuscript.build import BuildOptions, _segment_book

    revised = copy.deepcopy(manuscript)
    where = [(p, u) for c in revised.chapters for p in c.all_paragraphs() for u in c.paragraph_units(p)]
    words = sorted({w for _, u in where for w in u.text.split() if w.isalpha() and len(w) > 1})
    eligible = [(p, u) for p, u in where if len(u.parts) == 1 and any(w.isalpha() for w in u.text.split())]
    chosen = rng.sample(eligible, max(1, round(share * len(where))))
    for paragraph, unit in chosen:
        tokens = unit.text.split(" ")
        at = rng.choice([i for i, w in enumerate(tokens) if w.isalpha()])
        word = tokens[at]
        while word == tokens[at]:
            word = rng.choice(words)
        tokens[at] = word
        paragraph.text = paragraph.text.replace(unit.text, " ".join(tokens), 1)
    _segment_book(revised.chapters, BuildOptions())
    return revised, len(chosen)


def _approve_all(store, book: str) -> None:
    from sqlalchemy import insert, select

    from tarjoman.store.models import Book, Segment, Translation

    at = datetime.now(timezone.utc)

    def work(session) -> None:
        rows = session.execute(select(Segment.id, Segment.book_id).join(Book, Book.id == Segment.book_id).where(Book.slug == book)).all()
        session.execute(insert(Translation), [dict(book_id=b, segment_id=s, lang=LANG, text=_translation(s), state="approved", version=1,
                                                   origin="translator", changed_by="bench", changed_at=at, qa=[]) for s, b in rows])

    store.write(work)


def _pairing_inputs(url: str, revised, book: str) -> tuple[list, dict, list]:
    """What sync_manuscript hands the pairing: removed segments, chapter row → key, units with new IDs."""
    from sqlalchemy import select

    from tarjoman.store import Store
    from tarjoman.store.models import Book, Chapter, Segment

    store = Store(url)
    try:
        with store.read() as session:
            book_id = session.scalar(select(Book.id).where(Book.slug == book))
            chapter_of = {c.id: c.key for c in session.scalars(select(Chapter).where(Chapter.book_id == book_id))}
            existing = {s.uid: s for s in session.scalars(select(Segment).where(Segment.book_id == book_id))}
    finally:
        store.close()
    units = [u for c in revised.chapters for u in c.units()]
    wanted = {u.id for u in units}
    return [s for uid, s in existing.items() if uid not in wanted], chapter_of, [u for u in units if u.id not in existing]


def revision_merge(tmp: Path, source: Path, rounds: int) -> dict:
    """Per share edited: whole sync times, pairing times both ways, and how the pairings differ."""
    from tarjoman.manuscript import extract
    from tarjoman.project import Project
    from tarjoman.store import Store
    from tarjoman.store.revision import sync_manuscript

    book = "novel" if source == NOVEL else "sample"
    manuscript = extract(source, Project(tmp / "project"), book=book)
    original = tmp / "revision.sqlite"
    store = Store(f"sqlite:///{original}")
    try:
        sync_manuscript(store, manuscript, _digest(manuscript))
        _approve_all(store, book)
    finally:
        store.close()
    if any(original.with_name(original.name + end).exists() for end in ("-wal", "-shm")):
        raise RuntimeError("the original store kept its WAL after closing; its copies would miss rows")
    rng = random.Random(7)
    units = sum(1 for c in manuscript.chapters for _ in c.units())
    found = {"units": units, "chapters": len(manuscript.chapters), "book": source.name}
    revisions = {share: revise(manuscript, share, rng) for share in (0.01, 0.10)}
    inputs = {share: _pairing_inputs(f"sqlite:///{original}", revised, book) for share, (revised, _) in revisions.items()}
    for share, (revised, edited) in revisions.items():
        removed, _, pending = inputs[share]
        found[share] = {"edited": edited, "removed": len(removed), "pending": len(pending), "sync": [], "new": [], "old": []}
    work = tmp / "work.sqlite"
    for _ in range(rounds):
        for share, (revised, _) in revisions.items():
            entry, (removed, chapter_of, pending) = found[share], inputs[share]
            for end in ("", "-wal", "-shm"):
                work.with_name(work.name + end).unlink(missing_ok=True)
            shutil.copyfile(original, work)
            store = Store(f"sqlite:///{work}")
            try:
                start = time.perf_counter()
                report = sync_manuscript(store, revised, _digest(revised))
                entry["sync"].append(time.perf_counter() - start)
            finally:
                store.close()
            start = time.perf_counter()
            new = pair_new(removed, chapter_of, pending)
            entry["new"].append(time.perf_counter() - start)
            start = time.perf_counter()
            old = pair_old(removed, chapter_of, pending)
            entry["old"].append(time.perf_counter() - start)
            entry["report"], entry["pairs"] = report, (new, old)
    for share in revisions:
        new, old = found[share]["pairs"]
        found[share]["differ"] = sum(new[uid] != old[uid] for uid in new)
        found[share]["edited_new"] = sum(how == "edited" for _, how in new.values())
        found[share]["edited_old"] = sum(how == "edited" for _, how in old.values())
        if found[share]["report"].edited != found[share]["edited_new"]:
            raise RuntimeError(f"sync_manuscript edited {found[share]['report'].edited}, its pairing alone {found[share]['edited_new']}")
    return found


# --- report -------------------------------------------------------------------------------------


def report_lookups(name: str, found: dict, total: int) -> None:
    labels = {"exact": "exact (stored key's hash)", "seen": "fuzzy, stored sentence edited", "unseen": "fuzzy, unseen sentence"}
    for kind, entry in found.items():
        n = len(entry["ms"])
        print(f"  {name:<10} {labels[kind]:<31} {spread(entry['ms'])}   found for {entry['hits']}/{n}, "
              f"{entry['matches'] / max(1, n):.1f} matches each")


def report_merge(merge: dict) -> None:
    print(f"revision merge: {merge['book']}, {merge['units']} sentences in {merge['chapters']} chapters, all approved in {LANG}; "
          f"{len(merge[0.01]['sync'])} rounds (sync, new pairing, old pairing)")
    for share in (0.01, 0.10):
        entry = merge[share]
        print(f"  {share:>4.0%} edited: {entry['edited']} sentences; {entry['pending']} units with new IDs, {entry['removed']} removed segments")
        print(f"       sync_manuscript, whole            min {min(entry['sync']):8.3f} s   median {statistics.median(entry['sync']):8.3f} s   "
              f"(report: {entry['report']})")
        print(f"       pairing, new (_Gone, NearIndex)   min {min(entry['new']):8.4f} s   median {statistics.median(entry['new']):8.4f} s   "
              f"{entry['edited_new']} edited")
        print(f"       pairing, old (difflib all pairs)  min {min(entry['old']):8.4f} s   median {statistics.median(entry['old']):8.4f} s   "
              f"{entry['edited_old']} edited")
        print(f"       old/new  {statistics.median(entry['old']) / statistics.median(entry['new']):.1f}×;  "
              f"{entry['differ']} of {entry['pending']} units paired differently")
    growth = {way: statistics.median(merge[0.10][way]) / statistics.median(merge[0.01][way]) for way in ("sync", "new", "old")}
    print(f"  growth from 1 % to 10 % (median over median): pairing new {growth['new']:.1f}×, old {growth['old']:.1f}×, "
          f"whole sync {growth['sync']:.2f}×  (linear ≈ 10, quadratic ≈ 100)")
    merge["growth"] = growth


def start_postgres():
    """A throwaway cluster and an empty database in it, or (None, None) where PostgreSQL is missing."""
    sys.path.insert(0, str(REPO / "tests"))
    from pg_cluster import PostgresCluster, create_database, find_pg_bin

    if find_pg_bin() is None:
        return None, None
    folder = tempfile.TemporaryDirectory(prefix="tarjoman-pg-")  # as root, one the postgres user can enter
    cluster = PostgresCluster(folder.name).start()
    cluster.folder = folder
    return cluster, create_database(cluster, "tm_bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=None, help="segments in the memory (default 1,000,000; --quick 20,000)")
    parser.add_argument("--queries", type=int, default=None, help="lookups of each kind per database (default 300; --quick 50)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the revision merge (default 3)")
    parser.add_argument("--quick", action="store_true", help="a small memory, few queries, the bundled sample for the merge")
    parser.add_argument("--no-postgres", dest="postgres", action="store_false", help="SQLite only")
    parser.add_argument("--keep", type=Path, metavar="DIR", default=None,
                        help="keep the SQLite store in DIR, and use the one there if it holds the same segments")
    args = parser.parse_args()
    n = args.segments or (20_000 if args.quick else 1_000_000)
    count = args.queries or (50 if args.quick else 300)
    began, load = time.perf_counter(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="tarjoman-tm-bench-") as folder:
        tmp = Path(folder)
        memory, keying = make_memory(n, count)
        queries = make_queries(memory, count)
        print(f"memory: {n:,} segments from {memory.pool:,} real sentences ({len(memory.held_out)} more held out), "
              f"{BOOKS} books × {CHAPTERS} chapters, {memory.per_chapter} per chapter; keying {keying:.1f} s, not in the build")
        sqlite_file = args.keep / "tm-memory.sqlite" if args.keep else tmp / "memory.sqlite"
        urls = {"sqlite": f"sqlite:///{sqlite_file}"}
        cluster, pg_url = start_postgres() if args.postgres else (None, None)
        if pg_url:
            urls["postgresql"] = pg_url
        try:
            results = {}
            for name, url in urls.items():
                if name == "sqlite" and args.keep and kept_store(sqlite_file, memory):
                    from tarjoman.store import Store

                    with Store(url) as store:  # kept by an earlier version, perhaps: merged now if it was not
                        merged = compact(store)
                    warmed = warm(sqlite_file)
                    print(f"build, sqlite: none, the kept {sqlite_file} holds these {n:,} segments, "
                          f"file {sqlite_file.stat().st_size / 2**20:,.0f} MiB; index merged into one b-tree in {merged:.1f} s; "
                          f"file read once into the page cache in {warmed:.1f} s")
                else:
                    built = build_kept(sqlite_file, memory) if name == "sqlite" and args.keep else build(url, memory)
                    extra = f", then VACUUM ANALYZE {built['analyze']:.1f} s" if "analyze" in built else ""
                    extra += f", then the index merged into one b-tree in {built['compact']:.1f} s" if "compact" in built else ""
                    size = f", file {sqlite_file.stat().st_size / 2**20:,.0f} MiB" if name == "sqlite" else ""
                    print(f"build, {name}: {built['insert']:.1f} s for {2 * n:,} rows ({2 * n / built['insert']:,.0f} rows/s){extra}{size}")
                sys.stdout.flush()
                results[name] = lookups(url, queries)
                report_lookups(name, results[name], count)
                sys.stdout.flush()
            compared = [q for pair in zip(queries["seen"], queries["unseen"]) for q in pair][:min(COMPARED, 2 * count)]
            base = baseline_rounds(urls["sqlite"], memory.keys, compared)
        finally:
            if cluster is not None:
                cluster.stop()
                cluster.folder.cleanup()
        times, r = base["times"], base["recall"]
        speedup = percentile(times["baseline"], 50) / percentile(times["index"], 50)
        print(f"fuzzy against the baseline (rapidfuzz process.extract over {n:,} keys in a list), {base['queries']} queries "
              f"(seen and unseen alternately), index and baseline alternated per query:")
        print(f"  index (SQLite)   {spread(times['index'])}")
        print(f"  baseline         {spread(times['baseline'])}")
        print(f"  baseline/index   p50 {speedup:.1f}×   p95 {percentile(times['baseline'], 95) / percentile(times['index'], 95):.1f}×")
        print(f"  recall over the {r['with_match']} queries the baseline finds a ≥70 % match for: top-1 agreement by score "
              f"{r['top1']:.1%}, top-3 by score {r['by_score']:.1%}, top-3 by segment {r['by_segment']:.1%}; "
              f"index matches where the baseline has none: {r['index_only']}")
        for kind, label in (("seen", "a stored sentence edited"), ("unseen", "an unseen sentence")):
            k = base["by_kind"][kind]
            print(f"    of which {label}: {k['with_match']} with a match, top-1 {k['top1']:.1%}, top-3 by score {k['by_score']:.1%}")
        sys.stdout.flush()
        merge = revision_merge(tmp, SAMPLE if args.quick else NOVEL, max(1, args.rounds))
        report_merge(merge)
    print(f"benchmark wall time: {time.perf_counter() - began:.0f} s; load average (1 min) {load:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} CPUs")
    def lookup_fields(name: str, keys: tuple[str, ...]) -> list[str]:
        found = results[name]
        fuzzy_ms = found["seen"]["ms"] + found["unseen"]["ms"]
        values = {"exact_p50": percentile(found["exact"]["ms"], 50), "exact_p95": percentile(found["exact"]["ms"], 95),
                  "fuzzy_p50": percentile(fuzzy_ms, 50), "fuzzy_p95": percentile(fuzzy_ms, 95)}
        return [f"{key}_ms_{name}={values[key]:.2f}" for key in keys]

    fields = [f"segments={n}", *lookup_fields("sqlite", ("exact_p50", "exact_p95", "fuzzy_p50", "fuzzy_p95")),
              f"fuzzy_p95_ms_baseline={percentile(times['baseline'], 95):.1f}", f"fuzzy_speedup={speedup:.1f}",
              f"top1_agreement={r['top1']:.3f}", f"top3_by_score={r['by_score']:.3f}",
              f"top1_seen={base['by_kind']['seen']['top1']:.3f}", f"top1_unseen={base['by_kind']['unseen']['top1']:.3f}"]
    if "postgresql" in urls:
        fields += lookup_fields("postgresql", ("exact_p50", "exact_p95", "fuzzy_p50", "fuzzy_p95"))
    growth = merge["growth"]
    fields += [f"merge_1pct_s={statistics.median(merge[0.01]['sync']):.3f}", f"merge_10pct_s={statistics.median(merge[0.10]['sync']):.3f}",
               f"merge_growth={growth['new']:.1f}", f"merge_growth_baseline={growth['old']:.1f}",
               f"pairing_1pct_s={statistics.median(merge[0.01]['new']):.4f}", f"pairing_10pct_s={statistics.median(merge[0.10]['new']):.4f}",
               f"pairing_1pct_s_baseline={statistics.median(merge[0.01]['old']):.4f}",
               f"pairing_10pct_s_baseline={statistics.median(merge[0.10]['old']):.4f}",
               f"pairing_differences={merge[0.01]['differ'] + merge[0.10]['differ']}"]
    print("RESULT " + " ".join(fields))


if __name__ == "__main__":
    main()
