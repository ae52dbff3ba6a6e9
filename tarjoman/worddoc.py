"""Word manuscripts from editions (the only module that writes .docx: python-docx, plus the
WordprocessingML it has no API for).

A copy-editor's manuscript, not a print layout: the book's structure is carried in Word's own
styles, so Word's Navigation pane and LibreOffice's Navigator list the chapters and Find can
select by style. The title page is set in Title and Subtitle, each chapter's title in Heading 1
(which starts a new page), sub-headings in Heading 2–9, verse in a centred "Verse" style with a
line break between hemistichs, quotations in Quote, captions in Caption under their picture, list
items in List Bullet. Tables are Word tables whose header rows repeat on every page. Pictures
stand in line, no wider than the text (or their table column), described by their alternative text
as in the EPUB. Footnotes are Word's own: a ``word/footnotes.xml`` part (python-docx cannot write
one) whose notes Word numbers itself, in the digits its own settings choose, so a copy-editor can
add, move and delete notes as in any manuscript.

Direction and language are marked the way Word marks them as one types. Each right-to-left
paragraph (every one in an Arabic or Urdu book; in a Latin book, the Persian of a bilingual
edition or an Arabic verse) has ``w:bidi``, and its right-to-left runs have ``w:rtl``. In an
Arabic or Urdu book the section has ``w:bidi`` too (pages and footnotes run right to left), and
tables have ``w:bidiVisual`` (the first column is on the right). A Latin name inside Arabic text,
or Arabic inside Latin text, is a run of its own in its own direction: Word applies complex-script
fonts to every character of a ``w:rtl`` run, so a Latin word left in one would be set in Naskh.
:mod:`tarjoman.epub` isolates the same runs with ``<bdi>``.

Every run carries ``w:lang`` so that Word checks it with the right dictionary: ``w:val`` for Latin
text and ``w:bidi`` for Arabic script. The locales are the ones Word's proofing tools are
installed under: en-GB, fr-FR, ar-SA (Modern Standard Arabic, also what Word writes for Arabic by
default), ur-PK and fa-IR. Fonts are Noto Naskh Arabic for Arabic and Persian, and Noto Nastaliq
Urdu for Urdu, which are the faces the EPUB embeds; Latin text is in Times New Roman, which comes
with every copy of Word and which LibreOffice replaces with the metric-compatible Liberation
Serif. The fonts are named, not embedded, so a machine without Noto shows a substitute face.

A draft edition says so on its title page, and in the document's properties (status "Draft").
The properties' comments carry the edition's signature.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.image.exceptions import UnrecognizedImageError
from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
from docx.opc.packuri import PackURI
from docx.opc.part import XmlPart
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Cm, Emu

from . import typefaces
from .edition import Block, Edition, EditionChapter, Note, edition_text
from .errors import EpubError, os_error_message
from .files import temporary_beside
from .languages import language
from .text import detect_language

LOCALES = {"ar": "ar-SA", "ur": "ur-PK", "fa": "fa-IR", "en": "en-GB", "fr": "fr-FR"}


@functools.lru_cache(maxsize=256)
def _locale(lang: str) -> str:
    """Word's w:lang wants language-REGION: the house's for the first languages, CLDR's likeliest region for the rest (hi-IN, zh-CN)."""
    if lang in LOCALES:
        return LOCALES[lang]
    import langcodes

    tag = langcodes.Language.get(lang).maximize()
    return f"{tag.language}-{tag.territory}" if tag.territory else tag.language
