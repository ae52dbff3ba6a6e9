"""The translation memory: keys, exact and in-context matches before drafting, fuzzy matches
with their scores in the PO files, concordance, on SQLite and PostgreSQL."""

import shutil

import docx
import polib
import pytest
from conftest import SAMPLE

from tarjoman.book import draft_book
from tarjoman.engines import GenerationSettings, load_engine
from tarjoman.manuscript import extract
from tarjoman.memory import NearIndex, diff_text, score, tm_key
from tarjoman.queue import accept_drafts
from tarjoman.store import Store
from tarjoman.store.core import require_book, segments
from tarjoman.store.memory import exact, fuzzy, search

# Sentences of the sample's first chapter, and the second book's versions of them.
BEFORE = "صدای هواپیماها ناگهان آسمان شهر را پر کرد."
MIDDLE = "مادرم از پنجره بیرون را نگاه کرد و گفت: «این صدای رعد نیست.»"
AFTER = "پدرم رادیو را روشن کرد و همه ساکت شدیم."
ZWNJ_SENTENCE = "رضا گفت که جوان\u200cهای محله در مسجد جامع جمع می\u200cشوند."
ZWNJ_VARIANT = "رضا گفت که جوانهای محله در مسجد جامع جمع میشوند."
DIGIT_SENTENCE = "شب در مسجد جامع خرمشهر بیش از ۲۰۰ نفر جمع شده بودند."
DIGIT_VARIANT = "شب در مسجد جامع خرمشهر بیش از 200 نفر جمع شده بودند."
EDITED_FROM = "پیرمردی که کنار رود کارون ماهی می\u200cفروخت، به ما نان و خرما داد."
EDITED = "پیرمردی که کنار رود کارون ماهی می\u200cفروخت، به ما نان و آب داد."
NEW = "این جمله در کتاب نخست نیامده و تازه است."


def indel_percent(a: str, b: str) -> int:
    """The score by hand: 2·LCS / (len a + len b), by dynamic programming (not rapidfuzz)."""
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return int(200 * previous[-1] / (len(a) + len(b)) + 0.5)


def test_keys_join_what_writers_write_differently():
    assert tm_key(ZWNJ_SENTENCE) == tm_key(ZWNJ_VARIANT) == tm_key("رضا گفت که جوان های محله در مسجد جامع جمع می شوند.")
    assert tm_key(DIGIT_SENTENCE) == tm_key(DIGIT_VARIANT) == tm_key("شب در مسجد جامع خرمشهر بیش از ٢٠٠ نفر جمع شده بودند")
    assert tm_key("  «سلام، دوست من!»  ") == tm_key("سلام، دوست من") == tm_key("سلام ، دوست  من.")
    assert tm_key("كتاب علي") == tm_key("کتاب علی")  # Arabic kaf and yeh
    assert tm_key("Hello World.") == tm_key("hello world")
    assert tm_key(EDITED) != tm_key(EDITED_FROM) and tm_key("…") == ""


def test_scores_are_the_indel_similarity_in_percent():
    a, b = tm_key(EDITED_FROM), tm_key(EDITED)
    assert score(a, b) == indel_percent(a, b) and 85 < score(a, b) < 100
    assert score(a, a) == 100 and score("abc", "xyz") == 0
    assert diff_text("به ما نان و خرما داد", "به ما نان و آب داد") == "به ما نان و [-خرما-] {+آب+} داد"


def test_the_near_index_finds_edits_without_comparing_everything():
    sentences = [f"جمله شماره {i} از فصل دوم کتاب با واژه {i * 7} است" for i in range(2000)]
    index = NearIndex(enumerate(sentences))
    found = index.best("جمله شماره 1234 از فصل دوم کتاب با واژه 8638 بود", 0.6)
    assert found is not None and found.id == 1234 and found.ratio > 0.9
    assert index.best("چیزی یکسره دیگر، بی هیچ پیوندی", 0.6) is None
    index.remove(1234)
    assert index.best(sentences[1234], 0.99) is None


