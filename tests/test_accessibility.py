"""Books a reader who cannot see them can read: every image described in the reader's language,
metadata that says what the book really holds, and Ace by DAISY's verdict before any claim.

The album is a Word manuscript with three photographs: one with Word alt text, one with none and
one whose alt text is only its file name (what Word fills in by itself). The novel is the real one
in ../shared/realdata."""

import shutil
import subprocess
import sys
import zipfile

import polib
import pytest
from conftest import FILLER, REALDATA, approve_every_sentence, require_realdata
from docx_builder import ManuscriptBuilder, png
from lxml import etree
from pg_cluster import skip_or_fail

from tarjoman.accessibility import CONFORMS_TO, accessibility_metadata, ace_available, parse_report
from tarjoman.book import draft_book, publish_book
from tarjoman.edition import build_edition
from tarjoman.engines import GenerationSettings, load_engine
from tarjoman.errors import ProjectError
from tarjoman.manuscript import extract
from tarjoman.project import Project
from tarjoman.queue import run_qa

OPF = "{http://www.idpf.org/2007/opf}"
XHTML = "{http://www.w3.org/1999/xhtml}"
DESCRIBED = "مادر و دو کودک کنار خانه‌ای ویران"


def album_docx(path):
    builder = ManuscriptBuilder(title="آلبوم جنگ", author="نویسنده")
    builder.heading("فصل یکم: خانه", 1)
    builder.paragraph("ما در محله‌ای کوچک زندگی می‌کردیم.")
    builder.picture(png(6, 4, lambda x, y: (200, 10 * x, 10 * y)), alt=DESCRIBED)
    builder.paragraph("آن روز همه چیز تغییر کرد.")
    builder.table([["سال", "شهر"], ["سال ۱۳۵۹", "خرمشهر"], ["سال ۱۳۶۰", ""]])  # Word's default look: a header row
    builder.heading("فصل دوم: جبهه", 1)
    builder.paragraph("برادرم به جبهه رفت.")
    builder.picture(png(5, 5, lambda x, y: (10 * y, 90, 10 * x)))  # no alt text at all
    builder.paragraph("نامه‌هایش را هنوز دارم.")
    builder.picture(png(4, 6, lambda x, y: (30, 30 * y, 120)), alt="IMG_2041.JPG")  # Word's file name, not a description
    builder.paragraph("او در پاییز برگشت.")
    builder.save(path)


def opf_meta(path) -> dict[str, list[str]]:
    with zipfile.ZipFile(path) as archive:
        opf = etree.fromstring(archive.read("EPUB/content.opf"))
    found: dict[str, list[str]] = {}
    for meta in opf.iter(OPF + "meta"):
        if meta.get("property"):
            found.setdefault(meta.get("property"), []).append(meta.text)
    return found


def alt_texts(path) -> list[str]:
    """The descriptions of the book's images, but the cover's (its title and author)."""
    with zipfile.ZipFile(path) as archive:
        return [img.get("alt") for name in sorted(archive.namelist()) if name.endswith(".xhtml") and name != "EPUB/cover.xhtml"
                for img in etree.fromstring(archive.read(name)).iter(XHTML + "img")]


@pytest.fixture(scope="module")
def engine(tiny_models):
    return load_engine(tiny_models["nllb"], settings=GenerationSettings(num_beams=1, max_new_tokens=4))


@pytest.fixture
def album(tmp_path, engine):
    (tmp_path / "sources").mkdir()
    album_docx(tmp_path / "sources" / "album.docx")
    project = Project(tmp_path)
    extract(tmp_path / "sources" / "album.docx", project)
    draft_book(project, "album", ["en"], engine)
    approve_every_sentence(tmp_path, "album", "en")
    return project


def need_ace():
    why = ace_available()
    if why:
        skip_or_fail(why)


