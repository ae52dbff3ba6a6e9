import hashlib
import shutil
import zipfile
from pathlib import Path

import docx
import pytest
from conftest import DATA, SAMPLE

from tarjoman.errors import ManuscriptError, ProjectError
from tarjoman.manuscript import extract, load_manuscript, read_manuscript
from tarjoman.text import ZWNJ, join_parts


def read(path, **kw):
    manuscript, _ = read_manuscript(Path(path), book="t", **kw)
    return manuscript


def all_text(manuscript):
    return [s.text for s in manuscript.segments()]


# --- one fixture per edge case ------------------------------------------------


@pytest.mark.parametrize(
    "name, chapters, titles",
    [
        ("custom_chapter_style", 2, ["آغاز راه", "پایان راه"]),  # style «فصل كتاب» typed with Arabic kaf
        ("outline_level_style", 3, ["یک", "دو", "سه"]),  # custom style with outline level 0
        ("plain_chapter_lines", 3, ["فصل اول", "فصل ۲", "فصل سوم"]),  # «فصل» lines, no styles
        ("story_lines", 2, ["داستان اول: مادر", "داستان دوم: پدر"]),
        ("series_lines", 3, ["اولین زندگی ۴۰۰ سال پیش ایران", "زندگی دوم سال ۱۷۱۰.م آفریقا", "زندگی سوم سال ۱۳۴۵ شمسی"]),
        ("static_toc", 2, ["فصل اول: آغاز", "فصل دوم: پایان"]),
        ("field_toc", 2, ["فصل اول", "فصل دوم"]),
        ("footnotes", 1, ["فصل اول"]),
    ],
)
def test_chapter_detection(name, chapters, titles):
    summary = read(DATA / f"{name}.docx").summary()
    assert summary["chapters"] == chapters
    assert summary["chapter_titles"] == titles


def test_front_matter_before_first_chapter_is_kept_not_counted():
    manuscript = read(DATA / "custom_chapter_style.docx")
    assert [c.kind for c in manuscript.chapters] == ["front", "chapter", "chapter"]
    assert manuscript.chapters[0].paragraphs[0].text == "مقدمهٔ کوتاهی پیش از فصل‌ها."


def test_chapter_words_inside_a_sentence_do_not_start_chapters():
    manuscript = read(DATA / "plain_chapter_lines.docx")
    first = manuscript.chapters[0]
    assert first.paragraphs[0].text.startswith("در فصل دوم کتاب")


def test_series_needs_more_than_one_member():
    # «روز اول» appears once: a lone ordinal line of an unknown noun is body text.
    manuscript = read(DATA / "series_lines.docx")
    assert "روز اول" in all_text(manuscript)
    assert manuscript.chapters[0].kind == "front"


@pytest.mark.parametrize("name", ["static_toc", "field_toc"])
def test_table_of_contents_is_left_out_and_reported(name):
    manuscript = read(DATA / f"{name}.docx")
    assert not any(t.endswith(("۵", "۱۲", "1", "2")) for t in all_text(manuscript))
    assert any("table of contents left out" in w for w in manuscript.warnings)


def test_single_chapter_warning(tmp_path):
    doc = docx.Document()
    doc.add_paragraph("یک متن ساده بدون فصل.")
    doc.save(tmp_path / "plain.docx")
    manuscript = read(tmp_path / "plain.docx")
    assert manuscript.summary()["chapters"] == 1
    assert any("no chapters found" in w for w in manuscript.warnings)


def test_footnotes_are_attached_to_their_reference_position():
    manuscript = read(DATA / "footnotes.docx")
    chapter = manuscript.chapters[0]
    assert [f.id for f in chapter.footnotes] == ["fn1", "fn2"]
    assert chapter.footnotes[0].paragraphs[0].text == "اهواز مرکز خوزستان است."
    first = chapter.paragraphs[0].segments[0]
    assert first.text == "در سال ۱۳۵۹ به اهواز رفتیم."
    assert [(n.footnote, n.offset) for n in first.notes] == [("fn1", len(first.text))]
    second = chapter.paragraphs[1].segments[0]
    assert [(n.footnote, second.text[: n.offset]) for n in second.notes] == [("fn2", "سردار نادری")]
    # Footnote text is segmented too: it needs translating.
    assert chapter.footnotes[1].paragraphs[0].segments[0].text == "فرمانده سپاه خرمشهر."


