"""The book model: what a manuscript becomes, and what every later stage reads.

Plain dataclasses, saved as ``outputs/<book>/manuscript.json``. IDs:

* ``Segment.id`` is derived from the segment's text (``s`` + 10 hex digits, ``-2``,
  ``-3``… for repeats in reading order), so a sentence keeps its ID when the
  manuscript is revised anywhere else and approved work can follow it.
* ``Chapter.id`` is positional (``ch00`` for front matter, then ``ch01``…).
* ``Footnote.id`` and ``Image.id`` are ``fn<n>`` in reading order and
  ``img-<sha256 prefix>`` of the image bytes.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Iterator

from ..errors import ManuscriptError

FORMAT_VERSION = 1

@dataclass
class Split:
    """Where a segment sits in a sentence that was cut for length: join parts in
    ``index`` order, each followed by its ``joiner``."""

    sentence: str
    index: int
    count: int
    joiner: str


@dataclass
class NoteRef:
    """A footnote reference at ``offset`` characters into the text that holds it."""

    footnote: str
    offset: int


@dataclass
class Segment:
    id: str
    text: str
    lang: str = "fa"
    notes: list[NoteRef] = field(default_factory=list)
    split: Split | None = None


@dataclass
class Paragraph:
    kind: str
    text: str
    original: str
    where: str
    segments: list[Segment] = field(default_factory=list)
    style: str = ""
    level: int | None = None
    lang: str = "fa"
    notes: list[NoteRef] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    cell: list[int] | None = None


@dataclass
class Footnote:
    id: str
    mark: str
    paragraphs: list[Paragraph]
    kind: str = "footnote"  # or "endnote"


@dataclass
class Image:
    id: str
    file: str
    media_type: str
    bytes: int
    alt: str = ""
    caption: str = ""
    where: str = ""


@dataclass
class Unit:
    """What a translator reviews: a whole sentence. Usually one segment; the parts of a
    sentence cut for length are drafted separately and joined back here."""

    id: str
    chapter: str
    kind: str
    where: str
    parts: list[Segment]
    context: str  # the paragraph the sentence stands in

    @property
    def text(self) -> str:
        return "".join(p.text + (p.split.joiner if p.split else "") for p in self.parts)

    @property
    def lang(self) -> str:
        return self.parts[0].lang


@dataclass
class Chapter:
    id: str
    kind: str  # "chapter" or "front" (what precedes the first chapter)
    title: Paragraph | None = None
    paragraphs: list[Paragraph] = field(default_factory=list)
    footnotes: list[Footnote] = field(default_factory=list)

    def segments(self) -> Iterator[Segment]:
        """Every segment in reading order: title, paragraphs, then footnotes."""
        for paragraph in self.all_paragraphs():
            yield from paragraph.segments

    def units(self) -> Iterator[Unit]:
        """Review units in reading order: one per sentence, split parts joined."""
        for paragraph in self.all_paragraphs():
            yield from self.paragraph_units(paragraph)

    def paragraph_units(self, paragraph: Paragraph) -> list[Unit]:
        units: list[Unit] = []
        for segment in paragraph.segments:
            if segment.split and units and units[-1].id == segment.split.sentence:
                units[-1].parts.append(segment)
                continue
            unit_id = segment.split.sentence if segment.split else segment.id
            units.append(Unit(unit_id, self.id, paragraph.kind, paragraph.where, [segment], paragraph.text))
        return units

    def all_paragraphs(self) -> Iterator[Paragraph]:
        if self.title:
            yield self.title
        yield from self.paragraphs
        for note in self.footnotes:
            yield from note.paragraphs


@dataclass
class Manuscript:
    book: str
    source: str
    source_sha256: str
    metadata: dict[str, Any]
    chapters: list[Chapter]
    images: list[Image]
    tables: int
    warnings: list[str]
    provenance: dict[str, str]
    format: int = FORMAT_VERSION

    def segments(self) -> Iterator[Segment]:
        for chapter in self.chapters:
            yield from chapter.segments()

    def summary(self) -> dict[str, Any]:
        """The extraction report: counts a person or a script can check."""
        from ..text import significant_characters

        chapters = [c for c in self.chapters if c.kind == "chapter"]
        segments = list(self.segments())
        return {
            "book": self.book,
            "source": self.source,
            "title": self.metadata.get("title", ""),
            "chapters": len(chapters),
            "front_matter": any(c.kind == "front" for c in self.chapters),
            "paragraphs": sum(1 for c in self.chapters for p in c.paragraphs if p.segments),
            "segments": len(segments),
            "split_segments": sum(1 for s in segments if s.split),
            "footnotes": sum(len(c.footnotes) for c in self.chapters),
            "images": len(self.images),
            "captions": sum(1 for i in self.images if i.caption),
            "tables": self.tables,
            "characters": sum(significant_characters(s.text) for s in segments),
            "languages": _count_by(s.lang for s in segments),
            "kinds": _count_by(p.kind for c in self.chapters for p in c.all_paragraphs() if p.segments or p.images),
            "chapter_titles": [c.title.text if c.title else "" for c in chapters],
            "warnings": list(self.warnings),
        }

    def to_json(self) -> str:
        return json.dumps(_drop_empty(asdict(self)), ensure_ascii=False, indent=1, default=str)


def _count_by(values: Iterator[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def _drop_empty(value: Any) -> Any:
    """Leave out ``None`` and empty lists in nested dicts, to keep the manifest readable."""
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value


def _build(cls: type, data: dict[str, Any]) -> Any:
    kwargs = {}
    for f in fields(cls):
        if f.name not in data:
            # The manifest leaves out empty lists and nulls; required ones come back here.
            if f.default is MISSING and f.default_factory is MISSING:
                kwargs[f.name] = [] if str(f.type).startswith("list") else None
            continue
        value = data[f.name]
        kwargs[f.name] = _NESTED.get((cls.__name__, f.name), lambda v: v)(value)
    return cls(**kwargs)


_NESTED: dict[tuple[str, str], Any] = {
    ("Segment", "notes"): lambda v: [_build(NoteRef, n) for n in v],
    ("Segment", "split"): lambda v: _build(Split, v),
    ("Paragraph", "segments"): lambda v: [_build(Segment, s) for s in v],
    ("Paragraph", "notes"): lambda v: [_build(NoteRef, n) for n in v],
    ("Footnote", "paragraphs"): lambda v: [_build(Paragraph, p) for p in v],
    ("Chapter", "title"): lambda v: _build(Paragraph, v),
    ("Chapter", "paragraphs"): lambda v: [_build(Paragraph, p) for p in v],
    ("Chapter", "footnotes"): lambda v: [_build(Footnote, n) for n in v],
    ("Manuscript", "chapters"): lambda v: [_build(Chapter, c) for c in v],
    ("Manuscript", "images"): lambda v: [_build(Image, i) for i in v],
}


def load_manuscript(path: Path) -> Manuscript:
    """Read a ``manuscript.json`` written by extraction."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManuscriptError("no extracted manuscript here; run `tarjoman extract` first", path=path) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManuscriptError(f"cannot read the extracted manuscript ({exc}); run `tarjoman extract` again", path=path) from exc
    if data.get("format") != FORMAT_VERSION:
        raise ManuscriptError(f"written by another version of tarjoman (format {data.get('format')}); run `tarjoman extract` again", path=path)
    return _build(Manuscript, data)
