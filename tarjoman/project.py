"""Where a book's files live: ``sources/``, ``glossaries/``, ``outputs/<book>/`` under a project root."""

from __future__ import annotations

import getpass
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import ProjectError

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# Names the project itself uses beside the books' own files.
RESERVED = {"common": "glossaries/common.csv is the glossary of every book, not of one"}


def check_slug(slug: str) -> str:
    """A book slug names folders; it may not climb out of ``outputs/`` or hide."""
    if not _SLUG.match(slug):
        raise ProjectError(
            f"book name {slug!r} is not allowed: use 1–64 lowercase ASCII letters, digits, '-' or '_', starting with a letter or digit"
        )
    if slug in RESERVED:
        raise ProjectError(f"book name {slug!r} is not allowed: {RESERVED[slug]}; give another with --book (e.g. --book {slug}-memoir)")
    return slug


def slug_from_path(path: Path) -> str:
    """A slug from a manuscript's file name (``My Memoir.docx`` → ``my-memoir``); Persian names give ``book``."""
    ascii_name = unicodedata.normalize("NFKD", path.stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64].strip("-")
    return slug or "book"


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def sources(self) -> Path:
        return self.root / "sources"

    @property
    def glossaries(self) -> Path:
        return self.root / "glossaries"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    def book_dir(self, book: str) -> Path:
        return self.outputs / check_slug(book)

    def book_metadata(self, book: str) -> dict:
        """The extracted book's metadata (its YAML's keys, checked at extract); {} when there is none."""
        import json

        try:
            with open(self.manuscript_path(book), encoding="utf-8") as handle:
                metadata = json.load(handle).get("metadata", {})
        except (OSError, ValueError, AttributeError):
            return {}
        return metadata if isinstance(metadata, dict) else {}

    def book_targets(self, book: str) -> list[str] | None:
        """The target languages the book's YAML names (``targets:``, checked at extract), or None."""
        targets = self.book_metadata(book).get("targets")
        return list(targets) if isinstance(targets, list) and targets else None

    def manuscript_path(self, book: str) -> Path:
        return self.book_dir(book) / "manuscript.json"


def login_name() -> str:
    """Who runs the command, for the history; a container's user may have no name (getpass raises)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"
