"""The print edition: the sample, approved with the team's reference translations, typeset as PDF in
four languages and read back with poppler's tools (pdffonts, pdftotext, pdfimages, pdftoppm) and
PDFium, as a printer's preflight or a reader's copy-and-search would."""

import re
import shutil
import subprocess
import unicodedata
import zlib
from pathlib import Path

import polib
import pytest
import yaml
from conftest import FILLER, REPO, drafted_sample
from pg_cluster import skip_or_fail

from tarjoman.book import publish_book
from tarjoman.edition import CREDITS, build_edition
from tarjoman.languages import language
from tarjoman.manuscript import extract
from tarjoman.queue import import_reviews

TITLES = {"ar": "أيام كارون", "en": "Days of the Karun", "fr": "Les jours du Karoun", "ur": "کارون کے دن"}
AUTHORS = {"ar": "حسن كاظمي", "en": "Hassan Kazemi", "fr": "Hassan Kazemi", "ur": "حسن کاظمی"}
A5 = (419.5, 595.3)  # points
PROOFS = REPO / "outputs" / "proofs"  # pages rendered for a person to look at (README: "Print editions")
BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
HARAKAT = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
# Naskh draws ئ as a yeh's tooth with a hamza mark, and poppler reads that tooth back as a yeh or as
# nothing: where text is compared whole, the yehs are left out (``skeleton``).
YEHS = re.compile("[ئيىؤ]")


def skeleton(text: str) -> str:
    return YEHS.sub("", text)


@pytest.fixture(scope="module", autouse=True)
def poppler():
    if not shutil.which("pdftotext"):
        skip_or_fail("poppler-utils (pdftotext, pdffonts) is not installed: apt-get install poppler-utils")


@pytest.fixture(scope="module")
def printed(tmp_path_factory, tiny_models):
    """The sample drafted by a tiny model, every sentence approved as the team's reference
    translation (sources/sample.references.yaml), and published as PDF in each language."""
    root = tmp_path_factory.mktemp("print")
    project = drafted_sample(root, tiny_models["nllb"])
    references = yaml.safe_load((REPO / "sources" / "sample.references.yaml").read_text(encoding="utf-8"))
    for path in sorted((root / "outputs" / "sample" / "review").glob("*/*.po")):
        lang = path.stem
        by_source = {r["fa"]: r[lang] for r in references if r.get(lang)}
        catalog = polib.pofile(str(path))
        for entry in catalog:
            entry.msgstr = by_source.get(entry.msgid) or FILLER[lang]
            entry.flags = [f for f in entry.flags if f != "fuzzy"]
        catalog.save(str(path))
    assert not import_reviews(project, "sample").problems
    # the draft first: the approved edition is written to the same name
    draft = publish_book(project, "sample", "en", draft=True, formats=("pdf",)).files["pdf"]
    books = {"en-draft": Path(shutil.copy(draft, root / "draft.en.pdf"))}
    for lang in ("ar", "en", "fr", "ur"):
        result = publish_book(project, "sample", lang, formats=("pdf",))
        books[lang] = result.files["pdf"]
        assert result.pages == pdf_pages(books[lang])
    editions = {lang: build_edition(project, "sample", lang) for lang in ("ar", "en", "fr", "ur")}
    return project, books, editions


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120).stdout


