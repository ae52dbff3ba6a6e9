"""Every real Word manuscript in ../shared/realdata/docx/ is read, and read faithfully.

Expected chapter counts are what a careful reader sees: the novel's four lives
(plain lines, no styles), each thesis's Heading 1 chapters, one chapter for
the documents that have none.
"""

import unicodedata
import zipfile

import pytest
from conftest import REALDATA, require_realdata
from lxml import etree

from tarjoman.manuscript import read_manuscript

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"

CASES = [
    # file, chapters, footnotes, images, tables
    ("fa/fa_novel_anche-bar-man-gozasht.docx", 4, 0, 0, 0),
    ("fa/fa_thesis_brain-tumor-cnn_MIT.docx", 5, 86, 24, 7),
    ("fa/fa_thesis_bsc-call-center.docx", 6, 4, 6, None),
    ("fa/fa_article_cloud-db-migration.docx", 1, 0, 0, 2),
    ("ar/ar_memoir-translation_eve-diary-twain.docx", 1, 0, 0, 0),
    ("ar/ar_research-paper_digital-childhood.docx", 1, 0, 0, 0),
    ("ur/ur_lesson-planner-form.docx", 1, 0, 1, 5),  # the second image is in the page header
]


def visible_characters(path) -> int:
    """Count text characters straight from the XML: the body (without the table of
    contents, which is not body text, and without mc:Fallback, a second rendering of
    the same drawing) plus footnotes and endnotes."""

    def count(text: str) -> int:
        return sum(1 for c in text if not c.isspace() and c != "\u0640" and unicodedata.category(c) != "Cf")

    total = 0
    with zipfile.ZipFile(path) as archive:
        root = etree.fromstring(archive.read("word/document.xml"))
        for t in root.find(W + "body").iter(W + "t"):
            ancestors = list(t.iterancestors())
            if any(a.tag == MC_FALLBACK for a in ancestors):
                continue
            paragraph = next(a for a in ancestors if a.tag == W + "p")
            style = paragraph.find(f"{W}pPr/{W}pStyle")
            if style is not None and style.get(W + "val", "").lower().startswith(("toc", "tableoffigures")):
                continue
            total += count(t.text or "")
        for part in ("word/footnotes.xml", "word/endnotes.xml"):
            if part in archive.namelist():
                notes = etree.fromstring(archive.read(part))
                for note in notes:
                    if note.get(W + "type") in (None, "normal"):
                        total += sum(count(t.text or "") for t in note.iter(W + "t"))
    return total


@pytest.mark.parametrize("name, chapters, footnotes, images, tables", CASES, ids=[c[0] for c in CASES])
def test_real_manuscript(name, chapters, footnotes, images, tables):
    require_realdata()
    path = REALDATA / "docx" / name
    manuscript, files = read_manuscript(path, book="real")
    summary = manuscript.summary()
    assert summary["chapters"] == chapters
    assert summary["footnotes"] == footnotes
    assert summary["images"] == images and len(files) == images
    if tables is not None:
        assert summary["tables"] == tables
    expected = visible_characters(path)
    assert summary["characters"] >= 0.98 * expected, f"{summary['characters']} of {expected} characters carried"


def test_every_real_docx_is_covered():
    require_realdata()
    found = {str(p.relative_to(REALDATA / "docx")) for p in (REALDATA / "docx").rglob("*.docx")}
    assert found == {c[0] for c in CASES}


def test_novel_chapter_titles_and_dialogue():
    require_realdata()
    manuscript, _ = read_manuscript(REALDATA / "docx/fa/fa_novel_anche-bar-man-gozasht.docx", book="novel")
    titles = manuscript.summary()["chapter_titles"]
    assert titles[0].startswith("اولین زندگی") and titles[3].startswith("زندگی چهارم")
    texts = [s.text for s in manuscript.segments()]
    assert not any("\u200f" in t or "\u200e" in t for t in texts)
    # Dialogue lines keep their dash, whichever the author typed.
    assert any(t.startswith("ـ") for t in texts) and any(t.startswith("-") for t in texts)


def test_thesis_footnotes_sit_in_the_chapters_that_cite_them():
    require_realdata()
    manuscript, _ = read_manuscript(REALDATA / "docx/fa/fa_thesis_brain-tumor-cnn_MIT.docx", book="thesis")
    for chapter in manuscript.chapters:
        cited = {n.footnote for s in chapter.segments() for n in s.notes}
        assert {f.id for f in chapter.footnotes} <= cited
    assert any("equations" in w for w in manuscript.warnings)
    assert any("table of contents" in w for w in manuscript.warnings)


def test_arabic_documents_are_detected_as_arabic():
    require_realdata()
    manuscript, _ = read_manuscript(REALDATA / "docx/ar/ar_memoir-translation_eve-diary-twain.docx", book="eve")
    langs = [s.lang for s in manuscript.segments()]
    assert langs.count("ar") / len(langs) > 0.9
    # Arabic letters stay Arabic: no Persian yeh was forced onto them.
    assert any("ي" in s.text for s in manuscript.segments())


def test_travel_memoir_plain_text_numbered_parts():
    require_realdata()
    manuscript, _ = read_manuscript(REALDATA / "text/fa_classical/safarnameh-naser-khosrow.txt", book="safarnameh")
    titles = manuscript.summary()["chapter_titles"]
    assert len(titles) == 100
    assert titles[0] == "بخش ۱ - زندگی در مرو" and titles[-1] == "بخش ۱۰۰ - پایان سفر"
    assert titles[47].startswith("بخش ۴۸ - صفت خوان سلطان")  # a long part title


@pytest.mark.parametrize("path", sorted((REALDATA / "text/fa_linuxandlife_essays").glob("*.md")) if REALDATA.is_dir() else [], ids=lambda p: p.name)
def test_markdown_essays(path):
    manuscript, _ = read_manuscript(path, book="essay")
    assert manuscript.metadata.get("title")  # from the YAML front matter
    texts = [s.text for s in manuscript.segments()]
    assert texts and not any("<div" in t or "</" in t for t in texts)
