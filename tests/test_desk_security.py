"""The desk's defences, tried through HTTP against `tarjoman serve` as its own process: no
session, no page; the wrong role or language, 403; no CSRF token, no change; planted markup
shown as text; a new session ID at every login; no password in a log or an answer; slowed
guessers; no redirect off the site.

One server serves the whole module (starting one costs seconds); tests that change the store
work on sentences of their own."""

from __future__ import annotations

import html
import json
import re
import secrets
import shutil
from contextlib import closing
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from desk_harness import PASSWORD, DeskServer, Session, tarjoman
from markupsafe import escape
from sqlalchemy import select, update

from tarjoman.accounts import MAX_FAILURES_PER_NAME, add_user, users
from tarjoman.desk import create_app
from tarjoman.store import Store
from tarjoman.store.models import LoginSession, Segment

BOOK = "sample"
COOKIE = "tarjoman_session"
BYSTANDER = "bystander"
# Paths that answer without a session by design: the login itself, static files, the API's docs.
PUBLIC = ("/login", "/api/login", "/static", "/fonts", "/docs", "/openapi.json", "/docs/oauth2-redirect")


@pytest.fixture(scope="module")
def server(desk_drafted, tmp_path_factory):
    """The desk on a copy of the drafted sample, its output unbuffered so that its log is complete,
    with a user whom tests change (and no test logs in as)."""
    root = tmp_path_factory.mktemp("desk-security") / "project"
    shutil.copytree(desk_drafted, root)
    with Store.for_root(root) as store:
        add_user(store, BYSTANDER, "translator", ("fr",), PASSWORD, by="test")
    with DeskServer(root, env={"PYTHONUNBUFFERED": "1"}) as running:
        yield running


def segments(server: DeskServer, chapter: str, lang: str = "ar") -> list[dict]:
    with closing(server.client("adm")) as adm:
        answer = adm.get(f"/api/books/{BOOK}/chapters/{chapter}/{lang}")
    assert answer.status_code == 200, answer.text
    return answer.json()["segments"]


def segment(server: DeskServer, uid: str, chapter: str, lang: str = "ar") -> dict:
    return {s["id"]: s for s in segments(server, chapter, lang)}[uid]


@pytest.fixture(scope="module")
def ch01(server) -> list[str]:
    """The IDs of ch01's sentences, in reading order."""
    return [s["id"] for s in segments(server, "ch01")]


def terms(server: DeskServer) -> dict[str, dict]:
    with closing(server.client("ed")) as ed:
        answer = ed.get(f"/api/books/{BOOK}/terms")
    assert answer.status_code == 200, answer.text
    return {t["term"]: t for t in answer.json()}


def open_conflicts(server: DeskServer) -> list[int]:
    with closing(server.client("adm")) as adm:
        return [c["id"] for c in adm.get(f"/api/books/{BOOK}/conflicts").json()]


def conflict(server: DeskServer, uid: str, lang: str = "ar") -> int:
    """A new open conflict on ``uid``: adm edits it, then tara saves against the version before."""
    base = segment(server, uid, "ch01", lang)["version"]
    mark = secrets.token_hex(3)  # a text of its own each time: saving the text that stands changes nothing
    with closing(server.client("adm")) as adm:
        assert adm.change("PUT", f"/api/books/{BOOK}/segments/{uid}/{lang}",
                          json={"text": f"نص المدير {mark}", "state": "draft", "base_version": base}).status_code == 200
    with closing(server.client("tara")) as tara:
        answer = tara.change("PUT", f"/api/books/{BOOK}/segments/{uid}/{lang}",
                             json={"text": f"نص تارا {mark}", "state": "draft", "base_version": base})
    assert answer.status_code == 409, answer.text
    return answer.json()["conflict_id"]


def role_of(server: DeskServer, name: str) -> str:
    with Store.for_root(server.root) as store:
        found = {u.name: u for u in users(store)}[name]
    return found.role if found.active else f"{found.role} (inactive)"


