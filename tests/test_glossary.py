"""Glossaries: spreadsheet quirks, checks, decisions, TBX, suggestions, and drafts that obey."""

import codecs
import hashlib
import shutil
import subprocess
import sys

import polib
import pytest
from conftest import SAMPLE, SAMPLE_GLOSSARY

from tarjoman.book import draft_book
from tarjoman.drafting import DraftOptions
from tarjoman.engines import GenerationSettings, load_engine
from tarjoman.errors import GlossaryError
from tarjoman.glossary import (
    TermBinder, is_rendered, approve, check_book, export_tbx, import_file, load_termbase, read_table, reject,
)
from tarjoman.glossary.suggest import suggest
from tarjoman.glossary.table import check_table, render_table
from tarjoman.manuscript import extract
from tarjoman.queue import run_qa
from tarjoman.review import read_entries

HEADER = "term,en,ar,fr,ur,status,kind,note,decided_by,decided_at"
KHORRAMSHAHR = "خرمشهر,Khorramshahr,خرمشهر,Khorramchahr,خرم شہر,approved,place,,ed,2026-01-01"


def cli(project, *args):
    return subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(project.root), *args], capture_output=True, text=True)


def write(project, data: bytes, name="book.csv"):
    path = project.glossaries / name
    path.write_bytes(data)
    return path


# --- reading what spreadsheets write -------------------------------------------------------

def test_excel_csv_with_bom_crlf_and_quoting(project):
    text = (HEADER + "\r\n" + KHORRAMSHAHR + "\r\n"
            + 'آبادان,Abadan,عبادان,Abadan,آبادان,proposed,place,"oil town, the ""refinery""\r\nsecond line",,\r\n'
            + ",,,,,,,,,\r\n")  # Excel leaves empty rows at the end
    path = write(project, codecs.BOM_UTF8 + text.encode())
    table = read_table(path)
    assert [r.term for r in table.rows] == ["خرمشهر", "آبادان"]
    assert table.rows[1].get("note") == 'oil town, the "refinery"\r\nsecond line'
    assert [r.line for r in table.rows] == [2, 3]
    assert check_table(table) == []


