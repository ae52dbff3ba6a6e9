"""Finding approved terms in Persian text, and making drafts obey them.

Matching is inflection-safe: a term matches with the Persian suffixes a name
takes (plural ‌ها/‌های, ezafe and indefinite ی/ای, possessives ‌ام/‌اش/‌شان …),
whether the writer joined them with a ZWNJ, a space or nothing; «را» is a word
of its own and needs nothing. Spaces and ZWNJs inside a term are
interchangeable («بیت‌المقدس» = «بیت المقدس»), and digits match in any script
(«لشکر ۹۲» = «لشکر 92»). A term never matches inside a longer word
(«علی» is not found in «علیرضا»), and the longest term wins where two overlap.

The binding mechanism, per segment and target language:

1. *Inject*: each occurrence (with its suffix) is replaced in the source by the
   approved rendering, so the model sees, and copies, the target-language name
   (no placeholder tokens, which models mangle and which then leak into drafts).
2. *Verify and repair*: the output must contain every applied rendering. A
   near miss («Khorramshar» for «Khorramshahr», ratio ≥ 0.8 over the same number
   of words) is replaced by the exact rendering.
3. *Split*: a segment whose output still lacks a rendering is drafted again in
   pieces: the text between the missing terms is translated on its own and the
   approved renderings are set between the pieces, in the source's order. The
   rendering is then there by construction, at some cost in fluency (Persian
   word order); the draft is fuzzy like any other. ``tarjoman draft
   --no-term-split`` turns this step off (misses are then only flagged).
4. QA checks every draft and every approved translation, and flags each
   segment that lacks an approved rendering; nothing is appended blindly.

The draft cache key holds the terms that applied to the segment (with their
renderings), so changing one approval re-drafts exactly the segments that
contain that term.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

from ..text import normalize_letters

MECHANISM = "inject+repair/1"
SPLIT = "+split/1"

# Persian suffixes a name or noun takes, up to two stacked («خرمشهری‌ها»); the plural may follow a
# ZWNJ or a space, the others a ZWNJ or nothing. Longest first so the regex takes the whole suffix.
_SUFFIX = ("(?:[\u200c ]?(?:هایی|های|ها)|\u200c?(?:ایی|ای|یی|ی|ام|ات|اش|مان|تان|شان|م|ت|ش)){0,2}")
_DIGITS = {str(d): f"[{d}{chr(0x06F0 + d)}{chr(0x0660 + d)}]" for d in range(10)}
_SEPARATOR = "[\u200c\u00a0 ]?"
_WORD_EDGE_BEFORE = r"(?<![\w\u200c])"
_WORD_EDGE_AFTER = r"(?![\w\u200c])"
_ASCII_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def term_key(term: str) -> str:
    """What two spellings of the same term have in common: letters and digits unified, and no
    spaces or ZWNJs, which Persian writers place differently («خرم‌شهر», «خرمشهر», «خرم شهر»)."""
    text = normalize_letters(term).translate(_ASCII_DIGITS)
    return re.sub(r"[\s\u200c]+", "", text)


def _term_regex(term: str) -> str:
    """A pattern for ``term`` allowing a space or ZWNJ between any two of its characters."""
    return _SEPARATOR.join(_DIGITS.get(char) or re.escape(char) for char in term_key(term))


def _comparable(text: str, lang: str) -> str:
    text = normalize_letters(text, lang=lang).translate(_ASCII_DIGITS).casefold()
    return re.sub(r"[\s\u200c\u00a0\u202f]+", " ", text)


def is_rendered(rendering: str, target: str, lang: str) -> bool:
    """Does ``target`` contain ``rendering`` (ignoring case, digit script, spacing and letter variants)?"""
    return _comparable(rendering, lang).strip() in _comparable(target, lang)


@dataclass(frozen=True)
class Occurrence:
    start: int
    end: int
    term: str
    rendering: str


class TermBinder:
    """Approved terms of one target language: ``{Persian term: approved rendering}``."""

    def __init__(self, lang: str, renderings: dict[str, str]):
        self.lang = lang
        self.renderings = {term_key(t): r for t, r in renderings.items() if term_key(t) and r.strip()}
        self._display = {term_key(t): t for t in renderings}  # as the editor wrote it, for comments and messages
        self._terms = sorted(self.renderings, key=lambda t: (-len(t), t))
        if self._terms:
            groups = "|".join(f"(?P<t{i}>{_term_regex(t)})" for i, t in enumerate(self._terms))
            self._pattern = re.compile(f"{_WORD_EDGE_BEFORE}(?:{groups}){_SUFFIX}{_WORD_EDGE_AFTER}")
        else:
            self._pattern = None

    def __bool__(self) -> bool:
        return bool(self._terms)

    def find(self, text: str) -> list[Occurrence]:
        """Every occurrence of an approved term in ``text``, left to right, with its suffix."""
        if self._pattern is None:
            return []
        found = []
        for match in self._pattern.finditer(text):
            key = self._terms[int(match.lastgroup[1:])]
            found.append(Occurrence(match.start(), match.end(), self._display[key], self.renderings[key]))
        return found

    def applied(self, text: str) -> tuple[tuple[str, str], ...]:
        """The distinct (term, rendering) pairs found in ``text``: what the cache key records."""
        return tuple(sorted({(o.term, o.rendering) for o in self.find(text)}))

    def inject(self, text: str) -> str:
        """``text`` with every occurrence replaced by its approved rendering, for the engine."""
        out, last = [], 0
        for occ in self.find(text):
            out.append(text[last:occ.start])
            out.append(occ.rendering)
            last = occ.end
        out.append(text[last:])
        return "".join(out)

    def pieces(self, text: str, missing: list[str]) -> list[tuple[str, bool]]:
        """``text`` cut around the occurrences of the ``missing`` terms: ``(piece, is_rendering)``
        pairs, where a rendering piece is the approved rendering and the others are Persian text."""
        out, last = [], 0
        for occ in self.find(text):
            if occ.term not in missing:
                continue
            out.append((text[last:occ.start], False))
            out.append((occ.rendering, True))
            last = occ.end
        out.append((text[last:], False))
        return [(piece, rendering) for piece, rendering in out if piece.strip()]

    def enforce(self, output: str, applied: tuple[tuple[str, str], ...]) -> tuple[str, list[str]]:
        """``output`` with near misses of each applied rendering repaired; and the terms still missing."""
        missing = []
        for term, rendering in applied:
            if is_rendered(rendering, output, self.lang):
                continue
            repaired = _repair(output, rendering)
            if repaired is not None and is_rendered(rendering, repaired, self.lang):
                output = repaired
            else:
                missing.append(term)
        return output, missing


def cache_part(applied: tuple[tuple[str, str], ...], *, split: bool = True) -> str:
    """The glossary part of a draft's cache key: empty when no term applied."""
    if not applied:
        return ""
    return MECHANISM + (SPLIT if split else "") + ";" + ";".join(f"{t}={r}" for t, r in applied)


