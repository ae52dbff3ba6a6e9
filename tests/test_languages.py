"""Languages beyond the first four: the sample drafted with a tiny NLLB model into eight more,
approved with NTREX-128 references of each, and published; and what each language is, from CLDR."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import polib
import pytest
from conftest import REALDATA, REPO, drafted_sample, require_realdata

NTREX = REALDATA / "parallel" / "ntrex128"
# Our code → NTREX-128's file; direction and the script a font must cover.
NEW = {
    "id": ("ind", "ltr", None), "ms": ("msa", "ltr", None), "hi": ("hin", "ltr", "Deva"), "tr": ("tur", "ltr", None),
    "ckb": ("ckb-Arab", "rtl", "Arab"), "ps": ("pus", "rtl", "Arab"), "ru": ("rus", "ltr", "Cyrl"), "zh-Hans": ("zho-CN", "ltr", "Hani"),
}


def _fonts_or_skip():
    from tarjoman.typefaces import face_for

    missing = [name for script, sample, name in (("Deva", "कख", "fonts-noto-core"), ("Hani", "中文", "fonts-noto-cjk"), ("Cyrl", "жд", "fonts-noto-core"))
               if face_for(script, set(sample), "zh-Hans" if script == "Hani" else "") is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"fonts missing in CI: {', '.join(missing)} (.ci/run installs them)")
        pytest.skip(f"no font for these scripts here: install {', '.join(sorted(set(missing)))}")


# --- what a language is -------------------------------------------------------------------


def test_each_language_is_described_by_cldr():
    from tarjoman.languages import language

    hi, ckb, zh, ru, ps = (language(c) for c in ("hi", "ckb", "zh-Hans", "ru", "ps"))
    assert (hi.name, hi.native_name, hi.script, hi.rtl, hi.full_stop) == ("Hindi", "हिन्दी", "Deva", False, "।")
    assert (ckb.name, ckb.script, ckb.rtl, ckb.digits) == ("Central Kurdish", "Arab", True, "٠١٢٣٤٥٦٧٨٩")
    assert (zh.script, zh.spaced, zh.full_stop, zh.locale, zh.plural_forms) == ("Hans", False, "。", "zh_Hans", "nplurals=1; plural=0;")
    assert ru.quotes[:2] == "«»" and ru.plural_forms.startswith("nplurals=3;")
    assert ps.rtl and ps.digits == "۰۱۲۳۴۵۶۷۸۹" and ps.full_stop == "۔"
    # The first four keep what their books always had.
    assert [language(c).digits[1] for c in ("ar", "ur", "en", "fr")] == ["١", "۱", "1", "1"]
    assert language("ur").full_stop == "۔" and language("ar").rtl and not language("fr").rtl


@pytest.mark.parametrize("typed, code", [("zh", "zh-Hans"), ("zh_CN", "zh-Hans-CN"), ("ZH-hant", "zh-Hant"), ("ind_Latn", "id"),
                                         ("zsm", "ms"), ("pes", "fa"), ("en-XX", "en"), ("pt_BR", "pt-BR"), ("sr", "sr-Cyrl")])
def test_codes_are_canonical_bcp47(typed, code):
    from tarjoman.languages import canonical

    assert canonical(typed) == code


@pytest.mark.parametrize("typed, nearest", [("xx", None), ("Indonesian", "id"), ("hindi", "hi"), ("e n", None), ("", None)])
def test_a_code_that_is_no_language_is_refused_with_the_nearest(typed, nearest):
    from tarjoman.languages import UnknownLanguage, language

    with pytest.raises(UnknownLanguage) as refused:
        language(typed)
    if nearest:
        assert f"nearest: {nearest}" in str(refused.value)


def test_the_model_says_which_languages_it_writes(tiny_models):
    from tarjoman.engines.base import folder_languages
    from tarjoman.languages import UnknownLanguage, model_code

    family, languages = folder_languages(Path(tiny_models["nllb"]))
    assert family == "nllb" and len(languages) > 200
    assert [model_code(family, c, languages) for c in ("id", "ms", "hi", "ckb", "ps", "zh-Hans", "zh")] == [
        "ind_Latn", "zsm_Latn", "hin_Deva", "ckb_Arab", "pbt_Arab", "zho_Hans", "zho_Hans"]
    with pytest.raises(UnknownLanguage, match=r"nllb cannot write Cornish \(kw\)"):
        model_code(family, "kw", languages, model="nllb")


def test_po_headers_pass_msgfmt_for_every_language(tmp_path):
    from tarjoman.languages import language

    for code in ("ar", "fr", "ru", "zh-Hans", "hi", "ckb", "id", "pt-BR", "ga", "cy", "sl"):
        lang = language(code)
        catalog = polib.POFile()
        catalog.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": lang.locale, "Plural-Forms": lang.plural_forms,
                            "Project-Id-Version": "t", "PO-Revision-Date": "2026-12-01 00:00+0000", "Last-Translator": "t <t@t>",
                            "Language-Team": "t", "MIME-Version": "1.0", "Content-Transfer-Encoding": "8bit"}
        catalog.append(polib.POEntry(msgid="one", msgid_plural="many", msgstr_plural={i: "x" for i in range(int(lang.plural_forms[9]))}))
        path = tmp_path / f"{code}.po"
        catalog.save(str(path))
        checked = subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, (code, checked.stderr)


def test_finishing_and_qa_follow_the_language():
    from tarjoman.finishing import finish
    from tarjoman.qa import check_entry

    assert finish('वह 1359 में घर पर था. "हाँ"', "hi") == "वह 1359 में घर पर था। “हाँ”"
    assert finish("他在1359年, 在家. 为什么?", "zh-Hans") == "他在1359年，在家。为什么？"
    assert finish("له ۱۳۵۹ کې, ولې?", "ps") == "له ۱۳۵۹ کې، ولې؟"
    assert finish('Он сказал "да".', "ru") == "Он сказал «да»."
    assert finish("Di tahun 1359 dia di rumah.", "id") == "Di tahun 1359 dia di rumah."
    source = "روز ۳۱ شهریور ۱۳۵۹ در خانهٔ پدری‌ام در خرمشهر بودم."
    assert any(f.check == "punctuation" for f in check_entry(source, "31 शहरिवर 1359 को मैं खुर्रमशहर में अपने पिता के घर पर था.", "hi"))
    assert not check_entry(source, "31 शहरिवर 1359 को मैं खुर्रमशहर में अपने पिता के घर पर था।", "hi")
    assert not check_entry(source, "1359年沙赫里瓦尔月31日，我在霍拉姆沙赫尔我父亲的家里。", "zh-Hans")
    assert any(f.check == "source-script" for f in check_entry(source, "Pada 31 Shahrivar 1359 saya di rumah ayah saya di خرمشهر.", "id"))


# --- the sample in eight more languages ------------------------------------------------------


def _approve_with_references(root: Path, book: str, lang: str) -> int:
    """Every sentence approved as an NTREX-128 reference sentence of the language, through the PO files."""
    from tarjoman.project import Project
    from tarjoman.queue import import_reviews

    lines = [line for line in (NTREX / f"newstest2019-ref.{NEW[lang][0]}.txt").read_text(encoding="utf-8").splitlines() if 20 < len(line) < 200]
    n = 0
    for path in sorted((root / "outputs" / book / "review").glob(f"*/{lang}.po")):
        catalog = polib.pofile(str(path))
        assert catalog.metadata["Language"] == lang.replace("-", "_")
        for entry in catalog:
            if entry.msgid and not entry.obsolete:
                entry.msgstr = lines[n % len(lines)]
                entry.flags = [f for f in entry.flags if f != "fuzzy"]
                n += 1
        catalog.save(str(path))
        assert subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(path)]).returncode == 0
    result = import_reviews(Project(root), book, [lang], who="reviewer")
    assert not result.problems, result.problems
    return n


@pytest.fixture(scope="module")
def published_new(tmp_path_factory, tiny_models):
    """The sample drafted into the eight languages with the tiny NLLB model, approved, published as EPUB."""
    require_realdata()
    _fonts_or_skip()
    from tarjoman.book import publish_book

    root = tmp_path_factory.mktemp("new-languages")
    project = drafted_sample(root, tiny_models["nllb"], langs=tuple(NEW))
    books = {}
    for lang in NEW:
        assert _approve_with_references(root, "sample", lang) > 50
        books[lang] = publish_book(project, "sample", lang).files["epub"]
    return project, books


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.mark.parametrize("lang", list(NEW))
def test_each_book_is_in_its_language_and_direction(published_new, lang):
    _, books = published_new
    files = _members(books[lang])  # publish ran EPUBCheck on it: nothing found, or it would have failed
    opf = files["EPUB/content.opf"].decode()
    assert f"<dc:language>{lang}</dc:language>" in opf and f'xml:lang="{lang}"' in opf
    direction = NEW[lang][1]
    spine = re.search(r"<spine[^>]*>", opf).group()
    assert ('page-progression-direction="rtl"' in spine) == (direction == "rtl")
    chapter = files["EPUB/ch01.xhtml"].decode()
    assert f'lang="{lang}"' in chapter and f'dir="{direction}"' in chapter
    # Tarjoman has its labels in ar, en, fr and ur only: the English ones stand in, said to be English.
    credits = files["EPUB/credits.xhtml"].decode()
    assert re.search(r'<h1>\s*<span lang="en" xml:lang="en" dir="ltr">Credits</span>\s*</h1>', credits)


def _needs_a_font(char: str) -> bool:
    """Outside Latin (with its diacritics) and common punctuation: this test's own rule, not Tarjoman's."""
    import unicodedata

    if char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Co"):
        return False
    code = ord(char)
    return not (code < 0x370 or 0x1E00 <= code <= 0x1EFF or 0x2000 <= code <= 0x206F or 0x20A0 <= code <= 0x20CF)


def _script(char: str) -> str:
    from fontTools import unicodedata as ucd

    script = ucd.script(char)
    return {"Hira": "Hani", "Kana": "Hani"}.get(script, script)


@pytest.mark.parametrize("lang", list(NEW))
def test_every_non_latin_character_is_in_an_embedded_font(published_new, lang):
    """fontTools' cmap of the fonts in the book covers every character outside Latin and common punctuation."""
    from io import BytesIO

    from fontTools.ttLib import TTFont

    _, books = published_new
    files = _members(books[lang])
    text = html.unescape(" ".join(re.sub(r"<[^>]+>", " ", data.decode()) for name, data in files.items() if name.endswith(".xhtml")))
    wanted: dict[str, set[str]] = {}
    for char in set(text):
        if _needs_a_font(char):
            wanted.setdefault(_script(char), set()).add(char)
    fonts = {n: TTFont(BytesIO(d)) for n, d in files.items() if n.startswith("EPUB/fonts/") and n.endswith((".ttf", ".otf"))}
    covered = set().union(*(set(f.getBestCmap()) for f in fonts.values())) if fonts else set()
    for script, chars in wanted.items():
        missing = sorted(c for c in chars if ord(c) not in covered)
        assert not missing, (lang, script, missing[:10])
    if NEW[lang][2]:
        assert NEW[lang][2] in wanted and fonts, (lang, set(wanted))
        css = files["EPUB/style/book.css"].decode()
        for name in fonts:
            assert f'url("../{name[5:]}")' in css
        assert any(n.startswith("EPUB/fonts/LICENSE-") or n == "EPUB/fonts/OFL.txt" for n in files)
    else:  # a Latin-script book carries a font only for what is not Latin: the sample's Arabic verse, kept as it is
        assert set(wanted) - {"Zyyy", "Zinh"} <= {"Arab"} and all("Naskh" in n for n in fonts), (lang, set(wanted), list(fonts))