def login_form(client: httpx.Client) -> str:
    """The login form's CSRF token (its cookie is now in ``client``)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert found, "the login form has no CSRF token"
    return found.group(1)


def live_with(server: DeskServer, cookie: str, path: str = "/api/me") -> int:
    """The status a fresh client gets for ``path`` with only ``cookie`` as its session."""
    with httpx.Client(base_url=server.url, cookies={COOKIE: cookie}, follow_redirects=False) as client:
        return client.get(path).status_code


# --- 1. without a session, nothing -----------------------------------------------------


def routes(app) -> list[tuple[str, str, object]]:
    """(method, path, route) of every route of ``app``, routers included however FastAPI nests them."""
    out = []

    def walk(items, prefix=""):
        for route in items:
            if hasattr(route, "original_router"):  # FastAPI ≥ 0.150 keeps included routers whole
                walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif getattr(route, "methods", None):
                out.extend((method, prefix + route.path, route) for method in sorted(route.methods))
            else:
                out.append(("GET", prefix + route.path, route))  # a mount: static files
    walk(app.routes)
    return out


def is_public(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PUBLIC)


@pytest.fixture(scope="module")
def every_route(server, ch01) -> list[tuple[str, str]]:
    """(method, URL) of every route but the public ones, its path filled with real values."""
    values = {"book": BOOK, "chapter": "ch01", "lang": "ar", "uid": ch01[1], "conflict_id": "1", "job_id": "1"}
    app = create_app(server.root)
    try:
        found = []
        for method, path, route in routes(app):
            if is_public(path):
                continue
            values["name"] = BYSTANDER if path.startswith("/users/") else f"{BOOK}.ar.epub"  # a user, or an edition
            names = re.findall(r"{(\w+)(?::\w+)?}", path)
            unknown = [n for n in names if n not in values]
            assert not unknown, f"{path}: give the test a real value for {unknown}"
            url = re.sub(r"{(\w+)(?::\w+)?}", lambda m: values[m.group(1)], path)
            required = [p.name for p in getattr(getattr(route, "dependant", None), "query_params", []) if p.field_info.is_required()]
            if required:
                url += "?" + "&".join(f"{name}=x" for name in required)
            found.append((method, url))
    finally:
        app.state.store.close()
    assert len({url for _, url in found}) >= 20, found  # the walk found the desk's routes, not just a few
    return found


def assert_refused(answer: httpx.Response, url: str) -> None:
    where = f"{answer.request.method} {url}"
    if url.startswith("/api/"):
        assert answer.status_code == 401, f"{where}: {answer.status_code} {answer.text[:200]}"
        if answer.request.method != "HEAD":
            assert answer.json() == {"detail": "log in first"}, where
    else:
        assert answer.status_code == 303, f"{where}: {answer.status_code} {answer.text[:200]}"
        assert answer.headers["location"].startswith("/login?next="), where
        assert answer.content == b"", f"{where}: the redirect carries a body"


def test_every_page_and_api_call_without_a_session_is_refused(server, every_route):
    with httpx.Client(base_url=server.url, follow_redirects=False) as anonymous:
        for method, url in every_route:
            assert_refused(anonymous.request(method, url), url)
    with closing(server.client("adm")) as adm:  # the same URLs open with a session: the refusals above were for lack of one
        assert adm.get(f"/books/{BOOK}/chapters/ch01/ar").status_code == 200
        assert adm.get(f"/api/books/{BOOK}/chapters/ch01/ar").status_code == 200


@pytest.mark.parametrize("forged", ["garbage", "x" * 500, secrets.token_urlsafe(32), "%00;"])
def test_a_forged_session_cookie_is_refused_like_none(server, every_route, forged):
    with httpx.Client(base_url=server.url, cookies={COOKIE: forged}, follow_redirects=False) as client:
        for method, url in every_route:
            assert_refused(client.request(method, url), url)


def test_what_the_store_keeps_of_a_live_session_does_not_open_the_desk(server, every_route):
    with closing(server.client("tom")) as tom:
        assert tom.get("/api/me").status_code == 200
        with Store.for_root(server.root) as store, store.read() as session:
            kept = list(session.scalars(select(LoginSession.token_hash)))
        assert kept and tom.cookies[COOKIE] not in kept  # the store holds a digest, not the cookie
        for digest in kept[-3:]:
            with httpx.Client(base_url=server.url, cookies={COOKIE: digest}, follow_redirects=False) as client:
                for method, url in every_route:
                    assert_refused(client.request(method, url), url)


# --- 2. the wrong role or language -----------------------------------------------------


FORBIDDEN = [  # (who, method, URL, body: json or form), refused with 403 and "may not"
    ("tara", "PUT", "/api/books/sample/segments/{uid}/en", {"json": {"text": "It began.", "state": "draft", "base_version": 1}}),
    ("tara", "GET", "/books/sample/chapters/ch01/en", {}),
    ("tara", "GET", "/api/books/sample/chapters/ch01/fr", {}),
    ("tom", "GET", "/books/sample/chapters/ch01/ar/{uid}/history", {}),
    ("tara", "GET", "/books/sample/glossary", {}),
    ("tara", "POST", "/api/books/sample/terms", {"json": {"term": "دزفول", "decision": "reject"}}),
    ("tara", "POST", "/books/sample/glossary", {"data": {"term": "دزفول", "decision": "reject"}}),
    ("pub", "POST", "/api/books/sample/terms", {"json": {"term": "دزفول", "decision": "reject"}}),
    ("tara", "POST", "/api/books/sample/jobs", {"json": {"kind": "publish"}}),
    ("ed", "POST", "/api/books/sample/jobs", {"json": {"kind": "publish"}}),
    ("ed", "POST", "/books/sample/jobs", {"data": {"kind": "publish"}}),
    ("tara", "GET", "/books/sample/dashboard", {}),
    ("tara", "GET", "/users", {}),
    ("ed", "GET", "/users", {}),
    ("pub", "GET", "/users", {}),
    ("pub", "POST", "/users", {"data": {"name": "mallory", "role": "admin", "password": "mallory-password"}}),
    ("pub", "POST", "/users/bystander", {"data": {"role": "admin"}}),
    ("tara", "POST", "/users/tara", {"data": {"role": "admin", "langs": "en,ar,fr,ur"}}),
    ("ed", "PUT", "/api/books/sample/segments/{uid}/ar", {"json": {"text": "كان المحرر هنا.", "state": "draft", "base_version": 1}}),
    ("pub", "PUT", "/api/books/sample/segments/{uid}/ar", {"json": {"text": "كان الناشر هنا.", "state": "draft", "base_version": 1}}),
]


@pytest.mark.parametrize("who, method, url, body", FORBIDDEN, ids=[f"{w}-{m}-{u}" for w, m, u, _ in FORBIDDEN])
def test_the_wrong_role_or_language_is_refused_with_403(server, ch01, who, method, url, body):
    uid = ch01[1]
    lang = url.rsplit("/", 1)[-1]  # of a sentence saved
    before = segment(server, uid, "ch01", lang) if method == "PUT" else None
    with closing(server.client(who)) as client:
        if "data" in body:
            body = {"data": {**body["data"], "csrf_token": client.csrf}}
        answer = client.change(method, url.format(uid=uid), **body)
    assert answer.status_code == 403, answer.text[:300]
    assert "may not" in answer.text  # refused for the role, not for a missing token
    if before is not None:
        assert segment(server, uid, "ch01", lang)["version"] == before["version"]
    if url == "/users" and method == "POST":
        assert "mallory" not in [person[0] for person in people(server)]
    if url.startswith("/users/"):
        assert role_of(server, url.rsplit("/", 1)[1]) == "translator"


def test_the_right_role_and_language_are_let_through(server, ch01):
    uid = ch01[1]
    before = segment(server, uid, "ch01")
    with closing(server.client("tara")) as tara:
        saved = tara.change("PUT", f"/api/books/{BOOK}/segments/{uid}/ar",
                            json={"text": "كانت الحرب قد بدأت.", "state": "draft", "base_version": before["version"]})
        assert saved.status_code == 200, saved.text
        assert saved.json()["version"] == before["version"] + 1
        assert tara.get(f"/books/{BOOK}/chapters/ch01/ur").status_code == 200
    renderings = terms(server)["دزفول"]["renderings"]
    with closing(server.client("ed")) as ed:
        tags = ed.change("POST", f"/api/books/{BOOK}/terms", json={
            "term": TERM, "decision": "approve", "kind": "place", "renderings": {lang: payload("tags") for lang in ("en", "ar", "fr", "ur")}})
        assert tags.status_code == 400 and "markup" in tags.text, tags.text
        decided = ed.change("POST", f"/api/books/{BOOK}/terms", json={"term": "دزفول", "decision": "approve", "renderings": renderings})
        assert decided.status_code == 200, decided.text
        assert decided.json()["decided_by"] == "ed"
        assert ed.get(f"/books/{BOOK}/glossary").status_code == 200
    with closing(server.client("adm")) as adm:
        listed = adm.get("/users")
        assert listed.status_code == 200
        assert all(f"<td>{name}</td>" in listed.text for name in ("tara", "tom", "ed", "pub", "adm"))
    with closing(server.client("pub")) as pub:
        assert pub.get(f"/books/{BOOK}/dashboard").status_code == 200


# --- 3. CSRF -----------------------------------------------------------------------------


def people(server: DeskServer) -> list[tuple]:
    with Store.for_root(server.root) as store:
        return [(u.name, u.role, u.langs, u.active) for u in users(store)]


def jobs_listed(server: DeskServer) -> str:
    with closing(server.client("pub")) as pub:
        return pub.get(f"/books/{BOOK}/jobs").text


STATE = {  # what a refused change must leave as it was
    "sentence": lambda server, uid: (segment(server, uid, "ch01"), open_conflicts(server)),
    "conflicts": lambda server, uid: open_conflicts(server),
    "term": lambda server, uid: terms(server)["دزفول"],
    "jobs": lambda server, uid: jobs_listed(server),
    "users": lambda server, uid: people(server),
    "session": lambda server, uid: None,  # the session itself: checked by every case
}
CHANGES = [  # (who, method, URL, body: json or form, the state it would change)
    ("tara", "PUT", "/api/books/sample/segments/{uid}/ar", {"json": {"text": "نص مزور", "state": "approved", "base_version": 1}}, "sentence"),
    ("tara", "POST", "/api/books/sample/conflicts/{conflict}", {"json": {"take": "theirs"}}, "conflicts"),
    ("ed", "POST", "/api/books/sample/terms", {"json": {"term": "دزفول", "decision": "reject"}}, "term"),
    ("ed", "POST", "/books/sample/glossary", {"data": {"term": "دزفول", "decision": "reject"}}, "term"),
    ("pub", "POST", "/api/books/sample/jobs", {"json": {"kind": "publish"}}, "jobs"),
    ("pub", "POST", "/books/sample/jobs", {"data": {"kind": "publish"}}, "jobs"),
    ("tara", "POST", "/api/logout", {}, "session"),
    ("tara", "POST", "/logout", {"data": {}}, "session"),
    ("adm", "POST", "/users", {"data": {"name": "mallory", "role": "admin", "password": "mallory-password"}}, "users"),
    ("adm", "POST", "/users/bystander", {"data": {"role": "admin", "active": "0"}}, "users"),
]


@pytest.mark.parametrize("token", ["missing", "another session's", "empty"])
@pytest.mark.parametrize("who, method, url, body, state", CHANGES, ids=[f"{m}-{u}" for _, m, u, _, _ in CHANGES])
def test_a_change_without_its_sessions_csrf_token_is_refused_and_changes_nothing(server, ch01, who, method, url, body, state, token):
    uid = ch01[2]
    url = url.format(uid=uid, conflict=conflict(server, ch01[3]) if "{conflict}" in url else "")
    before = STATE[state](server, uid)
    with closing(server.client("tom" if who != "tom" else "tara")) as other, closing(server.client(who)) as client:
        given = {"missing": None, "another session's": other.csrf, "empty": ""}[token]
        if "data" in body:  # a form: the token goes in the csrf_token field, as the pages send it
            answer = client.request(method, url, data={**body["data"], **({"csrf_token": given} if given is not None else {})})
        else:
            answer = client.request(method, url, headers={"X-CSRF-Token": given} if given is not None else {}, **body)
        assert answer.status_code == 403, answer.text[:300]
        assert "CSRF" in answer.text
        assert client.get("/api/me").status_code == 200  # the session was not ended either
    assert STATE[state](server, uid) == before


def test_a_wrong_password_in_the_login_form_shows_the_form_again(server):
    with httpx.Client(base_url=server.url, follow_redirects=False) as browser:
        token = login_form(browser)
        answer = browser.post("/login", data={"name": "tom", "password": "not-toms-password", "csrf_token": token, "next": "/"})
    assert answer.status_code == 401, answer.text[:300]
    assert "wrong user name or password" in answer.text
    assert 'value="tom"' in answer.text and "not-toms-password" not in answer.text
    assert COOKIE not in answer.cookies
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', answer.text)
    assert fresh and fresh.group(1) != token  # a new login token for the next try


def test_the_login_form_needs_its_own_csrf_token_and_cookie(server):
    credentials = {"name": "tom", "password": PASSWORD, "next": "/"}
    with httpx.Client(base_url=server.url, follow_redirects=False) as browser:
        refused = browser.post("/login", data=credentials)  # no cookie, no token: a form posted from another site
        assert refused.status_code == 403 and "login form has expired" in refused.text
        token = login_form(browser)
        wrong = browser.post("/login", data={**credentials, "csrf_token": secrets.token_urlsafe(24)})
        assert wrong.status_code == 403
        for answer in (refused, wrong):
            assert COOKIE not in answer.cookies
    with httpx.Client(base_url=server.url, follow_redirects=False) as other:  # the token without its cookie
        without_cookie = other.post("/login", data={**credentials, "csrf_token": token})
        assert without_cookie.status_code == 403
        assert COOKIE not in without_cookie.cookies
    with httpx.Client(base_url=server.url, follow_redirects=False) as browser:
        done = browser.post("/login", data={**credentials, "csrf_token": login_form(browser)})
        assert done.status_code == 303, done.text[:300]
        assert COOKIE in done.cookies


# --- 4. planted markup is shown as text --------------------------------------------------


def payload(where: str) -> str:
    """Markup that would run if it reached a page unescaped: in a text node, a textarea or an attribute.
    A glossary rendering cannot hold tags (the glossary refuses them): its plant breaks out of an
    attribute with quotes alone."""
    if where == "rendering":
        return f"\"' onmouseover=alert(\"{where}\") x='"
    return f"\"'></textarea><script>alert(\"{where}\")</script><img src=x onerror=alert(\"{where}\")>"


NAME_PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>"
TERM = "مسجد جامع"  # in ch01, its renderings planted


@pytest.fixture(scope="module")
def planted(server):
    """Markup in a source sentence (written into the store: nothing the desk offers changes a source),
    in drafts and a conflict saved through the API, and in a glossary term's renderings."""
    ch03 = segments(server, "ch03")
    uid = {key: next(s["id"] for s in ch03 if text in s["source"])
           for key, text in (("source", "دزفول"), ("draft", "فرمانده گردان"), ("conflict", "جوابی نداشتم"))}
    source = next(s for s in ch03 if s["id"] == uid["source"])
    with closing(server.client("tara")) as tara:
        for lang in ("ar", "ur"):
            base = segment(server, uid["draft"], "ch03", lang)["version"]
            saved = tara.change("PUT", f"/api/books/{BOOK}/segments/{uid['draft']}/{lang}",
                                json={"text": payload("draft"), "state": "draft", "base_version": base})
            assert saved.status_code == 200, saved.text
        # approved as it stands, this text becomes "the source itself" once the source is planted: a QA blocker on the dashboard
        planted_source = payload("source") + " " + source["source"]
        approved = tara.change("PUT", f"/api/books/{BOOK}/segments/{uid['source']}/ar",
                               json={"text": planted_source, "state": "approved", "base_version": source["version"]})
        assert approved.status_code == 200, approved.text
    base = segment(server, uid["conflict"], "ch03")["version"]
    with closing(server.client("adm")) as adm:
        assert adm.change("PUT", f"/api/books/{BOOK}/segments/{uid['conflict']}/ar",
                          json={"text": "لم يكن عندي جواب.", "state": "draft", "base_version": base}).status_code == 200
    with closing(server.client("tara")) as tara:
        clash = tara.change("PUT", f"/api/books/{BOOK}/segments/{uid['conflict']}/ar",
                            json={"text": payload("conflict"), "state": "draft", "base_version": base})
        assert clash.status_code == 409, clash.text
    with closing(server.client("ed")) as ed:
        tags = ed.change("POST", f"/api/books/{BOOK}/terms", json={
            "term": TERM, "decision": "approve", "kind": "place", "renderings": {lang: payload("tags") for lang in ("en", "ar", "fr", "ur")}})
        assert tags.status_code == 400 and "markup" in tags.text, tags.text
        decided = ed.change("POST", f"/api/books/{BOOK}/terms", json={
            "term": TERM, "decision": "approve", "kind": "place", "renderings": {lang: payload("rendering") for lang in ("en", "ar", "fr", "ur")}})
        assert decided.status_code == 200, decided.text
    with Store.for_root(server.root) as store:
        done = store.write(lambda s: s.execute(update(Segment).where(Segment.uid == uid["source"]).values(source=planted_source)))
        assert done.rowcount == 1
    return uid