# --- two books ------------------------------------------------------------------


def _second_book(path):
    document = docx.Document()
    document.add_heading("فصل یکم: یادهای دیگر", level=1)
    document.add_paragraph(" ".join([BEFORE, MIDDLE, AFTER]))
    document.add_paragraph(" ".join([ZWNJ_VARIANT, DIGIT_VARIANT]))
    document.add_paragraph(" ".join([EDITED, NEW]))
    document.save(path)
    return path


@pytest.fixture(scope="module")
def engine(tiny_models):
    return load_engine(tiny_models["nllb"], settings=GenerationSettings(num_beams=1, max_new_tokens=8))


@pytest.fixture
def two_books(project, engine):
    """The sample, drafted into English and every draft approved; then a second book that repeats
    some of its sentences, extracted."""
    shutil.copy(SAMPLE, project.sources / "sample.docx")
    extract(project.sources / "sample.docx", project, book="sample")
    draft_book(project, "sample", ["en"], engine)
    accept_drafts(project, "sample", "en", "tara")
    extract(_second_book(project.sources / "second.docx"), project, book="second")
    return project


def _approved(project, book, lang="en"):
    from tarjoman.store.core import translations

    with Store.for_root(project.root) as store, store.read() as session:
        row = require_book(session, book)
        by_uid = {s.uid: s.source for s in segments(session, row)}
        return {by_uid[uid]: (t.text, uid) for uid, t in translations(session, row, lang).items() if t.approved and uid in by_uid}


def _recording(engine, monkeypatch):
    seen: list[str] = []
    translate = engine.translate

    def recording(texts, source_lang, target_lang):
        seen.extend(texts)
        return translate(texts, source_lang, target_lang)

    monkeypatch.setattr(engine, "translate", recording)
    return seen


def test_a_second_book_takes_the_repeats_from_the_memory_and_drafts_only_the_rest(two_books, engine, monkeypatch):
    first = _approved(two_books, "sample")
    seen = _recording(engine, monkeypatch)
    report = draft_book(two_books, "second", ["en"], engine).reports[0]

    repeats = {BEFORE: BEFORE, MIDDLE: MIDDLE, AFTER: AFTER, ZWNJ_VARIANT: ZWNJ_SENTENCE, DIGIT_VARIANT: DIGIT_SENTENCE}
    assert report.counts["memory"] == len(repeats)
    assert not set(seen) & (set(repeats) | set(repeats.values()))  # no engine call for any of them
    assert EDITED in seen and NEW in seen

    catalog = {e.msgid: e for e in polib.pofile(str(two_books.book_dir("second") / "review" / "ch01" / "en.po"))}
    for sentence, original in repeats.items():
        entry = catalog[sentence]
        text, uid = first[original]
        assert entry.msgstr == text and entry.fuzzy  # a person still confirms it
        assert f"the same sentence in sample/{uid}" in entry.comment
    # The edited sentence: drafted, with the first book's sentence beside it, its score and the difference.
    edited = catalog[EDITED]
    expected = indel_percent(tm_key(EDITED_FROM), tm_key(EDITED))
    assert f"memory {expected}% (sample ch01): {first[EDITED_FROM][0]}" in edited.comment
    assert "[-خرما-] {+آب+}" in edited.comment
    assert "memory" not in catalog[NEW].comment  # nothing like it anywhere


def test_tm_approve_approves_only_in_context_matches(two_books, engine):
    result = draft_book(two_books, "second", ["en"], engine, tm_approve=True)
    assert result.tm_approved == 1
    approved = _approved(two_books, "second")
    assert set(approved) == {MIDDLE}  # between the same two sentences as in the sample; the others need a person
    with Store.for_root(two_books.root) as store:
        from tarjoman.store.translations import history

        change = [c for c in history(store, "second", uid=approved[MIDDLE][1], lang="en") if c.action == "approve"]
    assert change and change[0].who == "memory" and "sample/" in change[0].why


