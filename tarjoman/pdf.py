"""Print editions: the edition as a PDF, typeset by WeasyPrint (the only module that uses it).

The chapters are the EPUB's own XHTML (:class:`tarjoman.epub._Renderer`), with each note's text
where it is called, which CSS Paged Media floats to the foot of the page. The page is the book's
``print:`` setting (default A5 with print margins); the inner margin is the wider one, so right-
to-left books, whose first page is a left-hand one, are mirrored by the same rules. Running heads
carry the chapter title, page numbers and note calls are in the language's digits (٣ in Arabic,
۳ in Urdu), each chapter opens on a recto (the right-hand page in English and French, the left-hand
one in Arabic and Urdu), and the table of contents gives page numbers. Text is shaped by HarfBuzz
through Pango in the fonts Tarjoman embeds: Noto Naskh Arabic, Noto Nastaliq Urdu, and
matplotlib's DejaVu Serif for Latin text (a Latin name inside an Urdu line falls back to it).
"""

from __future__ import annotations

import base64
import html
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from . import typefaces
from .edition import Edition, edition_text
from .epub import _Renderer, _text
from .errors import EpubError, ProjectError
from .files import temporary_beside
from .languages import language

PAGE_SIZES = {"A4": (210, 297), "A5": (148, 210), "A6": (105, 148), "B5": (176, 250), "B6": (125, 176),
              "letter": (215.9, 279.4), "6x9": (152.4, 228.6), "5.5x8.5": (139.7, 215.9)}
DEFAULT_MARGINS = {"top": "18mm", "bottom": "20mm", "inner": "20mm", "outer": "15mm"}
_LENGTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mm|cm|in|pt)\s*$")
_TO_MM = {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72}
# CSS counter styles for each language's digits.



@dataclass(frozen=True)
class PageSetup:
    width_mm: float
    height_mm: float
    margins: dict[str, str]  # top, bottom, inner, outer as CSS lengths

    @property
    def css_size(self) -> str:
        return f"{self.width_mm:g}mm {self.height_mm:g}mm"


def _millimetres(value, key: str, path: Path | None) -> float:
    match = _LENGTH.match(str(value))
    if not match:
        raise ProjectError(f"{key}: {value!r} is not a length (write it as 18mm, 2cm, 0.75in or 54pt)", path=path, where=key)
    return float(match.group(1)) * _TO_MM[match.group(2)]


def page_setup(metadata: dict, path: Path | None = None) -> PageSetup:
    """The ``print:`` section of a book's YAML, checked::

        print:
          page: A5            # A4, A5, A6, B5, B6, letter, 6x9, 5.5x8.5, or "140mm 216mm"
          margins: {top: 18mm, bottom: 20mm, inner: 20mm, outer: 15mm}
    """
    section = metadata.get("print") or {}
    if not isinstance(section, dict):
        raise ProjectError("print: must be a mapping (page: A5, margins: {top: 18mm, …})", path=path, where="print")
    unknown = set(section) - {"page", "margins"}
    if unknown:
        raise ProjectError(f"print: unknown setting {sorted(unknown)[0]!r} (known: page, margins)", path=path, where="print")
    page = section.get("page", "A5")
    if isinstance(page, str) and page.strip() in PAGE_SIZES:
        width, height = PAGE_SIZES[page.strip()]
    elif isinstance(page, str) and len(page.split()) == 2:
        width, height = (_millimetres(v, "print.page", path) for v in page.split())
    else:
        raise ProjectError(f"print.page: {page!r} is not a page size (one of {', '.join(PAGE_SIZES)}, or two lengths: \"140mm 216mm\")",
                           path=path, where="print.page")
    if not (70 <= width <= 450 and 100 <= height <= 650):
        raise ProjectError(f"print.page: {width:g} × {height:g} mm is not a book page (70–450 mm wide, 100–650 mm high)", path=path, where="print.page")
    margins = section.get("margins") or {}
    if not isinstance(margins, dict) or set(margins) - set(DEFAULT_MARGINS):
        raise ProjectError("print.margins: must map top, bottom, inner and outer to lengths (inner: 20mm)", path=path, where="print.margins")
    merged = {**DEFAULT_MARGINS, **{k: str(v) for k, v in margins.items()}}
    sizes = {k: _millimetres(v, f"print.margins.{k}", path) for k, v in merged.items()}
    if sizes["inner"] + sizes["outer"] > width * 0.6 or sizes["top"] + sizes["bottom"] > height * 0.6:
        raise ProjectError(f"print.margins: leave less than 40 % of the {width:g} × {height:g} mm page for the text", path=path, where="print.margins")
    return PageSetup(width, height, {k: f"{v:g}mm" for k, v in sizes.items()})


