"""The real 150k-word novel as a draft edition (nothing translated yet: every sentence is its Persian,
marked so) in all four languages and all three formats: the EPUB passes EPUBCheck with its cover,
the PDF embeds its fonts and has pages for its length, the Word file opens and keeps the chapters.

Slow (about five minutes): `make test` leaves it out; .ci/run runs it as a step of its own, and
benchmarks/publish_formats.py times the same publishing.
"""

import re
import shutil
import subprocess
import zipfile

import docx
import pytest
from conftest import REALDATA
from pg_cluster import skip_or_fail

from tarjoman.book import FORMATS, publish_book
from tarjoman.manuscript import extract
from tarjoman.project import Project

NOVEL = REALDATA / "docx" / "fa" / "fa_novel_anche-bar-man-gozasht.docx"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def novel(tmp_path_factory):
    if not NOVEL.is_file():
        skip_or_fail(f"{NOVEL} is missing (../shared/realdata)")
    if not shutil.which("pdffonts"):
        skip_or_fail("poppler-utils is not installed: apt-get install poppler-utils")
    root = tmp_path_factory.mktemp("novel")
    (root / "sources").mkdir()
    shutil.copy(NOVEL, root / "sources" / "novel.docx")
    project = Project(root)
    manuscript = extract(root / "sources" / "novel.docx", project)
    return project, manuscript


@pytest.mark.parametrize("lang", ["ar", "ur", "en", "fr"])
def test_the_novel_publishes_in_every_format(novel, lang):
    project, manuscript = novel
    result = publish_book(project, "novel", lang, draft=True, formats=FORMATS)  # EPUBCheck runs inside: 0 errors, 0 warnings
    assert set(result.files) == set(FORMATS) and result.untranslated > 10_000
    with zipfile.ZipFile(result.files["epub"]) as archive:
        assert any(name.startswith("EPUB/images/cover") for name in archive.namelist())
    fonts = subprocess.run(["pdffonts", str(result.files["pdf"])], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(re.search(r"\byes\s+yes\s+yes\b", row) for row in fonts), fonts
    assert any("Noto-Naskh-Arabic" in row for row in fonts)  # the Persian text, in every book
    characters = sum(len(unit.text) for chapter in manuscript.chapters for unit in chapter.units())
    # an A5 page holds 1,000–2,500 characters of Persian; the front matter and recto blanks add a few pages
    assert characters / 2500 < result.pages < characters / 1000 + 20, (result.pages, characters)
    document = docx.Document(str(result.files["docx"]))
    headings = [p for p in document.paragraphs if p.style.name == "Heading 1"]
    assert len(headings) == sum(1 for c in manuscript.chapters if c.title)