PAGES = [  # (who, URL, the plants it shows)
    ("tara", "/books/sample/chapters/ch03/ar", ("source", "draft", "conflict")),
    ("tara", "/books/sample/chapters/ch03/ur", ("source", "draft")),
    ("tara", "/books/sample/chapters/ch01/ar", ("rendering",)),
    ("tom", "/books/sample/chapters/ch01/fr", ("rendering",)),
    ("ed", "/books/sample/glossary", ("rendering", "source")),
    ("pub", "/books/sample/dashboard", ("source",)),
    ("tara", "/books/sample/chapters/ch03/ar/{draft}/history", ("draft",)),
    ("tara", "/books/sample/chapters/ch03/ur/{draft}/history", ("draft",)),
    ("tara", "/", ()),
]


def assert_shown_as_text(page: str, plants, *, shown=lambda text: text) -> None:
    """No planted markup on the page as markup; each of ``plants`` on it as text (``shown``: how
    the page words it before escaping, when not as it is)."""
    for where in plants:
        assert payload(where) not in page, f"the {where} markup reached the page as markup"
        assert str(escape(shown(payload(where)))) in page, f"the {where} text is not on the page, escaped"
    assert "<script>alert" not in page and "<img src=x" not in page
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert all(tag.startswith('<script src="/static/') for tag in scripts), scripts


