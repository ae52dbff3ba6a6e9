"""Build real Word files for the sample manuscript and the test fixtures.

python-docx writes the document; footnotes, which python-docx cannot write,
are added as a real ``word/footnotes.xml`` part related to the document, as
Word itself does.
"""

from __future__ import annotations

import struct
import zlib
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from docx.shared import Cm

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


class Note:
    """A footnote to place inside a paragraph: ``builder.paragraph(["text", Note("…"), " more"])``."""

    def __init__(self, text: str):
        self.text = text


class ManuscriptBuilder:
    def __init__(self, *, title: str = "", author: str = "", language: str = "fa-IR"):
        self.document = docx.Document()
        props = self.document.core_properties
        props.title, props.author, props.language = title, author, language
        self.footnotes: list[str] = []

    def style(self, name: str, *, based_on: str = "Normal", outline_level: int | None = None):
        """Add a custom paragraph style (``outline_level`` 0 makes Word treat it as a level-1 heading)."""
        from docx.enum.style import WD_STYLE_TYPE

        style = self.document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = self.document.styles[based_on]
        if outline_level is not None:
            ppr = style.element.get_or_add_pPr()
            ppr.append(parse_xml(f'<w:outlineLvl xmlns:w="{W_NS}" w:val="{outline_level}"/>'))
        return style

    def heading(self, text: str, level: int = 1):
        return self._rtl(self.document.add_heading(text, level))

    def paragraph(self, parts: str | list, *, style: str | None = None, bold: bool = False, center: bool = False):
        paragraph = self.document.add_paragraph(style=style)
        for part in [parts] if isinstance(parts, str) else parts:
            if isinstance(part, Note):
                self._note_reference(paragraph, part.text)
            else:
                run = paragraph.add_run(part)
                run.bold = bold or None
        if center:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        return self._rtl(paragraph)

    def verse(self, first: str, second: str, *, style: str | None = None):
        """A couplet laid out as Persian typists do: two hemistichs separated by a tab, centred."""
        paragraph = self.document.add_paragraph(style=style)
        paragraph.add_run(first)
        paragraph.add_run().add_tab()
        paragraph.add_run(second)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        return self._rtl(paragraph)

    def picture(self, png: bytes, *, width_cm: float = 10, alt: str = ""):
        self.document.add_picture(BytesIO(png), width=Cm(width_cm))
        paragraph = self.document.paragraphs[-1]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if alt:
            for doc_pr in paragraph._p.iter(qn("wp:docPr")):
                doc_pr.set("descr", alt)
        return paragraph

    def table(self, rows: list[list[str]]):
        table = self.document.add_table(rows=len(rows), cols=len(rows[0]))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.cell(r, c).text = text
        return table

    def page_break(self):
        self.document.add_page_break()

    def save(self, path: Path) -> None:
        if self.footnotes:
            self._add_footnotes_part()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.document.save(str(path))

    # --- internals ---------------------------------------------------------

    def _rtl(self, paragraph):
        ppr = paragraph._p.get_or_add_pPr()
        ppr.insert(0, parse_xml(f'<w:bidi xmlns:w="{W_NS}"/>'))
        for run in paragraph.runs:
            run._r.get_or_add_rPr().append(parse_xml(f'<w:rtl xmlns:w="{W_NS}"/>'))
        return paragraph

    def _note_reference(self, paragraph, text: str) -> None:
        self.footnotes.append(text)
        number = len(self.footnotes)
        run = paragraph.add_run()
        run._r.append(parse_xml(
            f'<w:rPr xmlns:w="{W_NS}"><w:vertAlign w:val="superscript"/></w:rPr>'
        ))
        run._r.append(parse_xml(f'<w:footnoteReference xmlns:w="{W_NS}" w:id="{number}"/>'))

    def _add_footnotes_part(self) -> None:
        notes = [
            '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>',
            '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>',
        ]
        for number, text in enumerate(self.footnotes, start=1):
            notes.append(
                f'<w:footnote w:id="{number}"><w:p><w:pPr><w:bidi/></w:pPr>'
                f'<w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr><w:footnoteRef/></w:r>'
                f'<w:r><w:t xml:space="preserve"> {escape(text)}</w:t></w:r></w:p></w:footnote>'
            )
        xml = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:footnotes xmlns:w="{W_NS}">{"".join(notes)}</w:footnotes>'
        part = Part(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, xml.encode("utf-8"), self.document.part.package)
        self.document.part.relate_to(part, RT.FOOTNOTES)


def png(width: int, height: int, pixel) -> bytes:
    """A real PNG image (8-bit RGB) drawn by ``pixel(x, y) -> (r, g, b)``."""
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
