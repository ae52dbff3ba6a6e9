import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import docx
import polib
import pytest
from conftest import REALDATA, SAMPLE, require_realdata

from tarjoman.book import draft_book
from tarjoman.engines import GenerationSettings, load_engine
from tarjoman.errors import ReviewFileError
from tarjoman.manuscript import extract
from tarjoman.queue import book_status, export_tmx, import_reviews, post_edit_report, run_qa
from tarjoman.review import read_entries, read_po

GREEDY = GenerationSettings(num_beams=1, max_new_tokens=8)


@pytest.fixture
def engine(tiny_models):
    return load_engine(tiny_models["nllb"], settings=GREEDY)


@pytest.fixture
def book(project, engine):
    shutil.copy(SAMPLE, project.sources / "sample.docx")
    extract(project.sources / "sample.docx", project, book="sample")
    draft_book(project, "sample", ["fr"], engine)
    return project


def approve_all(project, lang="fr", prefix="FR "):
    """What translators do: write a translation, clear the fuzzy flag, save."""
    approved = {}
    for path in sorted((project.book_dir("sample") / "review").glob(f"*/{lang}.po")):
        catalog = polib.pofile(str(path))
        for entry in catalog:
            if entry.obsolete:
                continue
            entry.msgstr = prefix + entry.msgid
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            approved[entry.msgid] = entry.msgstr
        catalog.save(str(path))
    return approved


def entries(project, lang="fr"):
    out = {}
    for path in sorted((project.book_dir("sample") / "review").glob(f"*/{lang}.po")):
        for entry in polib.pofile(str(path)):
            out.setdefault(entry.msgid, []).append((path.parent.name, entry))
    return out


def find_paragraph(doc, start):
    return next(p for p in doc.paragraphs if p.text.startswith(start))


def revise_sample(path):
    """Edit, insert, delete, move a paragraph, split and merge sentences: a real revision in Word."""
    doc = docx.Document(path)
    edited = find_paragraph(doc, "پدرم چیزی نگفت")
    edited.runs[0].text = "پدرم هیچ چیزی نگفت و فقط دستش را روی شانه‌ام گذاشت."
    find_paragraph(doc, "مقاومت خرمشهر").insert_paragraph_before("این بند تازه در بازنویسی اضافه شد.")
    deleted = find_paragraph(doc, "ما سلاح نداشتیم")
    deleted._element.getparent().remove(deleted._element)
    moved = find_paragraph(doc, "فرمانده گردان ما")
    target = find_paragraph(doc, "عملیات بیت‌المقدس")
    target._element.addnext(moved._element)  # from chapter 3 to chapter 4
    split = find_paragraph(doc, "زمستان ۱۳۵۹")
    split.runs[0].text = split.runs[0].text.replace("طولانی بود. پالایشگاه", "طولانی بود. خیلی طولانی. پالایشگاه")
    merged = find_paragraph(doc, "مقاومت خرمشهر ۳۴ روز")
    merged.runs[0].text = "مقاومت خرمشهر ۳۴ روز طول کشید و ما در کوچه‌های شهر، خانه به خانه می‌جنگیدیم."
    doc.save(path)