_TOKEN = re.compile(r"[^\s]+")


def _repair(output: str, rendering: str, threshold: float = 0.8) -> str | None:
    """Replace the run of words in ``output`` most like ``rendering`` by ``rendering``, if one is close enough."""
    tokens = list(_TOKEN.finditer(output))
    size = len(rendering.split())
    if not tokens or size == 0:
        return None
    wanted = rendering.casefold()
    best, best_ratio = None, threshold
    for i in range(0, len(tokens) - size + 1):
        start, end = tokens[i].start(), tokens[i + size - 1].end()
        window = output[start:end]
        core = window.strip(".,;:!?«»\"'()[]،؛؟")
        offset = window.find(core)
        ratio = difflib.SequenceMatcher(None, core.casefold(), wanted).ratio()
        if ratio > best_ratio:
            best, best_ratio = (start + offset, start + offset + len(core)), ratio
    if best is None:
        return None
    return output[:best[0]] + rendering + output[best[1]:]


@lru_cache(maxsize=8192)
def _one_term(term: str) -> re.Pattern:
    return re.compile(f"{_WORD_EDGE_BEFORE}{_term_regex(term)}{_SUFFIX}{_WORD_EDGE_AFTER}")


_PIECES = re.compile(r"\W+")  # words, cut at spaces, ZWNJs and punctuation


class TermIndex:
    """Which of many texts hold each of many terms — a glossary page's thousands of proposed
    terms over a novel's fifteen thousand sentences, where one pattern of every term
    (:class:`TermBinder`) would take minutes. Candidates come from an index of the texts' word
    pieces (a term's longest piece, as a prefix, so suffixes and ZWNJ variants are found); each
    candidate is then checked with the term's own pattern, so a match here is a match there."""

    def __init__(self, texts: list[str]):
        self.texts = texts
        postings: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            pieces = [p for p in _PIECES.split(normalize_letters(text).translate(_ASCII_DIGITS)) if p]
            # Each word, and each two neighbours run together: «با توئه» is found for «باتوئه», «چیز‌هایی» for «چیزهایی».
            for piece in set(pieces) | {a + b for a, b in zip(pieces, pieces[1:])}:
                postings.setdefault(piece, []).append(i)
        self._pieces = sorted(postings)
        self._postings = postings

    def find(self, term: str) -> list[int]:
        """The indexes of the texts holding ``term``, in order."""
        import bisect

        pieces = [p for p in _PIECES.split(normalize_letters(term).translate(_ASCII_DIGITS)) if p]
        if not pieces:
            return []
        first = max(pieces, key=len)  # the longest: the rarest, as a rule
        candidates: set[int] = set()
        for piece in self._pieces[bisect.bisect_left(self._pieces, first):]:
            if not piece.startswith(first):
                break
            candidates.update(self._postings[piece])
        pattern = _one_term(term)
        return sorted(i for i in candidates if pattern.search(self.texts[i]))


@lru_cache(maxsize=64)
def binder_for(lang: str, items: tuple[tuple[str, str], ...]) -> TermBinder:
    return TermBinder(lang, dict(items))
