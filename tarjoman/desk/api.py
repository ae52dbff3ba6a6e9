"""The desk's JSON API: the same rules as its pages, for scripts and other tools.

Log in with ``POST /api/login``; the answer sets the session cookie and gives the CSRF token
that every state-changing request must send back in the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .. import accounts, workspace
from ..store.accounts import SessionView
from . import jobs
from .app import COOKIE, Forbidden, checked, client, me, project, require, set_session_cookie, store

router = APIRouter(prefix="/api", tags=["api"])


class LoginIn(BaseModel):
    name: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class UserOut(BaseModel):
    name: str
    role: str
    langs: list[str]


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str


class SegmentOut(BaseModel):
    id: str
    paragraph: str
    kind: str
    source: str
    text: str
    state: str
    version: int
    origin: str
    changed_by: str
    qa: list[str]
    machine_draft: str
    previous_source: str | None


class ChapterOut(BaseModel):
    book: str
    chapter: str
    lang: str
    total: int
    next_offset: int | None
    segments: list[SegmentOut]


class SaveIn(BaseModel):
    text: str = Field(max_length=20000)
    state: Literal["draft", "approved"]
    base_version: int = Field(ge=0)


class TranslationOut(BaseModel):
    id: str
    text: str
    state: str
    version: int
    changed_by: str


class ConflictOut(BaseModel):
    detail: str
    conflict_id: int | None
    current: TranslationOut
    yours: dict


class ResolveIn(BaseModel):
    take: Literal["store", "theirs"]


class TermIn(BaseModel):
    term: str = Field(max_length=500)
    decision: Literal["approve", "reject"]
    renderings: dict[str, str] = Field(default_factory=dict)
    kind: Literal["person", "place", "unit", "operation", "other", ""] = ""


class MatchOut(BaseModel):
    score: int
    text: str
    source: str
    diff: list[tuple[str, str]]
    where: str
    book: str
    chapter: str
    segment: str


class OccurrenceOut(BaseModel):
    source: str
    translations: dict[str, str]
    book: str
    chapter: str
    segment: str
    context: str
    origin: str


class InconsistencyOut(BaseModel):
    lang: str
    chapter: str
    segment: str
    source: str
    text: str
    finding: str


class JobIn(BaseModel):
    kind: Literal["draft", "publish", "report"]
    draft_edition: bool = False
    formats: list[Literal["epub", "pdf", "docx"]] = ["epub"]  # publish: the EPUB, and the print (pdf) and Word (docx) editions


def _user(who: SessionView) -> UserOut:
    return UserOut(name=who.user.name, role=who.user.role, langs=list(who.user.langs))


@router.post("/login", response_model=LoginOut, responses={401: {"description": "wrong name or password"},
                                                            429: {"description": "too many failed logins"}})
def login(body: LoginIn, request: Request, response: Response) -> LoginOut:
    """Log in; the session cookie is set on the answer. (No CSRF token yet: a JSON body cannot be
    sent across sites without a preflight, which this server never allows.)"""
    done = accounts.log_in(store(request), body.name, body.password, client=client(request), previous_token=request.cookies.get(COOKIE))
    set_session_cookie(request, response, done.token)
    return LoginOut(user=UserOut(name=done.user.name, role=done.user.role, langs=list(done.user.langs)), csrf_token=done.csrf)


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, who: SessionView = Depends(checked)) -> None:
    accounts.log_out(store(request), request.cookies.get(COOKIE, ""))
    response.delete_cookie(COOKIE, path="/")


@router.get("/me", response_model=UserOut)
def whoami(who: SessionView = Depends(me)) -> UserOut:
    return _user(who)


@router.get("/books")
def books(request: Request, who: SessionView = Depends(me)) -> list[dict]:
    """Books, their chapters and, per language the person may read, the progress of each."""
    langs = accounts.languages(who.user)
    out: dict[str, dict] = {}
    for item in workspace.work(store(request), langs, project(request)):
        book = out.setdefault(item.book, {"book": item.book, "chapters": {}})
        book["chapters"].setdefault(item.chapter, {})[item.lang] = dict(
            total=item.total, approved=item.approved, edited=item.edited, machine=item.machine, tm=item.tm)
    return list(out.values())


@router.get("/books/{book}/chapters/{chapter}/{lang}", response_model=ChapterOut)
def chapter(book: str, chapter: str, lang: str, request: Request, offset: int = Query(0, ge=0), limit: int | None = Query(None, ge=1),
            who: SessionView = Depends(me)) -> ChapterOut:
    """A chapter's sentences in ``lang``; ``offset`` and ``limit`` for a part of it (whole paragraphs)."""
    require(who, "read", lang)
    page = workspace.chapter_page(project(request), store(request), book, chapter, lang, start=offset, count=limit)
    return ChapterOut(book=book, chapter=chapter, lang=lang, total=page.total, next_offset=page.next_start, segments=[
        SegmentOut(id=r.uid, paragraph=r.paragraph, kind=r.kind, source=r.source, text=r.text, state=r.state, version=r.version,
                   origin=r.translation.origin if r.translation else "", changed_by=r.translation.changed_by if r.translation else "",
                   qa=list(r.translation.qa) if r.translation else [], machine_draft=r.translation.machine_draft if r.translation else "",
                   previous_source=r.translation.previous_source if r.translation else None)
        for r in page.rows])