def test_a_person_s_text_is_never_replaced_by_the_memory(two_books, engine):
    from tarjoman.store import Edit
    from tarjoman.store.translations import apply_edits

    draft_book(two_books, "second", ["en"], engine)
    with Store.for_root(two_books.root) as store:
        with store.read() as session:
            uid = next(s.uid for s in segments(session, require_book(session, "second")) if s.source == BEFORE)
        apply_edits(store, "second", {"en": [Edit(uid, "My own words.", "draft", None, "desk")]}, who="tom", origin="translator")
    draft_book(two_books, "second", ["en"], engine, tm_approve=True)
    with Store.for_root(two_books.root) as store, store.read() as session:
        from tarjoman.store.core import translation

        mine = translation(session, require_book(session, "second"), "en", uid)
    assert (mine.text, mine.state, mine.origin) == ("My own words.", "draft", "translator")


def test_the_book_s_own_approved_sentences_are_not_drafted_again(two_books, engine, monkeypatch):
    seen = _recording(engine, monkeypatch)
    report = draft_book(two_books, "sample", ["en"], engine).reports[0]
    assert seen == [] and report.counts["memory"] == report.units - report.counts["carried"]


# --- the store's queries, on both databases --------------------------------------


def test_exact_fuzzy_and_concordance_on_both_databases(store_url, sample_manuscript):
    """The same answers from SQLite (FTS5 trigram) and PostgreSQL (pg_trgm)."""
    from tarjoman.store.revision import sync_manuscript

    store = Store(store_url)
    try:
        sync_manuscript(store, sample_manuscript, "digest")
        with store.read() as session:
            rows = segments(session, require_book(session, "sample"))
        record_drafts_for(store, "sample", rows)
        by_source = {s.source: i for i, s in enumerate(rows)}
        with store.read() as session:
            hits = exact(session, "fr", [_hash(DIGIT_VARIANT)])
            assert [(m.text, m.book) for m in hits[_hash(DIGIT_VARIANT)]] == [(f"fr {by_source[DIGIT_SENTENCE]}", "sample")]
            assert exact(session, "en", [_hash(DIGIT_VARIANT)]) == {}  # nothing approved in English
            matches = fuzzy(session, "fr", tm_key(EDITED))
            assert matches[0].text == f"fr {by_source[EDITED_FROM]}"
            assert matches[0].score == indel_percent(tm_key(EDITED), tm_key(EDITED_FROM))
            assert all(m.score >= 70 for m in matches)
            assert fuzzy(session, "fr", tm_key("جمله‌ای یکسره بی‌ربط درباره‌ی آب‌وهوای فردا")) == []
            found = search(session, "مسجد جامع", lang="fr")
            assert {o.source for o in found} == {s.source for s in rows if "مسجد جامع" in s.source}
            assert all(o.book == "sample" and o.chapter and o.translations["fr"] for o in found)
            target = search(session, f"fr {by_source[EDITED_FROM]}", side="target")
            assert EDITED_FROM in [o.source for o in target] and all(o.translations["fr"].startswith(f"fr {by_source[EDITED_FROM]}") for o in target)
    finally:
        store.close()


def test_fuzzy_lookups_find_the_best_match_as_a_scan_of_every_key_does(store_url, sample_manuscript):
    """Edited sentences (a word taken out, one put in, a short word at the start or end changed,
    the two longest words taken out):
    the index's best score is the best a comparison with every remembered key finds."""
    from rapidfuzz import fuzz, process

    from tarjoman.store.revision import sync_manuscript

    store = Store(store_url)
    try:
        sync_manuscript(store, sample_manuscript, "digest")
        with store.read() as session:
            rows = segments(session, require_book(session, "sample"))
        record_drafts_for(store, "sample", rows)
        keys = [tm_key(s.source) for s in rows]
        edited = []
        for i, key in enumerate(keys):
            words = key.split(" ")
            if len(words) < 4 or i % 3:
                continue
            middle = len(words) // 2
            edited.append(" ".join(words[:middle] + words[middle + 1:]) if i % 2 else " ".join(words[:middle] + ["دیروز"] + words[middle:]))
            edited.append(" ".join(["و"] + words[1:]) if len(words[0]) > 2 else " ".join(words[1:] + ["بود"]))
            if len(words) >= 8:  # its two longest words gone: the two rarest, often
                longest = sorted(range(len(words)), key=lambda k: -len(words[k]))[:2]
                edited.append(" ".join(w for k, w in enumerate(words) if k not in longest))
        assert len(edited) > 60
        with store.read() as session:
            for key in edited:
                best = process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=69.5)
                found = fuzzy(session, "fr", key)
                assert (found[0].score if found else None) == (score(key, best[0]) if best else None), key
    finally:
        store.close()


