"""From a reader's blocks to a book: chapters, paragraphs, footnotes, segments.

Chapter detection, in order: heading styles (level 1: ``Heading 1`` and
custom styles that mean chapter); then plain chapter lines (see
:mod:`.chapters`); then the whole text as one chapter, with a warning.
Tables of contents are left out and counted in the warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import __version__
from ..text import (
    NOTE_MARK,
    SEGMENTER_VERSION,
    content_id,
    detect_language,
    estimate_tokens,
    normalize,
    normalize_letters,
    split_sentences,
)
from .blocks import Block, RawDocument
from .chapters import find_chapter_lines, is_toc_title, looks_like_toc_entry
from .model import Chapter, Footnote, Image, Manuscript, NoteRef, Paragraph, Segment, Split

_CAPTION_START = re.compile(r"^(شکل|تصویر|عکس|نمودار|الصورة|صورة|الشکل|figure|fig\.|photo|picture)\b", re.IGNORECASE)


@dataclass
class BuildOptions:
    max_tokens: int = 200
    count_tokens: object = estimate_tokens


@dataclass
class _Prepared:
    block: Block
    text: str
    lang: str
    offsets: list[int] = field(default_factory=list)  # one per footnote mark


def build_manuscript(raw: RawDocument, *, book: str, source: str, source_sha256: str, options: BuildOptions | None = None) -> Manuscript:
    options = options or BuildOptions()
    warnings = list(raw.warnings)
    blocks = _drop_toc(raw.blocks, warnings)
    # Passages with no evidence either way take the language most of the document is in.
    langs = [detect_language(b.text, default="") for b in blocks]
    decided = [lang for lang in langs if lang]
    # A tie goes to Persian, the manuscripts' language (never to set order: that varies per run).
    main_lang = max(sorted(set(decided)), key=lambda lang: (decided.count(lang), lang == "fa")) if decided else "fa"
    prepared = [_prepare(b, lang or main_lang) for b, lang in zip(blocks, langs)]
    _refine_kinds(prepared, [lang == "ar" != main_lang for lang in langs])
    starts = _chapter_starts(prepared, warnings)
    chapters = _assemble_chapters(prepared, starts)
    images = _collect_images(raw, chapters)
    _describe_images(raw, chapters, main_lang, raw.metadata.pop("descriptions", None) or {}, warnings)
    _attach_footnotes(raw, chapters, warnings, main_lang)
    _segment_book(chapters, options)
    metadata = dict(raw.metadata)
    if not metadata.get("title"):
        titles = [p.text for p in prepared if p.block.kind == "title" and p.text]
        if titles:
            metadata["title"] = titles[0]
    return Manuscript(
        book=book,
        source=source,
        source_sha256=source_sha256,
        metadata=metadata,
        chapters=chapters,
        images=images,
        tables=raw.tables,
        warnings=warnings,
        provenance={
            "tarjoman": __version__,
            "segmenter": SEGMENTER_VERSION,
            "max_tokens": str(options.max_tokens),
        },
    )


def _drop_toc(blocks: list[Block], warnings: list[str]) -> list[Block]:
    """Leave out table-of-contents lines: marked by the reader, or a run of «title …… page» lines."""
    toc = [b.kind == "toc" for b in blocks]
    entry = [looks_like_toc_entry(b.text) for b in blocks]
    for i, b in enumerate(blocks):
        neighbours = (i > 0 and entry[i - 1]) or (i + 1 < len(blocks) and entry[i + 1])
        if entry[i] and neighbours:
            toc[i] = True
    # A «فهرست» heading followed (past empty lines) by TOC lines belongs to the TOC.
    for i, b in enumerate(blocks):
        if not toc[i] and len(b.text) < 80 and is_toc_title(normalize(b.text)):
            j = i + 1
            while j < len(blocks) and not blocks[j].text.strip() and not toc[j]:
                j += 1
            if j < len(blocks) and toc[j]:
                toc[i] = True
    dropped = sum(toc)
    if dropped:
        warnings.append(f"table of contents left out: {dropped} paragraphs (it is rebuilt in the ebook)")
    return [b for b, t in zip(blocks, toc) if not t]


def _prepare(block: Block, lang: str) -> _Prepared:
    verse = block.kind == "verse"
    text = normalize(block.text, lang=lang, repair_zwnj=not verse)
    offsets = []
    while NOTE_MARK in text:
        at = text.index(NOTE_MARK)
        offsets.append(at)
        text = text[:at] + text[at + 1:]
    # A mark that normalisation could not keep (it never drops one) would misplace notes silently.
    offsets += [len(text)] * (len(block.notes) - len(offsets))
    return _Prepared(block, text.strip(), lang, offsets[: len(block.notes)])


def _refine_kinds(prepared: list[_Prepared], foreign_arabic: list[bool]) -> None:
    """Kinds that need the text: verse laid out with tabs, captions after figures, Arabic quotations."""
    previous_figure = False
    for p, arabic in zip(prepared, foreign_arabic):
        b = p.block
        if b.kind == "body" and "\t" in b.text:
            halves = [h.strip() for h in re.split(r"\t+", b.text) if h.strip()]
            if 2 <= len(halves) <= 4 and all(1 <= len(h.split()) <= 9 and not h.endswith(".") for h in halves):
                b.kind = "verse"
                p.text = "\n".join(normalize(h, lang=p.lang, repair_zwnj=False) for h in halves)
        if b.kind == "body" and previous_figure and p.text and len(p.text.split()) <= 30 and (_CAPTION_START.match(p.text) or b.centered):
            b.kind = "caption"
        if b.kind == "body" and arabic and p.text:
            b.kind = "quotation"
        if p.text or b.images:
            previous_figure = bool(b.images) and not p.text


def _chapter_starts(prepared: list[_Prepared], warnings: list[str]) -> list[int]:
    styled = [i for i, p in enumerate(prepared) if p.block.level == 1 and p.text]
    if styled:
        return styled
    candidates = [i for i, p in enumerate(prepared) if p.block.kind in ("body", "heading", "quotation") and p.text and not p.block.cell]
    # Chapter lines are read from the raw text: its runs of spaces separate title fields.
    lines = find_chapter_lines([normalize_letters(prepared[i].block.text.replace(NOTE_MARK, "")) for i in candidates])
    if lines:
        starts = [candidates[i] for i in lines]
        warnings.append(f"no chapter heading styles: {len(starts)} chapters found from lines such as «{prepared[starts[0]].text[:60]}»")
        return starts
    warnings.append("no chapters found (no Heading 1 or chapter style, no «فصل …» lines): the whole text is one chapter")
    return []


def _paragraph(p: _Prepared, kind: str | None = None) -> Paragraph:
    b = p.block
    return Paragraph(
        kind=kind or ("heading" if b.kind == "title" else b.kind),
        text=p.text,
        original=b.text.replace(NOTE_MARK, ""),
        where=b.where,
        style=b.style,
        level=0 if b.kind == "title" else b.level,
        lang=p.lang,
        notes=[NoteRef(fid, off) for fid, off in zip(b.notes, p.offsets)],
        images=list(b.images),
        cell=b.cell,
    )


def _assemble_chapters(prepared: list[_Prepared], starts: list[int]) -> list[Chapter]:
    chapters: list[Chapter] = []
    bounds = starts + [len(prepared)]
    front = prepared[: starts[0]] if starts else []
    if not starts:
        chapters.append(Chapter(id="ch01", kind="chapter", title=None, paragraphs=_paragraphs(prepared)))
        return chapters
    front_paragraphs = _paragraphs(front)
    if front_paragraphs:
        chapters.append(Chapter(id="ch00", kind="front", title=None, paragraphs=front_paragraphs))
    for n, (a, b) in enumerate(zip(bounds, bounds[1:]), start=1):
        head = prepared[a]
        title = _paragraph(head, "heading")
        title.level = 1
        if title.text.startswith("«") and title.text.endswith("»") and title.text.count("«") == 1:
            title.text = title.text[1:-1].strip()  # «فصل سوم»: the guillemets frame the line, they are not a quotation
        chapters.append(Chapter(id=f"ch{n:02d}", kind="chapter", title=title, paragraphs=_paragraphs(prepared[a + 1:b])))
    return chapters


def _paragraphs(prepared: list[_Prepared]) -> list[Paragraph]:
    out = []
    for p in prepared:
        if not p.text and not p.block.images:
            continue
        kind = "figure" if p.block.images and not p.text else None
        out.append(_paragraph(p, kind))
    return out


def _collect_images(raw: RawDocument, chapters: list[Chapter]) -> list[Image]:
    """Images in reading order, each with the caption paragraph that follows it, if any."""
    images: dict[str, Image] = {}
    for chapter in chapters:
        paragraphs = chapter.paragraphs
        for i, paragraph in enumerate(paragraphs):
            for image_id in paragraph.images:
                if image_id in images or image_id not in raw.images:
                    continue
                data = raw.images[image_id]
                caption = ""
                if i + 1 < len(paragraphs) and paragraphs[i + 1].kind == "caption":
                    caption = paragraphs[i + 1].text  # (image descriptions are put between them afterwards)
                images[image_id] = Image(
                    id=image_id,
                    file=f"images/{image_id}.{data.extension}",
                    media_type=data.media_type,
                    bytes=len(data.data),
                    alt=data.alt,
                    caption=caption,
                    where=data.where,
                )
    return list(images.values())


_FILE_NAME = re.compile(r"^[\w\-. ]+\.(png|jpe?g|gif|bmp|tiff?|emf|wmf|svg|webp)$", re.IGNORECASE)


def _describe_images(raw: RawDocument, chapters: list[Chapter], main_lang: str, written: dict[str, str], warnings: list[str]) -> None:
    """Each image's description (Word's alt text) as a paragraph of kind ``alt`` right after the
    paragraph that holds the image: it is translated and reviewed like any sentence, and each
    edition gives the image its description in the edition's language. A description that is only
    a file name (what Word puts there by itself) is none; one that repeats the caption word for word
    (Markdown's ``![caption](file)``) is the caption, translated once.

    ``written`` holds the descriptions an editor wrote in ``sources/<book>.yaml`` (``descriptions:``,
    image id → Persian text), for images the manuscript leaves undescribed; they win over Word's."""
    placed = {image_id for chapter in chapters for paragraph in chapter.paragraphs for image_id in paragraph.images}
    for image_id in sorted(set(written) - placed):
        warnings.append(f"descriptions: no image {image_id} in the manuscript (its images: {', '.join(sorted(placed)) or 'none'})")
    for chapter in chapters:
        described: list[Paragraph] = []
        for i, paragraph in enumerate(chapter.paragraphs):
            described.append(paragraph)
            if paragraph.kind == "alt":
                continue
            following = chapter.paragraphs[i + 1] if i + 1 < len(chapter.paragraphs) else None
            caption = following.text if following is not None and following.kind == "caption" else None
            for image_id in paragraph.images:
                data = raw.images.get(image_id)
                alt = (written.get(image_id) or (data.alt if data else "")).strip()
                if not alt or _FILE_NAME.match(alt):
                    continue
                lang = detect_language(alt, default=main_lang) or main_lang
                if caption is not None and normalize(alt, lang=lang) == caption:
                    continue
                described.append(Paragraph(kind="alt", text=normalize(alt, lang=lang), original=alt,
                                           where=f"{paragraph.where}, description of image {image_id}",
                                           lang=lang, images=[image_id]))
        chapter.paragraphs = described


def caption_describes(image: Image) -> bool:
    """The image's alt text is its caption word for word: the caption is its description."""
    return bool(image.alt.strip()) and normalize(image.alt) == normalize(image.caption)


def image_descriptions(manuscript: Manuscript) -> set[str]:
    """IDs of the images the manuscript describes: by a description paragraph, or by a caption
    that is the alt text word for word."""
    described = {image_id for chapter in manuscript.chapters for paragraph in chapter.paragraphs if paragraph.kind == "alt"
                 for image_id in paragraph.images}
    return described | {image.id for image in manuscript.images if caption_describes(image)}


def _attach_footnotes(raw: RawDocument, chapters: list[Chapter], warnings: list[str], main_lang: str) -> None:
    """Give each chapter the notes referenced in it, numbered ``fn1``… in reading order."""
    seen: set[str] = set()
    for chapter in chapters:
        for paragraph in chapter.all_paragraphs():
            for ref in paragraph.notes:
                if ref.footnote in seen or ref.footnote not in raw.notes:
                    continue
                seen.add(ref.footnote)
                note = raw.notes[ref.footnote]
                body = [_prepare(b, detect_language(b.text, default=main_lang) or main_lang) for b in note.blocks]
                chapter.footnotes.append(
                    Footnote(id=ref.footnote, mark=note.mark, kind=note.kind, paragraphs=_paragraphs(body))
                )
                for p in chapter.footnotes[-1].paragraphs:
                    p.kind = "footnote"
    missing = {ref.footnote for c in chapters for p in c.all_paragraphs() for ref in p.notes} - set(raw.notes)
    if missing:
        warnings.append(f"{len(missing)} footnote references point to no footnote text: {', '.join(sorted(missing))}")
    orphans = [nid for nid in raw.notes if nid not in seen]
    if orphans and chapters:
        last = chapters[-1]
        for nid in orphans:
            note = raw.notes[nid]
            paragraphs = _paragraphs([_prepare(b, detect_language(b.text, default=main_lang) or main_lang) for b in note.blocks])
            for p in paragraphs:
                p.kind = "footnote"
            last.footnotes.append(Footnote(id=nid, mark=note.mark, kind=note.kind, paragraphs=paragraphs))
        warnings.append(f"{len(orphans)} footnotes are never referenced in the text; kept at the end of {last.id}")


def _segment_book(chapters: list[Chapter], options: BuildOptions) -> None:
    """Cut every paragraph into segments; IDs come from the text, repeats numbered in reading order."""
    used: dict[str, int] = {}

    def unique(base: str) -> str:
        used[base] = used.get(base, 0) + 1
        return base if used[base] == 1 else f"{base}-{used[base]}"

    for chapter in chapters:
        for paragraph in chapter.all_paragraphs():
            if not paragraph.text:
                continue
            if paragraph.kind == "verse":
                # A couplet is translated whole: its hemistichs make sense only together.
                pieces = [(0, len(paragraph.text), None)]
            else:
                sentences = split_sentences(paragraph.text, max_tokens=options.max_tokens, count_tokens=options.count_tokens)
                pieces = [(s.start, s.end, s) for s in sentences]
            sentence_ids: dict[int, str] = {}
            segments = []
            for start, end, sentence in pieces:
                text = paragraph.text[start:end]
                split = None
                if sentence is not None and sentence.parts > 1:
                    if sentence.sentence not in sentence_ids:
                        whole_end = max(e for s, e, x in pieces if x is not None and x.sentence == sentence.sentence)
                        sentence_ids[sentence.sentence] = unique(content_id(paragraph.text[start:whole_end], "w"))
                    split = Split(sentence_ids[sentence.sentence], sentence.part, sentence.parts, sentence.joiner)
                lang = detect_language(text, default=paragraph.lang) or paragraph.lang
                segments.append((start, Segment(id=unique(content_id(text)), text=text, lang=lang, split=split)))
            for ref in paragraph.notes:
                # A reference goes with the text before it (a mark after a full stop
                # and before the next sentence belongs to the sentence that ended).
                before = [(s, seg) for s, seg in segments if s < ref.offset] or segments[:1]
                start, segment = before[-1]
                segment.notes.append(NoteRef(ref.footnote, min(max(ref.offset - start, 0), len(segment.text))))
            paragraph.segments = [seg for _, seg in segments]
