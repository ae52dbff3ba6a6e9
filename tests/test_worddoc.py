"""The sample book as Word manuscripts (draft editions in ar, en, fr, ur, and a bilingual fr one):
Word's own styles, footnotes, pictures and tables; right to left where the text is, a language on
every run; each file converts in LibreOffice and reads back through Tarjoman's own reader."""

import errno
import re
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import docx
import polib
import pytest
from conftest import DATA, FILLER, REALDATA, drafted_sample, require_realdata
from docx.opc.pkgwriter import PackageWriter
from lxml import etree
from pg_cluster import skip_or_fail

from tarjoman.book import draft_book
from tarjoman.edition import build_edition
from tarjoman.engines import GenerationSettings, load_engine
from tarjoman.errors import EpubError
from tarjoman.languages import language
from tarjoman.manuscript import extract, read_manuscript
from tarjoman.project import Project
from tarjoman.queue import import_reviews
from tarjoman.worddoc import render_docx

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W_NS, "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"}
W = f"{{{W_NS}}}"
BOOKS = ["ar", "en", "fr", "ur", "fr-bilingual"]
ARABIC_LETTER = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f]")
VERSE = "إِنَّا"  # the Arabic verse the sample quotes in chapter 4
SOFFICE_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def engine(tiny_models):
    return load_engine(tiny_models["nllb"], settings=GenerationSettings(num_beams=1, max_new_tokens=8))


def _translate(root: Path) -> None:
    """A translator's pass, so that the books hold the scripts they will hold: Arabic and Urdu in
    every chapter but the first (whose tiny-model drafts, in Latin letters, stay as Latin inside
    a right-to-left book), and the English book's Arabic verse kept in Arabic."""
    for path in sorted((root / "outputs" / "sample" / "review").glob("*/*.po")):
        lang, chapter = path.stem, path.parent.name
        catalog = polib.pofile(str(path))
        for entry in catalog:
            if lang in ("ar", "ur") and chapter != "ch01":
                entry.msgstr = FILLER[lang]
            elif lang == "en" and entry.msgid.startswith(VERSE):
                entry.msgstr = entry.msgid
            else:
                continue
            entry.flags = [f for f in entry.flags if f != "fuzzy"]
        catalog.save(str(path))
    assert not import_reviews(Project(root), "sample").problems


@pytest.fixture(scope="module")
def books(tmp_path_factory, tiny_models):
    """Extract and draft the sample, translate some of it, and write the five Word files."""
    root = tmp_path_factory.mktemp("worddoc")
    project = drafted_sample(root, tiny_models["nllb"])
    _translate(root)
    editions = {lang: build_edition(project, "sample", lang, draft=True) for lang in ("ar", "en", "fr", "ur")}
    editions["fr-bilingual"] = build_edition(project, "sample", "fr", draft=True, bilingual=True)
    paths = {key: render_docx(edition, root / "word" / f"sample.{key}.docx") for key, edition in editions.items()}
    return editions, paths


# --- reading the files back ------------------------------------------------------------


def part(path: Path, name: str):
    with zipfile.ZipFile(path) as archive:
        return etree.fromstring(archive.read(name))


def body(path: Path):
    return part(path, "word/document.xml").find("w:body", NS)


def footnotes(path: Path) -> list:
    """The footnotes proper (Word's separators left out)."""
    return [n for n in part(path, "word/footnotes.xml").iterfind("w:footnote", NS) if int(n.get(W + "id")) >= 1]


def paragraphs(path: Path) -> list:
    """Every paragraph of the body and of the footnotes, in tables too."""
    return list(body(path).iter(W + "p")) + [p for note in footnotes(path) for p in note.iter(W + "p")]


def text(element) -> str:
    """The text as Word shows it: a line break is ``\\n``, a tab ``\\t``."""
    marks = {W + "br": "\n", W + "tab": "\t"}
    return "".join(e.text or "" if e.tag == W + "t" else marks[e.tag] for e in element.iter(W + "t", W + "br", W + "tab"))


