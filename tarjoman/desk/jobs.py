"""Background jobs the publisher starts from the desk: ``tarjoman draft``, ``tarjoman publish``
and ``tarjoman report`` run as their own processes, exactly the commands a person would type, with their
output in ``outputs/<book>/jobs/<id>.log``. The store records each job (who, when, how it
ended), so every server process and the CLI see the same list; the commands take the book's
own locks, so a job never runs over a person's ``draft`` or ``publish``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

from ..project import check_slug
from ..store import accounts as rows
from ..store.accounts import JobView
from ..workspace import DeskError, when

TAIL_LINES = 8


def _command(app, book: str, kind: str, draft_edition: bool, formats: tuple[str, ...] = ("epub",)) -> list[str]:
    root = str(app.state.project.root)
    base = [sys.executable, "-m", "tarjoman", "--root", root]
    if kind == "draft":
        model = app.state.model or os.environ.get("TARJOMAN_MODEL")
        if not model:
            raise DeskError("the desk was started without a model to draft with: `tarjoman serve --model …` or $TARJOMAN_MODEL")
        return base + ["draft", book, "--model", model]
    if kind == "report":
        return base + ["report", book]
    if kind == "publish":
        from ..accessibility import ace_available
        from ..book import FORMATS

        chosen = [f for f in FORMATS if f in formats]
        if not chosen or len(chosen) != len(set(formats)):
            raise DeskError(f"publish formats {', '.join(formats) or 'none'}: choose among {', '.join(FORMATS)}")
        # Where Ace by DAISY is installed, every EPUB the desk publishes is checked with it too.
        ace = "epub" in chosen and ace_available() is None
        return base + ["publish", book, "--format", ",".join(chosen)] + (["--draft"] if draft_edition else []) + (["--ace"] if ace else [])
    raise DeskError(f"job {kind!r}: draft, publish or report")


def start(app, book: str, kind: str, *, who: str, draft_edition: bool = False, formats: tuple[str, ...] = ("epub",)) -> JobView:
    check_slug(book)
    project = app.state.project
    if not project.manuscript_path(book).is_file():
        raise DeskError(f"book {book!r} has not been extracted")
    command = _command(app, book, kind, draft_edition, formats)
    folder = project.book_dir(book) / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    job = rows.start_job(app.state.store, book, kind, command[4:], who=who, log="", host=socket.gethostname(), gone=_gone)
    log = folder / f"{job.id}.log"
    relative = log.relative_to(project.root).as_posix()
    try:
        handle = open(log, "wb")
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=project.root,
                                   env={**os.environ, "TARJOMAN_USER": who, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
    except OSError as exc:
        rows.finish_job(app.state.store, job.id, 127)
        raise DeskError(f"cannot start the {kind} job: {exc}") from exc
    rows.job_started(app.state.store, job.id, process.pid, relative)

    def wait() -> None:
        code = process.wait()
        handle.close()
        rows.finish_job(app.state.store, job.id, code)

    threading.Thread(target=wait, name=f"job-{job.id}", daemon=True).start()
    return rows.job(app.state.store, job.id)


def _gone(pid: int) -> bool:
    """Has process ``pid`` of this machine ended (a job left running by a desk that stopped)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a child that ended but was never waited for
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return False


def get(app, job_id: int) -> JobView | None:
    return rows.job(app.state.store, job_id)


def recent(app, book: str) -> list[JobView]:
    return rows.jobs(app.state.store, book, limit=10)


def tail(app, job: JobView) -> list[str]:
    if not job.log:
        return []
    path = Path(app.state.project.root) / job.log
    try:
        data = path.read_bytes()[-8000:]
    except OSError:
        return []
    lines = data.decode("utf-8", "replace").replace("\r", "\n").splitlines()
    return [line for line in lines if line.strip()][-TAIL_LINES:]


def describe(app, job: JobView) -> dict:
    return dict(id=job.id, book=job.book, kind=job.kind, state=job.state, started_by=job.started_by, started_at=when(job.started_at),
                finished_at=when(job.finished_at), returncode=job.returncode, log=tail(app, job))