@pytest.mark.parametrize("who, url, plants", PAGES, ids=[u for _, u, _ in PAGES])
def test_planted_markup_is_escaped_wherever_it_is_shown(server, planted, who, url, plants):
    with closing(server.client(who)) as client:
        answer = client.get(url.format(**planted))
    assert answer.status_code == 200, answer.text[:300]
    assert_shown_as_text(answer.text, plants)
    if "conflict" in plants:  # the list of open conflicts, not only the sentence itself
        section = answer.text.split('id="open-conflicts"', 1)[1].split("</section>", 1)[0]
        assert str(escape(payload("conflict"))) in section
    if not url.endswith("/history"):
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_a_terms_history_is_escaped_where_the_glossary_page_links_it(server, planted):
    with closing(server.client("ed")) as ed:
        page = ed.get(f"/books/{BOOK}/glossary").text
        link = re.search(r'<tbody[^>]*data-term="' + TERM + r'"[\s\S]*?hx-get="([^"]*/glossary/history\?key=[^"]*)"', page)
        assert link, "the glossary page links no history for the term"
        answer = ed.get(link.group(1).replace("&amp;", "&"))
    assert answer.status_code == 200, answer.text[:300]
    assert_shown_as_text(answer.text, ("rendering",), shown=lambda text: json.dumps(text)[1:-1])  # each decision as its row, in JSON