LATIN_FONT = "Times New Roman"
NASKH, NASTALIQ = "Noto Naskh Arabic", "Noto Nastaliq Urdu"
SCRIPT_FONTS = {"ar": NASKH, "fa": NASKH, "ur": NASTALIQ}
# Arabic script looks a size smaller than a Latin serif of the same point size, Nastaliq smaller
# still; complex-script sizes (w:szCs) are the Latin ones scaled by these factors.
CS_SCALE = {NASKH: 14 / 12, NASTALIQ: 15 / 12}
SOURCE_COLOUR = "595959"  # the Persian of a bilingual edition, set back as the EPUB sets it in grey
DRAFT_COLOUR = "AA0000"

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# The WordprocessingML children that follow w:bidi in a paragraph's w:pPr, and w:bidiVisual in
# a table's w:tblPr and w:bidi in w:sectPr (the schemas fix their order; Word refuses others).
_AFTER_BIDI = (
    "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap",
    "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr",
    "w:sectPr", "w:pPrChange",
)
_AFTER_BIDI_VISUAL = (
    "w:tblStyleRowBandSize", "w:tblStyleColBandSize", "w:tblW", "w:jc", "w:tblCellSpacing", "w:tblInd", "w:tblBorders",
    "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription",
)
_AFTER_SECT_BIDI = ("w:rtlGutter", "w:docGrid", "w:printerSettings", "w:sectPrChange")
_AFTER_FOOTNOTE_PR = (
    "w:endnotePr", "w:compat", "w:docVars", "w:rsids", "w:themeFontLang", "w:clrSchemeMapping",
    "w:doNotAutoCompressPictures", "w:shapeDefaults", "w:decimalSymbol", "w:listSeparator",
)

# The styles python-docx's template lacks; Word knows the footnote ones by these names.
_STYLES = f"""<w:styles xmlns:w="{W_NS}">
<w:style w:type="paragraph" w:customStyle="1" w:styleId="Verse">
  <w:name w:val="Verse"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/>
  <w:pPr><w:keepLines/><w:spacing w:before="120" w:after="240"/><w:jc w:val="center"/></w:pPr>
</w:style>
<w:style w:type="paragraph" w:styleId="FootnoteText">
  <w:name w:val="footnote text"/><w:basedOn w:val="Normal"/><w:link w:val="FootnoteTextChar"/>
  <w:uiPriority w:val="99"/><w:unhideWhenUsed/>
  <w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>
  <w:rPr><w:sz w:val="20"/><w:szCs w:val="20"/></w:rPr>
</w:style>
<w:style w:type="character" w:customStyle="1" w:styleId="FootnoteTextChar">
  <w:name w:val="Footnote Text Char"/><w:basedOn w:val="DefaultParagraphFont"/><w:link w:val="FootnoteText"/>
  <w:uiPriority w:val="99"/><w:rPr><w:sz w:val="20"/><w:szCs w:val="20"/></w:rPr>
</w:style>
<w:style w:type="character" w:styleId="FootnoteReference">
  <w:name w:val="footnote reference"/><w:basedOn w:val="DefaultParagraphFont"/>
  <w:uiPriority w:val="99"/><w:unhideWhenUsed/><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>
</w:style>
</w:styles>"""

# Word's own first two footnotes: the line above the notes, and the one above notes carried over.
_SEPARATORS = f"""<w:footnotes xmlns:w="{W_NS}">
<w:footnote w:type="separator" w:id="-1">
  <w:p><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr><w:r><w:separator/></w:r></w:p>
</w:footnote>
<w:footnote w:type="continuationSeparator" w:id="0">
  <w:p><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr><w:r><w:continuationSeparator/></w:r></w:p>
</w:footnote>
</w:footnotes>"""


def render_docx(edition: Edition, target: Path) -> Path:
    """Write the edition to ``target`` as a Word document, atomically: a half-written file is never
    left there, and what was there stays until the new one is complete."""
    target = Path(target)
    try:
        document = _Writer(edition, target).document()
        with temporary_beside(target) as tmp:
            document.save(str(tmp))
    except EpubError:
        raise
    except OSError as exc:  # the system refused (disk full, read-only): what it said, and what to do
        message = os_error_message(exc)
        raise EpubError(message.removeprefix(f"{target}: "), path=target) from exc
    except Exception as exc:
        raise EpubError(f"cannot be written ({type(exc).__name__}: {exc})", path=target) from exc
    return target


def _element(tag: str, **attributes: str):
    """A WordprocessingML element ``w:tag`` with ``w:``-prefixed attributes."""
    element = OxmlElement(tag)
    for name, value in attributes.items():
        element.set(qn(f"w:{name}"), str(value))
    return element


