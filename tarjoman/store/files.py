"""What the store last wrote to each exchange file (PO, glossary CSV): its hash, so a file
nobody touched since is skipped, and the version of each entry it held, the base against
which a person's changes to it are applied."""

from __future__ import annotations

from sqlalchemy import select

from .core import Store, now
from .models import ExchangeFile


def written(store: Store, paths: list[str]) -> dict[str, tuple[str, dict]]:
    """path → (sha256, versions) of the files the store wrote, among ``paths``."""
    with store.read() as session:
        rows = session.scalars(select(ExchangeFile).where(ExchangeFile.path.in_(paths))) if len(paths) < 900 else session.scalars(select(ExchangeFile))
        return {row.path: (row.sha256, dict(row.versions or {})) for row in rows}


def record_written(store: Store, path: str, sha256: str, versions: dict) -> None:
    def work(session) -> None:
        row = session.get(ExchangeFile, path, with_for_update=True)
        if row is None:
            session.add(ExchangeFile(path=path, sha256=sha256, versions=versions, written_at=now()))
        else:
            row.sha256, row.versions, row.written_at = sha256, versions, now()

    store.write(work)