def test_embedded_fonts_are_subsets(published_new):
    _, books = published_new
    zh = {n: len(d) for n, d in _members(books["zh-Hans"]).items() if n.startswith("EPUB/fonts/") and not n.endswith(".txt")}
    assert zh and all(size < 2_000_000 for size in zh.values()), zh  # Noto Serif CJK is over 20 MB whole
    ckb = {n: len(d) for n, d in _members(books["ckb"]).items() if n.startswith("EPUB/fonts/NotoNaskh")}
    whole = (REPO / "tarjoman" / "fonts" / "NotoNaskhArabic-Regular.ttf").stat().st_size
    assert ckb and all(size < whole for size in ckb.values())


@pytest.mark.parametrize("lang", ["hi", "ckb", "zh-Hans"])
def test_a_printed_page_of_each_script_is_rendered_for_a_person_to_see(published_new, lang, tiny_models):
    """PDF through WeasyPrint with the fonts chosen for the language; chapter 1 rendered to
    outputs/proofs/sample.<lang>.page.png; every font in the PDF embedded."""
    from tarjoman.book import publish_book

    if not shutil.which("pdftoppm"):
        pytest.skip("poppler-utils is not installed")
    project, _ = published_new
    pdf = publish_book(project, "sample", lang, formats=["pdf"]).files["pdf"]
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes " in row for row in rows)
    family = {"hi": "NotoSerifDevanagari", "ckb": "NotoNaskhArabic", "zh-Hans": "NotoSerifCJK"}[lang]
    assert family in fonts.replace("-", "")
    proofs = REPO / "outputs" / "proofs"
    proofs.mkdir(parents=True, exist_ok=True)
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    count = int(re.search(r"Pages:\s+(\d+)", pages).group(1))
    assert count >= 4
    # The fullest of the first pages: a page of running text, not a title or a chapter's last lines.
    text = {n: len(subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"], capture_output=True, text=True).stdout.strip())
            for n in range(3, min(count, 14) + 1)}
    fullest = max(text, key=text.get)
    assert text[fullest] > 300
    stem = proofs / f"sample.{lang}.page"
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", str(fullest), "-l", str(fullest), "-singlefile", str(pdf), str(stem)], check=True)
    assert Path(f"{stem}.png").stat().st_size > 5_000


def test_a_script_no_font_covers_is_refused_naming_it_and_the_package(published_new, tmp_path):
    """With fontconfig shown no fonts at all, the Hindi book cannot be published: one line names the
    script and the package; the book already there is left as it was."""
    project, books = published_new
    before = books["hi"].read_bytes()
    config = tmp_path / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig><dir>{tmp_path}</dir>'
                      f"<cachedir>{tmp_path}/cache</cachedir></fontconfig>", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(project.root), "publish", "sample", "--lang", "hi"],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "FONTCONFIG_FILE": str(config)})
    assert result.returncode == 1, result.stderr
    assert "Devanagari script" in result.stderr and "fonts-noto-core" in result.stderr and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]  # (WeasyPrint warns of no fonts too)
    assert len(errors) == 1 and "Devanagari" in errors[0]
    assert books["hi"].read_bytes() == before


