"""Covers named in a book's YAML: checked when the book is extracted (a bad one is refused before
anything is written), then the EPUB's cover-image and the PDF's first page; a typographic cover
otherwise. And the YAML's print settings, refused at extract time when wrong."""

import io
import shutil
import subprocess
import zipfile

import pytest
from conftest import REPO, SAMPLE
from PIL import Image

from tarjoman.book import draft_book, publish_book
from tarjoman.engines import GenerationSettings, load_engine
from tarjoman.errors import ProjectError
from tarjoman.manuscript import extract
from tarjoman.project import Project


def project_with(tmp_path, extra_yaml: str = "") -> Project:
    (tmp_path / "sources").mkdir(exist_ok=True)
    shutil.copy(SAMPLE, tmp_path / "sources" / "sample.docx")
    (tmp_path / "sources" / "sample.yaml").write_text((REPO / "sources" / "sample.yaml").read_text(encoding="utf-8") + extra_yaml, encoding="utf-8")
    return Project(tmp_path)


def image_bytes(size=(1600, 2400), colour=(180, 40, 40), kind="JPEG", mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour if mode != "CMYK" else (0, 200, 200, 0)).save(buffer, kind)
    return buffer.getvalue()


def epub_cover(path) -> tuple[str, bytes]:
    from lxml import etree

    with zipfile.ZipFile(path) as archive:
        opf = etree.fromstring(archive.read("EPUB/content.opf"))
        item = next(i for i in opf.iter("{http://www.idpf.org/2007/opf}item") if "cover-image" in (i.get("properties") or ""))
        return item.get("media-type"), archive.read("EPUB/" + item.get("href"))


