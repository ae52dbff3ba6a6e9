"""The translation memory's text side: the key two sentences share when they are "the same",
fuzzy-match scores, and the differences a translator is shown. Pure functions; the store's
queries over them are in :mod:`tarjoman.store.memory`.

Two sources are the same sentence when their *keys* are equal. The key is the project's
Persian normalisation (:func:`tarjoman.text.normalize`: yeh/kaf, kashida, invisibles, ZWNJ
restored in می‌/ها) and then, because writers and keyboards differ where readers do not:
ZWNJ dropped (``می‌روم`` = ``میروم``), vowel marks dropped, Persian and Arabic digits as
ASCII, Persian comma and semicolon and question mark as their Latin forms, every quotation
mark as ``"``, whitespace collapsed, case folded, and punctuation and spaces at either end
stripped. A score is rapidfuzz's normalised Indel similarity of two keys, in percent:
``100 · (1 − (insertions + deletions) / (len a + len b))``.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Hashable, Iterable

from rapidfuzz.distance import Indel

from .text import ZWNJ, normalize

FUZZY_THRESHOLD = 70
"""The lowest score a fuzzy match is shown with (percent)."""

_MARKS = re.compile("[\u064b-\u065f\u0670]")
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_PUNCTUATION = str.maketrans({"،": ",", "؛": ";", "؟": "?", "«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "″": '"', ZWNJ: None})
_WHITESPACE = re.compile(r"\s+")


def _edge(char: str) -> bool:
    return unicodedata.category(char)[0] in "PSZC"


def tm_key(text: str, lang: str = "fa") -> str:
    """The form of ``text`` under which the memory finds it (see the module's docstring)."""
    key = normalize(text, lang=lang)
    key = _MARKS.sub("", key).translate(_DIGITS).translate(_PUNCTUATION)
    key = _WHITESPACE.sub(" ", key).casefold()
    start, end = 0, len(key)
    while start < end and _edge(key[start]):
        start += 1
    while end > start and _edge(key[end - 1]):
        end -= 1
    return key[start:end]


def key_hash(key: str) -> str:
    """16 hex digits standing for a key in indexes; "" for an empty key (nothing to remember)."""
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest() if key else ""


def context_hash(previous_key: str, next_key: str) -> str:
    """What an in-context match shares: the keys of the sentences before and after."""
    return hashlib.blake2b(f"{previous_key}\x1f{next_key}".encode("utf-8"), digest_size=8).hexdigest()


def score(a_key: str, b_key: str) -> int:
    """Similarity of two keys in whole percent (100 only when they are equal)."""
    if a_key == b_key:
        return 100
    return min(99, int(Indel.normalized_similarity(a_key, b_key) * 100 + 0.5))


def trigrams(key: str) -> set[str]:
    """The three-character pieces of a key, as SQLite's FTS5 ``trigram`` tokenizer cuts them."""
    return {key[i:i + 3] for i in range(len(key) - 2)}


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """How ``new`` differs from ``old``, word by word: ("=", words), ("-", words) and ("+", words)."""
    a, b = old.split(), new.split()
    pieces: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("=", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(("-", " ".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(("+", " ".join(b[j1:j2])))
    return pieces


def diff_text(old: str, new: str) -> str:
    """:func:`word_diff` as one line, wdiff style: ``کلمه [-حذف‌شده-] {+افزوده+}``."""
    marks = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}
    return " ".join(marks[op].format(words) for op, words in word_diff(old, new))


@dataclass(frozen=True)
class Near:
    id: Hashable
    ratio: float  # 0 … 1


class NearIndex:
    """The strings of a set most like a given one, without comparing it with all of them: an
    inverted index of trigrams, asked through the query's rarest trigrams (those that tell
    sentences apart), whose best few candidates alone are scored. Used to match edited
    sentences to their old versions when a manuscript is revised."""

    RAREST = 24  # query trigrams looked up
    CANDIDATES = 12  # candidates scored

    def __init__(self, items: Iterable[tuple[Hashable, str]] = ()):
        self._keys: dict[Hashable, str] = {}
        self._postings: dict[str, set[Hashable]] = defaultdict(set)
        for item_id, key in items:
            self.add(item_id, key)

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, item_id: Hashable, key: str) -> None:
        self._keys[item_id] = key
        for gram in trigrams(key):
            self._postings[gram].add(item_id)

    def remove(self, item_id: Hashable) -> None:
        key = self._keys.pop(item_id, None)
        if key is not None:
            for gram in trigrams(key):
                self._postings[gram].discard(item_id)

    def best(self, key: str, threshold: float) -> Near | None:
        """The indexed string most like ``key`` with a ratio above ``threshold`` (0 … 1), if any."""
        grams = [g for g in trigrams(key) if self._postings.get(g)]
        grams.sort(key=lambda g: len(self._postings[g]))
        counts: Counter = Counter()
        for gram in grams[:self.RAREST]:
            counts.update(self._postings[gram])
        best: Near | None = None
        for item_id, _shared in counts.most_common(self.CANDIDATES):
            ratio = Indel.normalized_similarity(key, self._keys[item_id])
            if ratio > threshold and (best is None or ratio > best.ratio):
                best = Near(item_id, ratio)
        return best


def keyed(sentences: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(key, key hash, context hash) of each of a chapter's (source, language) sentences, in reading order."""
    keys = [tm_key(text, lang) for text, lang in sentences]
    return [(key, key_hash(key), context_hash(keys[i - 1] if i else "", keys[i + 1] if i + 1 < len(keys) else ""))
            for i, key in enumerate(keys)]