def test_the_index_is_merged_into_one_b_tree_after_a_book_goes_in(store_url, sample_manuscript, monkeypatch):
    """Each transaction leaves a b-tree of its own in an FTS5 index; a sync that adds a book
    merges them into one, a step at a time, and lookups answer the same afterwards."""
    import dataclasses

    from tarjoman.store import core, revision

    monkeypatch.setattr(revision, "COMPACT_AFTER", 10**9)  # the books go in without merging
    store = Store(store_url)
    try:
        for n in range(3):
            revision.sync_manuscript(store, dataclasses.replace(sample_manuscript, book=f"book{n}"), "digest")
        with store.read() as session:
            rows = segments(session, require_book(session, "book0"))
        record_drafts_for(store, "book0", rows)
        with store.read() as session:
            before = fuzzy(session, "fr", tm_key(EDITED))
        if store.dialect != "sqlite":  # GIN keeps itself: nothing to merge
            assert store.compact_memory_index(budget_s=0)
            return
        assert not store.compact_memory_index(budget_s=0)  # one step merged something: there was more than one b-tree
        assert store.compact_memory_index()
        assert store.compact_memory_index(budget_s=0)  # nothing left to merge
        with store.engine.begin() as connection:
            for index in core.MEMORY_INDEXES:
                connection.exec_driver_sql(f"INSERT INTO {index}({index}) VALUES ('integrity-check')")
        with store.read() as session:
            assert fuzzy(session, "fr", tm_key(EDITED)) == before and before

        monkeypatch.setattr(revision, "COMPACT_AFTER", 1)  # a fourth book: merged as it goes in
        revision.sync_manuscript(store, dataclasses.replace(sample_manuscript, book="book3"), "digest")
        assert store.compact_memory_index(budget_s=0)
    finally:
        store.close()


def record_drafts_for(store, book, rows) -> None:
    from tarjoman.store import DraftIn
    from tarjoman.store.translations import accept_drafts as store_accept, record_drafts

    record_drafts(store, book, "fr", [DraftIn(s.uid, f"fr {i}", "machine", "e") for i, s in enumerate(rows)])
    store_accept(store, book, "fr", who="tara", acceptable=lambda uid, text: True)


def _hash(sentence: str) -> str:
    from tarjoman.memory import key_hash

    return key_hash(tm_key(sentence))


# --- TMX in and out, and the concordance, through the CLI --------------------------

OMEGAT = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE tmx SYSTEM "tmx14.dtd">
<tmx version="1.4">
  <header creationtool="OmegaT" o-tmf="OmegaT TMX" adminlang="EN-US" datatype="plaintext" creationtoolversion="6.0.1_0_1e8b5c7a" segtype="sentence" srclang="FA"/>
  <body>
    <tu>
      <tuv xml:lang="FA">
        <seg>{source}</seg>
      </tuv>
      <tuv xml:lang="EN-US" changeid="maryam" changedate="20240315T101500Z" creationid="maryam" creationdate="20240315T101500Z">
        <seg>{text}</seg>
      </tuv>
    </tu>
  </body>
