"""The desk's pages, rendered on the server (Jinja2, autoescaped), updated in part with htmx."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from .. import accounts, workspace
from ..errors import TarjomanError
from ..queue import book_status
from ..store.accounts import SessionView
from . import jobs
from .app import (COOKIE, LOGIN_COOKIE, Forbidden, _safe_next, checked, client, direction, me, project, require, set_session_cookie,
                  store, templates)

router = APIRouter(include_in_schema=False)
KINDS = ("person", "place", "unit", "operation", "other")


def page(request: Request, template: str, who: SessionView | None, status_code: int = 200, /, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, template, {"me": who, **context}, status_code=status_code)


# --- logging in -----------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request, next: str = "/"):
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", None, next=_safe_next(next), login_csrf=token, error="")
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=request.app.state.secure_cookies, path="/login")
    return response


@router.post("/login")
def login(request: Request, name: str = Form(max_length=64), password: str = Form(max_length=1024), csrf_token: str = Form(""),
          next: str = Form("/")):
    if request.app.state.secure_cookies and request.url.scheme != "https":
        # The browser would drop the session cookie and bring the person back here, without a word.
        return page(request, "login.html", None, 400, next=_safe_next(next), login_csrf="", name=name,
                    error="This desk sends its session cookie only over HTTPS: open it through its TLS address "
                          "(or its administrator starts it with --no-secure-cookies on a network they trust).")
    if not accounts.csrf_matches(request.cookies.get(LOGIN_COOKIE, ""), csrf_token) or not request.cookies.get(LOGIN_COOKIE):
        raise Forbidden("the login form has expired; reload the page")
    try:
        done = accounts.log_in(store(request), name, password, client=client(request), previous_token=request.cookies.get(COOKIE))
    except (accounts.LoginRefused, accounts.TooManyAttempts) as exc:
        token = secrets.token_urlsafe(24)
        status = 429 if isinstance(exc, accounts.TooManyAttempts) else 401
        response = page(request, "login.html", None, status, next=_safe_next(next), login_csrf=token, error=str(exc), name=name)
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=request.app.state.secure_cookies, path="/login")
        return response
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(request, response, done.token)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, who: SessionView = Depends(checked)):
    accounts.log_out(store(request), request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# --- home: my work --------------------------------------------------------------------


@router.get("/")
def home(request: Request, who: SessionView = Depends(me)):
    langs = accounts.languages(who.user, workspace.known_languages(store(request)))
    work = workspace.work(store(request), langs, project(request))
    by_book: dict[str, list] = {}
    for item in work:
        by_book.setdefault(item.book, []).append(item)
    return page(request, "home.html", who, books=by_book, langs=langs, translates=[l for l in langs if accounts.allowed(who.user, "translate", l)],
                can_glossary=accounts.allowed(who.user, "glossary"), can_publish=accounts.allowed(who.user, "publish"),
                can_admin=accounts.allowed(who.user, "admin"))


# --- a chapter --------------------------------------------------------------------------


@router.get("/books/{book}/chapters/{chapter}/{lang}")
def chapter(book: str, chapter: str, lang: str, request: Request, who: SessionView = Depends(me)):
    workspace.check_lang(lang)
    require(who, "read", lang)
    view = workspace.chapter_page(project(request), store(request), book, chapter, lang)
    open_conflicts = workspace.conflicts(store(request), book, lang)
    return page(request, "chapter.html", who, page=view, dir=direction(lang), editable=accounts.allowed(who.user, "translate", lang),
                conflicts=[c for c in open_conflicts if c.chapter == chapter])


@router.get("/books/{book}/chapters/{chapter}/{lang}/slice")
def chapter_slice(book: str, chapter: str, lang: str, request: Request, start: int = 0, who: SessionView = Depends(me)):
    """The next sentences of a chapter page, fetched as the translator reaches them."""
    workspace.check_lang(lang)
    require(who, "read", lang)
    view = workspace.chapter_page(project(request), store(request), book, chapter, lang, start=start)
    return page(request, "_slice.html", who, page=view, dir=direction(lang), editable=accounts.allowed(who.user, "translate", lang))


@router.get("/books/{book}/chapters/{chapter}/{lang}/{uid}/history")
def sentence_history(book: str, chapter: str, lang: str, uid: str, request: Request, who: SessionView = Depends(me)):
    require(who, "read", lang)
    changes = workspace.history(store(request), book, uid, lang)
    return page(request, "_history.html", who, changes=changes, dir=direction(lang), lang=lang)


@router.get("/books/{book}/chapters/{chapter}/{lang}/{uid}/memory")
def sentence_memory(book: str, chapter: str, lang: str, uid: str, request: Request, who: SessionView = Depends(me)):
    """The memory's fuzzy matches for one sentence, fetched when it comes into view."""
    require(who, "read", lang)
    found = workspace.matches(store(request), book, lang, uid)
    return page(request, "_memory.html", who, matches=found, dir=direction(lang), lang=lang,
                editable=accounts.allowed(who.user, "translate", lang))