def _direction_spans(text: str, rtl: bool) -> list[tuple[str, bool]]:
    """``text`` cut where its direction changes: (span, right to left). Letters decide (their Unicode
    bidi class: R and AL right to left, L left to right); spaces, digits and punctuation go with
    the letters on both sides of them when those agree, and with the paragraph otherwise."""
    strong: list[bool | None] = []
    for char in text:
        kind = unicodedata.bidirectional(char)
        strong.append(True if kind in ("R", "AL") else False if kind == "L" else None)
    resolved = list(strong)
    i = 0
    while i < len(text):
        if strong[i] is not None:
            i += 1
            continue
        j = i
        while j < len(text) and strong[j] is None:
            j += 1
        before = strong[i - 1] if i > 0 else rtl
        after = strong[j] if j < len(text) else rtl
        resolved[i:j] = [before if before == after else rtl] * (j - i)
        i = j
    spans, start = [], 0
    for end in range(1, len(text) + 1):
        if end == len(text) or resolved[end] != resolved[start]:
            spans.append((text[start:end], bool(resolved[start])))
            start = end
    return spans


class _Writer:
    def __init__(self, edition: Edition, target: Path):
        self.edition = edition
        self.target = target
        self.lang = edition.lang
        self.rtl = language(edition.lang).rtl
        # Latin text in an Arabic or Urdu book (names, terms) is taken for English.
        self.latin = edition.lang if not self.rtl else "en"
        self.doc = docx.Document()
        self.images = {image.id: image for image in edition.images}
        self.note_numbers = {note.id: note.number for chapter in edition.chapters for note in chapter.notes}
        self.referenced: set[str] = set()  # notes whose reference is placed: Word numbers each once
        self.descriptions: dict[str, str] = {}  # image ID → its alternative text, chapter by chapter
        # Word sets Chinese and Japanese in the eastAsia font, Devanagari and other complex scripts in
        # the cs one: the fonts found for the book's text (a script no font covers is refused here too).
        faces = typefaces.faces_for(edition_text(edition), edition.lang, what=f"the {edition.lang} Word edition")
        self.east_asia = faces["Hani"].family if "Hani" in faces else LATIN_FONT
        main = typefaces.script_of_language(language(edition.lang).script)
        self.complex = faces[main].family if main in faces and main not in ("Arab", "Hani", "Cyrl", "Grek") else None

    # --- the document ---------------------------------------------------------

    def document(self):
        self._styles()
        self._section()
        self._properties()
        self._title_page()
        for chapter in self.edition.chapters:
            self._chapter(chapter)
        self._footnotes()
        return self.doc

    def _properties(self) -> None:
        meta, props = self.edition.metadata, self.doc.core_properties
        now = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)
        description = self.edition.signature
        if self.edition.draft:
            description = f"DRAFT edition: machine translation not yet approved by translators. {description}"
        props.title = meta["title"]
        props.subject = meta["subtitle"]
        props.author = meta["author"]
        props.language = self.lang
        props.comments = description
        props.identifier = meta["identifier"]
        props.content_status = "Draft" if self.edition.draft else "Final"
        props.keywords = props.category = ""
        props.last_modified_by = "Tarjoman"
        props.created = props.modified = now
        props.revision = 1
        # python-docx's template carries a preview picture of another document: left out.
        package_rels = self.doc.part.package.rels
        for rid in [rid for rid, rel in package_rels.items() if rel.reltype == RELATIONSHIP_TYPE.THUMBNAIL]:
            package_rels.pop(rid)

    def _styles(self) -> None:
        """The styles the template lacks (Verse, footnote text, footnote reference), the book's
        fonts, sizes and languages as the defaults, and a few corrections to the template."""
        styles = self.doc.styles.element
        for style in parse_xml(_STYLES):
            styles.append(style)
        self._defaults(styles)
        get = self.doc.styles.__getitem__
        get("Heading 1").paragraph_format.page_break_before = True
        for name in ("Title", "Subtitle", "Caption"):
            get(name).paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        # The template's Subtitle is a list level (numPr without a list), which Word and readers take for a list item.
        for stray in get("Subtitle").element.iter(qn("w:numPr")):
            stray.getparent().remove(stray)
        for italic in list(styles.iter(qn("w:iCs"))):  # Arabic script has no italics (Latin text keeps w:i)
            italic.getparent().remove(italic)
        quote = get("Quote")
        quote.paragraph_format.left_indent = quote.paragraph_format.right_indent = Cm(1.25)
        settings = self.doc.settings.element
        footnote_pr = f'<w:footnotePr xmlns:w="{W_NS}"><w:footnote w:id="-1"/><w:footnote w:id="0"/></w:footnotePr>'
        settings.insert_element_before(parse_xml(footnote_pr), *_AFTER_FOOTNOTE_PR)
        theme_lang = settings.find(qn("w:themeFontLang"))
        if theme_lang is not None:
            theme_lang.set(qn("w:bidi"), _locale(self.lang if self.rtl else "fa"))

    def _defaults(self, styles) -> None:
        """Fonts, sizes and languages for the book's language in docDefaults and Normal; the
        template's theme fonts removed (a theme font wins over a named one); every style's
        complex-script size scaled from its Latin one."""
        cs_font = self.complex or SCRIPT_FONTS.get(self.lang, NASKH)  # a Latin book quotes Arabic and Persian in Naskh
        scale = CS_SCALE.get(cs_font, 1.0)
        for fonts in styles.iter(qn("w:rFonts")):
            for name in [n for n in fonts.attrib if n.endswith(("Theme", "theme"))]:
                del fonts.attrib[name]
        defaults = styles.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}")
        normal = self.doc.styles["Normal"].element
        normal.append(_element("w:rPr"))
        for rpr in (defaults, normal.find(qn("w:rPr"))):
            for child in list(rpr):
                rpr.remove(child)
            rpr.append(_element("w:rFonts", ascii=LATIN_FONT, hAnsi=LATIN_FONT, eastAsia=self.east_asia, cs=cs_font))
            rpr.append(_element("w:sz", val="24"))
            rpr.append(_element("w:szCs", val=str(round(24 * scale))))
            rpr.append(_element("w:lang", val=_locale(self.latin), bidi=_locale(self.lang if self.rtl else "fa")))
        for style in styles.iterchildren(qn("w:style")):
            if style.get(qn("w:styleId")) == "Normal":
                continue
            size, cs_size = style.find(f"{qn('w:rPr')}/{qn('w:sz')}"), style.find(f"{qn('w:rPr')}/{qn('w:szCs')}")
            if size is not None and cs_size is not None:
                cs_size.set(qn("w:val"), str(round(int(size.get(qn("w:val"))) * scale)))

    def _section(self) -> None:
        """A4 with 2.5 cm margins, page numbers in the footer, and right to left in an Arabic or Urdu book."""
        section = self.doc.sections[0]
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Cm(2.5)
        if self.rtl:
            section._sectPr.insert_element_before(_element("w:bidi"), *_AFTER_SECT_BIDI)
        footer = section.footer.paragraphs[0]
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self._direction(footer._p, self.lang)
        field = _element("w:fldSimple", instr="PAGE")
        field.append(self._run(self.lang, self.rtl, text="1"))
        footer._p.append(field)
        self.text_width = section.page_width - section.left_margin - section.right_margin

    # --- paragraphs and runs --------------------------------------------------------

    def _direction(self, p, lang: str) -> None:
        """Mark the paragraph ``p`` right to left when ``lang`` is written so."""
        if language(lang).rtl:
            p.get_or_add_pPr().insert_element_before(_element("w:bidi"), *_AFTER_BIDI)

    def _run(self, lang: str, rtl: bool, *, text: str = "", style: str | None = None, bold: bool = False,
             colour: str | None = None):
        """A run of ``text`` in ``lang`` with its fonts and direction; "\\n" is a line break and
        "\\t" a tab."""
        r = _element("w:r")
        rpr = _element("w:rPr")
        if style:
            rpr.append(_element("w:rStyle", val=style))
        cs = SCRIPT_FONTS.get(lang, NASKH) if rtl else (self.complex or SCRIPT_FONTS.get(self.lang, NASKH))
        rpr.append(_element("w:rFonts", ascii=LATIN_FONT, hAnsi=LATIN_FONT, eastAsia=self.east_asia, cs=cs))
        if bold:
            rpr.append(_element("w:b"))
            rpr.append(_element("w:bCs"))
        if colour:
            rpr.append(_element("w:color", val=colour))
        if rtl:
            rpr.append(_element("w:rtl"))
        rpr.append(_element("w:lang", **({"bidi": _locale(lang)} if rtl else {"val": _locale(lang), **({"eastAsia": _locale(lang)} if self.east_asia != LATIN_FONT else {})})))
        r.append(rpr)
        for n, line in enumerate(_XML_ILLEGAL.sub("", text).split("\n")):
            if n:
                r.append(_element("w:br"))
            for m, piece in enumerate(line.split("\t")):
                if m:
                    r.append(_element("w:tab"))
                if piece:
                    t = _element("w:t")
                    t.text = piece
                    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
                    r.append(t)
        return r

    def _text(self, p, text: str, lang: str, **formatting) -> None:
        """``text`` into paragraph ``p`` (whose language is ``lang``), one run per direction."""
        rtl = language(lang).rtl
        for span, span_rtl in _direction_spans(text, rtl):
            if span_rtl == rtl:
                span_lang = lang
            elif span_rtl:  # Arabic script in a Latin paragraph: which language, the letters tell
                span_lang = detect_language(span, default="fa") or "fa"
            else:
                span_lang = self.latin
            p.append(self._run(span_lang, span_rtl, text=span, **formatting))

    def _inline(self, p, block: Block, *, notes: bool = True, **formatting) -> None:
        """The block's text into paragraph ``p``, with a footnote reference at each note's offset."""
        last = 0
        for offset, note in sorted(block.notes) if notes else []:
            number = self.note_numbers.get(note)
            if number is None or note in self.referenced:
                continue  # a note the edition does not hold, or one already referenced: Word numbers each once
            offset = min(max(offset, last), len(block.text))
            self._text(p, block.text[last:offset], block.lang, **formatting)
            self._reference(p, note, block.lang)
            last = offset
        self._text(p, block.text[last:], block.lang, **formatting)

    def _reference(self, p, note: str, lang: str) -> None:
        run = self._run(lang, language(lang).rtl, style="FootnoteReference")
        run.append(_element("w:footnoteReference", id=str(self.note_numbers[note])))
        p.append(run)
        self.referenced.add(note)

    def _paragraph(self, container, block: Block, style: str | None, **formatting):
        paragraph = container.add_paragraph(style=style)
        self._direction(paragraph._p, block.lang)
        self._inline(paragraph._p, block, **formatting)
        return paragraph

    # --- the book ---------------------------------------------------------------

    def _title_page(self) -> None:
        meta, words = self.edition.metadata, self.edition.metadata["words"]
        lines = [("Title", meta["title"], {}), ("Subtitle", meta["subtitle"], {}), (None, meta["author"], {})]
        if meta["translators"]:
            lines.append((None, f"{words['translated']} {', '.join(meta['translators'])}", {}))
        lines.append((None, meta["publisher"], {}))
        if self.edition.draft:
            lines.append((None, words["draft"], {"bold": True, "colour": DRAFT_COLOUR}))
        for style, text, formatting in lines:
            if text:
                paragraph = self._paragraph(self.doc, Block("body", text, "", self.lang), style, **formatting)
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER

    def _chapter(self, chapter: EditionChapter) -> None:
        self.descriptions = self._descriptions(chapter)
        if chapter.title:
            self._paragraph(self.doc, chapter.title, "Heading 1")
        blocks = chapter.blocks
        i = 0
        while i < len(blocks):
            block = blocks[i]
            if block.cell:  # a table: every block that follows in the same table, whatever its kind
                j = i
                while j < len(blocks) and blocks[j].cell and blocks[j].cell[0] == block.cell[0]:
                    j += 1
                self._table(blocks[i:j])
                i = j
                continue
            i += 1
            if chapter.kind == "front" and block.kind == "heading" and block.level == 0:
                continue  # the manuscript's title line: the title page carries it
            if block.kind == "alt":
                continue  # an image's description: the picture's alternative text
            following = next((b for b in blocks[i:] if b.kind != "alt"), None)
            self._block(self.doc, block, captioned=following is not None and following.kind == "caption")
        # A note whose reference is in no text shown (an image's description) is kept, at the chapter's end.
        unreferenced = [note for note in chapter.notes if note.id not in self.referenced]
        if unreferenced:
            paragraph = self.doc.add_paragraph()
            self._direction(paragraph._p, self.lang)
            for note in unreferenced:
                self._reference(paragraph._p, note.id, self.lang)

    def _descriptions(self, chapter: EditionChapter) -> dict[str, str]:
        """Image ID → alternative text: its description in the book's language, or else its
        translated caption (never the manuscript's Persian), as the EPUB does."""
        found: dict[str, str] = {}
        for i, block in enumerate(chapter.blocks):
            if block.kind == "alt" and block.text.strip():
                found.update({image_id: block.text for image_id in block.images})
            if block.kind == "caption" and block.lang == self.lang:
                figure = i - 1
                while figure >= 0 and chapter.blocks[figure].kind == "alt":
                    figure -= 1
                if figure >= 0 and chapter.blocks[figure].kind == "figure":
                    for image_id in chapter.blocks[figure].images:
                        found.setdefault(image_id, block.text)
        return found

    def _block(self, container, block: Block, *, width: int | None = None, captioned: bool = False,
               bold: bool = False) -> None:
        """One block where it stands (``width``: the most a picture in it may take); in a bilingual
        edition, its Persian first (not for figures and captions, as in the EPUB)."""
        if block.kind == "figure":
            self._figure(container, block, width, captioned)
            return
        style = {"heading": f"Heading {min(9, max(2, block.level or 2))}", "verse": "Verse", "quotation": "Quote",
                 "caption": "Caption", "list_item": "List Bullet"}.get(block.kind)
        if block.cell:
            style = "Caption" if block.kind == "caption" else None
        if self.edition.bilingual and block.kind != "caption" and block.source.strip():
            source = Block(block.kind, block.source, block.source, "fa", block.level)
            pair = self._paragraph(container, source, style, notes=False, bold=bold, colour=SOURCE_COLOUR)
            pair.paragraph_format.keep_with_next = True  # the Persian and its translation on one page
        self._paragraph(container, block, style, bold=bold)
        if block.images:  # a picture inside a paragraph of text: placed after the text
            self._figure(container, block, width, False)

    def _figure(self, container, block: Block, width: int | None, captioned: bool) -> None:
        for image_id in block.images:
            paragraph = container.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            paragraph.paragraph_format.keep_with_next = captioned
            self._direction(paragraph._p, self.lang)
            self._picture(paragraph, image_id, width or self.text_width)

    def _picture(self, paragraph, image_id: str, width: int) -> None:
        image = self.images.get(image_id)
        if image is None:
            return  # the EPUB skips an image the edition does not hold; so does the manuscript
        path = self.edition.image_folder / image.file
        if not path.is_file():
            raise EpubError(f"the image {image.file} is missing from {self.edition.image_folder}; extract the book again "
                            f"(tarjoman extract) to restore it", path=self.target)
        run = paragraph.add_run()
        try:
            shape = run.add_picture(str(path))
        except UnrecognizedImageError:
            # python-docx places BMP, GIF, JPEG, PNG and TIFF; any other picture (EMF, SVG, WebP) is
            # named where it stands, for the copy-editor to insert from the book's images folder.
            paragraph._p.remove(run._r)
            note = f"[{image.file} ({image.media_type}): insert this image by hand]"
            paragraph._p.append(self._run("en", False, text=note, bold=True))
            return
        if shape.width > width:
            shape.height, shape.width = Emu(round(shape.height * width / shape.width)), Emu(width)
        for pr in run._r.iter(qn("wp:docPr")):
            pr.set("name", Path(image.file).name)
            pr.set("descr", self.descriptions.get(image_id, ""))
        run._r.insert(0, self._run(self.lang, self.rtl).find(qn("w:rPr")))

    def _table(self, cells: list[Block]) -> None:
        """One manuscript table, laid out by ``cell`` = [table, row, column(, header)]; its leading
        header rows repeat on each page (``w:tblHeader``) and are set in bold, as the EPUB makes them th."""
        grid: dict[tuple[int, int], list[Block]] = {}
        headers = set()
        for block in cells:
            grid.setdefault((block.cell[1], block.cell[2]), []).append(block)
            if len(block.cell) > 3 and block.cell[3]:
                headers.add(block.cell[1])
        rows = max(row for row, _ in grid)
        columns = max(column for _, column in grid)
        head = set()
        for row in range(1, rows + 1):
            if row not in headers:
                break
            head.add(row)
        if len(head) == rows:
            head = set()  # header cells with nothing under them would head nothing
        table = self.doc.add_table(rows=rows, cols=columns)
        table.style = self.doc.styles["Table Grid"]
        tbl_pr = table._tbl.tblPr
        if self.rtl:
            tbl_pr.insert_element_before(_element("w:bidiVisual"), *_AFTER_BIDI_VISUAL)
        look = tbl_pr.find(qn("w:tblLook"))
        if look is not None:
            look.set(qn("w:firstRow"), "1" if head else "0")
        width = self.text_width // columns
        for r, row in enumerate(table.rows, start=1):
            if r in head:
                row._tr.get_or_add_trPr().append(_element("w:tblHeader"))
            for c, cell in enumerate(row.cells, start=1):
                placeholder = cell.paragraphs[0]
                blocks = grid.get((r, c), [])
                for block in blocks:
                    self._block(cell, block, width=width, bold=r in head)
                if blocks:  # a cell holds at least one paragraph: python-docx's empty one until there are others
                    cell._tc.remove(placeholder._p)
                else:
                    self._direction(placeholder._p, self.lang)

    # --- footnotes ------------------------------------------------------------------

    def _footnotes(self) -> None:
        """The footnotes part: Word's two separators, then one ``w:footnote`` per note, numbered as
        the edition numbers them (Word shows its own running numbers, in the same order)."""
        if any(rel.reltype == RELATIONSHIP_TYPE.FOOTNOTES for rel in self.doc.part.rels.values()):
            raise EpubError("python-docx's template already has a footnotes part; Tarjoman does not expect one "
                            "(a newer python-docx?): please report it", path=self.target)
        root = parse_xml(_SEPARATORS)
        for chapter in self.edition.chapters:
            for note in chapter.notes:
                if note.id in self.referenced:
                    root.append(self._footnote(note))
        part = XmlPart(PackURI("/word/footnotes.xml"), CONTENT_TYPE.WML_FOOTNOTES, root, self.doc.part.package)
        self.doc.part.relate_to(part, RELATIONSHIP_TYPE.FOOTNOTES)

    def _footnote(self, note: Note):
        footnote = _element("w:footnote", id=str(note.number))
        for n, block in enumerate(note.blocks or [Block("footnote", "", "", self.lang)]):
            p = _element("w:p")
            p.get_or_add_pPr().style = "FootnoteText"
            self._direction(p, block.lang)
            if n == 0:
                rtl = language(block.lang).rtl
                mark = self._run(block.lang, rtl, style="FootnoteReference")
                mark.append(_element("w:footnoteRef"))
                p.append(mark)
                p.append(self._run(block.lang, rtl, text=" "))
            self._inline(p, block, notes=False)  # Word has no footnote inside a footnote
            footnote.append(p)
        return footnote
