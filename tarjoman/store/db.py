"""Connecting to the review store: SQLite by default, PostgreSQL for a team; schema by Alembic.

The database is ``$TARJOMAN_DATABASE_URL`` when set (``postgresql+psycopg://user@host/db``),
else one SQLite file per project, ``<root>/tarjoman.sqlite``, beside ``sources/`` and
``glossaries/`` (not under ``outputs/``, which users clear).

SQLite runs in WAL mode (readers never wait for the writer) with a busy timeout, and every
write transaction starts with ``BEGIN IMMEDIATE``: a deferred transaction that reads and then
writes can fail at once with "database is locked" when another writer got in between, without
the busy timeout ever being used.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import StoreError

DATABASE_ENV = "TARJOMAN_DATABASE_URL"
SQLITE_NAME = "tarjoman.sqlite"
BUSY_TIMEOUT_MS = 60_000
_MIGRATIONS = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK = 7_240_913  # pg_advisory_lock key: one migrating process at a time


def database_url(root: Path) -> str:
    return os.environ.get(DATABASE_ENV) or f"sqlite:///{(Path(root) / SQLITE_NAME).resolve()}"


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "isolation_level": None})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        for attempt in range(100):  # switching to WAL can say "locked" at once, without the busy timeout
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                break
            except Exception as exc:
                if "locked" not in str(exc) or attempt == 99:
                    raise
                time.sleep(0.05)
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable at every checkpoint; WAL keeps it consistent
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        deferred = connection.get_execution_options().get("read_only", False)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

    return engine


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True)


@contextmanager
def _migration_lock(engine: Engine, url: str) -> Iterator[None]:
    """Processes that open a new database at once take turns to create its schema. On SQLite the
    migration's own transaction (BEGIN IMMEDIATE) is the lock, and Alembic looks at the schema
    version again inside it."""
    if url.startswith("sqlite"):
        Path(engine.url.database or "").parent.mkdir(parents=True, exist_ok=True)
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_MIGRATION_LOCK})
            connection.commit()


def _alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


@functools.cache
def head_revision() -> str:
    """The newest migration, read from the revision files' ``revision``/``down_revision`` lines:
    importing alembic to ask it costs every command a quarter of a second, and a store that is
    up to date (nearly always) needs nothing else from it. A test checks the answer against alembic's."""
    revisions, parents = set(), set()
    for path in (_MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = re.search(r"^revision(?:\s*:\s*str)?\s*=\s*['\"]([^'\"]+)['\"]", source, re.M)
        if found:
            revisions.add(found.group(1))
            down = re.search(r"^down_revision[^=\n]*=(.*)$", source, re.M)
            parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)) if down else [])
    heads = revisions - parents
    if len(heads) != 1:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(_alembic_config()).get_current_head()
    return heads.pop()


def _current_revision(engine: Engine) -> str | None:
    """The store's schema revision (alembic's ``alembic_version`` table), None for a new database."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, url: str) -> None:
    """Bring the schema to the newest revision (nothing to do, and fast, when it is there)."""
    head = head_revision()
    if _current_revision(engine) == head:
        return
    from alembic import command

    with _migration_lock(engine, url):
        if _current_revision(engine) == head:
            return
        config = _alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")


def connect(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """An engine with the schema up to date, and its session factory."""
    engine = make_engine(url)
    try:
        upgrade(engine, url)
    except (OperationalError, DBAPIError) as exc:
        engine.dispose()
        raise StoreError(f"cannot open the review store: {exc.orig}{advice(url, exc)}", path=describe(url)) from exc
    return engine, sessionmaker(engine, expire_on_commit=False)


def advice(url: str, exc: Exception) -> str:
    """What to do about a SQLite store the system will not let us write: read-only, full, not ours."""
    if not url.startswith("sqlite"):
        return ""
    from sqlalchemy.engine import make_url

    from ..errors import os_error_message

    database = make_url(url).database
    if not database:
        return ""
    folder = Path(database).resolve().parent
    message = str(getattr(exc, "orig", exc)).lower()
    try:
        stats = os.statvfs(folder)
    except OSError:
        return ""
    if stats.f_flag & os.ST_RDONLY:
        code = errno.EROFS
    elif not os.access(folder, os.W_OK) or (Path(database).exists() and not os.access(database, os.W_OK)):
        code = errno.EACCES
    elif "full" in message or stats.f_bavail == 0:
        code = errno.ENOSPC
    else:
        return ""
    # SQLite writes beside the store (its journal) even to read it: the folder must be writable.
    return " (" + os_error_message(OSError(code, "", str(folder))).split(": ", 1)[1] + ")"
