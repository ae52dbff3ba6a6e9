"""Finding chapters and tables of contents among plain paragraphs.

Used when the manuscript has no chapter heading styles: a chapter line is a
short paragraph that names a part and its number, such as «فصل اول»,
«فصل ۱», «بخش دوم: …», «داستان اول: …», «الفصل الثاني», «Chapter 3», or the
novel's «اولین زندگی … ۱۶۱۹ میلادی». Well-known part nouns (فصل، بخش، …) are
trusted on their own; any other noun counts only as a series (the same noun
with ordinals starting at one), so a lone «روز اول» in the text is not a chapter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {
    "یکم": 1, "اول": 1, "نخست": 1, "دوم": 2, "سوم": 3, "چهارم": 4, "پنجم": 5, "ششم": 6,
    "هفتم": 7, "هشتم": 8, "نهم": 9,
}
_TEENS = {
    "دهم": 10, "یازدهم": 11, "دوازدهم": 12, "سیزدهم": 13, "چهاردهم": 14, "پانزدهم": 15,
    "شانزدهم": 16, "هفدهم": 17, "هجدهم": 18, "هیجدهم": 18, "نوزدهم": 19,
}
_TENS = {"بیست": 20, "سی": 30, "چهل": 40, "پنجاه": 50}
_TENS_ORDINAL = {"بیستم": 20, "سی‌ام": 30, "سی ام": 30, "چهلم": 40, "پنجاهم": 50}
_ARABIC_ORDINALS = {
    "الأول": 1, "الاول": 1, "الثانی": 2, "الثالث": 3, "الرابع": 4, "الخامس": 5,
    "السادس": 6, "السابع": 7, "الثامن": 8, "التاسع": 9, "العاشر": 10,
    "الأولی": 1, "الاولی": 1, "الثانیة": 2, "الثالثة": 3, "الرابعة": 4, "الخامسة": 5,
}
_ENGLISH = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "first": 1, "second": 2, "third": 3,
}


def _ordinal_words() -> dict[str, int]:
    words = {**_UNITS, **_TEENS, **_TENS_ORDINAL, **_ARABIC_ORDINALS, **_ENGLISH}
    for tens_word, tens in _TENS.items():
        for unit_word, unit in _UNITS.items():
            if unit_word not in ("اول", "نخست"):
                words[f"{tens_word} و {unit_word}"] = tens + unit
    return words


ORDINALS = _ordinal_words()
# «اولین», «دومین», «نخستین», «بیستمین»: the ordinal comes before the noun.
PREFIX_ORDINALS = {w + "ین": n for w, n in {**_UNITS, **_TEENS, **_TENS_ORDINAL}.items() if w != "یکم"}

KNOWN_NOUNS = {"فصل", "بخش", "قسمت", "دفتر", "داستان", "باب", "روایت", "الفصل", "الباب", "الجزء", "chapter", "part"}

_DIGITS = "0-9۰-۹٠-٩"
_ROMAN = re.compile(r"^[ivxlcdm]+$", re.IGNORECASE)
_ORD_ALT = "|".join(sorted((re.escape(w) for w in ORDINALS), key=len, reverse=True))
_PREFIX_ALT = "|".join(sorted((re.escape(w) for w in PREFIX_ORDINALS), key=len, reverse=True))
# After the number: end of line, a separator, or a gap of several spaces (kept as « | »).
_AFTER = r"(?=$|\s*[:：\-–—.،|)])"
_NOUN_FIRST = re.compile(rf"^(?P<noun>[^\s{_DIGITS}|:]+)\s(?P<ord>{_ORD_ALT}|[{_DIGITS}]+|[ivxlcdmIVXLCDM]+){_AFTER}")
_ORD_FIRST = re.compile(rf"^(?P<ord>{_PREFIX_ALT})\s(?P<noun>[^\s{_DIGITS}|:]+){_AFTER}")

_TRANSLATE_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


@dataclass(frozen=True)
class ChapterLine:
    noun: str
    number: int
    known: bool


def _roman(text: str) -> int:
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
    total = 0
    for a, b in zip(text.lower(), text.lower()[1:] + " "):
        v = values[a]
        total += -v if values.get(b, 0) > v else v
    return total


def _number(word: str) -> int:
    if word in ORDINALS:
        return ORDINALS[word]
    if word in PREFIX_ORDINALS:
        return PREFIX_ORDINALS[word]
    if _ROMAN.match(word):
        return _roman(word)
    return int(word.translate(_TRANSLATE_DIGITS))


def parse_chapter_line(raw: str) -> ChapterLine | None:
    """If ``raw`` (a paragraph's text, yeh/kaf already Persian) reads as a chapter line, say which."""
    # Keep wide gaps visible as « | »: the novel separates title fields with runs of spaces.
    line = re.sub(r"[ \t\u00a0\u2000-\u200a\u202f]{2,}", " | ", raw.strip())
    line = line.strip(" «»\"“”'|*")
    collapsed = re.sub(r"[\s|]+", " ", line)
    # A known part noun with a number and a separator may carry a long title
    # («بخش ۴۸ - صفت خوان سلطان و …»); anything else must be short to count.
    if not line or len(collapsed) > 220 or len(collapsed.split()) > 32:
        return None
    short = len(collapsed) <= 110 and len(collapsed.split()) <= 16
    for pattern in (_NOUN_FIRST, _ORD_FIRST):
        match = pattern.match(line)
        if not match:
            continue
        noun, word = match.group("noun"), match.group("ord")
        known = noun.lower() in KNOWN_NOUNS
        if not short and not (known and re.match(r"\s*[:：\-–—]", line[match.end():])):
            continue
        if not known and not (word in ORDINALS or word in PREFIX_ORDINALS):
            # «سال ۱۳۴۵» is a date, not a chapter: unknown nouns need ordinal words.
            continue
        if _ROMAN.match(word) and noun.lower() not in ("chapter", "part"):
            continue
        return ChapterLine(noun.lower(), _number(word), known)
    return None


def find_chapter_lines(texts: list[str]) -> list[int]:
    """Indexes of the paragraphs in ``texts`` that start chapters, or ``[]``.

    Known nouns win; otherwise the unknown noun with the longest series of
    distinct ordinals starting at one, if it has at least two.
    """
    parsed = [(i, parse_chapter_line(t)) for i, t in enumerate(texts)]
    hits = [(i, c) for i, c in parsed if c is not None]
    known = [i for i, c in hits if c.known]
    if known:
        return known
    series: dict[str, set[int]] = {}
    for _, c in hits:
        series.setdefault(c.noun, set()).add(c.number)
    candidates = [(len(numbers), noun) for noun, numbers in series.items() if 1 in numbers and len(numbers) >= 2]
    if not candidates:
        return []
    _, noun = max(candidates)
    return [i for i, c in hits if c.noun == noun]


_TOC_ENTRY = re.compile(rf"(\t|\.{{3,}}|…{{2,}}|_{{3,}}|·{{3,}})[\s.…]*[{_DIGITS}]+\s*$")
_TOC_TITLES = {"فهرست", "فهرست مطالب", "فهرست مندرجات", "فهرست تصاویر", "فهرست جداول", "فهرست شکل‌ها", "الفهرس", "المحتویات", "فهرس", "contents", "table of contents"}


def looks_like_toc_entry(text: str) -> bool:
    """A line that ends in a page number after a tab or dot leaders («فصل اول ........ ۱۲»)."""
    return bool(_TOC_ENTRY.search(text)) and len(text) < 200


def is_toc_title(text: str) -> bool:
    return re.sub(r"[\s:]+", " ", text).strip().lower().replace("\u200c\u200c", "\u200c") in _TOC_TITLES