def test_excel_unicode_text_is_utf16_with_tabs(project):
    text = HEADER.replace(",", "\t") + "\r\n" + KHORRAMSHAHR.replace(",", "\t") + "\r\n"
    path = write(project, codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    table = read_table(path)
    assert table.rows[0].renderings() == {"en": "Khorramshahr", "ar": "خرمشهر", "fr": "Khorramchahr", "ur": "خرم شہر"}


def test_semicolons_and_columns_in_any_order_with_extra_columns(project):
    path = write(project, "status;term;en;ar;fr;ur;reviewer comment\napproved;اهواز;Ahvaz;الأهواز;Ahvaz;اہواز;ok\n".encode())
    table = read_table(path)
    assert table.rows[0].term == "اهواز" and table.rows[0].get("reviewer comment") == "ok"
    assert check_table(table) == []


def test_written_files_are_utf8_with_bom_and_read_back_identically(project):
    path = write(project, (HEADER + "\n" + KHORRAMSHAHR + "\n").encode())
    table = read_table(path)
    data = render_table(table)
    assert data.startswith(codecs.BOM_UTF8) and b"\r\n" in data
    path.write_bytes(data)
    assert [r.values for r in read_table(path).rows] == [r.values for r in table.rows]


@pytest.mark.parametrize("data, where, words", [
    (HEADER + "\n" + KHORRAMSHAHR + '\nآبادان,"Abadan,,,,proposed\n', "line 3", "broken quoting"),
    ("name,en\nخرمشهر,Khorramshahr\n", "line 1", "no 'term' column"),
    (HEADER + "\nخرمشهر,a,b,c,d,approved,place,,,,extra,cells\n", "line 2", "12 cells"),
])
def test_unreadable_files_name_the_line(project, data, where, words):
    path = write(project, data.encode())
    with pytest.raises(GlossaryError) as caught:
        read_table(path)
    assert where in str(caught.value) and words in str(caught.value) and str(path) in str(caught.value)


def test_not_utf8_names_the_line(project):
    path = write(project, (HEADER + "\n").encode() + "آبادان,Abadan\n".encode("cp1256"))
    with pytest.raises(GlossaryError, match=r"line 2.*neither UTF-8 nor UTF-16"):
        read_table(path)


# --- checking ------------------------------------------------------------------------------

def test_check_finds_every_problem_with_its_line(project):
    rows = [
        KHORRAMSHAHR,                                                       # 2
        "خرمشهر,Khorramshahr,خرمشهر,Khorramchahr,خرم شہر,approved,place,,,",  # 3 duplicate
        "خرم‌شهر,Khoramshahr,خرمشهر,Khorramchahr,خرم شہر,approved,place,,,",  # 4 conflict (ZWNJ spelling)
        "آبادان,Abadan,,Abadan,,approved,place,,,",                         # 5 missing ar, ur
        ",Nobody,,,,proposed,,,,",                                          # 6 empty term
        "اهواز,Ahvaz,,,,maybe,,,,",                                         # 7 unknown status
        "دزفول,Dezful,,,,proposed,city,,,",                                 # 8 unknown kind
    ]
    write(project, (HEADER + "\n" + "\n".join(rows) + "\n").encode())
    problems = check_book(project, "book")
    assert [p.line for p in problems] == [3, 4, 5, 6, 7, 8]
    text = "\n".join(map(str, problems))
    for words in ("duplicates line 2", "conflicts with line 2: en «Khorramshahr» / «Khoramshahr»", "no rendering for ar, ur",
                  "term is empty", "unknown status 'maybe'", "unknown kind 'city'"):
        assert words in text
    result = cli(project, "glossary", "check", "book")
    assert result.returncode == 1 and "book.csv:4:" in result.stderr and "6 problems" in result.stderr


def test_a_book_row_wins_over_common(project):
    write(project, (HEADER + "\n" + KHORRAMSHAHR + "\nکارون,Karun,كارون,Karoun,کارون,approved,place,,,\n").encode(), "common.csv")
    write(project, (HEADER + "\nخرمشهر,Khorramshahr (city),خرمشهر,Khorramchahr,خرم شہر,approved,place,,,\nکارون,,,,,rejected,,,,\n").encode())
    terms = load_termbase(project, "book")
    assert terms.renderings("en") == {"خرمشهر": "Khorramshahr (city)"}


def test_drafting_refuses_a_glossary_with_problems(project):
    write(project, (HEADER + "\nآبادان,Abadan,,,,approved,place,,,\n").encode())
    with pytest.raises(GlossaryError, match=r"book.csv \(line 2\).*no rendering for ar, fr, ur"):
        load_termbase(project, "book")


# --- decisions -----------------------------------------------------------------------------

def test_approve_and_reject_keep_every_other_row(project):
    original = (HEADER + "\r\n" + KHORRAMSHAHR + "\r\n"
                + 'اهواز,Ahvaz,,,,proposed,place,"note, with comma",,\r\n'
                + "کارون,,,,,proposed,place,,,\r\n")
    path = write(project, codecs.BOM_UTF8 + original.encode())
    before = {r.term: dict(r.values) for r in read_table(path).rows}
    row = approve(project, "book", "کارون", {"en": "Karun", "ar": "كارون", "fr": "Karoun", "ur": "کارون"}, by="Maryam")
    assert row.status == "approved" and row.get("decided_by") == "Maryam" and row.get("decided_at").startswith("20")
    after = {r.term: dict(r.values) for r in read_table(path).rows}
    # The file is written from the store now, with the version of each term in its own column.
    assert {term: values.pop("version") for term, values in after.items()} == {"خرمشهر": "1", "اهواز": "1", "کارون": "2"}
    assert {k: v for k, v in after.items() if k != "کارون"} == {k: v for k, v in before.items() if k != "کارون"}
    reject(project, "book", "اهواز", by="Maryam")
    assert read_table(path).find("اهواز").status == "rejected"
    assert load_termbase(project, "book").renderings("fr") == {"خرمشهر": "Khorramchahr", "کارون": "Karoun"}


def test_approving_without_every_rendering_is_refused_and_changes_nothing(project):
    path = write(project, (HEADER + "\n" + KHORRAMSHAHR + "\n").encode())
    before = path.read_bytes()
    result = cli(project, "glossary", "approve", "book", "آبادان", "--en", "Abadan")
    assert result.returncode == 1 and "--ar … --fr … --ur …" in result.stderr
    assert path.read_bytes() == before


def test_approve_command_adds_a_row(project):
    result = cli(project, "glossary", "approve", "book", "دزفول", "--en", "Dezful", "--ar", "دزفول", "--fr", "Dezfoul", "--ur", "دزفول", "--by", "Ali", "--kind", "place")
    assert result.returncode == 0, result.stderr
    row = read_table(project.glossaries / "book.csv").find("دزفول")
    assert (row.status, row.get("kind"), row.get("fr"), row.get("decided_by")) == ("approved", "place", "Dezfoul", "Ali")


# --- TBX -----------------------------------------------------------------------------------

def test_tbx_export_is_read_back_by_translate_toolkit(project, tmp_path):
    shutil.copy(SAMPLE_GLOSSARY, project.glossaries / "sample.csv")
    target = tmp_path / "sample.tbx"
    count = export_tbx(project, "sample", target)
    from translate.storage import tbx

    store = tbx.tbxfile.parsefile(str(target))
    units = [u for u in store.units if not u.isheader()]
    table = read_table(project.glossaries / "sample.csv")
    assert count == len(units) == len(table.rows)
    assert [u.source for u in units] == [r.term for r in table.rows]
    xml = target.read_text()
    assert 'xml:lang="fr"' in xml and "92e division blindée" in xml and "preferredTerm-admn-sts" in xml


def test_tbx_import_merges_without_clobbering_decided_rows(project, tmp_path):
    shutil.copy(SAMPLE_GLOSSARY, project.glossaries / "sample.csv")
    exported = tmp_path / "sample.tbx"
    export_tbx(project, "sample", exported)
    # Someone in a CAT tool changes an approved rendering and adds a term.
    xml = exported.read_text().replace("Khorramchahr", "Khorramshahr").replace(
        "</body>", '<termEntry id="new"><langSet xml:lang="fa"><tig><term>شلمچه</term></tig></langSet>'
        '<langSet xml:lang="en"><tig><term>Shalamcheh</term></tig></langSet></termEntry></body>')
    exported.write_text(xml)
    result = import_file(project, "book2", exported)  # into an empty glossary: everything is added
    assert result.added == len(read_table(project.glossaries / "sample.csv").rows) + 1
    result = import_file(project, "sample", exported)
    assert (result.added, result.kept) == (1, 14)
    table = read_table(project.glossaries / "sample.csv")
    assert table.find("خرمشهر").get("fr") == "Khorramchahr"  # approved: not clobbered
    assert table.find("شلمچه").status == "proposed"


def test_tbx_with_a_dtd_is_refused(project, tmp_path):
    bomb = tmp_path / "bomb.tbx"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE martif [<!ENTITY a "aaaa">]><martif><text><body/></text></martif>')
    with pytest.raises(GlossaryError, match="DTD"):
        import_file(project, "book", bomb)
    assert not (project.glossaries / "book.csv").exists()


# --- suggestions ---------------------------------------------------------------------------

SAMPLE_NAMES = {"رضا امینی", "علی صفری", "محمود نادری", "خرمشهر", "آبادان", "اهواز", "کارون", "دزفول",
                "عملیات بیت‌المقدس", "عملیات فتح‌المبین", "لشکر ۹۲ زرهی", "پادگان حمید"}


def test_suggest_finds_the_names_of_the_sample(sample_manuscript):
    found = {s.term: s for s in suggest(sample_manuscript)}
    assert SAMPLE_NAMES <= set(found)
    assert len(found) <= len(SAMPLE_NAMES) + 3  # few ordinary words among them
    assert found["لشکر ۹۲ زرهی"].kind == "unit" and found["عملیات فتح‌المبین"].kind == "operation"
    assert found["رضا امینی"].kind == "person" and found["اهواز"].kind == "place"
    assert found["خرمشهر"].count >= 10 and len(found["خرمشهر"].chapters) >= 4
    assert "علی صفری" in found["علی صفری"].example


def test_suggest_never_changes_a_decided_row(project):
    shutil.copy(SAMPLE, project.sources / "sample.docx")
    extract(project.sources / "sample.docx", project, book="sample")
    path = project.glossaries / "sample.csv"
    path.write_bytes(codecs.BOM_UTF8 + (HEADER + "\r\n" + KHORRAMSHAHR + "\r\nکارون,,,,,rejected,,,,\r\n").encode())
    result = cli(project, "glossary", "suggest", "sample")
    assert result.returncode == 0, result.stderr
    table = read_table(path)
    assert table.find("خرمشهر").values["decided_by"] == "ed" and table.find("خرمشهر").get("count") == ""
    assert table.find("کارون").status == "rejected"
    proposed = {r.term for r in table.rows if r.status == "proposed"}
    assert SAMPLE_NAMES - {"خرمشهر", "کارون"} <= proposed
    before = path.read_bytes()
    assert cli(project, "glossary", "suggest", "sample").returncode == 0
    assert path.read_bytes() == before  # a second run changes nothing


# --- matching ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, found", [
    ("در خرمشهر بودیم", ["خرمشهر"]),
    ("خرمشهری‌ها آمدند و خرمشهرِ سوخته را دیدند", ["خرمشهر", "خرمشهر"]),
    ("مردم خرمشهر را دوست داشتند", ["خرمشهر"]),
    ("عملیات بیت المقدس و عملیات بیت‌المقدس", ["عملیات بیت‌المقدس", "عملیات بیت‌المقدس"]),
    ("به لشکر 92 زرهی پیوستم", ["لشکر ۹۲ زرهی"]),
    ("علیرضا و علی‌اکبر آمدند", []),
    ("سردار محمود نادری و سردار نادری", ["محمود نادری", "نادری"]),
])
def test_terms_match_with_persian_affixes_and_spellings(text, found):
    binder = TermBinder("en", {"خرمشهر": "Khorramshahr", "عملیات بیت‌المقدس": "Operation Beit-ol-Moqaddas", "علی": "Ali",
                               "لشکر ۹۲ زرهی": "92nd Armoured Division", "محمود نادری": "Mahmoud Naderi", "نادری": "Naderi"})
    assert [o.term for o in binder.find(text)] == found


