"""The sample book in four languages, approved, draft and bilingual; every one passes EPUBCheck,
and is read back to check what a reader relies on."""

import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import polib
import pytest
from conftest import FILLER, REALDATA, REPO, SAMPLE
from lxml import etree
from pg_cluster import skip_or_fail

from tarjoman.accessibility import chromium
from tarjoman.book import draft_book, publish_book
from tarjoman.engines import GenerationSettings, load_engine
from tarjoman.epub import check_epub
from tarjoman.errors import EpubError
from tarjoman.manuscript import extract
from tarjoman.project import Project
from tarjoman.qa import approval_problem
from tarjoman.queue import import_reviews

NS = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
HOSTILE = "Tom & Jerry <script>alert(1)</script>"
# The planted string inside a sentence of each book's language: publishing refuses a translation
# in another language (qa's language check), so the hostile part travels in a real sentence.
PLANTED = {"ar": f"قال {HOSTILE} في المدينة القديمة", "ur": f"ٹام اور جیری نے {HOSTILE} شہر میں کہا",
           "en": f"{HOSTILE} said in the old town", "fr": f"{HOSTILE} dit dans la vieille ville"}

# The sample photograph's description (Word's alt text), as each language's translator writes it.
PHOTO = "رضا امینی و علی صفری کنار پل خرمشهر"
DESCRIBED = {"en": "Reza Amini and Ali Safari beside the Khorramshahr bridge", "fr": "Reza Amini et Ali Safari près du pont de Khorramshahr",
             "ar": "رضا أميني وعلي صفري بجانب جسر خرمشهر", "ur": "رضا امینی اور علی صفری خرم شہر کے پل کے پاس"}


@pytest.fixture(scope="module")
def published(tmp_path_factory, tiny_models):
    """Extract and draft the sample, approve every draft as a translator would, plant a hostile
    string, then publish approved, draft and bilingual editions."""
    root = tmp_path_factory.mktemp("publish")
    (root / "sources").mkdir()
    shutil.copy(SAMPLE, root / "sources" / "sample.docx")
    shutil.copy(REPO / "sources" / "sample.yaml", root / "sources" / "sample.yaml")
    project = Project(root)
    extract(root / "sources" / "sample.docx", project, book="sample")
    engine = load_engine(tiny_models["nllb"], settings=GenerationSettings(num_beams=1, max_new_tokens=8))
    draft_book(project, "sample", ["ar", "en", "fr", "ur"], engine)
    draft_editions: dict[str, Path] = {}
    for lang in ("ar", "en"):  # kept aside: the approved edition is written to the same name
        path = publish_book(project, "sample", lang, draft=True).path
        draft_editions[lang] = Path(shutil.copy(path, root / f"draft.{lang}.epub"))
    for path in sorted((root / "outputs" / "sample" / "review").glob("*/*.po")):
        catalog = polib.pofile(str(path))
        for entry in catalog:
            if entry.msgid.startswith("شب در مسجد جامع"):
                entry.msgstr = PLANTED[path.stem]
            if entry.msgid == PHOTO:
                entry.msgstr = DESCRIBED[path.stem]
            if entry.msgid.startswith("إِنَّا") and path.stem == "en":
                entry.msgstr = entry.msgid  # the English translator keeps the verse in Arabic
            if not entry.msgstr or (entry.msgstr not in (PLANTED[path.stem], DESCRIBED[path.stem]) and entry.msgstr != entry.msgid
                                    and approval_problem(entry.msgid, entry.msgstr, path.stem, publishing=True)):
                entry.msgstr = FILLER[path.stem]  # a tiny model's draft can be empty, or read as another language
            entry.flags = [f for f in entry.flags if f != "fuzzy"]
        catalog.save(str(path))
    assert not import_reviews(project, "sample").problems
    books = {lang: publish_book(project, "sample", lang).path for lang in ("ar", "en", "fr", "ur")}
    books["fr-bilingual"] = publish_book(project, "sample", "fr", bilingual=True).path
    return project, books, draft_editions


def read(path: Path, name: str):
    with zipfile.ZipFile(path) as archive:
        return etree.fromstring(archive.read(name))


def names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def test_every_book_passes_epubcheck_without_warnings(published):
    # publish_book refuses a book with any EPUBCheck finding, so each of these was checked once;
    # two are checked again here, straight from the file on disk.
    _, books, drafts = published
    assert all(path.is_file() for path in list(books.values()) + list(drafts.values()))
    for path in (books["ar"], books["fr-bilingual"]):
        assert check_epub(path) == [], path.name