def test_revision_keeps_every_translators_work(book, engine):
    before = approve_all(book)
    revise_sample(book.sources / "sample.docx")
    extract(book.sources / "sample.docx", book, book="sample")
    draft_book(book, "sample", ["fr"], engine)
    after = entries(book)
    active = {msgid: e for msgid, found in after.items() for _, e in found if not e.obsolete}

    # Unchanged sentences (the moved paragraph's among them) stay approved with their translation.
    unchanged = [m for m in before if m in active]
    assert len(unchanged) >= len(before) - 6
    for msgid in unchanged:
        assert active[msgid].msgstr == before[msgid] and not active[msgid].fuzzy, msgid
    moved = "فرمانده گردان ما مردی آرام و کم‌حرف بود."
    assert [c for c, e in after[moved] if not e.obsolete] == ["ch04"]

    # The edited sentence keeps its old translation as a fuzzy suggestion with the previous source.
    edited = active["پدرم هیچ چیزی نگفت و فقط دستش را روی شانه‌ام گذاشت."]
    assert edited.fuzzy and edited.previous_msgid == "پدرم چیزی نگفت و فقط دستش را روی شانه‌ام گذاشت."
    assert edited.msgstr == before[edited.previous_msgid]

    # The merged sentence takes one old translation with #|; new sentences get drafts.
    merged = active["مقاومت خرمشهر ۳۴ روز طول کشید و ما در کوچه‌های شهر، خانه به خانه می‌جنگیدیم."]
    assert merged.fuzzy and merged.previous_msgid in before
    assert active["این بند تازه در بازنویسی اضافه شد."].fuzzy
    assert active["خیلی طولانی."].fuzzy

    # Nothing lost: every approved translation is still somewhere, active or obsolete (#~).
    everywhere = {e.msgstr for found in after.values() for _, e in found}
    assert set(before.values()) <= everywhere
    obsolete = {msgid for msgid, found in after.items() for _, e in found if e.obsolete}
    assert "ما سلاح نداشتیم و بیشتر بچه‌ها حتی یک بار هم تیراندازی نکرده بودند." in obsolete
    for path in (book.book_dir("sample") / "review").glob("*/*.po"):
        assert subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(path)]).returncode == 0


def test_a_draft_the_translator_edited_is_not_replaced(book, engine):
    path = book.book_dir("sample") / "review" / "ch01" / "fr.po"
    catalog = polib.pofile(str(path))
    catalog[3].msgstr = "Brouillon corrigé, encore à relire."  # still fuzzy: work in progress
    catalog.save(str(path))
    draft_book(book, "sample", ["fr"], load_engine(engine.info.source, settings=GenerationSettings(num_beams=2, max_new_tokens=8)))
    again = polib.pofile(str(path))
    assert again[3].msgstr == "Brouillon corrigé, encore à relire." and again[3].fuzzy
    assert "beams:2" in again[4].comment and "beams:2" not in again[3].comment  # an untouched draft follows the new engine


# --- import ------------------------------------------------------------------


def test_import_applies_what_changed_and_skips_untouched_files(book):
    result = import_reviews(book, "sample")
    assert len(result.imported) == 5 and not result.problems and result.unchanged_files == 5 and result.applied == 0
    approved = approve_all(book)
    result = import_reviews(book, "sample")
    assert result.applied == len(approved) and result.unchanged_files == 0 and not result.conflicts
    rows = book_status(book, "sample")
    assert all(r["approved"] == r["total"] for r in rows if r["lang"] == "fr")


def test_a_syntax_error_is_reported_with_file_and_line_and_the_store_keeps_the_work(book, engine):
    approve_all(book)
    import_reviews(book, "sample")
    path = book.book_dir("sample") / "review" / "ch02" / "fr.po"
    lines = path.read_text(encoding="utf-8").splitlines()
    broken_at = next(i for i, line in enumerate(lines) if line.startswith("msgstr") and i > 20)
    lines[broken_at] = 'msgstr "unterminated'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = import_reviews(book, "sample")
    [problem] = result.problems
    assert problem.path == str(path) and problem.line in (broken_at + 1, broken_at + 2)  # msgfmt reports where it noticed
    assert next(r for r in book_status(book, "sample") if (r["chapter"], r["lang"]) == ("ch02", "fr"))["percent"] == 100.0
    broken = path.read_bytes()
    with pytest.raises(ReviewFileError) as caught:
        draft_book(book, "sample", ["fr"], engine)  # a re-draft refuses to write over the translator's file
    assert f"line {problem.line}" in str(caught.value)
    assert path.read_bytes() == broken


def test_an_edited_msgid_is_reported_not_applied(book):
    path = book.book_dir("sample") / "review" / "ch01" / "fr.po"
    catalog = polib.pofile(str(path))
    catalog[2].msgid = catalog[2].msgid + " (ویرایش مترجم)"
    catalog.save(str(path))
    problems = import_reviews(book, "sample").problems
    assert any("source text was edited" in p.message and p.line > 0 for p in problems)