def test_injection_and_repair():
    binder = TermBinder("en", {"خرمشهر": "Khorramshahr", "کارون": "Karun"})
    assert binder.inject("از خرمشهری‌ها تا کارون") == "از Khorramshahr تا Karun"
    applied = binder.applied("از خرمشهر تا کارون")
    repaired, missing = binder.enforce("From Khoramshar to the river.", applied)
    assert repaired == "From Khorramshahr to the river." and missing == ["کارون"]


# --- drafts obey ---------------------------------------------------------------------------

@pytest.fixture
def glossary_book(project):
    shutil.copy(SAMPLE, project.sources / "sample.docx")
    shutil.copy(SAMPLE_GLOSSARY, project.glossaries / "sample.csv")
    extract(project.sources / "sample.docx", project, book="sample")
    return project


def lacking_terms(project):
    """(chapter, lang, source) of every review entry whose translation lacks an approved rendering."""
    terms = load_termbase(project, "sample")
    lacking = set()
    for path in sorted((project.book_dir("sample") / "review").rglob("*.po")):
        lang = path.stem
        for entry in read_entries(path):
            if any(not is_rendered(r, entry.msgstr, lang) for _, r in terms.binder(lang).applied(entry.msgid)):
                lacking.add((path.parent.name, lang, entry.msgid))
    return lacking