def test_a_user_name_with_markup_is_refused_by_the_cli_and_the_users_page(server):
    done = tarjoman(server.root, "user", "add", NAME_PAYLOAD, "--role", "editor", stdin="a long enough password\n")
    assert done.returncode != 0
    assert "user name" in done.stderr and "letters, digits" in done.stderr and "Traceback" not in done.stderr
    with closing(server.client("adm")) as adm:
        answer = adm.post("/users", data={"name": NAME_PAYLOAD, "role": "editor", "password": "a long enough password",
                                          "csrf_token": adm.csrf})
        assert answer.status_code == 400
        assert_shown_as_text(answer.text, ())
        assert str(escape(repr(NAME_PAYLOAD))) in answer.text  # the error names it, as text
        assert "onerror" not in adm.get("/users").text
    listed = tarjoman(server.root, "user", "list")
    assert "script" not in listed.stdout


def test_a_user_name_with_at_and_dot_is_accepted_and_shown_as_it_is(server):
    name = "ali.reza@example.org"
    with closing(server.client("adm")) as adm:
        added = adm.post("/users", data={"name": name, "role": "translator", "langs": "ar", "password": "ali-reza-password",
                                         "csrf_token": adm.csrf})
        assert added.status_code == 200, added.text[:300]
        assert f"<td>{name}</td>" in added.text
    with closing(server.client(name, "ali-reza-password")) as ali:
        home = ali.get("/")
    assert home.status_code == 200
    assert f'<span class="who">{name} · translator · ar</span>' in home.text
    with closing(server.client("adm")) as adm:  # the users page's own form for them reaches them
        page = adm.get("/users").text
        row = page.split(f'data-user="{name}"', 1)[1].split("</tr>", 1)[0]
        action = html.unescape(re.search(r'action="([^"]+)"', row).group(1))
        changed = adm.post(action, data={"role": "translator", "langs": "ar,ur", "csrf_token": adm.csrf})
        assert changed.status_code == 200, changed.text[:300]
    with closing(server.client(name, "ali-reza-password")) as ali:
        assert ali.get("/api/me").json()["langs"] == ["ar", "ur"]


