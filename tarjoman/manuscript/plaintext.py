"""Markdown and plain-text manuscripts → :class:`RawDocument`.

Paragraphs are separated by blank lines. ``#`` headings are chapters (``##``
and deeper are sub-headings); ``> `` lines are quotations; ``- ``, ``* `` and
``1. `` lines are list items; ``[^n]`` references with ``[^n]: text``
definitions are footnotes; ``![caption](file)`` embeds an image from beside the
manuscript. A paragraph of two to four short lines with no full stop is verse.
A YAML front-matter block (``---`` … ``---``) supplies metadata. Inline HTML
tags are removed, their text kept.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from pathlib import Path

import yaml

from ..errors import ManuscriptError
from ..text import NOTE_MARK
from .blocks import Block, RawDocument, RawImage, RawNote, read_source

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)]|[۰-۹]+[.)])\s+")
_NOTE_DEF = re.compile(r"^\[\^([^\]]+)\]:\s?(.*)$")
_NOTE_REF = re.compile(r"\[\^([^\]]+)\]")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HTML_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")


def decode_text(data: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; anything else is refused with the line it fails on."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ManuscriptError(f"is not UTF-8 text (byte {exc.start}); save it as UTF-8", path=path, where=f"line {line}") from exc


def read_plaintext(path: Path) -> RawDocument:
    data = read_source(path)
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ManuscriptError("is a binary file, not text", path=path)
    text = decode_text(data, path)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    metadata, start = _front_matter(lines, path)
    return _Reader(path, lines, start, metadata).read()


def _front_matter(lines: list[str], path: Path) -> tuple[dict, int]:
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            try:
                data = yaml.safe_load("\n".join(lines[1:end])) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f"line {mark.line + 2}" if mark else None
                raise ManuscriptError(f"front matter is not valid YAML ({getattr(exc, 'problem', exc)})", path=path, where=where) from exc
            if not isinstance(data, dict):
                raise ManuscriptError("front matter must be a mapping of names to values", path=path, where="line 2")
            return {str(k): v for k, v in data.items() if isinstance(v, (str, int, float))}, end + 1
    return {}, 0


class _Reader:
    def __init__(self, path: Path, lines: list[str], start: int, metadata: dict):
        self.path = path
        self.lines = lines
        self.start = start
        self.metadata = metadata
        self.blocks: list[Block] = []
        self.images: dict[str, RawImage] = {}
        self.warnings: list[str] = []
        self.stripped_tags = 0

    def read(self) -> RawDocument:
        definitions: dict[str, tuple[int, str]] = {}
        body: list[tuple[int, str]] = []
        for n, line in enumerate(self.lines[self.start:], start=self.start + 1):
            match = _NOTE_DEF.match(line)
            if match:
                definitions[match.group(1)] = (n, match.group(2))
            else:
                body.append((n, line))
        refs: dict[str, str] = {}
        for first, chunk in _paragraph_chunks(body):
            self._chunk(first, chunk, refs)
        notes = {}
        for label, nid in refs.items():
            if label in definitions:
                n, text = definitions[label]
                notes[nid] = RawNote(mark=label, kind="footnote", blocks=[Block(text=self._inline(text), where=f"line {n}", kind="footnote")])
        unused = [label for label in definitions if label not in refs]
        for label in unused:
            n, text = definitions[label]
            nid = f"fn{len(refs) + 1}"
            refs[label] = nid
            notes[nid] = RawNote(mark=label, kind="footnote", blocks=[Block(text=self._inline(text), where=f"line {n}", kind="footnote")])
        if self.stripped_tags:
            self.warnings.append(f"{self.stripped_tags} inline HTML tags removed (their text kept)")
        return RawDocument(blocks=self.blocks, notes=notes, images=self.images, metadata=self.metadata, warnings=self.warnings)

    def _chunk(self, first: int, chunk: list[str], refs: dict[str, str]) -> None:
        where = f"line {first}"
        heading = _HEADING.match(chunk[0])
        if heading and len(chunk) == 1:
            level = len(heading.group(1))
            self._add(Block(text=heading.group(2), where=where, kind="heading", level=level), refs)
            return
        if all(line.lstrip().startswith(">") for line in chunk):
            text = " ".join(line.lstrip()[1:].strip() for line in chunk)
            self._add(Block(text=text, where=where, kind="quotation"), refs)
            return
        if all(_LIST.match(line) for line in chunk):
            for offset, line in enumerate(chunk):
                self._add(Block(text=_LIST.sub("", line, count=1), where=f"line {first + offset}", kind="list_item"), refs)
            return
        images = []
        for line in chunk:
            for alt, target in _IMAGE.findall(line):
                images.append((alt, target))
        text_lines = [_IMAGE.sub("", line).strip() for line in chunk]
        text_lines = [line for line in text_lines if line]
        if images:
            ids = [i for i in (self._image(target, alt, where) for alt, target in images) if i]
            self.blocks.append(Block(text="", where=where, kind="body", images=ids))
            for alt, _ in images[:1]:
                if alt and not text_lines:
                    self._add(Block(text=alt, where=where, kind="caption"), refs)
        if not text_lines:
            return
        if 2 <= len(text_lines) <= 4 and all(len(line.split()) <= 10 and not line.rstrip().endswith((".", "؟", "?", "!", ":")) for line in text_lines):
            self._add(Block(text="\n".join(text_lines), where=where, kind="verse"), refs)
            return
        self._add(Block(text=" ".join(text_lines), where=where), refs)

    def _add(self, block: Block, refs: dict[str, str]) -> None:
        text = self._inline(block.text)

        def mark(match: re.Match) -> str:
            label = match.group(1)
            if label not in refs:
                refs[label] = f"fn{len(refs) + 1}"
            block.notes.append(refs[label])
            return NOTE_MARK

        block.text = _NOTE_REF.sub(mark, text)
        self.blocks.append(block)

    def _inline(self, text: str) -> str:
        if _HTML_IMG.search(text):
            self.warnings.append(f"HTML <img> left out: {_HTML_IMG.search(text).group()[:80]}")
            text = _HTML_IMG.sub("", text)
        tags = _TAG.findall(text)
        if tags:
            self.stripped_tags += len(tags)
            text = _TAG.sub("", text)
        text = _LINK.sub(r"\1", text)
        return _EMPHASIS.sub(r"\2", text)

    def _image(self, target: str, alt: str, where: str) -> str | None:
        if re.match(r"^[a-z]+://", target):
            self.warnings.append(f"{where}: remote image {target} left out (only files beside the manuscript are read)")
            return None
        file = (self.path.parent / target).resolve()
        if not file.is_relative_to(self.path.parent.resolve()) or not file.is_file():
            self.warnings.append(f"{where}: image {target} not found beside the manuscript; left out")
            return None
        data = file.read_bytes()
        image_id = f"img-{hashlib.sha256(data).hexdigest()[:12]}"
        media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        self.images.setdefault(image_id, RawImage(image_id, data, media_type, file.suffix.lstrip(".").lower() or "bin", alt, where))
        return image_id


def _paragraph_chunks(lines: list[tuple[int, str]]):
    """Runs of non-blank lines; a heading line is a chunk on its own."""
    chunk: list[str] = []
    first = 0
    for n, line in lines:
        if not line.strip():
            if chunk:
                yield first, chunk
            chunk = []
            continue
        if _HEADING.match(line):
            if chunk:
                yield first, chunk
            yield n, [line]
            chunk = []
            continue
        if not chunk:
            first = n
        chunk.append(line)
    if chunk:
        yield first, chunk