def latin_fonts() -> dict[str, Path]:
    """DejaVu Serif (regular, bold, italic) from matplotlib's data: every install has it."""
    spec = importlib.util.find_spec("matplotlib")
    folder = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
    return {"normal normal": folder / "DejaVuSerif.ttf", "bold normal": folder / "DejaVuSerif-Bold.ttf",
            "normal italic": folder / "DejaVuSerif-Italic.ttf", "bold italic": folder / "DejaVuSerif-BoldItalic.ttf"}


def font_faces(lang: str, naskh: bool = True) -> str:
    """``@font-face`` rules for the fonts Tarjoman ships (Naskh, Nastaliq) and DejaVu Serif; fonts
    found on the system (:mod:`tarjoman.typefaces`) WeasyPrint finds itself, by family name."""
    rules = []
    for name, files in typefaces.SHIPPED.items():
        if name == typefaces.NASTALIQ and lang != "ur" or name == typefaces.NASKH and not (naskh or language(lang).script == "Arab"):
            continue
        for file in files:
            weight = "bold" if "Bold" in file.name else "normal"
            rules.append(f'@font-face {{ font-family: "{name}"; font-weight: {weight}; src: url("{file.as_uri()}"); }}')
    for key, path in latin_fonts().items():
        weight, style = key.split()
        rules.append(f'@font-face {{ font-family: "Tarjoman Serif"; font-weight: {weight}; font-style: {style}; src: url("{path.as_uri()}"); }}')
    return "\n".join(rules)


def font_stack(lang: str, text: str = "") -> str:
    """The font-family list for ``lang`` text: its own script's font (for a script Tarjoman
    ships none for, the system's that covers ``text``), then the others."""
    first = [f'"{typefaces.NASTALIQ if lang == "ur" else typefaces.NASKH}"'] if language(lang).script == "Arab" else []
    if text:
        first += [f'"{face.family}"' for face in typefaces.faces_for(text, lang, what=f"the {lang} edition").values()]
    rest = ['"Tarjoman Serif"', f'"{typefaces.NASKH}"']
    return ", ".join(dict.fromkeys(first + rest))


def _counter(lang: str) -> str:
    """The CSS counter style that writes the language's digits: arabic-indic, persian, devanagari…"""
    import unicodedata

    zero = language(lang).digits[0]
    if zero == "0":
        return "decimal"
    name = unicodedata.name(zero).removesuffix(" DIGIT ZERO").lower()
    return {"extended arabic-indic": "persian", "bengali": "bengali"}.get(name, name.split()[-1])


