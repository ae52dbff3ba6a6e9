"""Every error Tarjoman raises on purpose.

The tree::

    TarjomanError                 anything the user can act on; the CLI prints it on one line, exits 1
    ├── ManuscriptError           a source manuscript cannot be read (missing, corrupt, encrypted,
    │                             old .doc, empty, too large when unpacked)
    ├── ProjectError              the project layout or a name in it is wrong (bad book slug, a path
    │                             that would escape outputs/, a metadata file that cannot be read)
    ├── EngineError               a translation model cannot be loaded or used
    ├── GlossaryError             a glossary CSV or TBX file is invalid
    ├── ReviewFileError           a PO/POT file is malformed or was edited where it must not be
    ├── StoreError                the review store cannot be opened or refuses a change
    ├── MemoryFileError           a translation memory file (TMX) is malformed, hostile or in other languages
    └── EpubError                 an ebook cannot be built

Third-party exceptions are translated at the one module that uses the library
(``raise ManuscriptError(...) from exc``), so callers only ever see this tree.
A message names the file (and paragraph, line or segment where there is one)
and, where it can, the next step.
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Problem:
    """One problem found in a file that is reported with others (review import, glossary check), not raised."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


class TarjomanError(Exception):
    """Base class: a problem the user can fix; never a bug."""

    def __init__(self, message: str, *, path: str | Path | None = None, where: str | None = None):
        self.path = str(path) if path is not None else None
        self.where = where
        self.detail = message
        super().__init__(self._format())

    def _format(self) -> str:
        prefix = ""
        if self.path:
            prefix = self.path
            if self.where:
                prefix += f" ({self.where})"
            prefix += ": "
        return prefix + self.detail


class ManuscriptError(TarjomanError):
    """A manuscript cannot be read into a book."""


class ProjectError(TarjomanError):
    """The project layout, a book slug or a metadata file is wrong."""


class EngineError(TarjomanError):
    """A translation engine or model cannot be loaded or run."""


class GlossaryError(TarjomanError):
    """A glossary file is invalid."""


class ReviewFileError(TarjomanError):
    """A review file (PO/POT) is invalid."""


class StoreError(TarjomanError):
    """The review store cannot be opened, or a change to it is refused."""


class MemoryFileError(TarjomanError):
    """A translation memory file (TMX) cannot be taken in."""


class EpubError(TarjomanError):
    """An ebook cannot be built."""


# What to do when the system refuses a file: the errno's usual cause on a publisher's machine.
_OS_ADVICE = {
    errno.EROFS: "the file system is read-only; remount it read-write, or give --root a project folder that can be written",
    errno.EACCES: "permission denied; give this user write access to {folder}, or run as the folder's owner",
    errno.EPERM: "the system does not allow it; give this user write access to {folder}, or run as the folder's owner",
    errno.ENOSPC: "no space left on the device; free some space and run the command again",
    errno.EDQUOT: "the disk quota is used up; free some space and run the command again",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n) and run the command again",
    errno.ENAMETOOLONG: "the name is too long for this file system; choose a shorter book name or folder",
}
_TEMPORARY_NAME = re.compile(r"\.(.+)\.\d+\.[0-9a-f]{16}\.tmp")


def os_error_message(exc: OSError) -> str:
    """One line for a refusal of the operating system: the file (the file being replaced, not
    its temporary twin), what the system said, and what to do about it."""
    path = exc.filename if exc.filename is not None else None
    if path is not None:
        path = Path(os.fsdecode(path))
        if (twin := _TEMPORARY_NAME.fullmatch(path.name)) is not None:
            path = path.with_name(twin.group(1))
    advice = _OS_ADVICE.get(exc.errno, exc.strerror or str(exc))
    advice = advice.format(folder=(path if path.is_dir() else path.parent) if path is not None else "the project folder")
    return f"{path}: {advice}" if path is not None else f"the system refused: {advice}"