# --- 5. the session ID --------------------------------------------------------------------


def test_logging_in_again_gives_a_new_session_id_and_ends_the_old_one(server):
    with closing(server.client()) as client:
        first = client.login("tom").cookies[COOKIE]
        second = client.login("tom").cookies[COOKIE]
        assert second != first
        assert live_with(server, first) == 401
        assert live_with(server, second) == 200
        third_answer = client.post("/login", data={"name": "tom", "password": PASSWORD, "csrf_token": login_form(client), "next": "/"})
        assert third_answer.status_code == 303
        third = third_answer.cookies[COOKIE]
        assert third not in (first, second)
        assert live_with(server, second) == 401 and live_with(server, third) == 200


def test_logging_out_ends_the_session(server):
    with closing(server.client("tom")) as api:
        token = api.cookies[COOKIE]
        assert api.change("POST", "/api/logout").status_code == 204
    assert live_with(server, token) == 401
    assert live_with(server, token, "/") == 303
    with closing(server.client("tom")) as page:
        token = page.cookies[COOKIE]
        out = page.post("/logout", data={"csrf_token": page.csrf})
        assert out.status_code == 303 and out.headers["location"] == "/login"
    assert live_with(server, token) == 401


def test_the_session_cookie_is_httponly_and_samesite(server):
    with closing(server.client()) as client:
        api = client.post("/api/login", json={"name": "tom", "password": PASSWORD})
        form = client.post("/login", data={"name": "tom", "password": PASSWORD, "csrf_token": login_form(client), "next": "/"})
        login_cookie = client.get("/login").headers["set-cookie"]
    for answer in (api, form):
        header = next(h for h in answer.headers.get_list("set-cookie") if h.startswith(COOKIE + "="))
        attributes = {a.strip().split("=")[0].lower(): a.strip() for a in header.split(";")[1:]}
        assert "httponly" in attributes, header
        assert attributes["samesite"].lower() in ("samesite=lax", "samesite=strict"), header  # never None: no cross-site POST carries it
        assert attributes["path"].lower() == "path=/"
    assert "httponly" in login_cookie.lower() and "samesite=strict" in login_cookie.lower()