@router.put("/books/{book}/segments/{uid}/{lang}", response_model=TranslationOut,
            responses={409: {"model": ConflictOut, "description": "someone changed the sentence since base_version"}})
def save(book: str, uid: str, lang: str, body: SaveIn, request: Request, who: SessionView = Depends(checked)):
    """Save (``draft``) or approve (``approved``) a sentence made against ``base_version``. When
    someone else changed it since, nothing is overwritten: 409, with the text as it stands, and
    the save kept as a conflict to resolve."""
    require(who, "translate", lang)
    saved = workspace.save(store(request), book, lang, uid, text=body.text, state=body.state, base_version=body.base_version, who=who.user.name)
    current = TranslationOut(id=uid, text=saved.text, state=saved.state, version=saved.version, changed_by=saved.changed_by)
    if saved.conflict is not None:
        return JSONResponse(ConflictOut(detail=f"{saved.changed_by or 'someone'} changed this sentence since version {body.base_version}",
                                        conflict_id=saved.conflict.id, current=current,
                                        yours={"text": body.text.strip(), "state": body.state}).model_dump(), status_code=409)
    return current


@router.get("/books/{book}/segments/{uid}/{lang}/matches", response_model=list[MatchOut])
def matches(book: str, uid: str, lang: str, request: Request, who: SessionView = Depends(me)) -> list[MatchOut]:
    """The memory's best fuzzy matches (70 % or more) for one sentence, with how each source differs from it."""
    require(who, "read", lang)
    return [MatchOut(score=m.score, text=m.text, source=m.source, diff=m.diff, where=m.where, book=m.book, chapter=m.chapter, segment=m.uid)
            for m in workspace.matches(store(request), book, lang, uid)]


@router.get("/memory", response_model=list[OccurrenceOut])
def concordance(request: Request, q: str = Query(min_length=1, max_length=200), lang: str | None = None,
                side: Literal["both", "source", "target"] = "both", limit: int = Query(50, ge=1, le=500),
                who: SessionView = Depends(me)) -> list[OccurrenceOut]:
    """Remembered sentences holding ``q`` in their source or an approved translation (in the languages you may read)."""
    found = workspace.concordance(store(request), q, langs=accounts.languages(who.user), lang=lang, side=side, limit=limit)
    return [OccurrenceOut(source=o.source, translations=o.translations, book=o.book, chapter=o.chapter, segment=o.uid, context=o.context,
                          origin=o.origin) for o in found]