</tmx>
"""


def run(*args, cwd):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(cwd), *args], capture_output=True, text=True, timeout=300)


def _units(project) -> int:
    from sqlalchemy import func, select

    from tarjoman.store.models import MemoryUnit

    with Store.for_root(project.root) as store, store.read() as session:
        return session.scalar(select(func.count()).select_from(MemoryUnit))


def test_an_omegat_memory_drafts_the_sentences_it_knows(project, engine, monkeypatch):
    shutil.copy(SAMPLE, project.sources / "sample.docx")
    extract(project.sources / "sample.docx", project, book="sample")
    memory = project.root / "omegat-project_save.tmx"
    memory.write_text(OMEGAT.format(source=DIGIT_VARIANT, text="That night more than 200 people gathered in the mosque."), encoding="utf-8")
    result = run("tm", "import", str(memory), cwd=project.root)
    assert result.returncode == 0, result.stderr
    assert "imported 1 of the 1 translation units" in result.stdout and "en 1" in result.stdout
    again = run("tm", "import", str(memory), cwd=project.root)
    assert "imported 0 of the 1" in again.stdout and "1 were already in the memory" in again.stdout and _units(project) == 1

    seen = _recording(engine, monkeypatch)
    report = draft_book(project, "sample", ["en"], engine).reports[0]
    assert report.counts["memory"] == 1 and DIGIT_SENTENCE not in seen
    entry = next(e for e in polib.pofile(str(project.book_dir("sample") / "review" / "ch01" / "en.po")) if e.msgid == DIGIT_SENTENCE)
    assert entry.msgstr == "That night more than 200 people gathered in the mosque." and entry.fuzzy
    assert "the same sentence in tmx:omegat-project_save.tmx" in entry.comment


@pytest.mark.parametrize("body, line, words", [
    ('<!DOCTYPE tmx [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>', 2, "DOCTYPE"),
    ('<tmx version="1.4"><header srclang="en"/><body></body></tmx>', 2, "from English"),
    ('<tmx version="1.4"><header srclang="fa"/><body><tu><tuv xml:lang="fa"><seg>سلام</seg></tuv></tmx>', 2, "mismatched tag"),
])
def test_a_bad_memory_is_refused_whole_with_its_file_and_line(project, body, line, words):
    good = "".join(f'<tu><tuv xml:lang="fa"><seg>جمله {i}</seg></tuv><tuv xml:lang="en"><seg>Sentence {i}</seg></tuv></tu>\n' for i in range(50))
    if body.startswith("<!DOCTYPE"):
        text = f'<?xml version="1.0"?>\n{body}\n<tmx version="1.4"><header srclang="fa"/><body>{good}</body></tmx>\n'
    else:
        text = f'<?xml version="1.0"?>\n{body.replace("<body>", "<body>" + good.replace(chr(10), ""))}\n'
    path = project.root / "bad.tmx"
    path.write_text(text, encoding="utf-8")
    result = run("tm", "import", str(path), cwd=project.root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.startswith(f"error: {path} (line {line}): ") and words in message and len(message.splitlines()) == 1
    assert _units(project) == 0  # nothing half-imported


def test_the_memory_goes_out_as_tmx_and_back_in_whole(two_books, tmp_path):
    out = two_books.root / "memory.tmx"
    result = run("tm", "export", "--lang", "en", "--out", str(out), cwd=two_books.root)
    assert result.returncode == 0, result.stderr
    from tarjoman.tmx import read_tmx

    exported = {(u.source, u.lang, u.text) for u in read_tmx(out)}
    assert exported == {(source, "en", text) for source, (text, _uid) in _approved(two_books, "sample").items()}
    other = tmp_path / "other"
    other.mkdir()
    result = run("tm", "import", str(out), cwd=other)
    assert result.returncode == 0, result.stderr
    back = other / "back.tmx"
    assert run("tm", "export", "--out", str(back), cwd=other).returncode == 0
    assert {(u.source, u.lang, u.text) for u in read_tmx(back)} == exported


def test_tm_search_shows_each_hit_with_its_book_chapter_and_paragraph(two_books):
    result = run("tm", "search", "مسجد جامع", "--lang", "en", cwd=two_books.root)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    hits = [line for line in lines if line.startswith("sample ")]
    assert len(hits) == 3 and all("مسجد جامع" in line for line in hits)  # three such sentences in the sample
    assert hits[0].startswith("sample ch01 ") and any(line.startswith("    en: ") for line in lines)
    assert lines[-1] == "3 found"
    nothing = run("tm", "search", "واژه‌ای که نیست", cwd=two_books.root)
    assert nothing.stdout.strip() == "0 found"


# --- consistency --------------------------------------------------------------------


def test_consistency_findings_on_planted_cases(store_url, sample_manuscript, tmp_path):
    from tarjoman.project import Project
    from tarjoman.store import DraftIn, Edit
    from tarjoman.store.memory import inconsistencies
    from tarjoman.store.revision import sync_manuscript
    from tarjoman.store.translations import accept_drafts as store_accept, apply_edits, record_drafts

    (tmp_path / "sources").mkdir()
    second = extract(_second_book(tmp_path / "sources" / "second.docx"), Project(tmp_path), book="second")
    store = Store(store_url)
    try:
        for manuscript in (sample_manuscript, second):
            sync_manuscript(store, manuscript, "digest")
        with store.read() as session:
            first_rows = segments(session, require_book(session, "sample"))
            second_rows = segments(session, require_book(session, "second"))
        uid = {s.source: s.uid for s in first_rows}
        other = {s.source: s.uid for s in second_rows}
        record_drafts(store, "sample", "fr", [DraftIn(s.uid, f"Phrase numéro {i} du premier livre.", "machine", "e") for i, s in enumerate(first_rows)])
        # Planted: two sentences of the sample given one translation; a repeat in the second book
        # approved otherwise; another repeat approved the same but for case and final stop (no finding).
        same = "Une seule et même traduction pour deux phrases."
        edits = [Edit(uid[BEFORE], same, "approved", None, "desk"), Edit(uid[AFTER], same, "approved", None, "desk")]
        apply_edits(store, "sample", {"fr": edits}, who="tara", origin="translator")
        store_accept(store, "sample", "fr", who="tara", acceptable=lambda u, text: True)
        with store.read() as session:
            from tarjoman.store.core import translations

            middle = translations(session, require_book(session, "sample"), "fr")[uid[MIDDLE]].text
        apply_edits(store, "second", {"fr": [
            Edit(other[MIDDLE], "Ma mère regarda dehors et dit : « ce n'est pas le tonnerre »", "approved", None, "desk"),
            Edit(other[BEFORE], same.upper().rstrip("."), "approved", None, "desk"),
        ]}, who="tom", origin="translator")
        with store.read() as session:
            first = inconsistencies(session, require_book(session, "sample"), "fr")
            later = inconsistencies(session, require_book(session, "second"), "fr")
    finally:
        store.close()
    assert first[uid[MIDDLE]] == ["consistency: the same sentence is approved as «Ma mère regarda dehors et dit : « ce n'est pas le tonnerre »» "
                                  f"in second ch01 ({other[MIDDLE]})"]
    assert later[other[MIDDLE]] == [f"consistency: the same sentence is approved as «{middle}» in sample ch01 ({uid[MIDDLE]})"]
    assert first[uid[BEFORE]] == [f"consistency: the same translation is approved for another sentence, «{AFTER}», in sample ch01 ({uid[AFTER]})"]
    assert first[uid[AFTER]] == [f"consistency: the same translation is approved for another sentence, «{BEFORE}», in sample ch01 ({uid[BEFORE]})"]
    assert other[BEFORE] not in later  # the same words, but for case and the final stop
    assert set(first) == {uid[MIDDLE], uid[BEFORE], uid[AFTER]} and set(later) == {other[MIDDLE]}


def test_qa_reports_consistency_in_its_report_and_the_po_file(two_books, engine):
    from tarjoman.queue import run_qa
    from tarjoman.store import Edit
    from tarjoman.store.translations import apply_edits

    draft_book(two_books, "second", ["en"], engine)
    with Store.for_root(two_books.root) as store:
        with store.read() as session:
            uid = next(s.uid for s in segments(session, require_book(session, "second")) if s.source == MIDDLE)
        apply_edits(store, "second", {"en": [Edit(uid, "My mother looked out and said it was no thunder.", "approved", None, "desk")]},
                    who="tom", origin="translator")
    report = run_qa(two_books, "second", ["en"])
    found = [f for f in report if f["check"] == "consistency"]
    assert [f["segment"] for f in found] == [uid] and "in sample ch01" in found[0]["message"] and found[0]["line"] > 0
    entry = next(e for e in polib.pofile(str(two_books.book_dir("second") / "review" / "ch01" / "en.po")) if e.msgid == MIDDLE)
    assert "qa: consistency: the same sentence is approved as" in entry.comment


def test_a_store_made_before_the_memory_gets_its_keys_and_index_when_opened(store_url, sample_manuscript):
    """Migration 0003 on a store with books in it: every segment keyed, the trigram index filled."""
    from alembic import command
    from sqlalchemy import text

    from tarjoman.store import db
    from tarjoman.store.revision import sync_manuscript

    engine = db.make_engine(store_url)
    config = db._alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    with engine.begin() as connection:  # a book as 0.2 stored it: no memory columns yet
        connection.execute(text("INSERT INTO books (id, slug, title, manuscript_digest, source_sha256, segmenter, legacy_imported, created_at, updated_at) "
                                "VALUES (1, 'old', '', '', '', '', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO chapters (id, book_id, key, position, kind, present) VALUES (1, 1, 'ch01', 0, 'chapter', true)"))
        for i, source in enumerate([BEFORE, MIDDLE, AFTER, DIGIT_SENTENCE]):
            connection.execute(text('INSERT INTO segments (id, book_id, chapter_id, uid, position, source, lang, kind, "where", context, paragraph, obsolete) '
                                    "VALUES (:id, 1, 1, :uid, :id, :source, 'fa', 'body', '', '', '1', false)"), {"id": i + 1, "uid": f"s{i}", "source": source})
            connection.execute(text("INSERT INTO translations (book_id, segment_id, lang, text, state, version, origin, engine, changed_by, note, suggestion, "
                                    "suggestion_engine, machine_draft, machine_engine, qa) VALUES (1, :id, 'en', :t, 'approved', 1, 'translator', '', 'tara', '', '', '', '', '', '[]')"),
                               {"id": i + 1, "t": f"old {i}"})
    engine.dispose()
    store = Store(store_url)  # opening it brings the schema to the head
    try:
        with store.read() as session:
            found = exact(session, "en", [_hash(DIGIT_VARIANT), _hash(MIDDLE)])
            assert [m.text for m in found[_hash(DIGIT_VARIANT)]] == ["old 3"] and [m.text for m in found[_hash(MIDDLE)]] == ["old 1"]
            assert [m.text for m in fuzzy(session, "en", tm_key(MIDDLE.replace("مادرم", "پدرم")))] == ["old 1"]
        # The next sync of the same manuscript keeps the keys the migration computed.
        sync_manuscript(store, sample_manuscript, "digest")
        with store.read() as session:
            sample_row = require_book(session, "sample")
            assert remembered_uids(session, sample_row) >= {s.uid for s in segments(session, sample_row) if s.source in (BEFORE, MIDDLE, AFTER, DIGIT_SENTENCE)}
    finally:
        store.close()


def remembered_uids(session, book_row) -> set[str]:
    from tarjoman.store.memory import remembered

    return set(remembered(session, book_row, "en"))


def test_an_empty_memory_is_not_exported_and_nothing_is_written(project):
    out = project.root / "memory.tmx"
    result = run("tm", "export", "--out", str(out), cwd=project.root)
    assert result.returncode == 1 and "the memory is empty" in result.stderr and not out.exists()
    assert run("tm", "search", "سلام", "--lang", "xx", cwd=project.root).returncode == 1
