"""Manuscripts: read a Word (or Markdown/plain-text) file into a :class:`Manuscript` and save it.

    >>> from tarjoman.manuscript import extract
    >>> manuscript = extract(Path("sources/sample.docx"), Project(Path(".")))
    >>> manuscript.summary()["chapters"]
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from ..errors import ManuscriptError, ProjectError
from ..files import ensure_room, write_atomic
from ..project import Project, check_slug, slug_from_path
from .blocks import RawDocument
from .build import BuildOptions, build_manuscript
from .model import Chapter, Footnote, Image, Manuscript, NoteRef, Paragraph, Segment, Split, Unit, load_manuscript

__all__ = [
    "BuildOptions", "Chapter", "Footnote", "Image", "Manuscript", "NoteRef", "Paragraph", "Segment", "Split", "Unit",
    "extract", "load_manuscript", "read_manuscript", "read_metadata_file",
]

PLAIN_SUFFIXES = {".md", ".markdown", ".txt"}


def _read_raw(source: Path) -> RawDocument:
    if source.suffix.lower() in PLAIN_SUFFIXES:
        from .plaintext import read_plaintext

        return read_plaintext(source)
    from .docx import read_docx

    return read_docx(source)


def read_metadata_file(path: Path) -> dict:
    """Book metadata from ``sources/<book>.yaml`` (title, subtitle, author, translators, …)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ProjectError("is not UTF-8 text", path=path) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else None
        raise ProjectError(f"is not valid YAML ({getattr(exc, 'problem', None) or exc})", path=path, where=where) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ProjectError("must be a mapping of names to values (title: …, author: …)", path=path, where="line 1")
    descriptions = data.get("descriptions")
    if descriptions is not None and not (isinstance(descriptions, dict)
                                         and all(isinstance(k, str) and isinstance(v, str) for k, v in descriptions.items())):
        raise ProjectError("descriptions: must map image ids to their description (img-…: the Persian text)", path=path, where="descriptions")
    if "targets" in data:
        data["targets"] = _targets(data["targets"], path)
    if data.get("llm") is not None:
        from ..engines.llm import checked_mapping

        data["llm"] = checked_mapping(data["llm"], path)
    return data


def _targets(value, path: Path) -> list[str]:
    """``targets: [id, ms, zh-Hans]`` (or ``"id, ms"``): the book's target languages, as canonical codes."""
    from ..languages import UnknownLanguage, parse_targets

    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = ",".join(value)
    if not isinstance(value, str) or not value.strip() or value.strip() == "all":
        raise ProjectError("targets: must list the book's target languages (targets: [ar, en, id, zh-Hans])", path=path, where="targets")
    try:
        return parse_targets(value, "translate this book into")
    except UnknownLanguage as exc:
        raise ProjectError(str(exc), path=path, where="targets") from None


def read_manuscript(
    source: Path,
    *,
    book: str,
    metadata: dict | None = None,
    options: BuildOptions | None = None,
) -> tuple[Manuscript, dict[str, bytes]]:
    """Read ``source`` into a manuscript; returns it with the image files to save beside it."""
    source = Path(source)
    raw = _read_raw(source)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    if metadata:
        raw.metadata.update(metadata)
    raw.metadata.setdefault("language", "fa")
    manuscript = build_manuscript(raw, book=book, source=source.name, source_sha256=digest, options=options)
    if not any(True for _ in manuscript.segments()):
        raise ManuscriptError("contains no text to translate (an empty document, or only images)", path=source)
    files = {image.file: raw.images[image.id].data for image in manuscript.images}
    return manuscript, files


def extract(source: Path, project: Project, *, book: str | None = None, options: BuildOptions | None = None) -> Manuscript:
    """Read ``source`` and write ``outputs/<book>/manuscript.json`` and its images.

    Nothing is written unless the whole manuscript was read.
    """
    source = Path(source)
    slug = check_slug(book) if book else slug_from_path(source)
    metadata, covers, named_by = {}, {}, None
    for candidate in (project.sources / f"{slug}.yaml", source.parent / f"{slug}.yaml", source.with_suffix(".yaml")):
        if candidate.is_file():
            metadata, named_by = read_metadata_file(candidate), candidate
            break
    if metadata:
        from ..cover import import_covers
        from ..pdf import page_setup

        page_setup(metadata, named_by)  # a wrong page size is refused now, not when the book is printed
        metadata = import_covers(metadata, named_by, covers)  # the cover images, checked, kept beside the book
    manuscript, files = read_manuscript(source, book=slug, metadata=metadata, options=options)
    files.update(covers)
    from ..book import book_lock

    folder = project.book_dir(slug)
    text = manuscript.to_json() + "\n"
    ensure_room(folder, len(text.encode("utf-8")) + sum(len(data) for data in files.values()), f"write the extracted {slug}")
    # The book lock: a draft running now reads this book's manuscript and writes its review files.
    with book_lock(folder, "extracting its manuscript again"):
        for name, data in files.items():
            target = folder / name
            if not (target.is_file() and target.stat().st_size == len(data)):
                write_atomic(target, data)
        write_atomic(folder / "manuscript.json", text)
    return manuscript