def test_the_yamls_cover_is_the_epub_cover_and_the_pdfs_first_page(tmp_path, tiny_models):
    """A book-wide cover, and the Arabic edition's own; the other editions take the book's."""
    project = project_with(tmp_path, "cover: art/front.jpg\n")
    (tmp_path / "sources" / "art").mkdir()
    front, arabic = image_bytes(), image_bytes(colour=(20, 90, 40), kind="PNG", size=(1200, 1800))
    (tmp_path / "sources" / "art" / "front.jpg").write_bytes(front)
    (tmp_path / "sources" / "ar-front.png").write_bytes(arabic)
    text = (tmp_path / "sources" / "sample.yaml").read_text(encoding="utf-8")
    (tmp_path / "sources" / "sample.yaml").write_text(text.replace("  ar:\n", "  ar:\n    cover: ar-front.png\n", 1), encoding="utf-8")
    extract(tmp_path / "sources" / "sample.docx", project, book="sample")
    (tmp_path / "sources" / "art" / "front.jpg").unlink()  # the book keeps its own copy
    engine = load_engine(tiny_models["nllb"], settings=GenerationSettings(num_beams=1, max_new_tokens=4))
    draft_book(project, "sample", ["ar", "en"], engine)
    en = publish_book(project, "sample", "en", draft=True, formats=("epub", "pdf"))
    ar = publish_book(project, "sample", "ar", draft=True, formats=("epub",))
    assert epub_cover(en.files["epub"]) == ("image/jpeg", front)
    assert epub_cover(ar.files["epub"]) == ("image/png", arabic)
    rows = subprocess.run(["pdfimages", "-list", str(en.files["pdf"])], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    first = [row.split() for row in rows if row.split()[0] == "1"]
    assert len(first) == 1 and first[0][3:5] == ["1600", "2400"]


def test_without_a_cover_each_language_gets_its_own_typographic_one(tmp_path, tiny_models):
    project = project_with(tmp_path)
    extract(tmp_path / "sources" / "sample.docx", project, book="sample")
    engine = load_engine(tiny_models["nllb"], settings=GenerationSettings(num_beams=1, max_new_tokens=4))
    draft_book(project, "sample", ["ar", "ur"], engine)
    covers = {}
    for lang in ("ar", "ur"):
        media, data = epub_cover(publish_book(project, "sample", lang, draft=True).path)
        image = Image.open(io.BytesIO(data)).convert("L")
        assert media == "image/jpeg" and image.size == (1600, 2560)
        # the title is set large in the upper part: light text on the dark ground
        top = image.crop((200, 380, 1400, 900))
        assert sum(top.histogram()[161:]) > 5000, f"{lang}: no title on the cover"
        covers[lang] = data
    assert covers["ar"] != covers["ur"]


@pytest.mark.parametrize("name, data, message", [
    ("missing.jpg", None, "does not exist"),
    ("notes.jpg", b"this is not a picture\n", "is not a readable image"),
    ("cut.jpg", image_bytes()[:4000], "is not a readable image"),
    ("huge.png", image_bytes(size=(7000, 7000), kind="PNG"), "megapixels"),
    ("tiny.png", image_bytes(size=(120, 200), kind="PNG"), "at least 300"),
    ("anim.gif", image_bytes(kind="GIF", mode="P", colour=3), "must be JPEG or PNG"),
])
def test_a_bad_cover_is_refused_before_anything_is_written(tmp_path, name, data, message):
    project = project_with(tmp_path, f"cover: {name}\n")
    if data is not None:
        (tmp_path / "sources" / name).write_bytes(data)
    with pytest.raises(ProjectError) as caught:
        extract(tmp_path / "sources" / "sample.docx", project, book="sample")
    text = str(caught.value)
    assert message in text and name in text and "sample.yaml" in text, text
    assert not (tmp_path / "outputs" / "sample" / "manuscript.json").exists()


def test_a_cmyk_cover_is_converted_for_readers(tmp_path):
    project = project_with(tmp_path, "cover: print.jpg\n")
    (tmp_path / "sources" / "print.jpg").write_bytes(image_bytes(mode="CMYK"))
    manuscript = extract(tmp_path / "sources" / "sample.docx", project, book="sample")
    kept = tmp_path / "outputs" / "sample" / manuscript.metadata["cover"]
    assert Image.open(kept).mode == "RGB"


@pytest.mark.parametrize("setting, where", [
    ("print:\n  page: A9\n", "print.page"),
    ("print:\n  page: 10mm 20mm\n", "print.page"),
    ("print:\n  margins: {inner: wide}\n", "print.margins.inner"),
    ("print:\n  margins: {inner: 60mm, outer: 40mm}\n", "print.margins"),
    ("print:\n  paper: glossy\n", "print"),
])
def test_wrong_print_settings_are_refused_at_extract(tmp_path, setting, where):
    project = project_with(tmp_path, setting)
    with pytest.raises(ProjectError) as caught:
        extract(tmp_path / "sources" / "sample.docx", project, book="sample")
    assert caught.value.where == where and "sample.yaml" in str(caught.value)
    assert not (tmp_path / "outputs" / "sample" / "manuscript.json").exists()


def test_a_damaged_copy_of_the_cover_is_refused_when_publishing(tmp_path):
    """The copy kept beside the book is checked again when a book is made from it."""
    from tarjoman.edition import build_edition
    from tarjoman.epub import render_epub
    from tarjoman.errors import EpubError

    project = project_with(tmp_path, "cover: front.jpg\n")
    (tmp_path / "sources" / "front.jpg").write_bytes(image_bytes())
    manuscript = extract(tmp_path / "sources" / "sample.docx", project, book="sample")
    kept = tmp_path / "outputs" / "sample" / manuscript.metadata["cover"]
    kept.write_bytes(kept.read_bytes()[:5000])
    edition = build_edition(project, "sample", "en", draft=True)
    with pytest.raises(EpubError) as caught:
        render_epub(edition, tmp_path / "book.epub")
    assert "extract the book again" in str(caught.value) and kept.name in str(caught.value)
    assert not (tmp_path / "book.epub").exists()


def test_a_language_key_cannot_name_a_path(tmp_path):
    project = project_with(tmp_path)
    source = tmp_path / "sources" / "sample.yaml"
    source.write_text(source.read_text(encoding="utf-8") + "  ../../x:\n    cover: front.jpg\n", encoding="utf-8")
    (tmp_path / "sources" / "front.jpg").write_bytes(image_bytes())
    with pytest.raises(ProjectError) as caught:
        extract(tmp_path / "sources" / "sample.docx", project, book="sample")
    assert "not a language code" in str(caught.value)