# --- the translation memory ---------------------------------------------------------------


@router.get("/memory")
def memory(request: Request, q: str = Query("", max_length=200), lang: str = "", side: str = "both", who: SessionView = Depends(me)):
    """The concordance: remembered sentences holding a word or phrase, in their source or their translation."""
    langs = accounts.languages(who.user)
    found = workspace.concordance(store(request), q, langs=langs, lang=lang or None, side=side) if q.strip() else []
    return page(request, "memory.html", who, q=q, lang=lang, side=side, langs=langs, found=found)


@router.get("/books/{book}/consistency")
def book_consistency(book: str, request: Request, who: SessionView = Depends(me)):
    """Approved translations of the book that the memory disagrees with."""
    langs = accounts.languages(who.user)
    found = [f for f in workspace.consistency(store(request), book) if f.lang in langs]
    return page(request, "consistency.html", who, book=book, found=found)


# --- the glossary -----------------------------------------------------------------------


@router.get("/books/{book}/glossary")
def glossary(book: str, request: Request, status: str = "", q: str = Query("", max_length=200), offset: int = Query(0, ge=0),
             who: SessionView = Depends(me)):
    require(who, "glossary")
    if status not in ("", "proposed", "approved", "rejected"):
        raise workspace.DeskError(f"status {status!r}: proposed, approved or rejected")
    view = workspace.glossary_page(project(request), store(request), book, status=status, query=q, offset=offset)
    return page(request, "glossary.html", who, book=book, view=view, rows=view.rows, kinds=KINDS)


@router.post("/books/{book}/glossary")
async def glossary_decide(book: str, request: Request, who: SessionView = Depends(checked)):
    require(who, "glossary")
    form = await request.form()
    term, decision = str(form.get("term", "")), str(form.get("decision", ""))
    from ..glossary.table import rendering_column

    renderings = {code: str(value).strip() for key, value in form.items()
                  if isinstance(value, str) and value.strip() and (code := rendering_column(key)) and key in (code, code.lower())}
    error = ""
    try:
        workspace.decide_term(project(request), book, term, decision, renderings=renderings, kind=str(form.get("kind", "")) or None,
                              who=who.user.name)
    except TarjomanError as exc:
        error = str(exc)
    found = workspace.glossary_page(project(request), store(request), book, term=term.strip()).rows
    row = found[0] if found else None
    if row is None:
        return HTMLResponse(f"<p class='error'>{_escape(error or 'no such term')}</p>", status_code=400)
    return page(request, "_term.html", who, book=book, row=row, error=error, kinds=KINDS,
                status_code=400 if error else 200)


@router.get("/books/{book}/glossary/history")
def glossary_history(book: str, key: str, request: Request, who: SessionView = Depends(me)):
    require(who, "glossary")
    return page(request, "_term_history.html", who, changes=workspace.term_history(project(request), store(request), book, key))


# --- the publisher's dashboard ------------------------------------------------------------


@router.get("/books/{book}/dashboard")
def dashboard(book: str, request: Request, who: SessionView = Depends(me)):
    require(who, "publish")
    status = book_status(project(request), book)
    table: dict[str, dict[str, dict]] = {}
    for row in status:
        table.setdefault(row["chapter"], {})[row["lang"]] = row
    scores = workspace.post_edit_scores(project(request), book)
    blockers = workspace.blockers(project(request), store(request), book)
    epubs = workspace.editions(project(request), book)
    columns = list(dict.fromkeys(row["lang"] for row in status))
    return page(request, "dashboard.html", who, book=book, table=table, columns=columns, scores=scores, blockers=blockers,
                epubs=epubs, jobs=[jobs.describe(request.app, j) for j in jobs.recent(request.app, book)],
                can_draft=bool(request.app.state.model))


