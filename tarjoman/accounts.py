"""Who may do what in the desk, and logging in.

Four roles: a *translator* edits the languages assigned to them; an *editor* decides glossary
terms (and reads every language); a *publisher* drafts and publishes (and reads every
language); an *admin* may do all of it and manages users. The rules are here, once: the desk's
pages and its JSON API both ask :func:`allowed`.

Passwords are kept as argon2id hashes (argon2-cffi); a login session is a random token in an
HttpOnly cookie, of which the store keeps only the SHA-256, with its own CSRF token. Failed
logins are counted in the store per name and per client, so a guesser is slowed on every
server process at once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .errors import TarjomanError
from .languages import SOURCE, TARGETS, UnknownLanguage, canonical
from .store import Store
from .store import accounts as rows
from .store.accounts import SessionView, UserView

ROLES = ("translator", "editor", "publisher", "admin")
Action = Literal["read", "translate", "glossary", "publish", "admin"]
SESSION_LIFETIME = timedelta(hours=12)
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_CLIENT = 20
_NAME = re.compile(r"^[\w.@-]{1,64}$")
_hasher = PasswordHasher()


class AccountError(TarjomanError):
    """A user cannot be added or changed as asked."""


class LoginRefused(TarjomanError):
    """Wrong name or password (the message never says which)."""


class TooManyAttempts(TarjomanError):
    """Too many failed logins lately for this name or from this client."""


@dataclass(frozen=True)
class Login:
    """A login just opened: the cookie's token (never stored) and the session's CSRF token."""

    token: str
    csrf: str
    user: UserView


def allowed(user: UserView, action: Action, lang: str | None = None) -> bool:
    """May ``user`` do ``action`` (in ``lang``, for translating)?"""
    if user.role == "admin":
        return True
    if action == "read":
        return user.role in ("editor", "publisher") or (user.role == "translator" and (lang is None or lang in user.langs))
    if action == "translate":
        return user.role == "translator" and lang in user.langs
    if action == "glossary":
        return user.role == "editor"
    if action == "publish":
        return user.role == "publisher"
    return False


def languages(user: UserView, known=TARGETS) -> list[str]:
    """The languages whose chapters ``user`` sees, of those the books have (``known``); a
    translator sees theirs even before a book is drafted in them."""
    pool = list(dict.fromkeys([*known, *(user.langs if user.role == "translator" else ())]))
    return [lang for lang in pool if allowed(user, "read", lang)]


def _canonical_langs(langs: tuple[str, ...]) -> tuple[str, ...]:
    """``("zh_CN", "hi")`` → ``("zh-Hans-CN", "hi")``; a code that is no language is refused naming the nearest."""
    out = []
    for lang in langs:
        try:
            code = canonical(lang)
        except UnknownLanguage as exc:
            raise AccountError(f"languages: {exc.detail}") from None
        if code == SOURCE:
            raise AccountError("languages: Persian (fa) is the language the books are written in; give the languages translated into")
        out.append(code)
    return tuple(dict.fromkeys(out))


def _check_new(name: str, role: str, langs: tuple[str, ...], password: str | None) -> None:
    if not _NAME.match(name):
        raise AccountError(f"user name {name!r}: use 1–64 letters, digits, '.', '_', '-' or '@'")
    if role not in ROLES:
        raise AccountError(f"role {role!r}: one of {', '.join(ROLES)}")
    if role == "translator" and not langs:
        raise AccountError(f"translator {name!r} needs the languages they translate: --lang {','.join(TARGETS)}")
    if password is not None and len(password) < 8:
        raise AccountError("the password is too short: 8 characters at least")


def add_user(store: Store, name: str, role: str, langs: tuple[str, ...], password: str, *, by: str) -> UserView:
    langs = _canonical_langs(langs)
    _check_new(name, role, langs, password)
    return rows.add_user(store, name, role, langs, _hasher.hash(password), by=by)


def set_user(store: Store, name: str, *, role: str | None = None, langs: tuple[str, ...] | None = None,
             password: str | None = None, active: bool | None = None) -> UserView:
    current = {u.name: u for u in rows.users(store)}.get(name)
    if current is None:
        raise AccountError(f"no user {name!r}; `tarjoman user add` adds one")
    langs = _canonical_langs(langs) if langs is not None else None
    _check_new(name, role or current.role, langs if langs is not None else current.langs, password)
    return rows.set_user(store, name, role=role, langs=langs, password_hash=_hasher.hash(password) if password else None, active=active)


def users(store: Store) -> list[UserView]:
    return rows.users(store)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def log_in(store: Store, name: str, password: str, *, client: str, previous_token: str | None = None) -> Login:
    """Check the password and open a new session (closing ``previous_token``'s, if any).
    Raises :class:`TooManyAttempts` before checking anything once the limits are reached."""
    by_name, by_client = rows.recent_failures(store, name, client, FAILURE_WINDOW)
    if by_name >= MAX_FAILURES_PER_NAME or by_client >= MAX_FAILURES_PER_CLIENT:
        raise TooManyAttempts(f"too many failed logins; try again in {int(FAILURE_WINDOW.total_seconds() // 60)} minutes")
    found = rows.password_hash(store, name)
    try:
        if found is None:
            _hasher.verify(_DUMMY_HASH, password)  # the same work for an unknown name: no timing oracle
            raise VerifyMismatchError
        user, stored = found
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        rows.record_failure(store, name, client)
        raise LoginRefused("wrong user name or password") from None
    if _hasher.check_needs_rehash(stored):
        rows.set_user(store, name, password_hash=_hasher.hash(password))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    rows.open_session(store, user.id, _digest(token), csrf, SESSION_LIFETIME, ends=_digest(previous_token) if previous_token else None)
    return Login(token, csrf, user)


def session(store: Store, token: str | None) -> SessionView | None:
    """The live session a cookie's token opens, or None."""
    if not token or len(token) > 200:
        return None
    return rows.session_for(store, _digest(token))


def log_out(store: Store, token: str) -> None:
    rows.close_session(store, _digest(token))


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and secrets.compare_digest(expected.encode(), given.encode())


_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