def _css(edition: Edition, setup: PageSetup) -> str:
    lang, words = edition.lang, edition.metadata["words"]
    counter = _counter(lang)
    line_height = {"ur": 2.2, "ar": 1.75}.get(lang, 1.45)
    m = setup.margins
    draft = ""
    if edition.draft:
        mark = words["draft_mark"].replace("\\", "").replace('"', "")  # a CSS string
        draft = f'@bottom-left {{ content: "{mark}"; color: #a00; font-weight: bold; }} @bottom-right {{ content: "{mark}"; color: #a00; font-weight: bold; }}'
    return f"""
{font_faces(lang, naskh=True)}
@page {{
  size: {setup.css_size};
  margin: {m["top"]} {m["outer"]} {m["bottom"]} {m["inner"]};
  @top-center {{ content: string(chapter, first-except); font-size: 8.5pt; color: #444; }}
  @bottom-center {{ content: counter(page, {counter}); font-size: 9pt; }}
  {draft}
}}
@page :left {{ margin-left: {m["outer"]}; margin-right: {m["inner"]}; }}
@page :right {{ margin-left: {m["inner"]}; margin-right: {m["outer"]}; }}
@page cover {{ margin: 0; @top-center {{ content: none; }} @bottom-center {{ content: none; }} }}
@page front {{ @top-center {{ content: none; }} @bottom-center {{ content: none; }} }}
@page :blank {{ @top-center {{ content: none; }} @bottom-center {{ content: none; }} }}
html {{ font-family: {font_stack(lang, edition_text(edition))}; font-size: 10.5pt; line-height: {line_height}; }}
body {{ margin: 0; }}
[lang="fa"], [lang="ar"] {{ font-family: {font_stack("ar")}; }}
[lang="ur"] {{ font-family: {font_stack("ur")}; }}
[lang="en"], [lang="fr"] {{ font-family: {font_stack("en")}; }}
.cover-page {{ page: cover; width: {setup.width_mm:g}mm; height: {setup.height_mm:g}mm; position: relative; overflow: hidden; background: #1d2b36; }}
.cover-page img {{ width: 100%; height: 100%; object-fit: cover; display: block; }}
.cover-page .draft {{ position: absolute; top: 45%; left: 0; right: 0; }}
.front {{ page: front; break-before: page; }}
.title-page {{ text-align: center; padding-top: 25%; }}
.title-page h1 {{ font-size: 2em; line-height: 1.4; margin: 0 0 0.5em; }}
.title-page h2 {{ font-size: 1.2em; font-weight: normal; margin: 0 0 2em; }}
.chapter {{ page: chapter; break-before: recto; }}
.chapter h1 {{ string-set: chapter content(text); font-size: 1.6em; text-align: center; margin: 3em 0 1.5em; line-height: 1.5; }}
h2, h3, h4, h5, h6 {{ font-size: 1.15em; margin: 1.2em 0 0.6em; break-after: avoid; }}
p {{ margin: 0; text-align: justify; text-indent: 1.2em; orphans: 2; widows: 2; }}
h1 + p, h2 + p, h3 + p, h4 + p, figure + p, blockquote + p, p.verse + p, table + p {{ text-indent: 0; }}
:lang(en) p, :lang(fr) p {{ hyphens: auto; }}
p.verse {{ text-align: center; text-indent: 0; margin: 0.8em 0; break-inside: avoid; }}
p.verse span.hemistich {{ display: block; }}
blockquote {{ margin: 0.8em 1.5em; }}
blockquote p {{ text-indent: 0; }}
figure {{ margin: 1em 0; text-align: center; break-inside: avoid; }}
figure img {{ max-width: 100%; max-height: 120mm; }}
figcaption {{ font-size: 0.85em; margin-top: 0.4em; }}
table {{ border-collapse: collapse; margin: 0.8em auto; font-size: 0.9em; }}
th, td {{ border: 0.5pt solid #777; padding: 0.15em 0.4em; vertical-align: top; }}
td > p, th > p {{ margin: 0; text-indent: 0; text-align: start; }}
.footnote {{ float: footnote; font-size: 0.8em; line-height: 1.5; text-align: start; text-indent: 0; font-weight: normal; }}
.footnote::footnote-call {{ content: counter(footnote, {counter}); vertical-align: super; font-size: 0.7em; line-height: 0; }}
.footnote::footnote-marker {{ content: counter(footnote, {counter}) ". "; }}
@page {{ @footnote {{ border-top: 0.5pt solid #777; padding-top: 0.3em; margin-top: 0.6em; }} }}
nav.toc ol {{ list-style: none; padding: 0; margin: 0; }}
nav.toc li {{ margin: 0.25em 0; }}
nav.toc li li {{ margin-inline-start: 1.2em; font-size: 0.92em; }}
nav.toc a {{ color: inherit; text-decoration: none; }}
nav.toc a::after {{ content: leader(".") target-counter(attr(href url), page, {counter}); }}
nav.toc h1, .credits h1 {{ font-size: 1.4em; text-align: center; margin: 1em 0; }}
.credits p {{ text-indent: 0; margin: 0 0 0.4em; text-align: start; }}
.draft {{ text-align: center; color: #a00; font-weight: bold; border: 1.5pt solid #a00; padding: 0.4em; margin: 1em 0; text-indent: 0; background: #fff; }}
div.pair {{ margin-bottom: 0.8em; }}
div.pair > *:first-child {{ color: #555; }}
"""


