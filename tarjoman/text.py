"""Persian text: normalisation, language of a passage, sentence segmentation.

Pure functions over ``str``; no I/O. The segmenter's behaviour is versioned by
``SEGMENTER_VERSION`` (recorded in every manuscript), because segment IDs and
everything reviewed downstream depend on where sentences are cut.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

SEGMENTER_VERSION = "1"

ZWNJ = "\u200c"
KASHIDA = "\u0640"
NOTE_MARK = "\ue000"
"""Private-use character standing for a footnote reference while a paragraph is normalised."""

_YEH_KAF = str.maketrans({"\u064a": "\u06cc", "\u0643": "\u06a9", "\u0649": "\u06cc"})
# LRM, RLM, ALM, embeddings/overrides, isolates, BOM, zero-width space, word joiner, soft hyphen.
# Direction marks and embeddings, zero-width spaces, soft hyphens, and C0/C1 control characters
# (except tab, line feed and carriage return, which the whitespace rules handle).
_INVISIBLE = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\ufeff\u200b\u2060\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]+")
_SPACES = re.compile("[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_ARABIC_LETTER = "\u0620-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff"
# Kashida only stretches a word between two joining letters; a kashida after a
# space or at line start is a dash the author typed (dialogue lines in the novel).
_KASHIDA_IN_WORD = re.compile(f"(?<=[{_ARABIC_LETTER}\u064b-\u0652]){KASHIDA}+")
_ZWNJ_RUN = re.compile(f"{ZWNJ}+")
_ZWNJ_AT_SPACE = re.compile(f"[ \n]+{ZWNJ}[ \n]*|{ZWNJ}[ \n]+|^{ZWNJ}|{ZWNJ}$")
_MI_PREFIX = re.compile(f"(?<![\\w{ZWNJ}])(ن?می) (?=[{_ARABIC_LETTER}])")
_HA_SUFFIX = re.compile(
    f"(?<=[{_ARABIC_LETTER}]) (ها|های|هایی|هایم|هایت|هایش|هایمان|هایتان|هایشان|هاست)(?![\\w{ZWNJ}])"
)
_SPACE_BEFORE_PUNCT = re.compile(r" +(?=[.،؛:!؟?…»)\]},;])")
_SPACE_AFTER_OPEN = re.compile(r"(?<=[«(\[{]) +")


def normalize_letters(text: str, *, lang: str = "fa") -> str:
    """The letter-level part of :func:`normalize`, leaving every space where it is:
    invisibles out, presentation forms decomposed, Persian yeh/kaf, no kashida inside words."""
    text = _INVISIBLE.sub("", text)
    text = _PRESENTATION_FORMS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    if lang != "ar":
        text = text.translate(_YEH_KAF)
    return _KASHIDA_IN_WORD.sub("", text)


def normalize(text: str, *, lang: str = "fa", repair_zwnj: bool = True) -> str:
    """Normalise one paragraph of manuscript text.

    Arabic ي/ك/ى become Persian ی/ک (not in Arabic passages, where they are
    right); kashida inside words, direction marks and other invisibles go;
    ZWNJ is kept, and restored where a space stands in for it in the
    prefix می‌/نمی‌ and the plural ‌ها (skipped for verse, where «می» is
    often wine); whitespace is tidied; digits are left as written.
    Line breaks (``\\n``) are kept: they separate verse hemistichs and dialogue lines.
    """
    text = normalize_letters(text, lang=lang)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    text = _SPACES.sub(" ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{2,}", "\n", text)
    text = _ZWNJ_RUN.sub(ZWNJ, text)
    text = _ZWNJ_AT_SPACE.sub(lambda m: " " if " " in m.group() else ("\n" if "\n" in m.group() else ""), text)
    if repair_zwnj and lang == "fa":
        text = _MI_PREFIX.sub(lambda m: m.group(1) + ZWNJ, text)
        text = _HA_SUFFIX.sub(lambda m: ZWNJ + m.group(1), text)
    text = _SPACE_BEFORE_PUNCT.sub("", text)
    text = _SPACE_AFTER_OPEN.sub("", text)
    return text.strip(" \n")


# --- language of a passage -------------------------------------------------

# Counted with a regular expression each, not a Python loop over the characters: extraction asks
# this of every block of a book, and the loops were a third of extracting a novel.
_URDU_LETTERS = re.compile("[ٹڈڑںےۓھ]")
_PERSIAN_LETTERS = re.compile("[پچژگ]")
_ARABIC_MARKS = re.compile("[ةأإؤٱ]")
_TASHKEEL = re.compile("[\u064b-\u0652\u0670]")
_PERSIAN_WORDS = {"است", "را", "این", "که", "می", "نمی", "های", "شد", "بود", "هم", "برای", "کرد", "یک", "آن", "هست", "بودند", "شده", "کنم"}
_ARABIC_WORDS = {"فی", "إلی", "الی", "عن", "الذی", "التی", "هذا", "هذه", "ذلک", "قال", "إن", "أن", "لم", "لن", "قد", "ثم", "هو", "کانت", "علیه", "إلا", "الا", "کل", "بین", "لقد"}
_WORD = re.compile(f"[{_ARABIC_LETTER}\u064b-\u0652\u0670{ZWNJ}]+")


_ARABIC_SCRIPT = re.compile(f"[{_ARABIC_LETTER}\ufb50-\ufdff\ufe70-\ufefe]")
_OTHER_LETTER = re.compile("[^\\W\\d_\u0600-\u06ff\ufb50-\ufefe]")
_EVIDENCE = re.compile(f"[ةأإؤٱٹڈڑںےۓپچژگیک{ZWNJ}\u064b-\u0652\u0670]|(?<![{_ARABIC_LETTER}])ال")


def detect_language(text: str, default: str = "fa") -> str:
    """Guess which language an Arabic-script passage is in: ``fa``, ``ar`` or ``ur``.

    Returns ``""`` for text with no Arabic-script letters (Latin, digits only).
    Looks at letters only one language uses and at frequent function words;
    a passage with no evidence either way gets ``default``.
    """
    arabic_script = len(_ARABIC_SCRIPT.findall(text))
    if arabic_script == 0 or arabic_script < len(_OTHER_LETTER.findall(text)):
        return ""
    if not _EVIDENCE.search(text):
        return default
    if len(_URDU_LETTERS.findall(text)) >= 2:
        return "ur"
    words = [w.replace(ZWNJ, "") for w in _WORD.findall(_TASHKEEL.sub("", text).translate(_YEH_KAF))]
    fa = 2 * len(_PERSIAN_LETTERS.findall(text)) + 2 * sum(w in _PERSIAN_WORDS for w in words)
    fa += text.count(ZWNJ) + 0.5 * (text.count("\u06cc") + text.count("\u06a9"))  # Persian-form yeh and kaf
    ar = len(_ARABIC_MARKS.findall(text)) + len(_TASHKEEL.findall(text)) / 2
    ar += 2 * sum(w in _ARABIC_WORDS for w in words)
    ar += 0.5 * sum(w.startswith("ال") and len(w) > 3 for w in words)
    if ar >= 2 and ar > fa:
        return "ar"
    return "fa" if fa else default


# --- sentences -------------------------------------------------------------

_TERMINATORS = ".!?؟…"
_CLOSERS = "»\"”’')]}›"
_ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "prof", "st", "vs", "no", "vol", "pp", "fig", "jr", "sr", "e.g", "i.e", "etc.al"}


_TERMINAL = None


def count_sentences(text: str, lang: str) -> int:
    """Sentences in a translation in ``lang``, by Unicode's sentence terminators (``.``, ``۔``,
    ``।``, ``。``, ``؟``…): one followed by a space or the end in languages written with spaces,
    any one in those written without (Chinese), except a point between digits (3.5)."""
    global _TERMINAL
    import regex

    from .languages import language

    if _TERMINAL is None:
        closers = "\"'”’»)」』）\\]"
        _TERMINAL = (regex.compile(rf"\p{{Sentence_Terminal}}+[{closers}]*(?=\s|$)"),
                     regex.compile(rf"\p{{Sentence_Terminal}}+[{closers}]*(?!\d)"))
    spaced, unspaced = _TERMINAL
    text = text.strip()
    if not text:
        return 0
    pattern = spaced if language(lang).spaced else unspaced
    ends = [m.end() for m in pattern.finditer(text)]
    return len(ends) + (0 if ends and ends[-1] >= len(text) else 1)


def estimate_tokens(text: str) -> int:
    """A rough count of the subword tokens an NLLB-style sentencepiece model makes of ``text``.

    Persian words average about 1.4 pieces; punctuation is a piece of its own.
    Pass a real tokenizer's counter to :func:`split_sentences` where one is at hand.
    """
    words = len(re.findall(r"\w+", text))
    punct = len(re.findall(r"[^\w\s]", text))
    return math.ceil(words * 1.4) + punct


@dataclass(frozen=True)
class Sentence:
    """A piece of a paragraph: ``text[start:end]``. Pieces of one over-long sentence
    share ``sentence`` (its index in the paragraph) and carry their ``part`` number;
    ``joiner`` is what stood between this piece and the next one."""

    start: int
    end: int
    sentence: int
    part: int = 0
    parts: int = 1
    joiner: str = ""


def _is_abbreviation(text: str, dot: int) -> bool:
    """Is the ``.`` at ``dot`` the end of an abbreviation (``ه.ش.``, ``Dr.``, a single letter)?"""
    start = dot
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "«(\"":
        start -= 1
    token = text[start:dot]
    if not token:
        return False
    if len(token) == 1 and token.isalpha():
        return True
    if "." in token and any(c.isalpha() for c in token):
        return True
    return token.lower() in _ABBREVIATIONS


_CONTINUATIONS = {"و", "را", "که", "تا", "ولی", "اما"}


def _continues(text: str, at: int) -> bool:
    """Does the word after ``at`` carry on the sentence (a conjunction, a lowercase Latin word)?"""
    word = text[at:].split(maxsplit=1)[0] if text[at:].strip() else ""
    return word.rstrip("،,") in _CONTINUATIONS or word[:1].islower()


def _sentence_ends(text: str) -> list[int]:
    """Offsets just after each sentence end in ``text`` (last one is ``len(text)``)."""
    ends: list[int] = []
    depth = 0  # nesting of «…»: no cut inside a quotation that closes in this paragraph
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "«":
            depth += 1
        elif c == "»":
            depth = max(0, depth - 1)
        elif c == "\n":
            ends.append(i)
        elif c in _TERMINATORS:
            j = i
            while j < n and (text[j] in _TERMINATORS or text[j] == NOTE_MARK):
                j += 1
            while j < n and (text[j] in _CLOSERS or text[j] == NOTE_MARK):
                if text[j] == "»":
                    depth = max(0, depth - 1)
                j += 1
            at_break = j == n or text[j] in " \n"
            if at_break and j < n and text[j - 1] in _CLOSERS and _continues(text, j):
                at_break = False  # «…بمان.» و رفت: the narration goes on after the quotation
            abbreviation = c == "." and j == i + 1 and _is_abbreviation(text, i)
            inside_quote = depth > 0 and "»" in text[j:]
            if at_break and not abbreviation and not inside_quote:
                ends.append(j)
            i = j
            continue
        i += 1
    if not ends or ends[-1] != n:
        ends.append(n)
    return ends


# Where an over-long sentence may be cut, best first.
_CUT_TIERS = (
    re.compile(r"(?<=[.!?؟…])(?=\s)|(?<=[.!?؟…][»\"”’')\]])(?=\s)"),
    re.compile(r"(?<=[؛;:])(?=\s)"),
    re.compile(r"(?<=[،,])(?=\s)"),
    re.compile(r"(?=\s)"),
)


def _cut_long(text: str, start: int, end: int, max_tokens: int, count: Callable[[str], int], tier: int = 0) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` into spans each within ``max_tokens``, cutting at the best punctuation available."""
    if count(text[start:end]) <= max_tokens:
        return [(start, end)]
    if tier >= len(_CUT_TIERS):
        # No whitespace at all (a run of characters longer than the limit): cut by length.
        step = max(1, (end - start) * max_tokens // max(1, count(text[start:end])))
        return [(s, min(s + step, end)) for s in range(start, end, step)]
    cuts = [m.start() + start for m in _CUT_TIERS[tier].finditer(text[start:end]) if start < m.start() + start < end]
    if not cuts:
        return _cut_long(text, start, end, max_tokens, count, tier + 1)
    pieces, s = [], start
    for cut in cuts + [end]:
        pieces.append((s, cut))
        s = cut
    # Greedily merge neighbours while they fit, then cut what is still too long at the next tier.
    merged: list[tuple[int, int]] = []
    for piece in pieces:
        if merged and count(text[merged[-1][0]:piece[1]]) <= max_tokens:
            merged[-1] = (merged[-1][0], piece[1])
        else:
            merged.append(piece)
    spans: list[tuple[int, int]] = []
    for a, b in merged:
        spans.extend(_cut_long(text, a, b, max_tokens, count, tier + 1))
    return spans


def split_sentences(
    text: str,
    *,
    max_tokens: int = 200,
    count_tokens: Callable[[str], int] = estimate_tokens,
) -> list[Sentence]:
    """Cut a normalised paragraph into sentences, and over-long sentences into parts.

    Sentences end at ``. ! ؟ ? …`` (and runs of them) with any closing quotes
    and brackets, before whitespace; never inside a number or date, after an
    abbreviation, or inside a «quotation» that closes in the same paragraph.
    A line break always ends a sentence (dialogue lines, verse). A sentence
    over ``max_tokens`` is cut again at ``؛ : ،`` (then spaces), and each part
    remembers what joined it to the next.
    """
    pieces: list[Sentence] = []
    begin = 0
    index = 0
    for end in _sentence_ends(text):
        s, e = _strip_span(text, begin, end)
        begin = end
        if s >= e:
            continue
        spans = [_strip_span(text, a, b) for a, b in _cut_long(text, s, e, max_tokens, count_tokens)]
        spans = [(a, b) for a, b in spans if a < b]
        for part, (a, b) in enumerate(spans):
            joiner = text[b:spans[part + 1][0]] if part + 1 < len(spans) else ""
            pieces.append(Sentence(a, b, index, part, len(spans), joiner))
        index += 1
    return pieces


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \n":
        start += 1
    while end > start and text[end - 1] in " \n":
        end -= 1
    return start, end


def join_parts(parts: list[tuple[str, str]]) -> str:
    """Join the parts of a split sentence back: ``[(text, joiner), …]``."""
    return "".join(text + joiner for text, joiner in parts)


def content_id(text: str, prefix: str = "s") -> str:
    """A short, stable ID derived from text alone, so it survives edits elsewhere in the book."""
    return prefix + hashlib.blake2b(text.encode("utf-8"), digest_size=5).hexdigest()


def significant_characters(text: str) -> int:
    """Characters that carry text: not whitespace, not invisible format marks, not kashida."""
    return sum(1 for c in text if not c.isspace() and c != KASHIDA and unicodedata.category(c) != "Cf")
