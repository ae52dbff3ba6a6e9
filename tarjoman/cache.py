"""Draft cache keys: what makes a machine draft the same draft.

A key is a hash of the engine's identity (model, revision, back-end, settings), the language
pair, the glossary terms that applied and the source text, so a draft is made once and found
again whatever moved around it. The drafts themselves live in the review store
(:mod:`tarjoman.store.cache`).
"""

from __future__ import annotations

import hashlib


def draft_key(engine_identity: str, source_lang: str, target_lang: str, terms: str, text: str) -> str:
    """``terms``: the approved glossary terms that applied to ``text`` (see ``glossary.cache_part``)."""
    parts = (engine_identity, source_lang, target_lang, terms, text)
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()
