"""Word .docx manuscripts → :class:`RawDocument` (the only module that uses python-docx).

The body is walked element by element rather than through python-docx's
``paragraphs`` and ``runs``, which skip content controls, tracked
insertions, hyperlinks in older versions and field results. Everything that is
not carried (equations, text boxes, charts, comments, tracked deletions,
headers and footers) is counted and named in the warnings.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections import Counter
from pathlib import Path

from ..errors import ManuscriptError
from ..text import NOTE_MARK, normalize_letters
from .blocks import Block, RawDocument, RawImage, RawNote, read_source

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
V = "urn:schemas-microsoft-com:vml"
M = "http://schemas.openxmlformats.org/officeDocument/2006/math"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
CHART = "http://schemas.openxmlformats.org/drawingml/2006/chart"
DGM = "http://schemas.openxmlformats.org/drawingml/2006/diagram"
RT_FOOTNOTES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"
RT_ENDNOTES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/endnotes"
RT_COMMENTS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments"


def _on(value: str | None) -> bool:
    """A Word on/off attribute: absent, "0", "false" and "off" are off."""
    return value is not None and value.lower() not in ("0", "false", "off")


def w(tag: str) -> str:
    return f"{{{W}}}{tag}"


_BDO = w("bdo")
_BR = w("br")
_COMMENT = w("comment")
_CR = w("cr")
_CUSTOMMARKFOLLOWS = w("customMarkFollows")
_CUSTOMXML = w("customXml")
_DEL = w("del")
_DIR = w("dir")
_DRAWING = w("drawing")
_ENDNOTEREFERENCE = w("endnoteReference")
_FLDCHAR = w("fldChar")
_FLDCHARTYPE = w("fldCharType")
_FLDSIMPLE = w("fldSimple")
_FOOTNOTEREFERENCE = w("footnoteReference")
_HYPERLINK = w("hyperlink")
_ID = w("id")
_INS = w("ins")
_INSTR = w("instr")
_INSTRTEXT = w("instrText")
_JC = w("jc")
_MOVEFROM = w("moveFrom")
_MOVETO = w("moveTo")
_NOBREAKHYPHEN = w("noBreakHyphen")
_NUMPR = w("numPr")
_OBJECT = w("object")
_OUTLINELVL = w("outlineLvl")
_P = w("p")
_PPR = w("pPr")
_PSTYLE = w("pStyle")
_PICT = w("pict")
_PTAB = w("ptab")
_R = w("r")
_RPR = w("rPr")
_SDT = w("sdt")
_SDTCONTENT = w("sdtContent")
_SMARTTAG = w("smartTag")
_SYM = w("sym")
_T = w("t")
_TAB = w("tab")
_TBL = w("tbl")
_TC = w("tc")
_TR = w("tr")
_TYPE = w("type")
_VAL = w("val")
_VANISH = w("vanish")

# Limits on what a .docx may unpack to: a manuscript is text, a few photographs.
MAX_PART_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CHAPTER_STYLE = re.compile(r"فصل|chapter|باب", re.IGNORECASE)
_QUOTE_STYLE = re.compile(r"quote|نقل|قول|آیه|حدیث|دعا|عربی", re.IGNORECASE)
_VERSE_STYLE = re.compile(r"شعر|بیت|verse|poem|poetry|مصرع", re.IGNORECASE)
_CAPTION_STYLE = re.compile(r"caption|شکل|تصویر|عکس|زیرنویس", re.IGNORECASE)
_LIST_STYLE = re.compile(r"^list|فهرست‌وار", re.IGNORECASE)
_TOC_STYLE = re.compile(r"^(toc|table of figures|table of authorities)", re.IGNORECASE)


def check_container(path: Path) -> None:
    """Refuse what is not a readable .docx before python-docx sees it, with a message that says what it is."""
    data = read_source(path)
    head = data[:8]
    if not head:
        raise ManuscriptError("is an empty file (0 bytes), not a Word document", path=path)
    if head == _CFB_MAGIC:
        if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
            raise ManuscriptError("is password-protected; remove the password in Word (File › Info › Protect Document) and save again", path=path)
        raise ManuscriptError("is an old Word 97–2003 .doc file; open it in Word or LibreOffice and save it as .docx", path=path)
    if head.startswith(b"{\\rtf"):
        raise ManuscriptError("is an RTF file, not .docx; open it in Word or LibreOffice and save it as .docx", path=path)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = {i.filename for i in infos}
            total = 0
            for info in infos:
                total += info.file_size
                if info.file_size > MAX_PART_BYTES or total > MAX_TOTAL_BYTES:
                    raise ManuscriptError(
                        f"unpacks to more than {MAX_TOTAL_BYTES // 2**20} MiB ({info.filename} alone is {info.file_size // 2**20} MiB); refusing a possible zip bomb",
                        path=path,
                    )
            if "word/document.xml" not in names and "[Content_Types].xml" in names:
                raise ManuscriptError("is an Office file but not a Word document (no word/document.xml)", path=path)
            if "word/document.xml" not in names:
                raise ManuscriptError("is a zip archive but not a Word document (no word/document.xml)", path=path)
            bad = archive.testzip()
            if bad:
                raise ManuscriptError(f"is damaged: the part {bad} fails its checksum", path=path)
    except zipfile.BadZipFile as exc:
        raise ManuscriptError(f"is not a Word .docx file, or it is truncated or damaged ({exc})", path=path) from exc


def read_docx(path: Path) -> RawDocument:
    """Read a .docx into blocks, footnotes, images and metadata."""
    check_container(path)
    import docx  # imported here: the plain-text reader needs none of it
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
        return _DocxReader(document, path).read()
    except ManuscriptError:
        raise
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ManuscriptError(f"is not a readable Word document ({type(exc).__name__}: {exc})", path=path) from exc
    except Exception as exc:  # lxml.etree.XMLSyntaxError and friends from a damaged part
        if type(exc).__module__.startswith("lxml"):
            raise ManuscriptError(f"has damaged XML inside ({exc})", path=path) from exc
        raise


class _DocxReader:
    def __init__(self, document, path: Path):
        self.document = document
        self.path = path
        self.blocks: list[Block] = []
        self.notes: dict[str, RawNote] = {}
        self.note_ids: dict[tuple[str, str], str] = {}
        self.images: dict[str, RawImage] = {}
        self.skipped: Counter[str] = Counter()
        self.skipped_chars: Counter[str] = Counter()
        self.carried: Counter[str] = Counter()
        self.paragraph_no = 0
        self.tables = 0
        self.fields: list[dict] = []  # open complex fields: {"instr": str}
        self.styles = {s.style_id: s for s in document.styles}
        self.level_cache: dict[str, int | None] = {}

    # --- document ---------------------------------------------------------

    def read(self) -> RawDocument:
        note_parts = self._note_parts()
        # The body is parsed again with a plain lxml parser: walking python-docx's
        # custom element classes costs three times as much on a 150k-word book.
        with zipfile.ZipFile(self.path) as archive:
            name = str(self.document.part.partname).lstrip("/")
            root = _parse(archive.read(name), self.path, name)
        body = root.find(w("body"))
        if body is None:
            raise ManuscriptError("has no document body (word/document.xml is empty of text)", path=self.path)
        self._container(body, part=self.document.part, cell=None)
        warnings = self._warnings(note_parts)
        return RawDocument(
            blocks=self.blocks,
            notes=self.notes,
            images=self.images,
            metadata=self._metadata(),
            tables=self.tables,
            warnings=warnings,
        )

    def _metadata(self) -> dict:
        props = self.document.core_properties
        meta = {
            "title": (props.title or "").strip(),
            "author": (props.author or "").strip(),
            "subject": (props.subject or "").strip(),
            "keywords": (props.keywords or "").strip(),
            "language": (props.language or "").strip(),
            "created": props.created.isoformat() if props.created else "",
            "modified": props.modified.isoformat() if props.modified else "",
        }
        return {k: v for k, v in meta.items() if v}

    def _note_parts(self) -> dict[str, object]:
        parts = {}
        for rel in self.document.part.rels.values():
            if rel.is_external:
                continue
            for reltype, kind in ((RT_FOOTNOTES, "footnote"), (RT_ENDNOTES, "endnote")):
                if rel.reltype == reltype:
                    parts[kind] = (rel.target_part, _parse(rel.target_part.blob, self.path, str(rel.target_part.partname).lstrip("/")))
            if rel.reltype == RT_COMMENTS:
                comments = _parse(rel.target_part.blob, self.path, str(rel.target_part.partname).lstrip("/"))
                count = len(comments.findall(_COMMENT))
                if count:
                    self.skipped["comments"] += count
        self.note_parts = parts
        return parts

    def _warnings(self, note_parts) -> list[str]:
        names = {
            "equations": "equations (OMML) not carried",
            "charts": "charts not carried",
            "diagrams": "SmartArt diagrams not carried",
            "embedded objects": "embedded objects (OLE) not carried",
            "comments": "comments not carried",
            "tracked deletions": "tracked deletions left out (the text reads as if accepted)",
            "tracked insertions": "tracked insertions kept (the text reads as if accepted)",
            "hidden text": "runs of hidden text left out",
            "symbols": "symbol-font characters left out",
            "missing images": "images whose file is missing from the package",
            "external images": "linked (not embedded) images left out",
        }
        out = []
        for key, count in sorted(self.skipped.items()):
            chars = self.skipped_chars.get(key)
            extra = f" ({chars} characters)" if chars else ""
            out.append(f"{count} {names.get(key, key)}{extra}")
        if self.carried["text boxes"]:
            out.append(f"{self.carried['text boxes']} text boxes carried as paragraphs after the paragraph that holds them")
        headers, images = self._headers_and_footers()
        if headers or images:
            out.append(f"{headers} headers/footers with text and {images} images in them not carried (running heads are rebuilt in the ebook)")
        return out

    def _headers_and_footers(self) -> tuple[int, int]:
        """How many distinct headers/footers hold text, and how many images they hold."""
        with_text = images = 0
        seen = set()
        for section in self.document.sections:
            for hf in (section.header, section.footer, section.first_page_header, section.first_page_footer, section.even_page_header, section.even_page_footer):
                try:
                    if hf.is_linked_to_previous:
                        continue
                    element = hf._element
                except Exception:  # python-docx raises on malformed section definitions
                    continue
                if id(element) in seen:
                    continue
                seen.add(id(element))
                with_text += bool("".join(t.text or "" for t in element.iter(_T)).strip())
                images += sum(1 for _ in element.iter(f"{{{A}}}blip")) + sum(1 for _ in element.iter(f"{{{V}}}imagedata"))
        return with_text, images

    # --- containers -------------------------------------------------------

    def _container(self, element, part, cell, note: str | None = None, out: list[Block] | None = None) -> None:
        out = self.blocks if out is None else out
        for child in element.iterchildren():
            tag = child.tag
            if tag == _P:
                out.extend(self._paragraph(child, part, cell, note))
            elif tag == _TBL:
                self._table(child, part, note, out)
            elif tag == _SDT:
                content = child.find(_SDTCONTENT)
                if content is None:
                    continue
                gallery = child.find(f"{w('sdtPr')}/{w('docPartObj')}/{w('docPartGallery')}")
                if gallery is not None and "contents" in (gallery.get(_VAL) or "").lower():
                    before = len(out)
                    self._container(content, part, cell, note, out)
                    for block in out[before:]:
                        block.kind = "toc"
                    continue
                self._container(content, part, cell, note, out)
            elif tag in (_CUSTOMXML, _INS, _MOVETO, f"{{{MC}}}AlternateContent"):
                target = child
                if tag == f"{{{MC}}}AlternateContent":
                    target = child.find(f"{{{MC}}}Choice")
                    if target is None:
                        target = child.find(f"{{{MC}}}Fallback")
                if target is not None:
                    self._container(target, part, cell, note, out)
            elif tag in (_DEL, _MOVEFROM):
                self.skipped["tracked deletions"] += 1

    def _table(self, tbl, part, note, out) -> None:
        """Each cell's paragraphs, with ``cell`` = [table, row, column], and a fourth item, 1, in a
        header row: one Word repeats on each page (``w:tblHeader``), or the first row when the
        table's style sets it apart (``w:tblLook`` firstRow)."""
        self.tables += 1
        table_no = self.tables
        look = tbl.find(f"{w('tblPr')}/{w('tblLook')}")
        first_row = False
        if look is not None:  # Word 2010 and later write firstRow="1"; Word 2007, a hex bit mask (0x0020: first row)
            bits = look.get(_VAL) or ""
            if look.get(w("firstRow")) is not None:
                first_row = _on(look.get(w("firstRow")))
            else:
                first_row = re.fullmatch(r"[0-9A-Fa-f]{1,4}", bits) is not None and bool(int(bits, 16) & 0x20)
        for r, row in enumerate(tbl.iterchildren(_TR), start=1):
            marked = row.find(f"{w('trPr')}/{w('tblHeader')}")
            header = (marked is not None and _on(marked.get(_VAL, "1"))) or (r == 1 and first_row)
            for c, tc in enumerate(row.iterchildren(_TC), start=1):
                self._container(tc, part, [table_no, r, c, 1] if header else [table_no, r, c], note, out)

    # --- paragraphs -------------------------------------------------------

    def _paragraph(self, p, part, cell, note) -> list[Block]:
        """The paragraph's block, followed by the paragraphs of any text boxes anchored in it."""
        self.paragraph_no += 1
        ppr = p.find(_PPR)
        style_id = None
        if ppr is not None:
            ps = ppr.find(_PSTYLE)
            if ps is not None:
                style_id = ps.get(_VAL)
        style = self.styles.get(style_id) if style_id else None
        style_name = style.name if style is not None and style.name else (style_id or "Normal")
        state = {"text": [], "notes": [], "images": [], "toc": False, "boxes": [], "cell": cell, "note": note}
        self._inline(p, part, state)
        text = "".join(state["text"])
        where = f"paragraph {self.paragraph_no}"
        if cell:
            where = f"table {cell[0]}, row {cell[1]}, cell {cell[2]} ({where})"
        if note:
            where = f"{note}, {where}"
        block = Block(text=text, where=where, style=style_name, notes=state["notes"], images=state["images"], cell=cell)
        self._classify(block, p, ppr, style, state)
        return [block] + state["boxes"]

    def _classify(self, block: Block, p, ppr, style, state) -> None:
        name = normalize_letters(block.style)
        squeezed = re.sub(r"(.)\1+", r"\1", name)  # «شکککککل» is a caption style in a real thesis
        level = self._outline_level(ppr, style)
        if state["toc"] or _TOC_STYLE.match(name):
            block.kind = "toc"
        elif block.cell:
            block.kind = "table_cell"
        elif name.lower() == "title":
            block.kind = "title"
        elif _CHAPTER_STYLE.search(name) and "toc" not in name.lower():
            block.kind, block.level = "heading", 1
        elif level is not None:
            block.kind, block.level = "heading", level
        elif _CAPTION_STYLE.search(squeezed):
            block.kind = "caption"
        elif _VERSE_STYLE.search(name):
            block.kind = "verse"
        elif _QUOTE_STYLE.search(name):
            block.kind = "quotation"
        elif self._is_list(ppr, style, name):
            block.kind = "list_item"
        if ppr is not None:
            jc = ppr.find(_JC)
            block.centered = jc is not None and jc.get(_VAL) == "center"

    def _outline_level(self, ppr, style) -> int | None:
        """Heading level (1 = chapter) from the paragraph, its style, or the styles it is based on."""
        if ppr is not None:
            lvl = ppr.find(_OUTLINELVL)
            if lvl is not None:
                return _level(lvl.get(_VAL))
        while style is not None:
            key = style.style_id
            if key in self.level_cache:
                return self.level_cache[key]
            match = re.fullmatch(r"heading\s*(\d)", (style.name or "").strip().lower())
            if match:
                level = int(match.group(1))
                self.level_cache[key] = level
                return level
            lvl = style.element.find(f"{w('pPr')}/{w('outlineLvl')}")
            if lvl is not None:
                level = _level(lvl.get(_VAL))
                self.level_cache[key] = level
                return level
            style = style.base_style
        return None

    def _is_list(self, ppr, style, name) -> bool:
        if ppr is not None and ppr.find(_NUMPR) is not None:
            return True
        if _LIST_STYLE.search(name):
            return True
        return style is not None and style.element.find(f"{w('pPr')}/{w('numPr')}") is not None

    # --- runs ---------------------------------------------------------------

    def _inline(self, element, part, state) -> None:
        for child in element.iterchildren():
            tag = child.tag
            if tag == _R:
                self._run(child, part, state)
            elif tag in (_HYPERLINK, _SMARTTAG, _CUSTOMXML, _DIR, _BDO, _SDTCONTENT):
                self._inline(child, part, state)
            elif tag == _SDT:
                content = child.find(_SDTCONTENT)
                if content is not None:
                    self._inline(content, part, state)
            elif tag == _FLDSIMPLE:
                if (child.get(_INSTR) or "").strip().upper().startswith("TOC"):
                    state["toc"] = True
                self._inline(child, part, state)
            elif tag in (_INS, _MOVETO):
                self.skipped["tracked insertions"] += 1
                self._inline(child, part, state)
            elif tag in (_DEL, _MOVEFROM):
                self.skipped["tracked deletions"] += 1
            elif tag in (f"{{{M}}}oMath", f"{{{M}}}oMathPara"):
                self.skipped["equations"] += 1
            elif tag == f"{{{MC}}}AlternateContent":
                target = child.find(f"{{{MC}}}Choice")
                if target is None:
                    target = child.find(f"{{{MC}}}Fallback")
                if target is not None:
                    self._inline(target, part, state)
        if any(f["instr"].lstrip().upper().startswith("TOC") for f in self.fields):
            state["toc"] = True

    def _run(self, r, part, state) -> None:
        rpr = r.find(_RPR)
        if rpr is not None and rpr.find(_VANISH) is not None and rpr.find(_VANISH).get(_VAL) not in ("0", "false"):
            if "".join(t.text or "" for t in r.iter(_T)).strip():
                self.skipped["hidden text"] += 1
            return
        out = state["text"]
        for child in r.iterchildren():
            tag = child.tag
            if tag == _T:
                out.append(child.text or "")
            elif tag == _RPR:
                continue
            elif tag in (_TAB, _PTAB):
                out.append("\t")
            elif tag in (_BR, _CR):
                if child.get(_TYPE) not in ("page", "column"):
                    out.append("\n")
            elif tag == _NOBREAKHYPHEN:
                out.append("-")
            elif tag == _FLDCHAR:
                kind = child.get(_FLDCHARTYPE)
                if kind == "begin":
                    self.fields.append({"instr": ""})
                elif kind == "end" and self.fields:
                    self.fields.pop()
            elif tag == _INSTRTEXT:
                if self.fields:
                    self.fields[-1]["instr"] += child.text or ""
                    if self.fields[-1]["instr"].lstrip().upper().startswith("TOC"):
                        state["toc"] = True
            elif tag in (_FOOTNOTEREFERENCE, _ENDNOTEREFERENCE):
                kind = "footnote" if tag == _FOOTNOTEREFERENCE else "endnote"
                nid = self._note(kind, child.get(_ID), child.get(_CUSTOMMARKFOLLOWS))
                if nid:
                    out.append(NOTE_MARK)
                    state["notes"].append(nid)
            elif tag in (_DRAWING, _PICT, _OBJECT):
                self._drawing(child, part, state)
            elif tag == f"{{{MC}}}AlternateContent":
                choice = child.find(f"{{{MC}}}Choice")
                target = choice if choice is not None else child.find(f"{{{MC}}}Fallback")
                if target is not None:
                    for inner in target.iterchildren():
                        if inner.tag in (_DRAWING, _PICT, _OBJECT):
                            self._drawing(inner, part, state)
            elif tag == _SYM:
                self.skipped["symbols"] += 1

    def _drawing(self, element, part, state) -> None:
        if element.tag == _OBJECT:
            self.skipped["embedded objects"] += 1
            return
        for box in element.iter(f"{{{W}}}txbxContent"):
            if any(a.tag == f"{{{W}}}txbxContent" for a in box.iterancestors()):
                continue  # a box inside a box is read with its parent
            self.carried["text boxes"] += 1
            self._container(box, part, state["cell"], state["note"], out=state["boxes"])
        if any(True for _ in element.iter(f"{{{CHART}}}chart")):
            self.skipped["charts"] += 1
        if any(True for _ in element.iter(f"{{{DGM}}}relIds")):
            self.skipped["diagrams"] += 1
        alt = ""
        for doc_pr in element.iter(f"{{{WP}}}docPr"):
            alt = (doc_pr.get("descr") or doc_pr.get("title") or "").strip()
        rids = [b.get(f"{{{R}}}embed") for b in element.iter(f"{{{A}}}blip")]
        rids += [d.get(f"{{{R}}}id") for d in element.iter(f"{{{V}}}imagedata")]
        if any(b.get(f"{{{R}}}link") and not b.get(f"{{{R}}}embed") for b in element.iter(f"{{{A}}}blip")):
            self.skipped["external images"] += 1
        for rid in filter(None, rids):
            image_id = self._image(rid, part, alt)
            if image_id and image_id not in state["images"]:
                state["images"].append(image_id)

    def _image(self, rid: str, part, alt: str) -> str | None:
        try:
            image_part = part.related_parts[rid]
        except KeyError:
            self.skipped["missing images"] += 1
            return None
        data = image_part.blob
        digest = hashlib.sha256(data).hexdigest()
        image_id = f"img-{digest[:12]}"
        if image_id not in self.images:
            media_type = getattr(image_part, "content_type", "application/octet-stream")
            extension = Path(str(image_part.partname)).suffix.lstrip(".").lower() or "bin"
            self.images[image_id] = RawImage(image_id, data, media_type, extension, alt, f"paragraph {self.paragraph_no}")
        elif alt and not self.images[image_id].alt:
            self.images[image_id].alt = alt
        return image_id

    # --- footnotes ----------------------------------------------------------

    def _note(self, kind: str, word_id: str | None, custom_mark: str | None) -> str | None:
        """Read the footnote or endnote Word calls ``word_id`` (once) and return our ID for it."""
        key = (kind, word_id or "")
        if key in self.note_ids:
            return self.note_ids[key]
        loaded = self.note_parts.get(kind)
        if loaded is None or word_id is None:
            self.skipped[f"{kind} references without a {kind}s part"] += 1
            return None
        part, root = loaded
        element = next((n for n in root.iterchildren(w(kind)) if n.get(_ID) == word_id), None)
        if element is None:
            self.skipped[f"{kind} references to a missing {kind}"] += 1
            return None
        prefix = "fn" if kind == "footnote" else "en"
        nid = f"{prefix}{sum(1 for k in self.note_ids if k[0] == kind) + 1}"
        self.note_ids[key] = nid
        blocks: list[Block] = []
        saved_no, saved_fields = self.paragraph_no, self.fields
        self.paragraph_no, self.fields = 0, []
        self._container(element, part, None, note=f"{kind} {nid}", out=blocks)
        self.paragraph_no, self.fields = saved_no, saved_fields
        for block in blocks:
            block.kind = "footnote"
            block.level = None
        mark = custom_mark and "*" or str(sum(1 for k in self.note_ids if k[0] == kind))
        self.notes[nid] = RawNote(mark=mark, kind=kind, blocks=blocks)
        return nid


def _parse(data: bytes, path: Path, name: str):
    """Parse a package part: no DTDs, no entity expansion, no network (no XXE, no billion laughs)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ManuscriptError(f"has damaged XML in {name} ({exc})", path=path) from exc
    if root.getroottree().docinfo.doctype:
        # Word never writes a DTD; one here is an attempt at entity expansion or external entities.
        raise ManuscriptError(f"{name} declares a DTD (<!DOCTYPE …>), which Word never writes; refusing it", path=path)
    return root


def _level(value: str | None) -> int | None:
    try:
        level = int(value or "")
    except ValueError:
        return None
    # Word's outline level 9 means body text.
    return level + 1 if 0 <= level < 9 else None