@pytest.mark.parametrize("lang, direction, font", [("ar", "rtl", "NotoNaskhArabic"), ("ur", "rtl", "NotoNastaliqUrdu"), ("en", "ltr", None), ("fr", "ltr", None)])
def test_direction_language_and_fonts(published, lang, direction, font):
    _, books, _ = published
    path = books[lang]
    opf = read(path, "EPUB/content.opf")
    assert opf.findtext(".//dc:language", namespaces=NS) == lang
    spine = opf.find(".//opf:spine", NS)
    assert spine.get("page-progression-direction", "ltr") == direction
    chapter = read(path, "EPUB/ch01.xhtml")
    assert chapter.get("lang") == lang and chapter.get("dir") == direction
    files = names(path)
    css = zipfile.ZipFile(path).read("EPUB/style/book.css").decode()
    assert "direction:" not in css  # EPUBCheck rejects CSS direction; dir attributes do the work
    if font:
        assert any(font in f for f in files) and "EPUB/fonts/OFL.txt" in files
        assert f'src: url("../fonts/{font}' in css
    titles = [a.text for a in read(path, "EPUB/nav.xhtml").iter("{%s}a" % NS["x"])]
    expected = {"ar": "أيام كارون", "ur": "کارون کے دن", "en": "Days of the Karun", "fr": "Les jours du Karoun"}[lang]
    assert opf.findtext(".//dc:title", namespaces=NS) == expected
    assert len(titles) >= 4  # the chapters, translated, with the sub-heading nested


def test_arabic_quotation_keeps_its_language_in_the_english_book(published):
    _, books, _ = published
    chapter = read(books["en"], "EPUB/ch04.xhtml")
    quote = chapter.find(".//x:blockquote", NS)
    assert quote.get("lang") == "ar" and quote.get("dir") == "rtl"
    assert any(n.startswith("EPUB/fonts/NotoNaskhArabic-Regular-") and n.endswith(".ttf") for n in names(books["en"]))


def test_footnotes_are_linked_both_ways(published):
    _, books, _ = published
    chapter = read(books["ar"], "EPUB/ch01.xhtml")
    refs = [a for a in chapter.iter("{%s}a" % NS["x"]) if a.get(EPUB_TYPE) == "noteref"]
    notes = [a for a in chapter.iter("{%s}aside" % NS["x"]) if a.get(EPUB_TYPE) == "footnote"]
    assert refs and len(refs) == len(notes)
    ids = {n.get("id") for n in notes}
    for ref in refs:
        assert ref.get("href")[1:] in ids
        note = next(n for n in notes if n.get("id") == ref.get("href")[1:])
        back = note.find(".//x:a", NS)
        assert back.get("href") == f"#{ref.get('id')}"


def test_figure_with_caption_and_alt(published):
    _, books, _ = published
    chapter = read(books["fr"], "EPUB/ch02.xhtml")
    figure = chapter.find(".//x:figure", NS)
    image = figure.find("x:img", NS)
    assert image.get("alt") and image.get("src") in [n[len("EPUB/"):] for n in names(books["fr"])]
    assert "".join(figure.find("x:figcaption", NS).itertext()).strip()


ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
A11Y = {"ar": "لكل صورة وصف نصي", "ur": "ہر تصویر کی متنی وضاحت", "en": "Every image has a text description", "fr": "Chaque image a une description"}


def images_of(path: Path):
    """The book's images, but for the cover (tested on its own)."""
    for name in names(path):
        if name.endswith(".xhtml") and name != "EPUB/cover.xhtml":
            yield from read(path, name).iter("{%s}img" % NS["x"])