def is_rtl(p) -> bool:
    bidi = p.find("w:pPr/w:bidi", NS)
    return bidi is not None and bidi.get(W + "val", "1") not in ("0", "false")


def rendered_headings(edition) -> int:
    """Sub-headings as the book shows them: not the manuscript's title line (the title page has it),
    and in a bilingual edition each one after its Persian."""
    return sum(1 + bool(edition.bilingual and b.source.strip()) for c in edition.chapters for b in c.blocks
               if b.kind == "heading" and not b.cell and not (c.kind == "front" and b.level == 0))


def figure_images(edition) -> list[str]:
    known = {image.id for image in edition.images}
    return [i for c in edition.chapters for b in c.blocks for i in b.images if i in known and b.kind != "alt"]


def tables(edition) -> set[tuple[str, int]]:
    return {(c.id, b.cell[0]) for c in edition.chapters for b in c.blocks if b.cell}


# --- structure -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", BOOKS)
def test_chapters_headings_notes_images_and_tables_are_words_own(books, key):
    editions, paths = books
    edition, path = editions[key], paths[key]
    document = docx.Document(str(path))
    styles = [p.style.name for p in document.paragraphs]
    assert styles[0] == "Title" and document.paragraphs[0].text == edition.metadata["title"]
    assert styles.count("Heading 1") == sum(1 for c in edition.chapters if c.title) == 4
    assert sum(bool(re.fullmatch(r"Heading [2-9]", s)) for s in styles) == rendered_headings(edition) > 0
    notes = [n for c in edition.chapters for n in c.notes]
    assert len(notes) == 5
    assert sorted(int(n.get(W + "id")) for n in footnotes(path)) == sorted(n.number for n in notes)
    references = [int(r.get(W + "id")) for r in body(path).iter(W + "footnoteReference")]
    assert sorted(references) == sorted(n.number for n in notes)
    for reference in body(path).iter(W + "footnoteReference"):
        assert reference.getparent().find("w:rPr/w:rStyle", NS).get(W + "val") == "FootnoteReference"
    pictures = list(body(path).iter(f"{{{NS['wp']}}}inline"))
    assert len(pictures) == len(figure_images(edition)) == 1
    with zipfile.ZipFile(path) as archive:
        assert len([n for n in archive.namelist() if n.startswith("word/media/")]) == len(set(figure_images(edition)))
    assert len(document.tables) == len(tables(edition))
    assert "Verse" in styles and "Quote" in styles and "Caption" in styles
    under = "count(.//w:p[following-sibling::w:p[1][w:pPr/w:pStyle/@w:val='Caption']]//wp:inline)"
    assert body(path).xpath(under, namespaces=NS) == 1, "the caption stands right under its picture"


def test_page_fits_the_picture_and_it_is_described(books):
    editions, paths = books
    document = docx.Document(str(paths["en"]))
    section = document.sections[0]
    text_width = section.page_width - section.left_margin - section.right_margin
    (shape,) = document.inline_shapes
    assert 0 < shape.width <= text_width
    described = next(b for c in editions["en"].chapters for b in c.blocks if b.kind == "alt")
    assert body(paths["en"]).find(".//wp:docPr", NS).get("descr") == described.text


@pytest.mark.parametrize("key", BOOKS)
def test_properties_say_what_made_the_book(books, key):
    editions, paths = books
    edition = editions[key]
    props = docx.Document(str(paths[key])).core_properties
    assert props.title == edition.metadata["title"] and props.author == edition.metadata["author"]
    assert props.language == edition.lang
    assert props.comments.startswith("DRAFT edition") and edition.signature in props.comments
    assert props.content_status == "Draft"
    assert edition.metadata["words"]["draft"] in [p.text for p in docx.Document(str(paths[key])).paragraphs[:8]]
    with zipfile.ZipFile(paths[key]) as archive:
        assert not any("thumbnail" in n for n in archive.namelist())  # python-docx's template preview is not ours