def test_word_alt_text_becomes_a_sentence_to_translate(album):
    manuscript = album.book_dir("album") / "manuscript.json"
    import json

    data = json.loads(manuscript.read_text(encoding="utf-8"))
    alts = [p for c in data["chapters"] for p in c["paragraphs"] if p["kind"] == "alt"]
    assert [(p["text"], len(p["images"])) for p in alts] == [(DESCRIBED, 1)]  # the file name is no description
    assert "description of image" in alts[0]["where"]
    po = polib.pofile(str(album.book_dir("album") / "review" / "ch01" / "en.po"))
    assert [e.msgstr for e in po if e.msgid == DESCRIBED] == [FILLER["en"]]  # reviewed and approved like any sentence


def test_qa_lists_every_image_without_a_description(album):
    findings = [f for f in run_qa(album, "album", ["en"]) if f["check"] == "image-description"]
    assert [f["chapter"] for f in findings] == ["ch02", "ch02"]
    assert all("has no description" in f["message"] and "sources/album.yaml" in f["message"] for f in findings)
    ids = sorted(f["message"].split()[1] for f in findings)
    edition = build_edition(album, "album", "en")
    assert ids == sorted(i.id for i in edition.images[1:])
    result = subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(album.root), "qa", "album", "--lang", "en"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "ch02 (every language)  image-description: image img-" in result.stdout


def test_metadata_follows_the_book(album, tmp_path):
    edition = build_edition(album, "album", "en")
    pairs = accessibility_metadata(edition)
    assert ("schema:accessMode", "visual") in pairs
    assert ("schema:accessModeSufficient", "textual") not in pairs  # two photographs say nothing to a blind reader
    assert ("schema:accessibilityFeature", "alternativeText") in pairs  # one does
    summary = dict(pairs)["schema:accessibilitySummary"]
    assert "Some images have no text description" in summary
    # the same book without its images: no visual access mode, and text alone suffices
    edition.images = []
    for chapter in edition.chapters:
        chapter.blocks = [b for b in chapter.blocks if b.kind not in ("figure", "alt")]
    pairs = accessibility_metadata(edition)
    assert ("schema:accessMode", "visual") not in pairs and ("schema:accessModeSufficient", "textual") in pairs
    assert ("schema:accessibilityFeature", "alternativeText") not in pairs
    assert "image" not in dict(pairs)["schema:accessibilitySummary"]
    assert ("dcterms:conformsTo", CONFORMS_TO) not in pairs and ("dcterms:conformsTo", CONFORMS_TO) in accessibility_metadata(edition, conforms=True)


def test_an_undescribed_image_blocks_the_claim_until_an_editor_describes_it(album, engine):
    need_ace()
    result = publish_book(album, "album", "en", ace=True)
    assert result.ace.clean and not result.conforms  # Ace is content; the missing descriptions are not
    assert "dcterms:conformsTo" not in opf_meta(result.path)
    assert (result.ace_report / "report.html").is_file() and result.ace_report.name == "album.en.epub.ace"
    assert alt_texts(result.path)[0] == FILLER["en"] and alt_texts(result.path)[1:] == ["", ""]
    with zipfile.ZipFile(result.path) as archive:  # no English title in a YAML: the cover says the Persian one, as Persian
        cover = next(etree.fromstring(archive.read("EPUB/cover.xhtml")).iter(XHTML + "img"))
    assert cover.get("alt").startswith("آلبوم") and cover.get("lang") == "fa" and cover.get("dir") == "rtl"

    # The editor writes the two missing descriptions beside the manuscript; the translator translates them.
    ids = [image.id for image in build_edition(album, "album", "en").images]
    (album.sources / "album.yaml").write_text(
        f"descriptions:\n  {ids[1]}: نامه‌ای دست‌نویس روی میز\n  {ids[2]}: سربازی در لباس پاییزی\n", encoding="utf-8")
    extract(album.sources / "album.docx", album)
    draft_book(album, "album", ["en"], engine)
    approve_every_sentence(album.root, "album", "en")
    assert not [f for f in run_qa(album, "album", ["en"]) if f["check"] == "image-description"]
    done = subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(album.root), "publish", "album", "--lang", "en", "--ace"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Ace pass: 0 critical, 0 serious, 0 moderate" in done.stdout and "conforms to EPUB Accessibility 1.1" in done.stdout
    book = album.book_dir("album") / "epub" / "album.en.epub"
    meta = opf_meta(book)
    assert meta["dcterms:conformsTo"] == [CONFORMS_TO]
    assert meta["schema:accessModeSufficient"] == ["textual", "textual,visual"]
    assert alt_texts(book) == [FILLER["en"]] * 3
    assert (book.parent / "album.en.epub.ace" / "report.json").is_file()
    # a draft edition of the same book is a proof: checked, never claimed
    draft = publish_book(album, "album", "en", draft=True, ace=True)
    assert draft.ace.clean and not draft.conforms and "dcterms:conformsTo" not in opf_meta(draft.path)


