"""What a reader hands the builder: a document as a flat list of blocks.

Each reader (Word, Markdown/plain text) knows its file format and nothing of
chapters or sentences; it produces a :class:`RawDocument`. The builder
(:mod:`.build`) turns that into a :class:`~.model.Manuscript`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ManuscriptError


def read_source(path: Path) -> bytes:
    """A manuscript's bytes, or a :class:`ManuscriptError` that says why not."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise ManuscriptError("manuscript not found", path=path) from None
    except IsADirectoryError:
        raise ManuscriptError("is a folder, not a manuscript file", path=path) from None
    except OSError as exc:
        raise ManuscriptError(f"cannot be read: {exc.strerror}", path=path) from exc


@dataclass
class Block:
    """One paragraph as written.

    ``text`` is raw (not normalised); each footnote reference in it is a
    :data:`tarjoman.text.NOTE_MARK`, and ``notes`` names them in order.
    ``kind`` is the reader's best knowledge (``toc`` for table-of-contents lines,
    ``title`` for the document title); ``level`` is a heading level, 1 for a
    chapter heading.
    """

    text: str
    where: str
    kind: str = "body"
    level: int | None = None
    style: str = ""
    notes: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    centered: bool = False
    cell: list[int] | None = None


@dataclass
class RawNote:
    mark: str
    kind: str  # footnote or endnote
    blocks: list[Block]


@dataclass
class RawImage:
    id: str
    data: bytes
    media_type: str
    extension: str
    alt: str = ""
    where: str = ""


@dataclass
class RawDocument:
    blocks: list[Block]
    notes: dict[str, RawNote] = field(default_factory=dict)
    images: dict[str, RawImage] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    tables: int = 0
    warnings: list[str] = field(default_factory=list)