def test_without_splitting_every_miss_is_flagged(glossary_book, tiny_models):
    engine = load_engine(tiny_models["nllb"], settings=GenerationSettings(num_beams=1, max_new_tokens=8))
    options = DraftOptions(terms=load_termbase(glossary_book, "sample"), split_terms=False)
    result = draft_book(glossary_book, "sample", ["en", "ar"], engine, options=options)
    assert sum(r.term_uses for r in result.reports) >= 60 and sum(r.terms_split for r in result.reports) == 0
    # Every draft without an approved rendering, and only those, is flagged by QA (as untranslated
    # when the tiny random model wrote nothing at all).
    findings = run_qa(glossary_book, "sample", ["en", "ar"])
    flagged = {(f["chapter"], f["lang"], f["source"]) for f in findings if f["check"] == "glossary"}
    empty = {(f["chapter"], f["lang"], f["source"]) for f in findings if f["check"] == "untranslated"}
    lacking = lacking_terms(glossary_book)
    assert sum(r.terms_missing for r in result.reports) > 0 and lacking
    assert flagged <= lacking and lacking <= flagged | empty


def test_drafts_obey_approved_terms_and_po_comments_show_them(glossary_book, tiny_models):
    # The tiny model has random weights: it renders no term by itself, so every term comes
    # through the split step; a real model copies most injected renderings (see the benchmark).
    engine = load_engine(tiny_models["nllb"], settings=GenerationSettings(num_beams=1, max_new_tokens=8))
    result = draft_book(glossary_book, "sample", ["en", "ar"], engine)
    assert sum(r.term_uses for r in result.reports) >= 60
    assert sum(r.terms_missing for r in result.reports) == 0 and sum(r.terms_split for r in result.reports) > 20
    assert lacking_terms(glossary_book) == set()
    assert not [f for f in run_qa(glossary_book, "sample", ["en", "ar"]) if f["check"] == "glossary"]
    catalog = polib.pofile(str(glossary_book.book_dir("sample") / "review" / "ch01" / "en.po"))
    entry = next(e for e in catalog if "سردار محمود نادری" in e.msgid)
    assert "glossary: محمود نادری → Mahmoud Naderi" in entry.comment and "glossary: نادری →" not in entry.comment
    entry = next(e for e in catalog if "با رضا امینی به گمرک خرمشهر" in e.msgid)
    assert "glossary: خرمشهر → Khorramshahr\nglossary: رضا امینی → Reza Amini" in entry.comment