def test_a_table_keeps_its_rows_columns_and_header_cells(album):
    book = publish_book(album, "album", "en").path
    with zipfile.ZipFile(book) as archive:
        chapter = etree.fromstring(archive.read("EPUB/ch01.xhtml"))
    tables = list(chapter.iter(XHTML + "table"))
    assert len(tables) == 1
    head = [[(c.tag[len(XHTML):], c.get("scope")) for c in row] for row in tables[0].find(XHTML + "thead")]
    assert head == [[("th", "col"), ("th", "col")]]
    body = [["".join(c.itertext()).strip() for c in row] for row in tables[0].find(XHTML + "tbody")]
    assert body == [[FILLER["en"]] * 2, [FILLER["en"], ""]]  # the empty cell keeps its place


def test_descriptions_file_is_checked(album):
    (album.sources / "album.yaml").write_text("descriptions:\n  - not a mapping\n", encoding="utf-8")
    before = (album.book_dir("album") / "manuscript.json").read_bytes()
    with pytest.raises(ProjectError, match=r"album\.yaml.*descriptions"):
        extract(album.sources / "album.docx", album)
    assert (album.book_dir("album") / "manuscript.json").read_bytes() == before
    (album.sources / "album.yaml").write_text("descriptions:\n  img-000000000000: عکسی که نیست\n", encoding="utf-8")
    manuscript = extract(album.sources / "album.docx", album)
    assert any("no image img-000000000000" in w for w in manuscript.warnings)


def test_publish_ace_without_ace_says_how_to_get_it(album, tmp_path):
    import os

    result = subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(album.root), "publish", "album", "--lang", "en", "--ace"],
                            capture_output=True, text=True, env={**os.environ, "TARJOMAN_ACE": str(tmp_path / "ace-cli")})
    assert result.returncode == 1 and "TARJOMAN_ACE" in result.stderr and "make ace" in result.stderr
    assert not (album.book_dir("album") / "epub").exists()  # refused before anything was built


def test_ace_report_is_read_for_its_verdict():
    """Ace exits 0 on a failing book: the verdict comes from report.json, violations with it."""
    report = parse_report({
        "earl:result": {"earl:outcome": "fail"},
        "earl:assertedBy": {"doap:release": {"doap:revision": "1.4.6"}},
        "a11y-metadata": {"missing": ["schema:accessMode"]},
        "assertions": [{"earl:testSubject": {"url": "ch01.xhtml"}, "assertions": [
            {"earl:test": {"dct:title": "image-alt", "earl:impact": "critical"}, "earl:result": {"earl:outcome": "fail", "dct:description": "no alt"}},
            {"earl:test": {"dct:title": "landmarks", "earl:impact": "minor"}, "earl:result": {"earl:outcome": "fail"}},
            {"earl:test": {"dct:title": "fine", "earl:impact": "serious"}, "earl:result": {"earl:outcome": "pass"}}]}]})
    assert report.outcome == "fail" and report.version == "1.4.6" and not report.clean
    assert (report.count("critical"), report.count("minor"), report.count("serious")) == (1, 1, 0)
    assert str(report.violations[0]) == "critical image-alt ch01.xhtml: no alt"
    assert parse_report({"earl:result": {"earl:outcome": "pass"}, "assertions": [{"assertions": [
        {"earl:test": {"dct:title": "x", "earl:impact": "minor"}, "earl:result": {"earl:outcome": "fail"}}]}]}).clean


