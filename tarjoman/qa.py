"""Quality checks on translations, per review entry.

Each check is a small function of the source, the translation and the target
language; :func:`check_entry` runs them all. They catch what machine
translation gets wrong (untranslated or half-translated text, lost numbers,
repetition loops, wrong punctuation) and what a tired reviewer misses.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from .finishing import NBSP, NNBSP
from .glossary.terms import binder_for, is_rendered
from .languages import ARABIC_DIGITS, LATIN_DIGITS, PERSIAN_DIGITS, TARGETS, language
from .text import count_sentences, split_sentences

_TO_LATIN = str.maketrans(PERSIAN_DIGITS + ARABIC_DIGITS, LATIN_DIGITS * 2)
_NUMBER = re.compile(r"\d+(?:[.,٫٬]\d+)*")
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff]")
_WORD = re.compile(r"\w+", re.UNICODE)
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
# Plausible translation/source length ratios (characters) outside which a draft is suspect; a
# language written without spaces (Chinese) says in far fewer characters what Persian says.
LENGTH_BOUNDS = {"en": (0.4, 3.0), "fr": (0.45, 3.3), "ar": (0.4, 2.6), "ur": (0.45, 3.0)}
DEFAULT_BOUNDS, UNSPACED_BOUNDS = (0.4, 3.0), (0.15, 1.5)


@dataclass(frozen=True)
class Finding:
    check: str
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.message}"


def numbers(text: str) -> Counter:
    """Numbers as values, whatever digits wrote them (۱۳۵۹, ١٣٥٩ and 1359 are the same)."""
    found = Counter()
    for match in _NUMBER.findall(text.translate(_TO_LATIN)):
        found[re.sub(r"[,٬]", "", match).replace("٫", ".")] += 1
    return found


def _untranslated(source, target, lang, carried, glossary):
    if not target.strip():
        return [Finding("untranslated", "no translation")]
    if target.strip() == source.strip() and not carried and _WORD.search(source) and not source.strip().isdigit():
        return [Finding("untranslated", "the translation is the source text")]
    return []


def _source_script(source, target, lang, carried, glossary):
    if language(lang).script != "Arab" and _ARABIC_SCRIPT.search(target):
        left = " ".join(re.findall("[\u0600-\u06ff\u200c]+", target))[:40]
        return [Finding("source-script", f"Arabic-script text left in the {lang} translation: «{left}»")]
    return []


def _numbers(source, target, lang, carried, glossary):
    want, got = numbers(source), numbers(target)
    out = []
    for value in sorted((want - got).elements()):
        out.append(Finding("numbers", f"{value} is in the source but not in the translation"))
    for value in sorted((got - want).elements()):
        out.append(Finding("numbers", f"{value} is in the translation but not in the source"))
    return out


def _glossary(source, target, lang, carried, glossary):
    """Every approved term in the source (with its Persian suffixes) must appear as approved."""
    if not glossary or carried:
        return []
    binder = binder_for(lang, tuple(sorted(glossary.items())))
    return [
        Finding("glossary", f"«{term}» should be rendered «{rendering}»")
        for term, rendering in binder.applied(source)
        if not is_rendered(rendering, target, lang)
    ]


def _length(source, target, lang, carried, glossary):
    if len(source) < 20 or not target:
        return []
    low, high = LENGTH_BOUNDS.get(lang) or (DEFAULT_BOUNDS if language(lang).spaced else UNSPACED_BOUNDS)
    ratio = len(target) / len(source)
    if ratio < low or ratio > high:
        return [Finding("length", f"the translation is {ratio:.1f}× the length of the source (expected {low}–{high}×)")]
    return []


def _repetition(source, target, lang, carried, glossary):
    words = _WORD.findall(target.lower())
    for n in (1, 2, 3, 4):
        for i in range(len(words) - 3 * n + 1):
            gram = words[i:i + n]
            if gram == words[i + n:i + 2 * n] == words[i + 2 * n:i + 3 * n]:
                source_words = _WORD.findall(source.lower())
                if " ".join(gram * 3) not in " ".join(source_words):
                    return [Finding("repetition", f"«{' '.join(gram)}» repeats three times in a row: a generation loop")]
    return []


def _sentences(source, target, lang, carried, glossary):
    if not target:
        return []
    target_language = language(lang)
    got = len(split_sentences(target)) if target_language.full_stop == "." and target_language.spaced else count_sentences(target, lang)
    want = len(split_sentences(source))
    if abs(want - got) > 1:
        return [Finding("sentences", f"{got} sentences in the translation for {want} in the source")]
    return []


_PAIRS = (("(", ")"), ("[", "]"), ("«", "»"), ("“", "”"))


def _brackets(source, target, lang, carried, glossary):
    out = []
    for left, right in _PAIRS:
        if source.count(left) == source.count(right) and target.count(left) != target.count(right):
            out.append(Finding("brackets", f"unbalanced {left}{right} in the translation"))
    if source.count('"') % 2 == 0 and target.count('"') % 2:
        out.append(Finding("brackets", 'an odd number of " in the translation'))
    return out


def _punctuation(source, target, lang, carried, glossary):
    out = []
    if lang == "fr":
        if re.search(rf"(?<![{NBSP}{NNBSP};!?])[;!?]", target) or re.search(rf"(?<![{NBSP}{NNBSP}]):(\s|$)", target):
            out.append(Finding("punctuation", "French needs a no-break space before ; : ! ?"))
        if re.search(rf"«[^{NBSP}{NNBSP}]", target) or re.search(rf"[^{NBSP}{NNBSP}]»", target):
            out.append(Finding("punctuation", "French needs a no-break space inside « »"))
    target_language = language(lang)
    if target_language.script == "Arab":
        for latin, native in ((",", "،"), ("?", "؟"), (";", "؛")):
            if re.search(rf"{re.escape(latin)}(?!\d)", target):
                out.append(Finding("punctuation", f"use «{native}» rather than «{latin}»"))
    stop = target_language.full_stop
    if stop != "." and re.search(r"(?<![\d.])\.\s*$", target):
        out.append(Finding("punctuation", f"{target_language.name} ends a sentence with «{stop}», not «.»"))
    return out


def _language(source, target, lang, carried, glossary, others=TARGETS):
    """Text in another language than the file's: French in the English file, Urdu in the Arabic
    one, the Persian source kept (``tarjoman.langid``; the book's languages as candidates). A
    language the identifier does not know is not judged."""
    from .langid import knows, wrong_language

    if carried or not knows(lang):
        return []
    reason = wrong_language(target, lang, source_lang="fa", others=[o for o in others if o != lang and knows(o)])
    return [Finding("language", f"the translation {reason}")] if reason else []


_ALL = (_untranslated, _source_script, _language, _numbers, _glossary, _length, _repetition, _sentences, _brackets, _punctuation)


def check_entry(source: str, target: str, lang: str, *, carried: bool = False, glossary: dict[str, str] | None = None) -> list[Finding]:
    """Every finding for one translation; ``glossary`` maps Persian terms to their approved rendering."""
    if not target.strip():
        return _untranslated(source, target, lang, carried, glossary)
    findings = []
    for check in _ALL:
        findings += check(source, target, lang, carried, glossary)
    return findings


BLOCKING = (_untranslated,)  # checks whose findings refuse an approval
PUBLISH_BLOCKING = (_language,)  # … and those that keep an approved translation out of a book


def invisible(text: str) -> bool:
    """Nothing a reader would see: empty, spaces, or only format marks (ZWNJ, RLM, BOM …)."""
    return not any(not c.isspace() and unicodedata.category(c) not in ("Cf", "Cc") for c in text)


def approval_problem(source: str, text: str, lang: str, source_lang: str = "fa", *, publishing: bool = False) -> str | None:
    """Why ``text`` cannot stand as the approved ``lang`` translation of ``source``, or None.
    ``publishing``: also why it cannot go into a book (a translation in the wrong language; a
    translator may save it, QA lists it, the book waits until it is put right)."""
    if invisible(text):
        return "it is empty or only invisible characters"
    # A quotation in another language (an Arabic verse) may stay as it is in any book; so may a date.
    carried = source_lang in (lang, "") or source_lang != "fa" or not _LETTER.search(source)
    if not carried and text.strip() == source.strip():
        return "it is the Persian source itself, not a translation"
    for check in BLOCKING + (PUBLISH_BLOCKING if publishing else ()):
        for finding in check(source, text, lang, carried, None):
            return f"{finding.check}: {finding.message}"
    return None