@router.get("/books/{book}/jobs")
def job_list(book: str, request: Request, who: SessionView = Depends(me)):
    require(who, "publish")
    return _jobs_page(request, who, book)


def _jobs_page(request: Request, who: SessionView, book: str, error: str = "") -> HTMLResponse:
    return page(request, "_jobs.html", who, book=book, error=error, jobs=[jobs.describe(request.app, j) for j in jobs.recent(request.app, book)])


@router.post("/books/{book}/jobs")
async def job_start(book: str, request: Request, who: SessionView = Depends(checked)):
    require(who, "publish")
    form = await request.form()
    error = ""
    try:
        formats = ("epub", "pdf", "docx") if form.get("print_editions") == "1" else ("epub",)
        jobs.start(request.app, book, str(form.get("kind", "")), who=who.user.name, draft_edition=form.get("draft_edition") == "1", formats=formats)
    except TarjomanError as exc:
        error = str(exc)
    return _jobs_page(request, who, book, error)


@router.get("/books/{book}/post-edit.png")
def chart(book: str, request: Request, who: SessionView = Depends(me)):
    require(who, "publish")
    path = project(request).book_dir(book) / "post-edit.png"
    if not path.is_file():
        raise workspace.NotFound("no post-edit chart yet: nothing approved has a machine draft")
    return FileResponse(path, media_type="image/png")


def _download(form: str):
    def download(book: str, name: str, request: Request, who: SessionView = Depends(me)):
        """An edition's file: /books/<book>/epub/<book>.ar.epub, …/pdf/…, …/docx/…"""
        require(who, "publish")
        found = {(e.format, e.name): e for e in workspace.editions(project(request), book)}.get((form, name))
        if found is None:
            raise workspace.NotFound(f"no {form} edition {name!r} of {book!r}")
        return FileResponse(found.path, media_type=workspace.EDITION_TYPES[found.format], filename=name)

    return download


for _form in workspace.EDITION_TYPES:
    router.add_api_route(f"/books/{{book}}/{_form}/{{name}}", _download(_form), methods=["GET"], name=f"download_{_form}")


# --- users ------------------------------------------------------------------------------


@router.get("/users")
def users(request: Request, who: SessionView = Depends(me)):
    require(who, "admin")
    return _users_page(request, who)


def _users_page(request: Request, who: SessionView, error: str = "") -> HTMLResponse:
    return page(request, "users.html", who, 400 if error else 200, users=accounts.users(store(request)), roles=accounts.ROLES, error=error,
                langs=workspace.known_languages(store(request)))


@router.post("/users")
async def users_add(request: Request, who: SessionView = Depends(checked)):
    require(who, "admin")
    form = await request.form()
    error = ""
    try:
        langs = tuple(l for l in form.getlist("langs") if isinstance(l, str))
        langs += tuple(l.strip() for l in str(form.get("other_langs", "")).split(",") if l.strip())  # a language no book has yet
        accounts.add_user(store(request), str(form.get("name", "")), str(form.get("role", "")), langs, str(form.get("password", "")),
                          by=who.user.name)
    except TarjomanError as exc:
        error = str(exc)
    return _users_page(request, who, error)


@router.post("/users/{name}")
async def users_change(name: str, request: Request, who: SessionView = Depends(checked)):
    require(who, "admin")
    form = await request.form()
    error = ""
    try:
        if name == who.user.name and form.get("active") == "0":
            raise accounts.AccountError("you cannot deactivate yourself")
        langs = form.get("langs")
        accounts.set_user(store(request), name, role=str(form.get("role")) if form.get("role") else None,
                          langs=tuple(l.strip() for l in str(langs).split(",") if l.strip()) if langs is not None else None,
                          active={"1": True, "0": False}.get(str(form.get("active", ""))))
    except TarjomanError as exc:
        error = str(exc)
    return _users_page(request, who, error)


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))