def metadata(path: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for meta in read(path, "EPUB/content.opf").iter("{%s}meta" % NS["opf"]):
        if meta.get("property"):
            found.setdefault(meta.get("property"), []).append(meta.text)
    return found


@pytest.mark.parametrize("lang", ["en", "fr", "ar", "ur"])
def test_image_description_is_translated_never_the_persian(published, lang):
    """The manuscript's alt text is a sentence of the book: the English and French readers get it
    in English and French; the Persian appears nowhere as an image's description."""
    project, books, _ = published
    manuscript = json.loads((project.book_dir("sample") / "manuscript.json").read_text(encoding="utf-8"))
    assert [i["alt"] for i in manuscript["images"]] == [PHOTO]  # the sample's photograph has Word alt text, in Persian
    for path in (books[lang], books.get(f"{lang}-bilingual", books[lang])):
        images = list(images_of(path))
        assert len(images) == 1
        assert images[0].get("alt") == DESCRIBED[lang] and images[0].get("lang") in (None, lang), path.name
        if lang in ("en", "fr"):
            assert not ARABIC_SCRIPT.search(images[0].get("alt"))
        # …and the description is not read out a second time as a paragraph of the text
        text = "".join(read(path, "EPUB/ch02.xhtml").itertext())
        assert PHOTO not in text and DESCRIBED[lang] not in text


@pytest.mark.parametrize("lang", ["ar", "en", "fr", "ur"])
def test_every_book_has_a_cover_image(published, lang):
    """No cover named in the sample's YAML: a typographic one, set from the translated title, is the
    package's cover-image and the first page, described by the title and author."""
    from PIL import Image

    _, books, drafts = published
    opf = read(books[lang], "EPUB/content.opf")
    covers = [item for item in opf.iter("{%s}item" % NS["opf"]) if "cover-image" in (item.get("properties") or "").split()]
    assert len(covers) == 1 and covers[0].get("media-type") == "image/jpeg"
    with zipfile.ZipFile(books[lang]) as archive:
        image = Image.open(io.BytesIO(archive.read("EPUB/" + covers[0].get("href"))))
    assert image.format == "JPEG" and image.size == (1600, 2560)
    first = opf.find("opf:spine/opf:itemref", NS).get("idref")
    page = read(books[lang], f"EPUB/{next(i.get('href') for i in opf.iter('{%s}item' % NS['opf']) if i.get('id') == first)}")
    img = page.find(".//x:img", NS)
    assert img.get("src") == covers[0].get("href") and img.get("role") == "doc-cover"
    title = {"ar": "أيام كارون", "en": "Days of the Karun", "fr": "Les jours du Karoun", "ur": "کارون کے دن"}[lang]
    assert img.get("alt").startswith(title)
    if lang in drafts:  # a draft's cover is another image: it says DRAFT
        with zipfile.ZipFile(drafts[lang]) as archive:
            draft_cover = archive.read("EPUB/images/cover.jpg")
        with zipfile.ZipFile(books[lang]) as archive:
            assert draft_cover != archive.read("EPUB/images/cover.jpg")


def test_accessibility_metadata_says_what_is_in_the_book(published):
    _, books, drafts = published
    for lang in ("ar", "en", "fr", "ur"):
        found = metadata(books[lang])
        assert read(books[lang], "EPUB/content.opf").get("{http://www.w3.org/XML/1998/namespace}lang") == lang
        assert found["schema:accessMode"] == ["textual", "visual"]  # the sample has a photograph
        assert found["schema:accessModeSufficient"] == ["textual", "textual,visual"]  # …described, approved
        assert "alternativeText" in found["schema:accessibilityFeature"] and "tableOfContents" in found["schema:accessibilityFeature"]
        assert found["schema:accessibilityHazard"] == ["none"]
        assert A11Y[lang] in found["schema:accessibilitySummary"][0]
        assert "dcterms:conformsTo" not in found  # published without Ace: nothing checked, nothing claimed
    # the draft's description is a machine draft nobody approved: text alone is not enough yet
    found = metadata(drafts["en"])
    assert found["schema:accessModeSufficient"] == ["textual,visual"]
    assert "Some images have no text description" in found["schema:accessibilitySummary"][0]


def test_landmarks_name_the_cover_contents_and_text(published):
    _, books, _ = published
    for lang in ("en", "ar"):
        nav = read(books[lang], "EPUB/nav.xhtml")
        landmarks = next(n for n in nav.iter("{%s}nav" % NS["x"]) if n.get(EPUB_TYPE) == "landmarks")
        kinds = {a.get(EPUB_TYPE): a.get("href") for a in landmarks.iter("{%s}a" % NS["x"])}
        assert kinds == {"cover": "cover.xhtml", "toc": "nav.xhtml", "bodymatter": "ch01.xhtml"}
        spine = read(books[lang], "EPUB/content.opf").find(".//opf:spine", NS)
        assert [i.get("linear") for i in spine if i.get("idref") == "nav"] == ["no"]  # named, not read through


@pytest.fixture(scope="module")
def ace():
    from tarjoman.accessibility import ace_available

    why = ace_available()
    if why:
        skip_or_fail(why)


def test_every_book_passes_ace(published, ace, tmp_path):
    """Ace by DAISY, as a publisher runs it: the four books, the bilingual proof and two drafts have
    no critical, serious or moderate violation, and none of schema.org's accessibility metadata missing."""
    from concurrent.futures import ThreadPoolExecutor

    from tarjoman.accessibility import run_ace

    _, books, drafts = published
    every = {**books, **{f"draft-{lang}": path for lang, path in drafts.items()}}
    with ThreadPoolExecutor(2) as pool:
        reports = dict(zip(every, pool.map(lambda item: run_ace(item[1], report_dir=tmp_path / item[0]), every.items())))
    for name, report in reports.items():
        assert report.clean, (name, [str(v) for v in report.violations])
        # what Ace still lists as missing is the optional certifier's part (and, unchecked, conformsTo)
        assert not [m for m in report.missing_metadata if m.startswith("schema:")], (name, report.missing_metadata)
        assert report.outcome == "pass", name
        assert (tmp_path / name / "report.html").is_file()


def test_text_is_escaped_never_markup(published):
    _, books, _ = published
    for lang in ("en", "ar"):
        chapter = read(books[lang], "EPUB/ch01.xhtml")
        assert not list(chapter.iter("{%s}script" % NS["x"]))
        assert HOSTILE in "".join(chapter.itertext())


def test_verse_is_set_as_verse(published):
    _, books, _ = published
    chapter = read(books["ur"], "EPUB/ch03.xhtml")
    verse = chapter.find('.//x:p[@class="verse"]', NS)
    assert len(verse.findall("x:span", NS)) == 2


def test_draft_edition_says_so(published):
    _, _, drafts = published
    title = read(drafts["en"], "EPUB/title.xhtml")
    assert "DRAFT" in "".join(title.itertext())
    opf = read(drafts["en"], "EPUB/content.opf")
    assert opf.findtext(".//dc:description", namespaces=NS).startswith("DRAFT edition")
    assert "DRAFT" not in "".join(read(published[1]["en"], "EPUB/title.xhtml").itertext())


def test_bilingual_edition_pairs_persian_and_translation(published):
    _, books, _ = published
    chapter = read(books["fr-bilingual"], "EPUB/ch01.xhtml")
    pairs = chapter.findall('.//x:div[@class="pair"]', NS)
    assert pairs and pairs[0][0].get("lang") == "fa" and pairs[0][0].get("dir") == "rtl"
    assert pairs[0][1].get("lang") in (None, "fr")


def test_unapproved_book_is_refused_with_chapters_and_counts(published, tmp_path):
    project, books, _ = published
    path = project.book_dir("sample") / "review" / "ch02" / "ur.po"
    catalog = polib.pofile(str(path))
    for entry in catalog[:3]:
        entry.flags.append("fuzzy")
    catalog.save(str(path))
    import_reviews(project, "sample")
    try:
        before = books["ur"].read_bytes()
        with pytest.raises(EpubError, match=r"ch02: 3 of \d+"):
            publish_book(project, "sample", "ur")
        assert books["ur"].read_bytes() == before  # the finished book is still there, untouched
    finally:
        catalog = polib.pofile(str(path))
        for entry in catalog[:3]:
            entry.flags.remove("fuzzy")
        catalog.save(str(path))
        import_reviews(project, "sample")


def test_a_failed_check_leaves_no_half_written_book(published, monkeypatch):
    project, books, _ = published
    before = books["fr"].read_bytes()
    monkeypatch.setattr("tarjoman.epub.check_epub", lambda path: ["ERROR RSC-000 planted"])
    with pytest.raises(EpubError, match="planted"):
        publish_book(project, "sample", "fr")
    assert books["fr"].read_bytes() == before
    assert not [p for p in books["fr"].parent.iterdir() if p.name.startswith(".")]


def test_structure_matches_the_w3c_arabic_sample(published):
    """Package, spine, nav and NCX as in IDPF's own Arabic EPUB 3 sample."""
    if not REALDATA.is_dir():
        pytest.skip("no realdata")
    _, books, _ = published
    sample = REALDATA / "epub" / "ar_regime-anticancer-arabic.epub"
    theirs = read(sample, "EPUB/package.opf")
    ours = read(books["ar"], "EPUB/content.opf")
    for opf in (theirs, ours):
        assert opf.get("version") == "3.0"
        assert opf.findtext(".//dc:language", namespaces=NS) == "ar"
        spine = opf.find(".//opf:spine", NS)
        assert spine.get("page-progression-direction") == "rtl" and spine.get("toc") == "ncx"
        assert any("nav" in (i.get("properties") or "") for i in opf.iter("{%s}item" % NS["opf"]))
        assert any(i.get("media-type") == "application/x-dtbncx+xml" for i in opf.iter("{%s}item" % NS["opf"]))


@pytest.mark.parametrize("lang", ["ar", "ur"])
def test_a_chapter_renders_in_a_browser(published, lang, tmp_path):
    browser = chromium()
    if browser is None:
        skip_or_fail("chromium is not installed (.ci/run installs it)")
    from PIL import Image

    _, books, _ = published
    folder = tmp_path / lang
    with zipfile.ZipFile(books[lang]) as archive:
        archive.extractall(folder)
    shot = tmp_path / f"{lang}.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
         "--window-size=700,900", f"--screenshot={shot}", (folder / "EPUB" / "ch03.xhtml").as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    image = Image.open(shot).convert("L")
    dark = sum(image.histogram()[:128])  # pixels darker than mid-grey
    assert dark > 2000, "the page rendered blank"  # text was drawn
    keep = REPO / "outputs" / "render"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, keep / f"sample.{lang}.ch03.png")  # for a person to look at