# --- through the command line -------------------------------------------------------------------------


def _tarjoman(*args, cwd):
    return subprocess.run([sys.executable, "-m", "tarjoman", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_draft_refuses_what_is_no_language_or_what_the_model_cannot_write(tmp_path, tiny_models):
    drafted_sample(tmp_path, None)
    review = tmp_path / "outputs" / "sample" / "review"
    for lang, message in (("xx", "'xx' is not a language code"), ("kw", "cannot write Cornish (kw)"), ("fa", "Persian is the language")):
        result = _tarjoman("draft", "sample", "--lang", lang, "--model", tiny_models["nllb"], cwd=tmp_path)
        assert result.returncode != 0 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not review.exists()  # nothing written


def test_languages_lists_what_the_model_writes(tiny_models):
    result = _tarjoman("languages", "--model", tiny_models["nllb"], cwd=REPO)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[2:]}
    assert {"id", "ms", "hi", "tr", "ckb", "ps", "ru", "zh-Hans", "ar", "en", "fr", "ur"} <= set(rows)
    assert " rtl " in rows["ckb"] and " ltr " in rows["hi"] and "fa" not in rows


def test_a_books_yaml_names_its_targets(tmp_path):
    from tarjoman.errors import ProjectError
    from tarjoman.manuscript import extract
    from tarjoman.project import Project
    from tarjoman.queue import book_languages

    drafted_sample(tmp_path, None)
    yaml_path = tmp_path / "sources" / "sample.yaml"
    original = yaml_path.read_text(encoding="utf-8")
    yaml_path.write_text(original + "\ntargets: [id, zh_CN, ckb]\n", encoding="utf-8")
    project = Project(tmp_path)
    extract(tmp_path / "sources" / "sample.docx", project, book="sample")
    assert project.book_targets("sample") == ["id", "zh-Hans-CN", "ckb"]
    assert book_languages(project, "sample")[:3] == ["id", "zh-Hans-CN", "ckb"]
    yaml_path.write_text(original + "\ntargets: [id, klingon]\n", encoding="utf-8")
    with pytest.raises(ProjectError, match="klingon") as refused:
        extract(tmp_path / "sources" / "sample.docx", project, book="sample")
    assert "sample.yaml" in str(refused.value)
    assert project.book_targets("sample") == ["id", "zh-Hans-CN", "ckb"]  # nothing overwritten


def test_the_desk_serves_a_translator_of_a_new_language(published_new):
    """A Hindi translator (added with any code CLDR knows) sees the Hindi chapters, saves a
    sentence there; an Arabic translator is kept out of them; the home page lists Hindi."""
    from desk_harness import PASSWORD
    from fastapi.testclient import TestClient

    from tarjoman.accounts import AccountError, add_user
    from tarjoman.desk import create_app

    project, _ = published_new
    app = create_app(project.root)
    try:
        store = app.state.store
        add_user(store, "meera", "translator", ("hi",), PASSWORD, by="test")
        add_user(store, "salma", "translator", ("ar",), PASSWORD, by="test")
        with pytest.raises(AccountError, match="'klingon' is not a language code"):
            add_user(store, "nobody", "translator", ("klingon",), PASSWORD, by="test")

        def login(name):
            client = TestClient(app, base_url="http://127.0.0.1")
            answer = client.post("/api/login", json={"name": name, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            return client, answer.json()["csrf_token"]

        meera, csrf = login("meera")
        rows = meera.get("/api/books/sample/chapters/ch01/hi").json()["segments"]
        row = rows[2]
        saved = meera.put(f"/api/books/sample/segments/{row['id']}/hi", json={"text": "यह एक नया अनुवाद है।", "state": "approved",
                                                                          "base_version": row["version"]}, headers={"X-CSRF-Token": csrf})
        assert saved.status_code == 200, saved.text
        home = meera.get("/").text
        assert "/books/sample/chapters/ch01/hi" in home and "/chapters/ch01/ar" not in home
        page = meera.get("/books/sample/chapters/ch01/hi")
        assert page.status_code == 200 and 'lang="hi"' in page.text
        salma, _ = login("salma")
        assert salma.get("/api/books/sample/chapters/ch01/hi").status_code == 403
        assert meera.get("/books/sample/chapters/ch01/xx").status_code == 400
    finally:
        app.state.store.close()


def test_a_glossary_holds_renderings_in_the_books_own_languages(tmp_path):
    """Columns named by language codes are renderings; an approved term needs one in each of the
    book's targets (its YAML), not in the four default ones; the CLI approves in any language."""
    from tarjoman.glossary import check_book, load_termbase
    from tarjoman.manuscript import extract
    from tarjoman.project import Project

    drafted_sample(tmp_path, None)
    (tmp_path / "glossaries").mkdir(exist_ok=True)
    yaml_path = tmp_path / "sources" / "sample.yaml"
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8") + "\ntargets: [hi, zh-Hans]\n", encoding="utf-8")
    project = Project(tmp_path)
    extract(tmp_path / "sources" / "sample.docx", project, book="sample")
    sheet = tmp_path / "glossaries" / "sample.csv"
    sheet.write_text("term,hi,zh-hans,status\nخرمشهر,खुर्रमशहर,霍拉姆沙赫尔,approved\nآبادان,आबादान,,approved\n", encoding="utf-8")
    problems = check_book(project, "sample")
    assert [p.message for p in problems] == ["approved term «آبادان» has no rendering for zh-Hans"]
    sheet.write_text("term,hi,zh-hans,status\nخرمشهر,खुर्रमशहर,霍拉姆沙赫尔,approved\n", encoding="utf-8")
    assert not check_book(project, "sample")
    terms = load_termbase(project, "sample")
    assert terms.renderings("hi") == {"خرمشهر": "खुर्रमशहर"} and terms.renderings("zh-Hans") == {"خرمشهر": "霍拉姆沙赫尔"}
    result = _tarjoman("glossary", "approve", "sample", "آبادان", "--rendering", "hi=आबादान", "--rendering", "zh-Hans=阿巴丹", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "hi आबादान" in result.stdout and "zh-Hans 阿巴丹" in result.stdout
    written = sheet.read_text(encoding="utf-8")
    assert "zh-Hans" in written.splitlines()[0] and "阿巴丹" in written
    assert load_termbase(project, "sample").renderings("zh-Hans") == {"خرمشهر": "霍拉姆沙赫尔", "آبادان": "阿巴丹"}
    bad = _tarjoman("glossary", "approve", "sample", "اهواز", "--rendering", "klingon=x", cwd=tmp_path)
    assert bad.returncode != 0 and "language code" in bad.stderr


@pytest.mark.parametrize("lang, attribute, family, locale", [("zh-Hans", "eastAsia", "Noto Serif CJK SC", "zh-CN"),
                                                            ("hi", "cs", "Noto Serif Devanagari", "hi-IN"), ("ckb", "cs", "Noto Naskh Arabic", "ckb-IQ")])
def test_the_word_edition_names_the_fonts_and_language_of_its_script(published_new, lang, attribute, family, locale):
    """Word sets Han in its eastAsia font and Devanagari or Arabic in its cs one: those fonts are
    the ones found for the book; every run says its language."""
    import docx

    from tarjoman.book import publish_book

    project, _ = published_new
    path = publish_book(project, "sample", lang, formats=["docx"]).files["docx"]
    document = docx.Document(str(path))
    xml = zipfile.ZipFile(path).read("word/document.xml").decode()
    assert f'w:{attribute}="{family}"' in xml
    assert f'="{locale}"' in xml and "Times New Roman" in xml
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert len(headings) == 4