def test_utf16_and_legacy_charsets_are_read(book, tmp_path):
    path = book.book_dir("sample") / "review" / "ch01" / "fr.po"
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.encode("utf-16"))
    assert not import_reviews(book, "sample").problems
    legacy = tmp_path / "fa.po"
    legacy.write_bytes('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=windows-1256\\n"\n\nmsgid "a"\nmsgstr "سلام"\n'.encode("cp1256"))
    assert read_entries(legacy)[0].msgstr == "سلام"


def test_a_po_for_a_chapter_that_no_longer_exists_is_reported(book):
    stale = book.book_dir("sample") / "review" / "ch09"
    stale.mkdir()
    shutil.copy(book.book_dir("sample") / "review" / "ch01" / "fr.po", stale / "fr.po")
    problems = import_reviews(book, "sample").problems
    assert any("ch09" in p.message and "no longer in the manuscript" in p.message for p in problems)


@pytest.mark.parametrize("name", ["lxpanel_fa.po", "lxpanel_ur.po", "gnome-shell_fa.po", "gnome-shell_fr.po", "file-roller_ar.po"])
def test_real_po_files_load_without_loss(name, tmp_path):
    require_realdata()
    source = REALDATA / "po" / name
    original = polib.pofile(str(source))
    catalog = read_po(source)
    out = tmp_path / name
    out.write_text(catalog.__unicode__(), encoding="utf-8")
    again = polib.pofile(str(out))

    def shape(c):
        return [(e.msgctxt, e.msgid, e.msgid_plural, e.msgstr, tuple(sorted(e.msgstr_plural.items())), e.fuzzy, e.obsolete, e.previous_msgid) for e in c]

    assert shape(again) == shape(original)
    assert len(read_entries(source)) == len(original)
    assert subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(out)], capture_output=True).returncode == subprocess.run(
        ["msgfmt", "-c", "-o", "/dev/null", str(source)], capture_output=True).returncode


# --- status, QA, metrics, TMX -------------------------------------------------------


def test_status_counts(book):
    path = book.book_dir("sample") / "review" / "ch01" / "fr.po"
    catalog = polib.pofile(str(path))
    for entry in catalog[:5]:
        entry.msgstr, entry.flags = "Approuvé.", []
    catalog[5].msgstr = ""  # emptied in the file: not a deletion, the store keeps its draft
    catalog.save(str(path))
    before = {(r["chapter"], r["lang"]): r for r in book_status(book, "sample")}
    assert before[("ch01", "fr")]["approved"] == 0  # status reads the store: nothing imported yet
    import_reviews(book, "sample")
    rows = {(r["chapter"], r["lang"]): r for r in book_status(book, "sample")}
    ch01 = rows[("ch01", "fr")]
    assert (ch01["approved"], ch01["untranslated"], ch01["fuzzy"]) == (5, 0, ch01["total"] - 5)
    assert ch01["percent"] == round(500 / ch01["total"], 1)
    assert rows[("ch01", "ar")]["drafted"] is False and rows[("ch01", "ar")]["untranslated"] == ch01["total"]


def test_qa_findings_go_into_the_po_comments(book):
    path = book.book_dir("sample") / "review" / "ch01" / "fr.po"
    catalog = polib.pofile(str(path))
    target = next(e for e in catalog if "۳۱ شهریور ۱۳۵۹" in e.msgid)
    target.msgstr, target.flags = "Le 31 shahrivar 1358, j'étais à Khorramshahr.", []
    catalog.save(str(path))
    import_reviews(book, "sample")
    findings = run_qa(book, "sample", ["fr"])
    mine = [f for f in findings if f["source"] == target.msgid]
    assert [f["check"] for f in mine] == ["numbers", "numbers"]
    saved = next(e for e in polib.pofile(str(path)) if e.msgid == target.msgid)
    assert "qa: numbers: 1359 is in the source but not in the translation" in saved.comment
    run_qa(book, "sample", ["fr"])  # a second run replaces, not repeats, the findings
    saved = next(e for e in polib.pofile(str(path)) if e.msgid == target.msgid)
    assert saved.comment.count("qa: numbers") == 2
    assert json.loads((book.book_dir("sample") / "qa.json").read_text())