def test_verse_is_kept_as_couplets():
    manuscript = read(DATA / "verse.docx")
    verses = [p for p in manuscript.chapters[0].paragraphs if p.kind == "verse"]
    assert [p.text for p in verses] == [
        "ای دل صبور باش و مخور غم که عاقبت\nاین شام صبح گردد و این شب سحر شود",
        "بنی آدم اعضای یکدیگرند\nکه در آفرینش ز یک گوهرند",
    ]
    assert all(len(p.segments) == 1 for p in verses)


def test_zwnj_kept_and_repaired():
    manuscript = read(DATA / "zwnj.docx")
    texts = all_text(manuscript)
    expected = f"کتاب{ZWNJ}ها را می{ZWNJ}خواندم و نمی{ZWNJ}خوابیدم."
    assert texts[1] == expected and texts[2] == expected
    assert texts[3] == "خرمشهر را دیدم."
    original = manuscript.chapters[0].paragraphs[2].original
    assert "\u200f" in original and "ـ" in original  # the original text is kept


def test_arabic_letters_normalised_in_persian_not_in_arabic_quotation():
    manuscript = read(DATA / "arabic_yeh_kaf.docx")
    persian, arabic = manuscript.chapters[0].paragraphs
    assert persian.text == "پیرمردی که کنار کارون بود به ما نان داد."
    assert arabic.kind == "quotation" and arabic.lang == "ar"
    assert "علیه" not in arabic.text and "عليه" in arabic.text


def test_table_cells():
    manuscript = read(DATA / "table.docx")
    cells = [p for p in manuscript.chapters[0].paragraphs if p.kind == "table_cell"]
    assert [(p.cell, p.text) for p in cells] == [  # a fourth item, 1: a header row (Word's default look sets the first row apart)
        ([1, 1, 1, 1], "یگان"), ([1, 1, 2, 1], "فرمانده"), ([1, 2, 1], "لشکر ۹۲ زرهی"), ([1, 2, 2], "سرهنگ امینی"),
    ]
    assert manuscript.tables == 1


@pytest.mark.parametrize("look, repeat_row, headers", [
    ('w:firstRow="0" w:val="04A0"', None, set()),  # the attribute wins over Word 2007's bit mask
    ('w:val="0400"', None, set()),  # Word 2007: no first-row bit
    ('w:val="0020"', None, {1}),
    (None, 2, {2}),  # a row repeated on each page ("Repeat as header row")
])
def test_header_rows_come_from_word(tmp_path, look, repeat_row, headers):
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn

    document = docx.Document()
    document.add_paragraph("جدول یگان‌ها در این فصل آمده است.")
    table = document.add_table(rows=3, cols=2)
    for r in range(3):
        for c in range(2):
            table.cell(r, c).text = f"خانهٔ {r} و {c}"
    tbl_look = table._tbl.tblPr.find(qn("w:tblLook"))
    table._tbl.tblPr.remove(tbl_look)
    if look:
        table._tbl.tblPr.append(parse_xml(f'<w:tblLook xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" {look}/>'))
    if repeat_row:
        row = table.rows[repeat_row - 1]._tr
        row.insert(0, parse_xml('<w:trPr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:tblHeader/></w:trPr>'))
    document.save(tmp_path / "t.docx")
    cells = [p.cell for p in read(tmp_path / "t.docx").chapters[0].paragraphs if p.kind == "table_cell"]
    assert len(cells) == 6 and {cell[1] for cell in cells if len(cell) > 3 and cell[3]} == headers