# --- direction, language and fonts --------------------------------------------------------------


@pytest.mark.parametrize("lang", ["ar", "ur"])
def test_right_to_left_books(books, lang):
    _, paths = books
    path = paths[lang]
    for p in paragraphs(path):
        if text(p).strip():
            assert is_rtl(p), text(p)[:60]
    runs = [r for p in paragraphs(path) for r in p.iter(W + "r") if text(r).strip()]
    rtl_runs = [r for r in runs if r.find("w:rPr/w:rtl", NS) is not None]
    assert len(rtl_runs) > len(runs) / 2
    for run in runs:
        if ARABIC_LETTER.search(text(run)):
            assert run.find("w:rPr/w:rtl", NS) is not None, text(run)
        elif run.find("w:rPr/w:rtl", NS) is None:
            assert LATIN_LETTER.search(text(run)), f"a left-to-right run in a {lang} book holds Latin: {text(run)!r}"
    latin = [text(r) for r in runs if r.find("w:rPr/w:rtl", NS) is None]
    assert "Tarjoman" in latin  # the translators' line: «مترجمو Tarjoman التجريبيون», the name a run of its own
    assert body(path).find("w:sectPr/w:bidi", NS) is not None


def test_arabic_verse_in_the_english_book_is_right_to_left_and_only_it(books):
    editions, paths = books
    path, edition = paths["en"], editions["en"]
    verse = next(b for c in edition.chapters for b in c.blocks if b.text.startswith(VERSE))
    assert verse.lang == "ar" and verse.kind == "quotation"
    shown = [b for c in edition.chapters for b in c.blocks + [c.title] * bool(c.title) if b.kind != "alt" and b.text.strip()]
    expected = {b.text for b in shown if language(b.lang).rtl}
    found = {text(p) for p in body(path).iter(W + "p") if is_rtl(p) and text(p).strip()}
    assert found == expected and verse.text in found
    quote = next(p for p in body(path).iter(W + "p") if text(p) == verse.text)
    assert quote.find("w:pPr/w:pStyle", NS).get(W + "val") == "Quote"
    for run in quote.iter(W + "r"):
        assert run.find("w:rPr/w:lang", NS).get(W + "bidi") == "ar-SA"
        if text(run).strip():
            assert run.find("w:rPr/w:rtl", NS) is not None
            assert run.find("w:rPr/w:rFonts", NS).get(W + "cs") == "Noto Naskh Arabic"
    assert body(path).find("w:sectPr/w:bidi", NS) is None


@pytest.mark.parametrize("lang, latin, bidi, cs_font", [
    ("ar", "en-GB", "ar-SA", "Noto Naskh Arabic"),
    ("ur", "en-GB", "ur-PK", "Noto Nastaliq Urdu"),
    ("en", "en-GB", "fa-IR", "Noto Naskh Arabic"),
    ("fr", "fr-FR", "fa-IR", "Noto Naskh Arabic"),
])
def test_every_run_has_a_language_and_its_fonts(books, lang, latin, bidi, cs_font):
    _, paths = books
    path = paths[lang]
    runs = [r for p in paragraphs(path) for r in p.iter(W + "r")] + list(part(path, "word/footer1.xml").iter(W + "r"))
    assert len(runs) > 50
    for run in runs:
        tag, fonts = run.find("w:rPr/w:lang", NS), run.find("w:rPr/w:rFonts", NS)
        assert tag is not None, etree.tostring(run)[:200]
        assert fonts.get(W + "ascii") == fonts.get(W + "hAnsi") == "Times New Roman"
        if run.find("w:rPr/w:rtl", NS) is not None:
            assert tag.get(W + "bidi") in ("ar-SA", "ur-PK", "fa-IR") and tag.get(W + "val") is None
            assert fonts.get(W + "cs") == ("Noto Nastaliq Urdu" if tag.get(W + "bidi") == "ur-PK" else "Noto Naskh Arabic")
        else:
            assert tag.get(W + "val") in ("en-GB", "fr-FR")
    styles = part(path, "word/styles.xml")
    for rpr in (styles.find("w:docDefaults/w:rPrDefault/w:rPr", NS), styles.find("w:style[@w:styleId='Normal']/w:rPr", NS)):
        assert rpr.find("w:lang", NS).get(W + "val") == latin and rpr.find("w:lang", NS).get(W + "bidi") == bidi
        assert rpr.find("w:rFonts", NS).get(W + "cs") == cs_font
        assert int(rpr.find("w:szCs", NS).get(W + "val")) > int(rpr.find("w:sz", NS).get(W + "val"))
    assert not styles.xpath("//w:rFonts/@w:asciiTheme | //w:rFonts/@w:cstheme", namespaces=NS)  # a theme font would win


