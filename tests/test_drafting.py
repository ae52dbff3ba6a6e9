import shutil
import sqlite3
import subprocess
import sys

import docx
import polib
import pytest
from conftest import SAMPLE

from tarjoman.book import book_lock, draft_book
from tarjoman.store import Store
from tarjoman.store.cache import DraftCache
from tarjoman.drafting import DraftOptions, draft_language
from tarjoman.engines import GenerationSettings, load_engine
from tarjoman.errors import ProjectError
from tarjoman.finishing import NBSP, NNBSP, finish
from tarjoman.manuscript import BuildOptions, extract
from tarjoman.text import join_parts

GREEDY = GenerationSettings(num_beams=1, max_new_tokens=8)


@pytest.fixture
def engine(tiny_models):
    return load_engine(tiny_models["nllb"], settings=GREEDY)


@pytest.fixture
def book(project):
    shutil.copy(SAMPLE, project.sources / "sample.docx")
    extract(project.sources / "sample.docx", project, book="sample")
    return project


def po(project, chapter, lang):
    return polib.pofile(str(project.book_dir("sample") / "review" / chapter / f"{lang}.po"))


def test_second_run_makes_zero_model_calls(book, engine):
    first = draft_book(book, "sample", ["ar", "fr"], engine)
    assert sum(r.counts["machine"] for r in first.reports) > 150
    calls = engine.calls
    second = draft_book(book, "sample", ["ar", "fr"], engine)
    assert engine.calls == calls
    assert all(r.counts["machine"] == 0 and r.model_calls == 0 for r in second.reports)
    assert [r.counts["cache"] for r in second.reports] == [r.counts["machine"] for r in first.reports]


def test_after_editing_one_sentence_only_it_is_drafted(book, engine, tmp_path):
    draft_book(book, "sample", ["en"], engine)
    doc = docx.Document(book.sources / "sample.docx")
    run = next(p for p in doc.paragraphs if "پدرم رادیو" in p.text).runs[0]
    run.text = run.text.replace("پدرم رادیو را روشن کرد", "پدرم رادیوی کهنه را روشن کرد")
    doc.save(book.sources / "sample.docx")
    extract(book.sources / "sample.docx", book, book="sample")
    report = draft_book(book, "sample", ["en"], engine).reports[0]
    assert report.counts["machine"] == 1 and report.segments_drafted == 1


def test_carried_over_text_is_untouched(book, engine):
    draft_book(book, "sample", ["ar", "en"], engine)
    quran = "إِنَّا لِلَّهِ وَإِنَّا إِلَيْهِ رَاجِعُونَ"
    arabic = {e.msgid: e for e in po(book, "ch04", "ar")}
    assert arabic[quran].msgstr == quran and "carried over" in arabic[quran].comment
    english = {e.msgid: e for e in po(book, "ch04", "en")}
    assert english[quran].msgstr != quran  # only the Arabic edition carries it


def test_numbers_only_segments_are_carried(project, engine, tmp_path):
    doc = docx.Document()
    doc.add_heading("فصل اول", 1)
    doc.add_paragraph("۱۳۵۹")
    doc.add_paragraph("جملهٔ معمولی.")
    doc.save(tmp_path / "n.docx")
    manuscript = extract(tmp_path / "n.docx", project, book="n")
    cache = DraftCache(Store.for_root(tmp_path))
    drafts, report = draft_language(manuscript, "ar", engine, cache)
    by_text = {u.text: d for u, d in zip(manuscript.chapters[0].units(), drafts)}
    assert by_text["۱۳۵۹"].origin == "carried" and by_text["۱۳۵۹"].text == "۱۳۵۹"
    assert report.counts["carried"] == 1


def test_a_footnote_that_is_only_a_web_address_is_drafted_like_the_text(project, engine, tmp_path):
    """A bibliography note in Latin letters (a URL) takes the manuscript's language, as body text
    does: drafting it once failed with "unknown language ''"."""
    from docx_builder import ManuscriptBuilder, Note

    builder = ManuscriptBuilder()
    builder.heading("فصل اول", 1)
    builder.paragraph(["این جمله منبعی دارد.", Note("https://example.org/archive/1359/report.pdf"), " و ادامه."])
    builder.save(tmp_path / "u.docx")
    manuscript = extract(tmp_path / "u.docx", project, book="u")
    note = manuscript.chapters[0].footnotes[0]
    assert [s.lang for p in note.paragraphs for s in p.segments] == ["fa"]
    drafts, report = draft_language(manuscript, "en", engine, DraftCache(Store.for_root(tmp_path)))
    assert len(drafts) == sum(1 for _ in manuscript.chapters[0].units())