def test_changing_one_approval_redrafts_exactly_its_segments(glossary_book, tiny_models):
    engine = load_engine(tiny_models["nllb"], settings=GenerationSettings(num_beams=1, max_new_tokens=8))
    draft_book(glossary_book, "sample", ["fr"], engine)
    approve(glossary_book, "sample", "دزفول", {"fr": "Dezfoul-sur-Dez"}, by="test")
    report = draft_book(glossary_book, "sample", ["fr"], engine).reports[0]
    sentences = {s.text for c in load_termbase_manuscript(glossary_book).chapters for u in c.units() for s in u.parts if "دزفول" in s.text}
    assert report.segments_drafted == len(sentences) == 2


def load_termbase_manuscript(project):
    from tarjoman.manuscript import load_manuscript

    return load_manuscript(project.manuscript_path("sample"))


def test_a_broken_glossary_stops_drafting_before_the_model_loads(glossary_book):
    path = glossary_book.glossaries / "sample.csv"
    path.write_bytes(path.read_bytes() + "آبادان,Abadan2,عبادان,Abadan,آبادان,approved,,,,\r\n".encode())
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in glossary_book.outputs.rglob("*") if p.is_file()}
    result = cli(glossary_book, "draft", "sample", "--model", "/nonexistent/model")
    assert result.returncode == 1 and "sample.csv (line 16)" in result.stderr and "conflicts with line 3" in result.stderr
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in glossary_book.outputs.rglob("*") if p.is_file()}