# --- bilingual ------------------------------------------------------------------------------------


def test_bilingual_book_sets_each_persian_paragraph_before_its_translation(books):
    editions, paths = books
    edition = editions["fr-bilingual"]
    pairs = [(b.source, b.text) for c in edition.chapters for b in c.blocks
             if b.kind not in ("figure", "caption", "alt") and b.source.strip() and not (c.kind == "front" and b.level == 0)]
    assert len(pairs) > 30
    shown = list(body(paths["fr-bilingual"]).iter(W + "p"))
    at = 0
    for source, translation in pairs:
        while at < len(shown) and text(shown[at]) != source:
            at += 1
        assert at + 1 < len(shown), f"the Persian «{source[:40]}» is missing, or out of order"
        persian, french = shown[at], shown[at + 1]
        assert text(french) == translation
        assert is_rtl(persian) and not is_rtl(french)
        assert {r.find("w:rPr/w:lang", NS).get(W + "bidi") for r in persian.iter(W + "r") if r.find("w:rPr/w:rtl", NS) is not None} == {"fa-IR"}
        at += 2


# --- other programs read it ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdfs(books, tmp_path_factory):
    """Every book converted to PDF by LibreOffice, headless, with a profile of its own."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        skip_or_fail("LibreOffice (soffice) is not installed: apt-get install libreoffice-writer")
    _, paths = books
    out = tmp_path_factory.mktemp("pdf")
    return _convert(soffice, list(paths.values()), out, tmp_path_factory.mktemp("lo-profile")), paths


def _convert(soffice: str, files: list[Path], out: Path, profile: Path) -> dict[Path, Path]:
    done = subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                           "--outdir", str(out), *map(str, files)], capture_output=True, text=True, timeout=SOFFICE_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    return {path: out / f"{path.stem}.pdf" for path in files}


@pytest.mark.parametrize("key", BOOKS)
def test_libreoffice_converts_each_book_to_pdf(pdfs, key):
    converted, paths = pdfs
    pdf = converted[paths[key]]
    assert pdf.is_file(), f"LibreOffice wrote no PDF for {paths[key].name}"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", data)) >= 5  # the title page and four chapters


@pytest.mark.parametrize("key", BOOKS)
def test_tarjomans_own_reader_finds_the_same_book(books, key):
    editions, paths = books
    edition = editions[key]
    manuscript, files = read_manuscript(paths[key], book="readback")
    chapters = [c for c in manuscript.chapters if c.kind == "chapter"]
    assert len(chapters) == sum(1 for c in edition.chapters if c.title)
    notes = [n for c in edition.chapters for n in c.notes]
    found = [f for c in manuscript.chapters for f in c.footnotes]
    assert len(found) == len(notes)
    if not edition.bilingual and edition.lang in ("en", "fr"):
        assert [" ".join(p.text for p in f.paragraphs) for f in found] == [" ".join(b.text for b in n.blocks) for n in notes]
    assert len(files) == len(set(figure_images(edition)))
    assert manuscript.metadata["title"] == edition.metadata["title"]
    kinds = {p.kind for c in manuscript.chapters for p in c.paragraphs}
    assert {"verse", "quotation", "caption", "figure", "heading"} <= kinds


# --- writing ---------------------------------------------------------------------------------------


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(books, tmp_path, monkeypatch):
    editions, _ = books
    target = tmp_path / "sample.ar.docx"
    target.write_bytes(b"the copy-editor's last version")

    def half_written(pkg_file, pkg_rels, parts):
        Path(pkg_file).write_bytes(b"PK\x03\x04 half a document")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(PackageWriter, "write", staticmethod(half_written))
    with pytest.raises(EpubError) as raised:
        render_docx(editions["ar"], target)
    assert str(target) in str(raised.value) and "no space left" in str(raised.value)
    assert raised.value.path == str(target)
    assert target.read_bytes() == b"the copy-editor's last version"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample.ar.docx"]


def test_a_missing_image_is_named_and_nothing_is_written(books, tmp_path):
    editions, _ = books
    (tmp_path / "empty").mkdir()
    target = tmp_path / "sample.en.docx"
    target.write_bytes(b"previous")
    with pytest.raises(EpubError, match=r"images/img-[0-9a-f]+\.png is missing") as raised:
        render_docx(replace(editions["en"], image_folder=tmp_path / "empty"), target)
    assert raised.value.path == str(target)
    assert target.read_bytes() == b"previous" and sorted(p.name for p in tmp_path.iterdir()) == ["empty", "sample.en.docx"]


# --- tables -------------------------------------------------------------------------------------


def _drafted(root: Path, source: Path, lang: str, engine) -> tuple:
    (root / "sources").mkdir(parents=True)
    shutil.copy(source, root / "sources" / "book.docx")
    project = Project(root)
    extract(root / "sources" / "book.docx", project, book="book")
    draft_book(project, "book", [lang], engine)
    edition = build_edition(project, "book", lang, draft=True)
    return edition, render_docx(edition, root / f"book.{lang}.docx")


def _check_tables(edition, path: Path) -> None:
    """Each manuscript table is a Word table of its rows and columns, right to left in an RTL book,
    its leading header rows repeated on each page."""
    document = docx.Document(str(path))
    assert len(document.tables) == len(tables(edition))
    by_table: dict[tuple[str, int], list] = {}
    for c in edition.chapters:
        for b in c.blocks:
            if b.cell:
                by_table.setdefault((c.id, b.cell[0]), []).append(b)
    for table, (key, cells) in zip(document.tables, sorted(by_table.items(), key=lambda item: (item[0][0], item[0][1]))):
        assert len(table.rows) == max(b.cell[1] for b in cells) and len(table.columns) == max(b.cell[2] for b in cells)
        assert table._tbl.find("w:tblPr/w:bidiVisual", NS) is not None
        for b in cells:
            if b.text.strip():
                assert b.text in table.cell(b.cell[1] - 1, b.cell[2] - 1).text
        marked = [r for r, row in enumerate(table.rows, start=1) if row._tr.find("w:trPr/w:tblHeader", NS) is not None]
        headers = sorted({b.cell[1] for b in cells if len(b.cell) > 3 and b.cell[3]})
        leading = [r for n, r in enumerate(headers, start=1) if r == n]
        assert marked == (leading if len(leading) < len(table.rows) else [])


def test_a_table_with_a_header_row(tmp_path, engine):
    edition, path = _drafted(tmp_path / "table", DATA / "table.docx", "ar", engine)
    assert len(tables(edition)) == 1
    _check_tables(edition, path)
    (table,) = docx.Document(str(path)).tables
    assert table.rows[0]._tr.find("w:trPr/w:tblHeader", NS) is not None
    assert all(r.find("w:rPr/w:b", NS) is not None for r in table.rows[0]._tr.iter(W + "r") if text(r).strip())
    manuscript, _ = read_manuscript(path, book="readback")
    assert manuscript.tables == 1
    assert [p.cell for c in manuscript.chapters for p in c.paragraphs if p.cell][:2] == [[1, 1, 1, 1], [1, 1, 2, 1]]


def test_real_urdu_form_in_arabic(tmp_path, engine):
    """A real Urdu school form (five tables, a picture in a heading), drafted into Arabic."""
    require_realdata()
    edition, path = _drafted(tmp_path / "real", REALDATA / "docx" / "ur" / "ur_lesson-planner-form.docx", "ar", engine)
    assert len(tables(edition)) == 5
    _check_tables(edition, path)
    assert len(docx.Document(str(path)).inline_shapes) == len(figure_images(edition)) == 1
    for p in body(path).iter(W + "p"):
        if text(p).strip():
            assert is_rtl(p)
    manuscript, files = read_manuscript(path, book="readback")
    assert manuscript.tables == 5 and len(files) == 1
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        skip_or_fail("LibreOffice (soffice) is not installed: apt-get install libreoffice-writer")
    converted = _convert(soffice, [path], tmp_path / "pdf", tmp_path / "lo-profile")
    assert converted[path].read_bytes().startswith(b"%PDF")


def test_a_real_thesis_reads_back_whole(tmp_path):
    """A real Persian thesis (86 footnotes, 24 pictures, 7 tables), as a draft edition that nothing
    was drafted for: every paragraph is the Persian, right to left in an Arabic book."""
    require_realdata()
    (tmp_path / "sources").mkdir()
    shutil.copy(REALDATA / "docx" / "fa" / "fa_thesis_brain-tumor-cnn_MIT.docx", tmp_path / "sources" / "thesis.docx")
    project = Project(tmp_path)
    source = extract(tmp_path / "sources" / "thesis.docx", project, book="thesis").summary()
    edition = build_edition(project, "thesis", "ar", draft=True)
    path = render_docx(edition, tmp_path / "thesis.ar.docx")
    document = docx.Document(str(path))
    assert len(document.inline_shapes) == len(figure_images(edition)) and len(document.tables) == len(tables(edition)) == 7
    _check_tables(edition, path)
    back = read_manuscript(path, book="readback")[0].summary()
    assert (back["chapters"], back["footnotes"], back["images"], back["tables"]) == \
        (source["chapters"], source["footnotes"], source["images"], source["tables"]) == (5, 86, 24, 7)
    section = document.sections[0]
    assert all(shape.width <= section.page_width - section.left_margin - section.right_margin for shape in document.inline_shapes)


def test_a_wide_picture_is_scaled_to_the_text_width(books, tmp_path):
    from docx_builder import png

    editions, _ = books
    edition = editions["fr"]
    (image,) = edition.images
    (tmp_path / image.file).parent.mkdir(parents=True)
    (tmp_path / image.file).write_bytes(png(3000, 600, lambda x, y: (x % 256, y % 256, 128)))  # 41⅔ × 8⅓ inches at 72 dpi
    path = render_docx(replace(edition, image_folder=tmp_path), tmp_path / "wide.docx")
    document = docx.Document(str(path))
    section = document.sections[0]
    (shape,) = document.inline_shapes
    assert shape.width == section.page_width - section.left_margin - section.right_margin
    assert abs(shape.height / shape.width - 600 / 3000) < 0.001


def test_a_picture_word_cannot_hold_is_named_where_it_stands(books, tmp_path):
    editions, _ = books
    edition = editions["en"]
    (image,) = edition.images
    svg = replace(image, file="images/drawing.svg", media_type="image/svg+xml")
    (tmp_path / "images").mkdir()
    (tmp_path / svg.file).write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    path = render_docx(replace(edition, images=[svg], image_folder=tmp_path), tmp_path / "svg.docx")
    document = docx.Document(str(path))
    assert not document.inline_shapes
    assert "[images/drawing.svg (image/svg+xml): insert this image by hand]" in [p.text for p in document.paragraphs]