# --- bad input --------------------------------------------------------------


@pytest.mark.parametrize(
    "name, message",
    [
        ("missing.docx", "not found"),
        ("corrupt.docx", "not a Word .docx file"),
        ("truncated.docx", "truncated or damaged"),
        ("encrypted.docx", "password-protected"),
        ("old_format.doc", "old Word 97–2003 .doc"),
        ("empty.docx", "contains no text"),
        ("only_images.docx", "contains no text"),
    ],
)
def test_bad_manuscripts_are_refused_and_nothing_is_written(name, message, project):
    with pytest.raises(ManuscriptError) as caught:
        extract(DATA / name, project, book="bad")
    assert message in str(caught.value)
    assert str(DATA / name) in str(caught.value)  # the message names the file
    assert not (project.outputs / "bad").exists()


def test_old_doc_renamed_docx(tmp_path):
    shutil.copy(DATA / "old_format.doc", tmp_path / "renamed.docx")
    with pytest.raises(ManuscriptError, match="old Word 97–2003"):
        read(tmp_path / "renamed.docx")


def test_zip_bomb_is_refused_before_unpacking(tmp_path, monkeypatch):
    from tarjoman.manuscript import docx as reader

    monkeypatch.setattr(reader, "MAX_PART_BYTES", 1024 * 1024)
    target = tmp_path / "bomb.docx"
    with zipfile.ZipFile(SAMPLE) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("word/media/huge.bin", b"\0" * (4 * 1024 * 1024))
    with pytest.raises(ManuscriptError, match="zip bomb"):
        read(target)


@pytest.mark.parametrize("part", ["word/footnotes.xml", "word/document.xml"])
def test_xml_with_a_dtd_is_refused_and_never_resolved(tmp_path, part):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    target = tmp_path / "xxe.docx"
    with zipfile.ZipFile(DATA / "footnotes.docx") as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == part:
                root = data.index(b"<w:", data.index(b"?>"))
                data = data[:root] + f'<!DOCTYPE x [<!ENTITY x SYSTEM "file://{secret}">]>'.encode() + data[root:]
                data = data.replace("اهواز".encode(), b"&x;", 1)
            dst.writestr(item, data)
    with pytest.raises(ManuscriptError) as caught:
        read(target)
    assert "TOPSECRET" not in str(caught.value)
    assert "DTD" in str(caught.value) or "damaged XML" in str(caught.value)


def test_bad_slug_is_refused(project):
    with pytest.raises(ProjectError, match="not allowed"):
        extract(SAMPLE, project, book="../escape")


# --- the sample memoir ----------------------------------------------------


def test_sample_structure(sample_manuscript):
    summary = sample_manuscript.summary()
    assert summary["chapters"] == 4
    assert summary["chapter_titles"][0] == "فصل اول: شهریور ۱۳۵۹"
    assert summary["footnotes"] == 5
    assert summary["images"] == 1 and summary["captions"] == 1
    assert 75 <= summary["segments"] <= 95
    assert summary["warnings"] == []
    assert summary["title"] == "روزهای کارون"  # from sources/sample.yaml
    assert sample_manuscript.metadata["subtitle"] == "خاطرات حسن کاظمی از خرمشهر و آبادان"
    kinds = summary["kinds"]
    assert kinds["verse"] == 1 and kinds["quotation"] == 1 and kinds["caption"] == 1 and kinds["figure"] == 1
    assert summary["languages"] == {"ar": 1, "fa": summary["segments"] - 1}


def test_sample_image_saved_beside_manifest(sample_manuscript, tmp_path):
    image = sample_manuscript.images[0]
    assert image.caption.startswith("عکس ۱: رضا امینی")
    assert image.alt == "رضا امینی و علی صفری کنار پل خرمشهر"
    assert image.media_type == "image/png"


