"""Write the tiny Word files in tests/data/, one per edge case of the manuscript reader.

    python tests/data/make_fixtures.py

The encrypted fixture needs ``msoffcrypto-tool`` and the old-format .doc needs
LibreOffice (``soffice``); when either is missing the existing file is kept.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from docx_builder import ManuscriptBuilder, Note, png  # noqa: E402
from docx.oxml import parse_xml  # noqa: E402

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def custom_chapter_style() -> ManuscriptBuilder:
    # The style name is typed with an Arabic kaf (ك): it must still read as «فصل کتاب».
    b = ManuscriptBuilder(title="سبک فصل")
    b.style("فصل كتاب")
    b.paragraph("مقدمهٔ کوتاهی پیش از فصل‌ها.")
    b.paragraph("آغاز راه", style="فصل كتاب")
    b.paragraph("جملهٔ اول فصل اول است. جملهٔ دوم هم هست.")
    b.paragraph("پایان راه", style="فصل كتاب")
    b.paragraph("این فصل دوم است.")
    return b


def outline_level_style() -> ManuscriptBuilder:
    b = ManuscriptBuilder()
    b.style("سرعنوان", outline_level=0)
    b.paragraph("یک", style="سرعنوان")
    b.paragraph("متن بخش یک.")
    b.paragraph("دو", style="سرعنوان")
    b.paragraph("متن بخش دو.")
    b.paragraph("سه", style="سرعنوان")
    b.paragraph("متن بخش سه.")
    return b


def plain_chapter_lines() -> ManuscriptBuilder:
    b = ManuscriptBuilder()
    b.paragraph("فصل اول", bold=True, center=True)
    b.paragraph("در فصل دوم کتاب از این روزها خواهم گفت. این جمله در متن است و فصل نیست.")
    b.paragraph("فصل ۲", bold=True, center=True)
    b.paragraph("متن فصل دوم.")
    b.paragraph("«فصل سوم»", bold=True, center=True)
    b.paragraph("متن فصل سوم.")
    return b


def story_lines() -> ManuscriptBuilder:
    b = ManuscriptBuilder()
    b.paragraph("داستان اول: مادر")
    b.paragraph("مادرم هر روز نان می‌پخت.")
    b.paragraph("داستان دوم: پدر")
    b.paragraph("پدرم در بندر کار می‌کرد.")
    return b


def series_lines() -> ManuscriptBuilder:
    # As in a real novel-memoir: no styles, chapter lines padded with spaces.
    b = ManuscriptBuilder()
    b.paragraph("به نام خدا")
    b.paragraph("           «   اولین زندگی   ۴۰۰ سال پیش     ایران»")
    b.paragraph("روز اول")
    b.paragraph("در آن زندگی پسر دوم والی بودم.")
    b.paragraph("      زندگی دوم            سال ۱۷۱۰.م          آفریقا")
    b.paragraph("به این ترتیب زندگی دوم من آغاز شد.")
    b.paragraph("  زندگی سوم              سال ۱۳۴۵ شمسی")
    b.paragraph("و این آخرین بود.")
    return b


def footnotes() -> ManuscriptBuilder:
    b = ManuscriptBuilder()
    b.heading("فصل اول", 1)
    b.paragraph(["در سال ۱۳۵۹ به اهواز رفتیم.", Note("اهواز مرکز خوزستان است."), " آنجا ماندیم."])
    b.paragraph(["سردار نادری", Note("فرمانده سپاه خرمشهر."), " با ما آمد."])
    return b


def verse() -> ManuscriptBuilder:
    b = ManuscriptBuilder()
    b.style("شعر")
    b.heading("فصل اول", 1)
    b.paragraph("رضا این بیت را می‌خواند:")
    b.verse("ای دل صبور باش و مخور غم که عاقبت", "این شام صبح گردد و این شب سحر شود")
    p = b.paragraph("بنی آدم اعضای یکدیگرند", style="شعر")
    run = p.add_run()
    run.add_break()
    p.add_run("که در آفرینش ز یک گوهرند")
    return b


def zwnj() -> ManuscriptBuilder:
    b = ManuscriptBuilder()
    b.heading("فصل اول", 1)
    b.paragraph("کتاب‌ها را می‌خواندم و نمی‌خوابیدم.")
    b.paragraph("کتاب ها را می خواندم و نمی خوابیدم.")
    b.paragraph("\u200fخـــــرمشهر\u200e  را   دیدم .")
    return b


def arabic_yeh_kaf() -> ManuscriptBuilder:
    b = ManuscriptBuilder()
    b.heading("فصل اول", 1)
    b.paragraph("پيرمردي كه كنار كارون بود به ما نان داد.")
    b.paragraph("قال رسول الله صلى الله عليه وآله: إنما الأعمال بالنيات.")
    return b


def table() -> ManuscriptBuilder:
    b = ManuscriptBuilder()
    b.heading("فصل اول", 1)
    b.paragraph("فهرست یگان‌ها در جدول زیر است.")
    b.table([["یگان", "فرمانده"], ["لشکر ۹۲ زرهی", "سرهنگ امینی"]])
    return b


def static_toc() -> ManuscriptBuilder:
    b = ManuscriptBuilder()
    b.paragraph("فهرست مطالب")
    b.paragraph("فصل اول: آغاز ........ ۵")
    b.paragraph("فصل دوم: پایان ........ ۱۲")
    b.heading("فصل اول: آغاز", 1)
    b.paragraph("متن فصل اول.")
    b.heading("فصل دوم: پایان", 1)
    b.paragraph("متن فصل دوم.")
    return b


def field_toc() -> ManuscriptBuilder:
    """A table of contents as Word inserts it: a TOC field whose result spans two paragraphs."""
    b = ManuscriptBuilder()

    def run(inner: str):
        return parse_xml(f'<w:r xmlns:w="{W_NS}">{inner}</w:r>')

    first = b.paragraph("")
    first._p.append(run('<w:fldChar w:fldCharType="begin"/>'))
    first._p.append(run('<w:instrText xml:space="preserve"> TOC \\o "1-3" \\h \\z \\u </w:instrText>'))
    first._p.append(run('<w:fldChar w:fldCharType="separate"/>'))
    first._p.append(run("<w:t>فصل اول</w:t><w:tab/><w:t>1</w:t>"))
    second = b.paragraph("فصل دوم")
    second._p.append(run("<w:tab/><w:t>2</w:t>"))
    second._p.append(run('<w:fldChar w:fldCharType="end"/>'))
    b.heading("فصل اول", 1)
    b.paragraph("متن اول.")
    b.heading("فصل دوم", 1)
    b.paragraph("متن دوم.")
    return b


def empty() -> ManuscriptBuilder:
    return ManuscriptBuilder()


def only_images() -> ManuscriptBuilder:
    b = ManuscriptBuilder()
    b.picture(png(8, 8, lambda x, y: (x * 30, y * 30, 100)))
    return b


BUILDERS = {
    "custom_chapter_style": custom_chapter_style,
    "outline_level_style": outline_level_style,
    "plain_chapter_lines": plain_chapter_lines,
    "story_lines": story_lines,
    "series_lines": series_lines,
    "footnotes": footnotes,
    "verse": verse,
    "zwnj": zwnj,
    "arabic_yeh_kaf": arabic_yeh_kaf,
    "table": table,
    "static_toc": static_toc,
    "field_toc": field_toc,
    "empty": empty,
    "only_images": only_images,
}


def write_corrupt(folder: Path) -> None:
    (folder / "corrupt.docx").write_bytes(b"PK\x03\x04 this is not really a zip archive \x00\x01\x02" * 4)
    buffer = io.BytesIO()
    ManuscriptBuilder().document.save(buffer)
    (folder / "truncated.docx").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])


def write_encrypted(folder: Path) -> None:
    try:
        import msoffcrypto
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError:
        print("msoffcrypto-tool not installed: keeping encrypted.docx as it is")
        return
    plain = io.BytesIO()
    footnotes().document.save(plain)
    plain.seek(0)
    out = io.BytesIO()
    OOXMLFile(plain).encrypt("tarjoman", out)
    (folder / "encrypted.docx").write_bytes(out.getvalue())
    assert msoffcrypto.OfficeFile(io.BytesIO(out.getvalue())).is_encrypted()


def write_old_doc(folder: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        print("LibreOffice not installed: keeping old_format.doc as it is")
        return
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "old_format.docx"
        footnotes().save(source)
        subprocess.run([soffice, "--headless", "--convert-to", "doc", "--outdir", tmp, str(source)], check=True, capture_output=True)
        shutil.copy(Path(tmp) / "old_format.doc", folder / "old_format.doc")


def main() -> None:
    for name, build in BUILDERS.items():
        build().save(HERE / f"{name}.docx")
    write_corrupt(HERE)
    write_encrypted(HERE)
    write_old_doc(HERE)
    with zipfile.ZipFile(HERE / "footnotes.docx") as archive:
        assert "word/footnotes.xml" in archive.namelist()
    print(f"wrote fixtures to {HERE}")


if __name__ == "__main__":
    main()