def test_long_sentence_drafted_in_parts_and_joined(project, engine, tmp_path):
    clause = "سربازان از کنار رود کارون گذشتند و به سوی شهر خرمشهر رفتند"
    doc = docx.Document()
    doc.add_heading("فصل اول", 1)
    doc.add_paragraph("، ".join([clause] * 20) + ".")
    doc.save(tmp_path / "long.docx")
    manuscript = extract(tmp_path / "long.docx", project, book="long", options=BuildOptions(max_tokens=60))
    units = list(manuscript.chapters[0].units())
    long_unit = units[1]
    assert len(long_unit.parts) > 2 and long_unit.text == manuscript.chapters[0].paragraphs[0].text
    drafts, _ = draft_language(manuscript, "en", engine, DraftCache(Store.for_root(tmp_path)), options=DraftOptions(digits="keep"))
    parts = engine.translate([p.text for p in long_unit.parts], "fa", "en")
    assert drafts[1].text == join_parts([(t, " ") for t in parts]).strip()


def test_approved_entries_and_translator_comments_survive_a_redraft(book, engine):
    draft_book(book, "sample", ["fr"], engine)
    path = book.book_dir("sample") / "review" / "ch01" / "fr.po"
    catalog = polib.pofile(str(path))
    entry = catalog[1]
    entry.msgstr = "Le 31 shahrivar 1359, j'étais chez mon père à Khorramshahr."
    entry.flags.remove("fuzzy")
    catalog[2].tcomment = "vérifier le nom"
    catalog.save(str(path))
    draft_book(book, "sample", ["fr"], engine)
    again = {e.msgid: e for e in polib.pofile(str(path))}
    assert again[entry.msgid].msgstr == entry.msgstr and not again[entry.msgid].fuzzy
    assert again[catalog[2].msgid].tcomment == "vérifier le nom"


def test_approved_translation_is_reused_for_the_same_sentence_elsewhere(book, engine):
    draft_book(book, "sample", ["en"], engine)
    path = book.book_dir("sample") / "review" / "ch04" / "en.po"
    catalog = polib.pofile(str(path))
    target = next(e for e in catalog if e.msgid == "هدف عملیات، آزادی خرمشهر بود.")
    target.msgstr, target.flags = "The aim of the operation was to free Khorramshahr.", []
    catalog.save(str(path))
    calls = engine.calls
    report = draft_book(book, "sample", ["en"], engine).reports[0]
    assert report.counts["memory"] == 1 and engine.calls == calls


