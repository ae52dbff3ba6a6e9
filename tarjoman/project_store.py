"""The project's review store, opened for a book: the schema up to date, the book's segments in
line with ``outputs/<book>/manuscript.json``, and, the first time, whatever a previous release
of Tarjoman kept in files imported into it (see :mod:`tarjoman.legacy`).

Every command that reads or changes review state starts here.
"""

from __future__ import annotations

import hashlib
import os
from typing import Callable

from .errors import ManuscriptError
from .manuscript import Manuscript, load_manuscript
from .project import Project, login_name
from .store import Store
from .store.core import book_row
from .store.revision import sync_manuscript


def who_am_i(given: str | None = None) -> str:
    """Who a change is recorded as: given, else $TARJOMAN_USER, else the login name."""
    return given or os.environ.get("TARJOMAN_USER") or login_name()



def open_store(project: Project) -> Store:
    return Store.for_root(project.root)


def open_book(project: Project, book: str, *, before_revision: Callable[[Store], None] | None = None,
              manuscript: bool = True) -> tuple[Store, Manuscript | None]:
    """The store, with ``book`` synced from its manuscript; refuses a book never extracted.
    ``before_revision(store)`` runs first when the manuscript changed since the last sync (to
    take in work done against the previous revision: review files saved since). With
    ``manuscript`` False the manuscript is read only when the store needs it (then None is
    returned in its place): what reads only the store skips parsing it."""
    path = project.manuscript_path(book)
    if not path.is_file():
        raise ManuscriptError(f"book {book!r} has not been extracted; run `tarjoman extract SOURCE --book {book}` first", path=path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    store = open_store(project)
    try:
        with store.read() as session:
            row = book_row(session, book)
            current, imported = (row.manuscript_digest, row.legacy_imported) if row is not None else (None, False)
        loaded = load_manuscript(path) if manuscript or current != digest or not imported else None
        if current != digest:
            if current is not None and before_revision is not None:
                before_revision(store)
            sync_manuscript(store, loaded, digest)
        if not imported:
            from .legacy import import_legacy

            import_legacy(store, project, loaded)
    except BaseException:
        store.close()
        raise
    return store, loaded