def test_behind_tls_the_session_cookie_goes_only_over_https(server):
    from fastapi.testclient import TestClient

    app = create_app(server.root, secure_cookies=True)
    try:
        answer = TestClient(app).post("/api/login", json={"name": "tom", "password": PASSWORD})
    finally:
        app.state.store.close()
    assert answer.status_code == 200
    assert "secure" in [a.strip().lower() for a in answer.headers["set-cookie"].split(";")]


# --- 6. no password or hash in a log or an answer ------------------------------------------


def test_no_password_or_hash_reaches_the_log_or_any_answer(server):
    wrong, new = "wrong-password-Zq9w", "new-user-secret-Xy7k"
    seen: list[httpx.Response] = []

    def record(response: httpx.Response) -> None:
        response.read()
        seen.append(response)

    def client(name=None, password=PASSWORD) -> Session:
        made = Session(server.url)
        made.event_hooks = {"response": [record]}
        if name:
            made.login(name, password)
        return made

    with client() as anyone:
        assert anyone.post("/api/login", json={"name": "tara", "password": wrong}).status_code == 401
        assert anyone.post("/api/login", json={"name": "nobody", "password": PASSWORD}).status_code == 401
        with closing(client()) as form:  # refused, whatever its status: that is another test's business
            assert form.post("/login", data={"name": "tara", "password": wrong, "csrf_token": login_form(form)}).status_code != 303
        assert anyone.post("/login", data={"name": "tara", "password": PASSWORD, "csrf_token": login_form(anyone)}).status_code == 303
        assert anyone.get("/").status_code == 200
    with closing(client("adm")) as adm:
        added = adm.post("/users", data={"name": "newcomer", "role": "editor", "password": new, "csrf_token": adm.csrf})
        assert added.status_code == 200, added.text[:300]
        short = adm.post("/users", data={"name": "shorty", "role": "editor", "password": "short", "csrf_token": adm.csrf})
        assert short.status_code == 400
        for url in ("/users", "/", f"/books/{BOOK}/chapters/ch01/ar", "/api/me", "/api/books"):
            assert adm.get(url).status_code == 200
    with closing(client("newcomer", new)) as newcomer:
        assert newcomer.get(f"/books/{BOOK}/glossary").status_code == 200
    assert len(seen) > 15
    listed = tarjoman(server.root, "user", "list")
    assert listed.returncode == 0 and "newcomer" in listed.stdout
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert '"POST /api/login HTTP/1.1" 401' in log and '"POST /users HTTP/1.1" 200' in log  # the log holds these requests
    for secret in (PASSWORD, wrong, new, "short", "$argon2"):
        for where, text in [("the server log", log), ("user list", listed.stdout + listed.stderr)] + [
                (f"{r.request.method} {r.request.url.path} → {r.status_code}", r.text) for r in seen]:
            if secret == "short" and where != "the server log":
                continue  # too common a word to look for in pages
            assert secret not in text, f"{secret!r} in {where}"