def test_post_edit_report(book):
    approve_all(book)
    import_reviews(book, "sample")
    rows, chart = post_edit_report(book, "sample")
    assert {r["lang"] for r in rows} == {"fr"} and all(r["chrf"] < 50 for r in rows)  # nonsense drafts, rewritten
    assert rows[0]["signatures"]["chrf"].startswith("nrefs:1") and "version" in rows[0]["signatures"]["bleu"]
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_post_edit_report_scores_an_untouched_draft_perfectly(book):
    path = book.book_dir("sample") / "review" / "ch01" / "fr.po"
    catalog = polib.pofile(str(path))
    for entry in catalog:
        entry.flags = []  # approved exactly as drafted
    catalog.save(str(path))
    import_reviews(book, "sample")
    rows, _ = post_edit_report(book, "sample")
    [row] = [r for r in rows if r["chapter"] == "ch01"]
    assert row["chrf"] == 100.0 and row["ter"] == 0.0


def test_tmx_export_escapes_and_round_trips(book, tmp_path):
    path = book.book_dir("sample") / "review" / "ch01" / "fr.po"
    catalog = polib.pofile(str(path))
    catalog[1].msgstr, catalog[1].flags = "Tom & Jerry <script>", []
    catalog.save(str(path))
    import_reviews(book, "sample")
    out = tmp_path / "sample.tmx"
    assert export_tmx(book, "sample", out) == 1
    root = ET.parse(out).getroot()
    segs = [seg.text for seg in root.iter("seg")]
    assert segs == [catalog[1].msgid, "Tom & Jerry <script>"]


# --- CLI ------------------------------------------------------------------------


def run(book, *args):
    return subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(book.root), *args], capture_output=True, text=True, timeout=120)


def test_status_and_qa_json(book):
    status = json.loads(run(book, "status", "sample", "--json").stdout)
    assert {"chapter", "lang", "total", "approved", "fuzzy", "untranslated", "qa", "percent"} <= status[0].keys()
    findings = json.loads(run(book, "qa", "sample", "--lang", "fr", "--json").stdout)
    assert {"chapter", "lang", "line", "check", "message", "source"} <= findings[0].keys()


def test_review_import_exit_codes(book):
    assert run(book, "review", "import", "sample").returncode == 0
    path = book.book_dir("sample") / "review" / "ch01" / "fr.po"
    path.write_text(path.read_text(encoding="utf-8") + '\nmsgid "dangling"\n', encoding="utf-8")
    result = run(book, "review", "import", "sample")
    assert result.returncode == 1 and "fr.po:" in result.stderr and "Traceback" not in result.stderr


def test_a_translator_saving_while_qa_rewrites_her_file_loses_nothing(book, monkeypatch):
    """Her editor saves at the very moment `qa` swaps in the file it wrote: her save is put back,
    taken into the store, and the file written again with it."""
    import tarjoman.files as files

    path = book.book_dir("sample") / "review" / "ch01" / "fr.po"
    seal, saved = files._seal, []

    def translator_saves_then_seal(tmp, mode):
        if tmp.name.startswith(".fr.po.") and tmp.parent == path.parent and not saved:
            catalog = polib.pofile(str(path))
            catalog[2].msgstr, catalog[2].flags = "Sauvée au dernier moment.", []
            catalog.save(str(path))
            saved.append(catalog[2].msgid)
        seal(tmp, mode)

    monkeypatch.setattr(files, "_seal", translator_saves_then_seal)
    run_qa(book, "sample", ["fr"])
    monkeypatch.setattr(files, "_seal", seal)
    from tarjoman.queue import approved_translations

    assert saved and ("Sauvée au dernier moment." in {t.text for _, _, s, t in approved_translations(book, "sample", ["fr"]) if s.source == saved[0]})
    assert {e.msgid: e.msgstr for e in read_entries(path)}[saved[0]] == "Sauvée au dernier moment."