def test_review_files_pass_msgfmt(book, engine):
    result = draft_book(book, "sample", ["ar", "en", "fr", "ur"], engine)
    assert len(result.files) == 5 * 5  # five chapters (front matter included): a POT and four POs each
    for path in result.files:
        check = subprocess.run(["msgfmt", "-c", "--check-format", "-o", "/dev/null", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        if path.suffix == ".po":
            assert "warning" not in check.stderr, check.stderr
    catalog = po(book, "ch01", "ar")
    assert catalog.metadata["Language"] == "ar" and catalog.metadata["Plural-Forms"].startswith("nplurals=6")
    assert all(e.fuzzy for e in catalog if e.msgstr)
    assert "X-Tarjoman-Engine" in catalog.metadata


def test_identical_sentences_in_a_chapter_get_a_context(project, engine, tmp_path):
    doc = docx.Document()
    doc.add_heading("فصل اول", 1)
    doc.add_paragraph("صبر کردیم. باز هم صبر.")
    doc.add_paragraph("صبر کردیم.")
    doc.save(tmp_path / "r.docx")
    extract(tmp_path / "r.docx", project, book="r")
    draft_book(project, "r", ["en"], engine)
    entries = [e for e in polib.pofile(str(project.book_dir("r") / "review" / "ch01" / "en.po")) if e.msgid == "صبر کردیم."]
    assert len(entries) == 2 and entries[0].msgctxt != entries[1].msgctxt


def test_a_second_writer_is_refused(book, engine):
    with book_lock(book.book_dir("sample"), "testing"):
        with pytest.raises(ProjectError, match="another tarjoman process"):
            draft_book(book, "sample", ["en"], engine)


def test_the_cache_keeps_the_first_draft_of_a_key(tmp_path):
    """Two workers drafting the same sentence at once: one draft is kept, neither fails."""
    cache = DraftCache(Store.for_root(tmp_path))
    cache.put_many([("k", "fa", "en", "سلام", "hello", "e1")])
    cache.put_many([("k", "fa", "en", "سلام", "hi", "e2"), ("k2", "fa", "en", "خداحافظ", "bye", "e2")])
    assert cache.get_many(["k", "k2", "nope"]) == {"k": "hello", "k2": "bye"} and len(cache) == 2


def test_a_locked_store_is_waited_for(tmp_path):
    """Another process holds the write lock (a long import): the cache waits, it does not fail."""
    import threading

    store = Store.for_root(tmp_path)
    other = sqlite3.connect(tmp_path / "tarjoman.sqlite", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    threading.Timer(1.5, lambda: other.execute("COMMIT")).start()
    DraftCache(store).put_many([("k", "fa", "en", "سلام", "hello", "e")])
    assert DraftCache(store).get_many(["k"]) == {"k": "hello"}


@pytest.mark.parametrize(
    "text, lang, digits, expected",
    [
        ("In 1359 he left.", "en", "native", "In 1359 he left."),
        ("در ۱۳۵۹", "en", "native", "در 1359"),
        ("Il a dit: oui!", "fr", "native", f"Il a dit{NBSP}: oui{NNBSP}!"),
        ('Il a dit "viens".', "fr", "native", f"Il a dit «{NNBSP}viens{NNBSP}»."),
        ("« Pourquoi ? »", "fr", "native", f"«{NNBSP}Pourquoi{NNBSP}?{NNBSP}»"),
        ("قال, لماذا? عام 1359", "ar", "native", "قال، لماذا؟ عام ١٣٥٩"),
        ("قال, لماذا? عام 1359", "ar", "latin", "قال، لماذا؟ عام 1359"),
        ("اس نے کہا. پھر 3.5 گھنٹے", "ur", "native", "اس نے کہا۔ پھر ۳.۵ گھنٹے"),
        ("عام ۱۳۵۹", "ar", "keep", "عام ۱۳۵۹"),
    ],
)
def test_finishing(text, lang, digits, expected):
    assert finish(text, lang, digits=digits) == expected


def test_draft_command(book, tiny_models):
    args = [sys.executable, "-m", "tarjoman", "--root", str(book.root), "draft", "sample", "--lang", "ar,ur", "--model", tiny_models["nllb"], "--beams", "1"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "ar [" in result.stderr and "segments" in result.stderr  # progress
    assert "drafted sample with" in result.stdout and "  ur " in result.stdout
    again = subprocess.run(args, capture_output=True, text=True, timeout=300)
    line = next(l for l in again.stdout.splitlines() if l.strip().startswith("ar "))
    units, drafted, cached = line.split()[1:4]
    assert drafted == "0" and int(cached) == int(units) - 1  # one carried (the Quran verse)


# Runs the CLI in this process and says, after it, which heavy packages it imported.
IMPORTED = """
import sys
from tarjoman.cli import main
sys.argv = ["tarjoman", *sys.argv[1:]]
code = 0
try:
    main()
except SystemExit as exit:
    code = exit.code
print("imported:", *[m for m in ("torch", "transformers", "prefect") if m in sys.modules], file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.parametrize("backend", ["transformers", "ctranslate2"])
def test_a_draft_with_nothing_new_loads_no_model(book, tiny_models, tmp_path, monkeypatch, backend):
    """Every sentence cached: neither torch nor transformers is imported, the model is not loaded
    (issue #17: such a command costs about what `tarjoman --version` does). One edited sentence
    then loads the model and drafts it alone, under the same signature."""
    monkeypatch.setenv("TARJOMAN_CACHE", str(tmp_path / "cache"))
    args = [sys.executable, "-c", IMPORTED, "--root", str(book.root), "draft", "sample", "--lang", "fr", "--model", tiny_models["nllb"],
            "--beams", "1", "--backend", backend]
    first = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "torch" in first.stderr.splitlines()[-1] or backend == "ctranslate2"
    again = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert again.stderr.splitlines()[-1].split()[1:] == [], again.stderr.splitlines()[-1]
    assert first.stdout.splitlines()[0] == again.stdout.splitlines()[0]  # "drafted sample with <signature>"
    line = next(l for l in again.stdout.splitlines() if l.strip().startswith("fr "))
    assert line.split()[2] == "0"  # nothing drafted
    # The manuscript changes in one sentence: the model is loaded (its tokenizer checked) and drafts it.
    manuscript = docx.Document(str(book.sources / "sample.docx"))
    paragraph = next(p for p in manuscript.paragraphs if "خرمشهر" in p.text and len(p.text) > 40)
    paragraph.runs[0].text = paragraph.runs[0].text.replace("خرمشهر", "آبادان", 1)
    manuscript.save(str(book.sources / "sample.docx"))
    extract(book.sources / "sample.docx", book, book="sample")
    third = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr
    assert "transformers" in third.stderr.splitlines()[-1]
    line = next(l for l in third.stdout.splitlines() if l.strip().startswith("fr "))
    assert int(line.split()[2]) >= 1 and int(line.split()[3]) > 50


def test_draft_command_refuses_a_bad_language_and_a_bad_model(book, tmp_path):
    bad_lang = subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(book.root), "draft", "sample", "--lang", "xx", "--model", str(tmp_path)], capture_output=True, text=True)
    assert bad_lang.returncode == 1 and "cannot draft into 'xx': 'xx' is not a language code" in bad_lang.stderr
    bad_model = subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(book.root), "draft", "sample", "--model", str(tmp_path / "none")], capture_output=True, text=True)
    assert bad_model.returncode == 1 and "model folder not found" in bad_model.stderr and "Traceback" not in bad_model.stderr