def pdf_pages(path: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", str(path)), re.M).group(1))


def page_text(path: Path, page: int) -> str:
    return BIDI_MARKS.sub("", run("pdftotext", "-f", str(page), "-l", str(page), str(path), "-"))


def words(text: str) -> list[str]:
    """Words as a reader compares them: Arabic presentation forms unfolded, vowel marks (which
    poppler extracts apart from their letters) and punctuation dropped, every digit made Latin."""
    text = HARAKAT.sub("", unicodedata.normalize("NFKC", text))
    text = "".join(str(unicodedata.digit(c)) if unicodedata.category(c) == "Nd" else c for c in text)
    text = re.sub(r"\d+", lambda m: f" {m.group()} ", text)  # a number apart from the word pdftotext runs it into
    text = re.sub("[-\u2010\u00ad]\n", "", text)  # a word hyphenated at the end of a line
    return [w for w in re.split(r"[\W_]+", text) if w]


def outline(path: Path) -> list[tuple[int, str, int]]:
    """The PDF's bookmarks: (level, title, 1-based page)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        return [(b.level, b.get_title(), b.get_dest().get_index() + 1) for b in document.get_toc()]
    finally:
        document.close()


def chapter_pages(path: Path, edition) -> list[int]:
    titles = [c.title.text for c in edition.chapters if c.kind == "chapter" and c.title]
    found = {title: page for level, title, page in outline(path) if level == 0}
    assert set(titles) <= set(found), (titles, found)
    return [found[t] for t in titles]


def test_every_font_is_embedded(printed):
    _, books, _ = printed
    expected = {"ar": "Noto-Naskh-Arabic", "ur": "Noto-Nastaliq-Urdu", "en": "Tarjoman-Serif", "fr": "Tarjoman-Serif"}
    for lang, path in books.items():
        rows = run("pdffonts", str(path)).splitlines()[2:]
        assert rows, path
        for row in rows:
            assert re.search(r"\byes\s+yes\s+yes\b", row), f"{path.name}: not embedded, subset and mapped: {row}"
        assert any(expected[lang[:2]] in row for row in rows), rows


def test_metadata_title_author_and_language(printed):
    _, books, _ = printed
    for lang in ("ar", "en", "fr", "ur"):
        info = run("pdfinfo", str(books[lang]))
        assert re.search(rf"^Title:\s+{re.escape(TITLES[lang])}$", info, re.M), info
        assert re.search(rf"^Author:\s+{re.escape(AUTHORS[lang])}$", info, re.M), info
        assert f"/Lang ({lang})".encode() in inflated(books[lang])
    assert "DRAFT" in run("pdfinfo", str(books["en-draft"])).split("Subject:")[1].splitlines()[0]


def test_the_pdf_is_tagged_for_screen_readers(printed):
    """A structure tree: a heading for every chapter title, the photograph a Figure described in the book's language."""
    _, books, editions = printed
    for lang in ("ar", "en"):
        assert re.search(r"^Tagged:\s+yes$", run("pdfinfo", str(books[lang])), re.M)
        data = inflated(books[lang])
        titles = [c for c in editions[lang].chapters if c.title]
        assert data.count(b"/S /H1") >= len(titles), data.count(b"/S /H1")
        assert b"/S /Figure" in data and b"/Alt" in data


def inflated(path: Path) -> bytes:
    """The PDF with its compressed streams (object streams hold the catalog) inflated."""
    data = path.read_bytes()
    out = [data]
    for match in re.finditer(rb"stream\r?\n", data):
        try:
            out.append(zlib.decompressobj().decompress(data[match.end():match.end() + 2_000_000]))
        except zlib.error:
            pass
    return b"".join(out)


@pytest.mark.parametrize("lang", ["ar", "en", "fr"])
def test_chapter_text_comes_out_in_logical_order(printed, lang):
    """pdftotext reads each chapter's sentences, every word there, each line in reading order (a
    right-to-left line stored in visual order would come out backwards)."""
    _, books, editions = printed
    edition = editions[lang]
    starts = chapter_pages(books[lang], edition)
    ends = starts[1:] + [pdf_pages(books[lang])]
    for chapter, start, end in zip([c for c in edition.chapters if c.kind == "chapter" and c.title], starts, ends):
        text = "\n".join(page_text(books[lang], p) for p in range(start, end))
        found = words(text)
        expected = [w for block in chapter.blocks if block.kind not in ("figure", "alt") for w in words(block.text)]
        expected += [w for note in chapter.notes for block in note.blocks for w in words(block.text)]
        run_together = skeleton("".join(found))  # poppler may cut a word at a vowel mark
        missing = [w for w in expected if skeleton(w) not in run_together]
        assert not missing, f"{chapter.id}: {missing[:10]}"
        blocks = [chapter.title] + chapter.blocks + [b for n in chapter.notes for b in n.blocks]
        whole = [w for block in blocks for w in words(block.text) if not w.isdigit()]  # note calls and page numbers aside
        checked, hyphenated = 0, False
        for line in text.splitlines():
            line_words = [w for w in words(line) if not w.isdigit()]
            if hyphenated:  # the rest of a word hyphenated at the end of the line before
                line_words = line_words[1:]
            hyphenated = line.rstrip().endswith(("-", "\u2010", "\u00ad"))
            if hyphenated:
                line_words = line_words[:-1]
            if len(line_words) < 4:
                continue
            assert _in_order(line_words, whole) >= 0.75, f"{chapter.id}: {line!r} is not in the text's order"
            checked += 1
        assert checked >= 3


def _in_order(line: list[str], text: list[str]) -> float:
    """The share of ``line``'s words found in ``text`` one after another, in that order (poppler may
    misread a word of Arabic: one is skipped; a line read backwards matches one word or two)."""
    position, matched = 0, 0
    for word in line:
        try:
            position = text.index(word, position) + 1
            matched += 1
        except ValueError:
            continue
    return matched / len(line)


@pytest.mark.parametrize("lang", ["ar", "en", "fr", "ur"])
def test_chapters_open_on_a_recto_with_mirrored_margins(printed, lang):
    """Each chapter opens on an odd page: the right-hand page of a left-to-right book, the left-hand
    page of an Arabic or Urdu one, whose wider (inner) margin is then on the right."""
    _, books, editions = printed
    path = books[lang]
    starts = chapter_pages(path, editions[lang])
    assert len(starts) == 4 and all(page % 2 == 1 for page in starts), starts
    # the text block of every odd and every even page: its widest lines touch both margins
    layout = run("pdftotext", "-bbox-layout", str(path), "-")
    gaps: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for number, page in enumerate(layout.split("<page ")[1:], start=1):
        width = float(re.search(r'width="([\d.]+)"', page).group(1))
        xs = [(float(a), float(b)) for a, b in re.findall(r'<block xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"', page)]
        if xs and number > 1:  # the cover is an image
            gaps[number % 2 == 1].append((min(x for x, _ in xs), width - max(x for _, x in xs)))
    for recto, found in gaps.items():
        left, right = min(g[0] for g in found), min(g[1] for g in found)
        binding_on_left = recto != language(lang).rtl  # a recto of a left-to-right book, a verso of a right-to-left one
        inner, outer = (left, right) if binding_on_left else (right, left)
        assert inner > outer + 8, f"{lang} {'odd' if recto else 'even'} pages: inner margin {inner:.0f} pt, outer {outer:.0f} pt"


@pytest.mark.parametrize("lang", ["ar", "en", "fr", "ur"])
def test_page_size_count_and_numbers_in_the_languages_digits(printed, lang):
    _, books, editions = printed
    path = books[lang]
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", run("pdfinfo", str(path)), re.M)
    assert abs(float(size.group(1)) - A5[0]) < 1 and abs(float(size.group(2)) - A5[1]) < 1
    edition = editions[lang]
    characters = sum(len(b.text) for c in edition.chapters for b in c.blocks) + sum(len(b.text) for c in edition.chapters for n in c.notes for b in n.blocks)
    pages = pdf_pages(path)
    front = 3  # cover, title page, contents
    # at least a page a chapter; at most a recto's blank page, a chapter's pages at 400 characters a page, and the credits
    assert front + len(edition.chapters) <= pages <= front + 2 * len(edition.chapters) + characters // 400 + 2, (pages, characters)
    if lang == "ur":
        return  # poppler cannot read Nastaliq's text back (see test_urdu_pages_render): its page numbers are checked in Arabic script below
    digits = language(lang).digits
    second = chapter_pages(path, edition)[1] + 1  # chapter 2's second page
    native = "".join(digits[int(d)] for d in str(second))
    assert native in page_text(path, second).split(), f"page {second} does not show {native}"


@pytest.mark.parametrize("lang", ["ar", "en", "fr"])
def test_running_heads_carry_the_chapter_title(printed, lang):
    """Every page of a chapter after its first is headed by the chapter's title; its first is not."""
    _, books, editions = printed
    path = books[lang]
    chapters = [c for c in editions[lang].chapters if c.kind == "chapter" and c.title]
    starts = chapter_pages(path, editions[lang])
    checked = 0
    for chapter, start, end in zip(chapters, starts, starts[1:] + [pdf_pages(path)]):
        title = words(chapter.title.text)
        assert words(page_text(path, start))[:len(title)] == title  # the chapter's heading, no running head above it
        assert words(page_text(path, start))[len(title):2 * len(title)] != title
        for page in range(start + 1, end):
            text = page_text(path, page)
            if words(text):
                assert words(text)[:len(title)] == title, f"page {page}: {text[:80]!r}"
                checked += 1
    assert checked >= 1


@pytest.mark.parametrize("lang", ["ar", "en", "fr"])
def test_footnotes_at_the_foot_of_the_page_that_calls_them(printed, lang):
    _, books, editions = printed
    path = books[lang]
    edition = editions[lang]
    notes = [(chapter, note) for chapter in edition.chapters for note in chapter.notes]
    assert len(notes) >= 3
    pages = {p: words(page_text(path, p)) for p in range(1, pdf_pages(path) + 1)}
    notes_heading = words(CREDITS[lang]["notes"])
    pages = {p: words(skeleton(" ".join(found))) for p, found in pages.items()}
    for chapter, note in notes:
        text = words(skeleton(" ".join(b.text for b in note.blocks)))
        calls = words(skeleton(next(b for b in chapter.blocks if any(n == note.id for _, n in b.notes)).text))
        on = [p for p, found in pages.items() if set(text) <= set(found) and "".join(text[:3]) in "".join(found)]
        assert len(on) == 1, f"note {note.id} on pages {on}"
        page = pages[on[0]]
        joined = "".join(page)
        assert "".join(calls[:4]) in joined or "".join(calls[-4:]) in joined, f"note {note.id} is not on the page that calls it"
        # at the foot: after the paragraph that calls it
        where_call = joined.find("".join(calls[:4])) if "".join(calls[:4]) in joined else joined.find("".join(calls[-4:]))
        assert joined.rfind("".join(text[:3])) > where_call, f"note {note.id} comes before the text that calls it"
    assert not any(" ".join(notes_heading) == " ".join(found[:len(notes_heading)]) for found in pages.values())


@pytest.mark.parametrize("lang", ["ar", "en", "fr", "ur"])
def test_contents_give_each_chapters_page(printed, lang):
    _, books, editions = printed
    path = books[lang]
    edition = editions[lang]
    contents = [page for level, title, page in outline(path) if title == CREDITS[lang]["contents"]]
    assert contents, outline(path)
    digits = language(lang).digits
    numbers = set(re.findall(f"[{digits}]+", BIDI_MARKS.sub("", page_text(path, contents[0]))))
    for start in chapter_pages(path, edition):
        assert "".join(digits[int(d)] for d in str(start)) in numbers, (start, numbers)


def test_images_the_cover_and_the_figure(printed):
    """The cover (the typographic one: the sample's YAML names none) as the whole first page, and the
    sample's photograph with its caption."""
    _, books, editions = printed
    for lang in ("ar", "en"):
        rows = run("pdfimages", "-list", str(books[lang])).splitlines()[2:]
        pages = [int(row.split()[0]) for row in rows]
        assert pages.count(1) == 1 and len(rows) == 1 + len(editions[lang].images), rows
        width, height = (int(v) for v in rows[0].split()[3:5])
        assert width == 1600 and abs(height / width - A5[1] / A5[0]) < 0.01
    caption = next(b for c in editions["en"].chapters for b in c.blocks if b.kind == "caption")
    assert " ".join(words(caption.text)) in " ".join(words(run("pdftotext", str(books["en"]), "-")))


def test_a_draft_says_so_on_every_page(printed):
    _, books, _ = printed
    draft, approved = books["en-draft"], books["en"]
    for page in range(2, pdf_pages(draft) + 1):  # the cover's own image says DRAFT
        assert "DRAFT" in page_text(draft, page), page
    assert "DRAFT" not in run("pdftotext", str(approved), "-")


def test_urdu_pages_render_in_nastaliq(printed):
    """An Arabic and an Urdu page, rendered by poppler, kept under outputs/proofs/ for a person to
    look at; the Urdu one is set (dark pixels in the text block) in Nastaliq, the only font it embeds
    for Urdu text. Poppler and PDFium cannot read Nastaliq's text back (its letters share glyphs
    that a PDF's ToUnicode map cannot tell apart), so this is how the Urdu book is checked."""
    from PIL import Image

    _, books, editions = printed
    PROOFS.mkdir(parents=True, exist_ok=True)
    for lang in ("ar", "ur"):
        page = chapter_pages(books[lang], editions[lang])[0]
        prefix = PROOFS / f"sample.{lang}.page"
        run("pdftoppm", "-r", "110", "-png", "-singlefile", "-f", str(page), "-l", str(page), str(books[lang]), str(prefix))
        image = Image.open(f"{prefix}.png").convert("L")
        assert image.width == round(A5[0] / 72 * 110)
        dark = sum(image.histogram()[:128])  # pixels darker than mid-grey
        assert dark > 0.01 * image.width * image.height, f"{lang}: the page is nearly blank"
    fonts = run("pdffonts", str(books["ur"]))
    assert "Noto-Nastaliq-Urdu" in fonts


def test_page_size_and_margins_from_the_yaml(printed):
    """``print: page: A4`` in the book's YAML, extracted again: the next PDF is A4; the approvals stay."""
    project, _, _ = printed
    source = project.sources / "sample.yaml"
    saved = source.read_text(encoding="utf-8")
    try:
        source.write_text(saved + "print:\n  page: A4\n  margins: {inner: 30mm, outer: 25mm}\n", encoding="utf-8")
        extract(project.sources / "sample.docx", project, book="sample")
        path = publish_book(project, "sample", "en", formats=("pdf",)).files["pdf"]
        size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", run("pdfinfo", str(path)), re.M)
        assert abs(float(size.group(1)) - 595.3) < 1 and abs(float(size.group(2)) - 841.9) < 1
    finally:
        source.write_text(saved, encoding="utf-8")
        extract(project.sources / "sample.docx", project, book="sample")
        publish_book(project, "sample", "en", formats=("pdf",))


def test_a_note_on_a_verse_line_and_a_note_called_nowhere_are_kept(printed, tmp_path):
    """A note called from the second hemistich is called there (EPUB) and set on that page (PDF);
    a note whose call the manuscript lost is listed after the chapter in both."""
    from dataclasses import replace

    from tarjoman.edition import Block, EditionChapter, Note
    from tarjoman.epub import _Renderer
    from tarjoman.pdf import render_pdf

    _, _, editions = printed
    verse = Block("verse", "The river keeps its secret\nand the palms their silence", "", "en", notes=[(len("The river keeps its secret\nand the palms"), "fn-v")])
    notes = [Note("fn-v", 1, [Block("body", "Palms of the Karun's bank.", "", "en")]), Note("fn-lost", 2, [Block("body", "A note whose mark was lost.", "", "en")])]
    chapter = EditionChapter("ch01", "chapter", Block("heading", "A Chapter of Verse", "", "en", 1), [verse], notes)
    edition = replace(editions["en"], chapters=[chapter], images=[], image_folder=tmp_path)
    epub_html = _Renderer(edition).chapter_body(chapter)
    second = epub_html.split('<span class="hemistich">')[2]
    assert 'href="#fn-v"' in second and second.index("palms") < second.index('href="#fn-v"')
    assert 'id="fn-lost"' in epub_html and "A note whose mark was lost." in epub_html
    path = render_pdf(edition, tmp_path / "verse.pdf").path
    text = " ".join(words(run("pdftotext", str(path), "-")))
    assert "Palms of the Karun s bank" in text and "A note whose mark was lost" in text


def test_a_missing_picture_is_an_error_not_a_gap(printed, tmp_path):
    from dataclasses import replace

    from tarjoman.errors import EpubError
    from tarjoman.pdf import render_pdf

    _, _, editions = printed
    edition = replace(editions["en"], image_folder=tmp_path)  # a folder without the book's pictures
    with pytest.raises(EpubError) as caught:
        render_pdf(edition, tmp_path / "book.pdf")
    assert "is missing" in str(caught.value) and editions["en"].images[0].file in str(caught.value)
    assert not (tmp_path / "book.pdf").exists()
