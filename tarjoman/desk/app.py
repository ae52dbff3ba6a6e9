"""The desk's application: sessions, CSRF, permissions and errors, shared by pages and API.

One FastAPI app per project (``create_app(root)``), over the project's review store. Pages
(``pages.py``) are rendered on the server with Jinja2 and updated in part with htmx; the JSON
API (``api.py``) under ``/api`` keeps the same rules. Both call :mod:`tarjoman.workspace`,
:mod:`tarjoman.accounts` and the other core modules; nothing here decides what a person may
change except by asking :func:`tarjoman.accounts.allowed`.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
import time
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.base import BaseHTTPMiddleware

from .. import accounts
from ..accounts import Action
from ..errors import TarjomanError
from ..languages import TARGETS, language
from ..project import Project
from ..store import Store
from ..store.accounts import SessionView

HERE = Path(__file__).resolve().parent
FONTS = HERE.parent / "fonts"
COOKIE = "tarjoman_session"
LOGIN_COOKIE = "tarjoman_login"  # the CSRF token of the login form (double submit), before there is a session
CSRF_HEADER = "x-csrf-token"
log = logging.getLogger("tarjoman.desk")

# Pages may run only the desk's own scripts and styles: planted markup that escaped escaping
# would still not run.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


class NotLoggedIn(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, message: str):
        self.message = message


class _Headers(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        if not request.url.path.startswith(("/docs", "/openapi.json")):
            response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.url.path.startswith("/api") or request.method != "GET":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def create_app(root: Path, *, secure_cookies: bool = False, model: str | None = None) -> FastAPI:
    """The desk of the project at ``root``. ``secure_cookies``: behind a TLS proxy, cookies go
    only over HTTPS. ``model``: what the publisher's "Draft" button drafts with."""
    from . import api, pages

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        app.state.store.close()

    app = FastAPI(title="Tarjoman desk", version="1", docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="The review desk of one Tarjoman project: the same rules as its pages.")
    app.state.project = Project(Path(root))
    app.state.store = Store.for_root(Path(root))
    app.state.secure_cookies = secure_cookies
    app.state.model = model
    app.add_middleware(_Headers)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.mount("/fonts", StaticFiles(directory=FONTS), name="fonts")
    app.include_router(api.router)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """The API's OpenAPI page, with Swagger UI served from here (vendored, with its licence): no CDN."""
        from fastapi.openapi.docs import get_swagger_ui_html

        return get_swagger_ui_html(openapi_url="/openapi.json", title="Tarjoman desk API",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js", swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="data:,")
    app.include_router(pages.router)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        """What was wrong with the request, without echoing what it held (a password, say)."""
        errors = [{k: v for k, v in e.items() if k not in ("input", "ctx", "url")} for e in exc.errors()]
        if _wants_json(request):
            return JSONResponse({"detail": errors}, status_code=422)
        message = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in errors)
        return templates.TemplateResponse(request, "error.html", {"status": 422, "message": message, "me": None}, status_code=422)

    @app.exception_handler(NotLoggedIn)
    async def _not_logged_in(request: Request, exc: NotLoggedIn):
        if _wants_json(request):
            return JSONResponse({"detail": "log in first"}, status_code=401)
        return RedirectResponse(f"/login?next={_safe_next(request.url.path)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden):
        if _wants_json(request):
            return JSONResponse({"detail": exc.message}, status_code=403)
        return templates.TemplateResponse(request, "error.html", {"status": 403, "message": exc.message, "me": None}, status_code=403)

    @app.exception_handler(TarjomanError)
    async def _refused(request: Request, exc: TarjomanError):
        from ..workspace import NotFound

        status = (429 if isinstance(exc, accounts.TooManyAttempts) else 401 if isinstance(exc, accounts.LoginRefused)
                  else 404 if isinstance(exc, NotFound) else 400)
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=status)
        return templates.TemplateResponse(request, "error.html", {"status": status, "message": str(exc), "me": None}, status_code=status)

    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api")


def _safe_next(path: str) -> str:
    """Only a path on this site: never ``//evil.example``, nor ``/\\evil.example``, which browsers read alike."""
    on_site = path.startswith("/") and not path.startswith("//") and not any(c in path for c in "\\\r\n\t\x00")
    return path if on_site else "/"


# --- what every route may ask for ---------------------------------------------------------


def store(request: Request) -> Store:
    return request.app.state.store


def project(request: Request) -> Project:
    return request.app.state.project


def me(request: Request) -> SessionView:
    """The logged-in person, or 401 / the login page."""
    found = accounts.session(request.app.state.store, request.cookies.get(COOKIE))
    if found is None:
        raise NotLoggedIn()
    request.state.session = found
    return found


async def checked(request: Request, who: SessionView = Depends(me)) -> SessionView:
    """The logged-in person, on a state-changing request that carries their session's CSRF
    token (the ``X-CSRF-Token`` header, or a ``csrf_token`` form field); else 403."""
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        given = (await request.form()).get("csrf_token")
    if not accounts.csrf_matches(who.csrf, given if isinstance(given, str) else None):
        raise Forbidden("the request has no valid CSRF token; reload the page")
    return who


def require(who: SessionView, action: Action, lang: str | None = None) -> None:
    if not accounts.allowed(who.user, action, lang):
        what = {"read": f"read {lang or 'this'}", "translate": f"translate into {lang}", "glossary": "decide glossary terms",
                "publish": "draft and publish", "admin": "manage users"}[action]
        raise Forbidden(f"{who.user.name} ({who.user.role}) may not {what}")


def set_session_cookie(request: Request, response, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=request.app.state.secure_cookies,
                        max_age=int(accounts.SESSION_LIFETIME.total_seconds()), path="/")


def client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def direction(lang: str) -> str:
    return "rtl" if language(lang).rtl else "ltr"


templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals.update(direction=direction, TARGETS=TARGETS, language=language)
