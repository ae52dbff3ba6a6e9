"""The review store: one transactional source of truth for every translation, decision and change.

SQLite (one file per project, ``tarjoman.sqlite`` at its root) by default, PostgreSQL when
``$TARJOMAN_DATABASE_URL`` names one; the same code and schema (Alembic migrations) on both.
The only package that imports SQLAlchemy: it hands out the dataclasses of :mod:`.views`.

- :mod:`.revision` — a manuscript in, first time or revised (msgmerge semantics)
- :mod:`.translations` — machine drafts, people's edits, conflicts, history
- :mod:`.terms` — glossary terms and editors' decisions
- :mod:`.cache` — the draft cache
- :mod:`.files` — what was last written to each exchange file
"""

from .core import Store
from .views import (
    PERSON_ORIGINS, STATES, ChangeView, ConflictView, DraftIn, Edit, EditOutcome, RevisionReport, SegmentView, TranslationView,
)

__all__ = [
    "PERSON_ORIGINS", "STATES", "ChangeView", "ConflictView", "DraftIn", "Edit", "EditOutcome", "RevisionReport", "SegmentView",
    "Store", "TranslationView",
]
