"""People and their desk logins, failed logins, and background jobs: rows the desk keeps in the
review store beside the translations, so that every server process on one store sees them.

Passwords arrive here already hashed, and session tokens as their SHA-256: the store never holds
a secret that would open the desk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ..errors import StoreError
from .core import Store, now
from .models import Job, LoginFailure, LoginSession, User


@dataclass(frozen=True)
class UserView:
    id: int
    name: str
    role: str
    langs: tuple[str, ...]
    active: bool
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class SessionView:
    user: UserView
    csrf: str
    expires_at: datetime


@dataclass(frozen=True)
class JobView:
    id: int
    book: str
    kind: str
    args: list
    state: str
    started_by: str
    started_at: datetime
    finished_at: datetime | None
    host: str
    pid: int
    returncode: int | None
    log: str


def _user(row: User) -> UserView:
    return UserView(row.id, row.name, row.role, tuple(l for l in row.langs.split(",") if l), row.active, row.created_at, row.created_by)


def _job(row: Job) -> JobView:
    return JobView(row.id, row.book, row.kind, list(row.args or []), row.state, row.started_by, row.started_at, row.finished_at,
                   row.host, row.pid, row.returncode, row.log)


# --- users ---------------------------------------------------------------------------


def add_user(store: Store, name: str, role: str, langs: tuple[str, ...], password_hash: str, *, by: str) -> UserView:
    def work(session: Session) -> UserView:
        if session.scalar(select(User.id).where(User.name == name)) is not None:
            raise StoreError(f"there is already a user {name!r}; `tarjoman user set` changes a user", path=None)
        row = User(name=name, role=role, langs=",".join(langs), password_hash=password_hash, active=True, created_at=now(), created_by=by)
        session.add(row)
        session.flush()
        return _user(row)

    return store.write(work)


def set_user(store: Store, name: str, *, role: str | None = None, langs: tuple[str, ...] | None = None,
             password_hash: str | None = None, active: bool | None = None) -> UserView:
    """Change a user; a new password or deactivation ends every login session of theirs."""

    def work(session: Session) -> UserView:
        row = session.scalar(select(User).where(User.name == name).with_for_update())
        if row is None:
            raise StoreError(f"no user {name!r}", path=None)
        if role is not None:
            row.role = role
        if langs is not None:
            row.langs = ",".join(langs)
        if password_hash is not None:
            row.password_hash = password_hash
        if active is not None:
            row.active = active
        if password_hash is not None or active is False:
            session.execute(delete(LoginSession).where(LoginSession.user_id == row.id))
        return _user(row)

    return store.write(work)


def users(store: Store) -> list[UserView]:
    with store.read() as session:
        return [_user(row) for row in session.scalars(select(User).order_by(User.name))]


def password_hash(store: Store, name: str) -> tuple[UserView, str] | None:
    """The user and their stored hash, for checking a password; None for no such active user."""
    with store.read() as session:
        row = session.scalar(select(User).where(User.name == name, User.active.is_(True)))
        return (_user(row), row.password_hash) if row is not None else None


# --- login sessions ------------------------------------------------------------------


def open_session(store: Store, user_id: int, token_hash: str, csrf: str, lifetime: timedelta, *, ends: str | None = None,
                 new_hash: str | None = None) -> None:
    """A new login session; ``ends`` (the hash of the session the browser held before) is closed
    in the same transaction, so that logging in always changes the session ID."""

    def work(session: Session) -> None:
        if ends:
            session.execute(delete(LoginSession).where(LoginSession.token_hash == ends))
        stamp = now()
        session.execute(delete(LoginSession).where(LoginSession.expires_at < stamp))
        session.add(LoginSession(token_hash=token_hash, user_id=user_id, csrf=csrf, created_at=stamp, expires_at=stamp + lifetime))

    store.write(work)


def session_for(store: Store, token_hash: str) -> SessionView | None:
    with store.read() as session:
        found = session.execute(select(LoginSession, User).join(User, LoginSession.user_id == User.id)
                                .where(LoginSession.token_hash == token_hash)).first()
        if found is None:
            return None
        login, user = found
        expires = login.expires_at if login.expires_at.tzinfo else login.expires_at.replace(tzinfo=now().tzinfo)
        if not user.active or expires < now():
            return None
        return SessionView(_user(user), login.csrf, expires)


def close_session(store: Store, token_hash: str) -> None:
    store.write(lambda session: session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash)))


# --- failed logins -------------------------------------------------------------------


def record_failure(store: Store, name: str, client: str) -> None:
    def work(session: Session) -> None:
        stamp = now()
        session.execute(delete(LoginFailure).where(LoginFailure.at < stamp - timedelta(days=1)))
        session.add(LoginFailure(name=name[:64], client=client[:64], at=stamp))

    store.write(work)


def recent_failures(store: Store, name: str, client: str, window: timedelta) -> tuple[int, int]:
    """Failed logins in the last ``window``: (for this name, from this client)."""
    since = now() - window
    with store.read() as session:
        by_name = session.scalar(select(func.count()).select_from(LoginFailure).where(LoginFailure.name == name[:64], LoginFailure.at >= since))
        by_client = session.scalar(select(func.count()).select_from(LoginFailure).where(LoginFailure.client == client[:64], LoginFailure.at >= since))
    return int(by_name or 0), int(by_client or 0)


# --- background jobs -----------------------------------------------------------------


def start_job(store: Store, book: str, kind: str, args: list, *, who: str, log: str, host: str, gone) -> JobView:
    """Record a job about to start; refused while the same kind of job runs on the book. A job
    of ``host`` whose process is ``gone(pid)`` (its desk stopped before it ended) is closed first."""

    def work(session: Session) -> JobView:
        for row in session.scalars(select(Job).where(Job.book == book, Job.kind == kind, Job.state == "running").with_for_update()):
            if row.host == host and row.pid and gone(row.pid):
                row.state, row.returncode, row.finished_at = "failed", -1, now()
            else:
                raise StoreError(f"a {kind} of {book!r} is already running (job {row.id})", path=None)
        row = Job(book=book, kind=kind, args=args, state="running", started_by=who, started_at=now(), host=host, pid=0, log=log)
        session.add(row)
        session.flush()
        return _job(row)

    return store.write(work)


def job_started(store: Store, job_id: int, pid: int, log: str) -> None:
    store.write(lambda session: session.execute(update(Job).where(Job.id == job_id).values(pid=pid, log=log)))


def finish_job(store: Store, job_id: int, returncode: int) -> None:
    store.write(lambda session: session.execute(update(Job).where(Job.id == job_id, Job.state == "running").values(
        state="done" if returncode == 0 else "failed", returncode=returncode, finished_at=now())))


def jobs(store: Store, book: str | None = None, *, limit: int = 20) -> list[JobView]:
    with store.read() as session:
        query = select(Job).order_by(Job.id.desc()).limit(limit)
        if book is not None:
            query = query.where(Job.book == book)
        return [_job(row) for row in session.scalars(query)]


def job(store: Store, job_id: int) -> JobView | None:
    with store.read() as session:
        row = session.get(Job, job_id)
        return _job(row) if row is not None else None