def test_the_real_novel_passes_ace_final_and_draft(tmp_path):
    """The real novel (15,000 sentences, no images): translated into English and Urdu without a
    machine (the translators start from the POT), and into Arabic not at all (a draft, all Persian);
    all pass Ace; only the final books claim conformance."""
    require_realdata()
    need_ace()
    (tmp_path / "sources").mkdir()
    shutil.copy(REALDATA / "docx" / "fa" / "fa_novel_anche-bar-man-gozasht.docx", tmp_path / "sources" / "novel.docx")
    project = Project(tmp_path)
    extract(tmp_path / "sources" / "novel.docx", project)
    tarjoman = [sys.executable, "-m", "tarjoman", "--root", str(tmp_path)]
    subprocess.run([*tarjoman, "review", "export", "novel"], check=True, capture_output=True)
    for pot in sorted((tmp_path / "outputs" / "novel" / "review").glob("*/*.pot")):
        for lang in ("en", "ur"):  # a left-to-right book, and a right-to-left one set in Nastaliq
            catalog = polib.pofile(str(pot))
            catalog.metadata["Language"] = lang
            for entry in catalog:
                entry.msgstr = FILLER[lang]
            catalog.save(str(pot.parent / f"{lang}.po"))
    subprocess.run([*tarjoman, "review", "import", "novel"], check=True, capture_output=True)
    for lang in ("en", "ur"):
        final = publish_book(project, "novel", lang, ace=True)
        assert final.ace.clean and final.conforms, (lang, [str(v) for v in final.ace.violations])
        meta = opf_meta(final.path)
        assert meta["schema:accessMode"] == ["textual"] and meta["schema:accessModeSufficient"] == ["textual"]
    draft = publish_book(project, "novel", "ar", draft=True, ace=True)  # every sentence still Persian, marked so
    assert draft.ace.clean and not draft.conforms, [str(v) for v in draft.ace.violations]


def test_the_real_thesis_keeps_its_tables_and_names_its_undescribed_figures(tmp_path):
    """A real thesis (7 tables, 24 figures with no alt text): its draft passes Ace with the tables as
    tables with header cells; qa names every figure a blind reader would miss."""
    require_realdata()
    need_ace()
    (tmp_path / "sources").mkdir()
    shutil.copy(REALDATA / "docx" / "fa" / "fa_thesis_brain-tumor-cnn_MIT.docx", tmp_path / "sources" / "thesis.docx")
    project = Project(tmp_path)
    manuscript = extract(tmp_path / "sources" / "thesis.docx", project)
    findings = [f for f in run_qa(project, "thesis") if f["check"] == "image-description"]
    assert len(findings) == len(manuscript.images) == 24
    draft = publish_book(project, "thesis", "en", draft=True, ace=True)
    assert draft.ace.clean and not draft.conforms, [str(v) for v in draft.ace.violations]
    with zipfile.ZipFile(draft.path) as archive:
        pages = [etree.fromstring(archive.read(n)) for n in archive.namelist() if n.endswith(".xhtml")]
    tables = [t for page in pages for t in page.iter(XHTML + "table")]
    assert len(tables) == 7 and all(t.find(f"{XHTML}thead/{XHTML}tr/{XHTML}th") is not None for t in tables)
    assert "Some images have no text description" in opf_meta(draft.path)["schema:accessibilitySummary"][0]