@router.get("/books/{book}/consistency", response_model=list[InconsistencyOut])
def consistency(book: str, request: Request, who: SessionView = Depends(me)) -> list[InconsistencyOut]:
    """Approved translations of ``book`` the memory disagrees with, in the languages you may read."""
    langs = accounts.languages(who.user)
    return [InconsistencyOut(lang=f.lang, chapter=f.chapter, segment=f.uid, source=f.source, text=f.text, finding=f.finding)
            for f in workspace.consistency(store(request), book) if f.lang in langs]


@router.get("/books/{book}/conflicts")
def list_conflicts(book: str, request: Request, who: SessionView = Depends(me)) -> list[dict]:
    return [dict(id=c.id, segment=c.uid, lang=c.lang, chapter=c.chapter, current=c.current_text, theirs=c.theirs_text, who=c.who,
                 where=c.where) for c in workspace.conflicts(store(request), book) if accounts.allowed(who.user, "read", c.lang)]


@router.post("/books/{book}/conflicts/{conflict_id}", response_model=TranslationOut)
def resolve(book: str, conflict_id: int, body: ResolveIn, request: Request, who: SessionView = Depends(checked)) -> TranslationOut:
    """Settle a conflict: ``store`` keeps the text that stands, ``theirs`` takes the one kept aside."""
    found = {c.id: c for c in workspace.conflicts(store(request), book)}.get(conflict_id)
    if found is None:
        raise workspace.NotFound(f"no open conflict {conflict_id} in {book!r}")
    require(who, "translate", found.lang)
    workspace.resolve(store(request), book, conflict_id, take=body.take, who=who.user.name)
    _source, now = workspace.segment(store(request), book, found.lang, found.uid)
    return TranslationOut(id=found.uid, text=now.text, state=now.state, version=now.version, changed_by=now.changed_by)


@router.get("/books/{book}/terms")
def terms(book: str, request: Request, status: Literal["", "proposed", "approved", "rejected"] = "", q: str = Query("", max_length=200),
          offset: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000), who: SessionView = Depends(me)) -> list[dict]:
    """The glossary's terms, proposed first and the most frequent first (``offset``/``limit``),
    each with its count, chapters and how many machine drafts approving it changes."""
    view = workspace.glossary_page(project(request), store(request), book, status=status, query=q, offset=offset, limit=limit)
    return [dict(term=t.term, status=t.status, kind=t.kind, renderings=t.renderings, decided_by=t.decided_by, decided_at=t.decided_at,
                 count=t.count, chapters=t.chapters, drafts_to_change=t.drafts_to_change) for t in view.rows]


@router.post("/books/{book}/terms")
def decide(book: str, body: TermIn, request: Request, who: SessionView = Depends(checked)) -> dict:
    require(who, "glossary")
    workspace.decide_term(project(request), book, body.term, body.decision, renderings=body.renderings, kind=body.kind, who=who.user.name)
    found = workspace.glossary_page(project(request), store(request), book, term=body.term.strip()).rows
    row = found[0] if found else None
    return dict(term=body.term, status=row.status if row else body.decision, decided_by=row.decided_by if row else who.user.name)


@router.post("/books/{book}/jobs")
def start_job(book: str, body: JobIn, request: Request, who: SessionView = Depends(checked)) -> dict:
    require(who, "publish")
    job = jobs.start(request.app, book, body.kind, who=who.user.name, draft_edition=body.draft_edition, formats=tuple(body.formats))
    return jobs.describe(request.app, job)


@router.get("/jobs/{job_id}")
def job(job_id: int, request: Request, who: SessionView = Depends(me)) -> dict:
    require(who, "publish")
    found = jobs.get(request.app, job_id)
    if found is None:
        raise Forbidden(f"no job {job_id}")
    return jobs.describe(request.app, found)