def edition_html(edition: Edition, setup: PageSetup, cover: bytes, cover_type: str, *, mark_cover: bool) -> str:
    """The whole book as one HTML document for WeasyPrint; ``mark_cover``: a draft's cover image
    does not say DRAFT itself (the publisher's own), so the page does."""
    lang, meta, words = edition.lang, edition.metadata, edition.metadata["words"]
    direction = "rtl" if language(lang).rtl else "ltr"
    esc = lambda s: _text(s or "", lang, lang)  # noqa: E731
    draft_note = f'<p class="draft">{html.escape(words["draft"])}</p>' if edition.draft else ""
    cover_uri = f"data:{cover_type};base64,{base64.b64encode(cover).decode()}"
    parts = [f'<section class="cover-page"><img src="{cover_uri}" alt="{html.escape(meta["title"], quote=True)}"/>'
             f'{draft_note if mark_cover else ""}</section>']
    translators = ", ".join(meta["translators"])
    subtitle = f"<h2>{esc(meta['subtitle'])}</h2>" if meta["subtitle"] else ""
    parts.append(f'<section class="front title-page"><h1>{esc(meta["title"])}</h1>{subtitle}<p>{esc(meta["author"])}</p>'
                 + (f"<p>{html.escape(words['translated'])} {esc(translators)}</p>" if translators else "")
                 + (f"<p>{esc(meta['publisher'])}</p>" if meta["publisher"] else "") + f"{draft_note}</section>")
    renderer = _Renderer(edition, footnotes=True)
    toc, bodies = [], []
    for chapter in edition.chapters:
        body = renderer.chapter_body(chapter)
        bodies.append(f'<div class="chapter" id="{chapter.id}">{body}</div>')
        if chapter.kind != "chapter" or not chapter.title:
            continue
        subs = [f'<li><a href="#{chapter.id}-h{i}">{esc(b.text)}</a></li>' for i, b in enumerate(chapter.blocks)
                if b.kind == "heading" and (b.level or 0) >= 2]
        inner = f"<ol>{''.join(subs)}</ol>" if subs else ""
        toc.append(f'<li><a href="#{chapter.id}">{esc(chapter.title.text)}</a>{inner}</li>')
    if toc:
        parts.append(f'<nav class="front toc"><h1>{html.escape(words["contents"])}</h1><ol>{"".join(toc)}</ol></nav>')
    parts += bodies
    rows = [(words["author"], meta["author"]), (words["translators"], translators), (words["editors"], ", ".join(meta["editors"])),
            (words["publisher"], meta["publisher"])]
    credits = "".join(f"<p><b>{html.escape(k)}</b>: {esc(v)}</p>" for k, v in rows if v)
    credits += f"<p>{esc(meta['rights'])}</p>" if meta["rights"] else ""
    credits += f'<p dir="ltr" lang="en">{html.escape(words["made"])} {html.escape(edition.signature)}</p>{draft_note}'
    parts.append(f'<section class="front credits"><h1>{html.escape(words["credits"])}</h1>{credits}</section>')
    description = edition.signature if not edition.draft else f"DRAFT edition: machine translation not yet approved by translators. {edition.signature}"
    head = (f'<meta charset="utf-8"><title>{html.escape(meta["title"])}</title>'
            f'<meta name="author" content="{html.escape(meta["author"], quote=True)}">'
            f'<meta name="description" content="{html.escape(description, quote=True)}">'
            f'<meta name="generator" content="Tarjoman (WeasyPrint)">'
            + f"<style>{_css(edition, setup)}</style>")
    return f'<!DOCTYPE html><html lang="{lang}" dir="{direction}"><head>{head}</head><body>{"".join(parts)}</body></html>'


@dataclass
class PdfResult:
    path: Path
    pages: int


def render_pdf(edition: Edition, target: Path) -> PdfResult:
    """Typeset the edition into ``target`` atomically (a half-written PDF is never left there)."""
    from .cover import cover_image, typographic_cover

    setup = page_setup({"print": edition.metadata.get("print") or {}})
    for image in edition.images:  # WeasyPrint would leave a missing picture out and say nothing
        if not (edition.image_folder / image.file).is_file():
            raise EpubError(f"the picture {image.file} is missing from the book's folder; extract the book again", path=edition.image_folder / image.file)
    given = bool(edition.metadata.get("cover"))
    if given:
        cover = cover_image(edition)
        data, media_type = cover.data, cover.media_type
    else:  # set at the page's own proportions, so nothing is cut off
        data, media_type = typographic_cover(edition, size=(1600, round(1600 * setup.height_mm / setup.width_mm))), "image/jpeg"
    document_html = edition_html(edition, setup, data, media_type, mark_cover=given)
    try:
        from weasyprint import HTML

        document = HTML(string=document_html, base_url=str(edition.image_folder) + "/").render()
        with temporary_beside(target) as tmp:
            # Tagged: headings, paragraphs, figures with their descriptions, in reading order, for
            # screen readers and reflow (no PDF/UA claim: poppler cannot read Nastaliq's text back).
            document.write_pdf(tmp, pdf_tags=True)
    except EpubError:
        raise
    except Exception as exc:
        raise EpubError(f"cannot be typeset ({type(exc).__name__}: {exc})", path=target) from exc
    return PdfResult(target, len(document.pages))