MALFORMED = {  # a login the server cannot read: it answers 422, and must not say the password back
    "API, no name": ("/api/login", {"json": {"password": "echoed-password-1"}}),
    "API, password too long": ("/api/login", {"json": {"name": "tom", "password": "echoed-password-2" * 61}}),
    "form, password too long": ("/login", {"data": {"name": "tom", "password": "echoed-password-3" * 61}}),
}


@pytest.mark.parametrize("url, body", MALFORMED.values(), ids=list(MALFORMED))
def test_a_malformed_login_does_not_echo_the_password(server, url, body):
    with httpx.Client(base_url=server.url) as client:
        answer = client.post(url, **body)
    assert answer.status_code in (400, 403, 422)
    assert "echoed-password" not in answer.text, answer.text[:300]


# --- 7. guessing is slowed -------------------------------------------------------------------


def test_after_too_many_wrong_passwords_even_the_right_one_is_refused_for_that_name(server):
    password = "locked-out-password"
    with closing(server.client("adm")) as adm:
        assert adm.post("/users", data={"name": "guessed", "role": "editor", "password": password, "csrf_token": adm.csrf}).status_code == 200
    with httpx.Client(base_url=server.url, follow_redirects=False) as guesser:
        for attempt in range(MAX_FAILURES_PER_NAME):
            assert guesser.post("/api/login", json={"name": "guessed", "password": f"guess-{attempt}"}).status_code == 401
        right = guesser.post("/api/login", json={"name": "guessed", "password": password})
        assert right.status_code == 429 and "too many failed logins" in right.json()["detail"]
        assert COOKIE not in right.cookies
        with closing(server.client()) as other:
            assert other.login("tom").status_code == 200  # another name, from the same address, still logs in
        form = guesser.post("/login", data={"name": "guessed", "password": password, "csrf_token": login_form(guesser)})
        assert form.status_code == 429, form.text[:300]
        assert "too many failed logins" in form.text and COOKIE not in form.cookies


# --- 8. redirects stay on the site -------------------------------------------------------------


def browser_destination(base: str, location: str) -> str:
    """Where a browser goes for ``Location: location``: it drops tabs and newlines and reads '\\' as '/'."""
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    return urlsplit(urljoin(base + "/login", cleaned)).netloc


@pytest.mark.parametrize("next_", ["//evil.example", "//evil.example/books", "https://evil.example/", "/\\evil.example",
                                   "\\\\evil.example", "/\t/evil.example", "javascript:alert(1)"])
def test_the_login_redirect_stays_on_the_site(server, next_):
    site = urlsplit(server.url).netloc
    with httpx.Client(base_url=server.url, follow_redirects=False) as browser:
        form = browser.get("/login", params={"next": next_}).text
        kept = html.unescape(re.search(r'name="next" value="([^"]*)"', form).group(1))
        for given in {next_, kept}:  # as the form sends it back, and as a forged form would
            done = browser.post("/login", data={"name": "tom", "password": PASSWORD, "csrf_token": login_form(browser), "next": given})
            assert done.status_code == 303, done.text[:300]
            location = done.headers["location"]
            assert browser_destination(server.url, location) == site, location
            assert not location.lower().startswith("javascript:")


def test_the_login_redirect_goes_back_to_the_page_asked_for(server):
    with httpx.Client(base_url=server.url, follow_redirects=False) as browser:
        asked = browser.get(f"/books/{BOOK}/chapters/ch01/en")
        assert asked.headers["location"] == f"/login?next=/books/{BOOK}/chapters/ch01/en"
        done = browser.post("/login", data={"name": "tom", "password": PASSWORD, "csrf_token": login_form(browser),
                                            "next": f"/books/{BOOK}/chapters/ch01/en"})
    assert done.headers["location"] == f"/books/{BOOK}/chapters/ch01/en"