def test_manifest_round_trip(project):
    manuscript = extract(SAMPLE, project, book="sample")
    path = project.manuscript_path("sample")
    loaded = load_manuscript(path)
    assert loaded == manuscript
    image = project.book_dir("sample") / loaded.images[0].file
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert loaded.provenance["segmenter"] and loaded.provenance["tarjoman"]
    assert loaded.source_sha256 == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()


def test_segment_ids_are_unique(sample_manuscript):
    ids = [s.id for s in sample_manuscript.segments()]
    assert len(ids) == len(set(ids))


def revise(source: Path, target: Path) -> tuple[str, str]:
    """Edit a manuscript as an author would in Word: change one sentence, insert a paragraph."""
    doc = docx.Document(source)
    paragraphs = [p for p in doc.paragraphs if "پدرم رادیو را روشن کرد" in p.text]
    run = paragraphs[0].runs[0]
    run.text = run.text.replace("پدرم رادیو را روشن کرد", "پدرم رادیوی کهنه را روشن کرد")
    anchor = [p for p in doc.paragraphs if p.text.startswith("مقاومت خرمشهر")][0]
    anchor.insert_paragraph_before("این بند تازه در بازنویسی اضافه شد.")
    doc.save(target)
    return "پدرم رادیو را روشن کرد و همه ساکت شدیم.", "پدرم رادیوی کهنه را روشن کرد و همه ساکت شدیم."


def test_segment_ids_survive_a_revision(tmp_path):
    before = read(SAMPLE)
    old_sentence, new_sentence = revise(SAMPLE, tmp_path / "revised.docx")
    after = read(tmp_path / "revised.docx")
    old = {s.text: s.id for s in before.segments()}
    new = {s.text: s.id for s in after.segments()}
    unchanged = set(old) & set(new)
    assert len(unchanged) == len(old) - 1
    assert all(old[t] == new[t] for t in unchanged)
    assert old_sentence not in new and new_sentence in new
    assert "این بند تازه در بازنویسی اضافه شد." in new


def test_repeated_sentences_get_distinct_ids(tmp_path):
    doc = docx.Document()
    doc.add_heading("فصل اول", 1)
    doc.add_paragraph("صبر کردیم. باز صبر کردیم.")
    doc.add_paragraph("صبر کردیم.")
    doc.save(tmp_path / "repeat.docx")
    segments = list(read(tmp_path / "repeat.docx").segments())
    ids = [s.id for s in segments if s.text == "صبر کردیم."]
    assert len(ids) == 2 and ids[1] == ids[0] + "-2"


def test_long_sentences_split_with_join_information(tmp_path):
    clause = "سربازان از کنار رود کارون گذشتند و به سوی شهر خرمشهر رفتند"
    doc = docx.Document()
    doc.add_heading("فصل اول", 1)
    doc.add_paragraph("، ".join([clause] * 30) + ".")
    doc.save(tmp_path / "long.docx")
    from tarjoman.manuscript import BuildOptions

    manuscript = read(tmp_path / "long.docx", options=BuildOptions(max_tokens=80))
    paragraph = manuscript.chapters[0].paragraphs[0]
    parts = paragraph.segments
    assert len(parts) > 3
    assert len({p.split.sentence for p in parts}) == 1
    assert [p.split.index for p in parts] == list(range(len(parts)))
    assert join_parts([(p.text, p.split.joiner) for p in parts]) == paragraph.text


# --- metadata -------------------------------------------------------------


def test_metadata_from_docx_properties(tmp_path):
    doc = docx.Document()
    doc.core_properties.title = "خاطرات"
    doc.core_properties.author = "نویسنده"
    doc.add_paragraph("متن.")
    doc.save(tmp_path / "m.docx")
    assert read(tmp_path / "m.docx").metadata["title"] == "خاطرات"


def test_broken_metadata_yaml_names_file_and_line(project):
    shutil.copy(SAMPLE, project.sources / "sample.docx")
    (project.sources / "sample.yaml").write_text("title: a\nauthor: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProjectError) as caught:
        extract(project.sources / "sample.docx", project, book="sample")
    assert "sample.yaml" in str(caught.value) and "line" in str(caught.value)
    assert not (project.outputs / "sample").exists()


# --- Markdown and plain text ------------------------------------------------


MARKDOWN = """---
title: سفرنامه
author: ناصر
---

# فصل اول

روزی از مرو بیرون شدم[^1]. به نیشابور رسیدم.

> قال النبي إن الله جميل يحب الجمال.

چو ایران نباشد تن من مباد
بدین بوم و بر زنده یک تن مباد

- یک
- دو

![عکس کاروان](caravan.png)

## بخش فرعی

متن بخش.

# فصل دوم

پایان سفر.

[^1]: مرو شهری در خراسان بود.
"""


def test_markdown_reader(tmp_path):
    from docx_builder import png

    (tmp_path / "caravan.png").write_bytes(png(4, 4, lambda x, y: (1, 2, 3)))
    (tmp_path / "book.md").write_text(MARKDOWN, encoding="utf-8")
    manuscript = read(tmp_path / "book.md")
    summary = manuscript.summary()
    assert summary["chapter_titles"] == ["فصل اول", "فصل دوم"]
    assert manuscript.metadata["title"] == "سفرنامه"
    assert summary["footnotes"] == 1 and summary["images"] == 1
    kinds = [p.kind for p in manuscript.chapters[0].paragraphs]
    assert kinds == ["body", "quotation", "verse", "list_item", "list_item", "figure", "caption", "heading", "body"]
    first = manuscript.chapters[0].paragraphs[0].segments[0]
    assert first.text == "روزی از مرو بیرون شدم." and first.notes[0].footnote == "fn1"
    assert manuscript.images[0].caption == "عکس کاروان"
    from tarjoman.manuscript.build import image_descriptions

    assert image_descriptions(manuscript) == {manuscript.images[0].id}  # ![caption](file): the caption describes it


def test_plain_text_with_numbered_parts(tmp_path):
    text = "بخش ۱ - زندگی در مرو\n\nمن در مرو بودم.\n\nبخش ۲ - سفر\n\nبه سفر رفتم.\n"
    (tmp_path / "book.txt").write_text(text, encoding="utf-8-sig")
    summary = read(tmp_path / "book.txt").summary()
    assert summary["chapter_titles"] == ["بخش ۱ - زندگی در مرو", "بخش ۲ - سفر"]


def test_plain_text_in_a_legacy_encoding_is_refused_with_line(tmp_path):
    (tmp_path / "book.txt").write_bytes("سطر اول\n".encode() + "سطر دوم".encode("cp1256"))
    with pytest.raises(ManuscriptError) as caught:
        read(tmp_path / "book.txt")
    assert "line 2" in str(caught.value) and "UTF-8" in str(caught.value)


def test_what_is_not_carried_is_named(tmp_path):
    """Tracked changes, comments and equations are counted in the warnings, never dropped silently."""
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    m = 'xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math"'
    doc = docx.Document()
    doc.add_heading("فصل اول", 1)
    paragraph = doc.add_paragraph("متن ")
    from docx.oxml import parse_xml

    paragraph._p.append(parse_xml(f'<w:ins {w} w:id="1" w:author="a"><w:r><w:t>افزوده</w:t></w:r></w:ins>'))
    paragraph._p.append(parse_xml(f'<w:del {w} w:id="2" w:author="a"><w:r><w:delText>حذف‌شده</w:delText></w:r></w:del>'))
    paragraph._p.append(parse_xml(f'<m:oMath {m}><m:r><m:t>x</m:t></m:r></m:oMath>'))
    doc.save(tmp_path / "changes.docx")
    manuscript = read(tmp_path / "changes.docx")
    assert manuscript.chapters[0].paragraphs[0].text == "متن افزوده"
    warnings = " | ".join(manuscript.warnings)
    assert "1 tracked insertions kept" in warnings
    assert "1 tracked deletions left out" in warnings
    assert "1 equations (OMML) not carried" in warnings
