"""Which language a text is written in: the check for a translation pasted in the wrong language.

Translators paste French into the English file, Urdu into the Arabic one, or the Persian source
as the "translation". :func:`wrong_language` says so in one line, and :func:`identify` gives the
language and probability behind it. Both choose only among the languages they are given — the
book's source and targets — which on short text is far more accurate than choosing among all of
a model's languages.

The identifier is py3langid (BSD-3-Clause; a fork of Marco Lui's langid.py): a naive-Bayes model
over byte n-grams of 140 languages, shipped inside its 4.6 MB pure-Python wheel, so nothing is
downloaded or compiled. It is imported and its model loaded (about 1.5 s) on first use, not when
this module is imported. Its probabilities are tempered by the square root of the text's length
in bytes (new in 0.4: the thresholds below are for that scale, hence ``py3langid>=0.4``).

Why py3langid (``benchmarks/language_id.py``; NTREX-128, 1,997 sentences per language, the
five languages fa, ar, ur, en, fr as candidates): on 3–8-word segments it is right 98.3–99.9 %
of the time (fa 98.4, ar 99.9, ur 99.2, en 99.5, fr 98.3), and each of the others falls lower
on some language: fastText's lid.176.ftz 90.8 % (ur), lingua-language-detector 2.1.1 94.7 %
(fr; a 96 MB wheel), langid 1.1.6 88.9 % (ur), pycld2 0.42 80.7 % (fr), cld3-py 3.1.0 75.2 %
(en). On whole sentences all but cld3-py are at 99.2–100 %.

Thresholds, chosen on the same data so that a correct translation is almost never flagged (the
check blocks publishing):

- ``MIN_LETTERS = 8`` and ``MIN_WORDS = 2``: below this a text is not judged ("Oui.", a date, a
  single word); most wrong guesses on correct text are 3-word segments. Chinese, Japanese and
  Thai, written without spaces, need only the letters.
- A Latin-script text whose every word starts with a capital (names, "Jean-Paul Sartre",
  title-case headings) is not judged either: names read as any language.
- ``MIN_CONFIDENCE = 0.9``: a text is flagged only when the model gives ``lang`` a probability
  of at most 0.1 among the candidates, and another candidate is the likeliest. Asking that
  ``lang`` be unlikely, rather than that one other language be likely, catches the Persian
  source in an English or French file even when the model cannot tell Persian from Urdu:
  short Persian segments in the English file caught 98.1 % instead of 82.3 %, with the same
  false flags. A margin follows from it (at least 0.8 between the two when the best has 0.9).

Measured with those thresholds, ``others`` the book's other targets: false flags on correct
references 2 of 9,985 whole sentences (both the French sentence "Il faut bien le faire." that
the English source quotes and the Urdu reference keeps) and 6 of 9,546 segments of 3–8 words
(0.06 %; worst fr, 0.26 %: English names and titles inside French sentences); none of the
16,545 segments of the Persian novel, the Safarnama and the Arabic *Eve's Diary* in
../shared/realdata, and 1 of 1,942 user-interface strings of its PO files. Swaps caught on whole
sentences 99.0–99.9 % (a text too short to judge counts as missed); on 3–8-word segments fr in
en 91.3 %, en in fr 90.0 %, ur in ar 98.3 %, ar in ur 99.5 %, Persian in ar 96.0 %, in ur
84.6 %, in en 98.1 %, in fr 98.3 %. A threshold of 0.95 would cut the worst short false-flag
rate from 0.26 % to 0.05 % and let through 15 % of English in French and 22 % of Persian in
Urdu short segments.

What it cannot know: a language that is not among the candidates is read as the nearest one
(French in the English file is named only if French is among ``others``); Arabic script has no
capitals, so a name alone spelled the Persian way (محمد رضا شاه پهلوی) reads as Persian in an
Arabic file; and a segment whose source is itself a quotation in another language (an Arabic
verse the book keeps as it is) reads as that language — a caller should not ask about such
segments.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterable
from typing import Any

from .errors import EngineError, ProjectError
from .languages import is_language, language

MIN_LETTERS = 8
MIN_WORDS = 2
MIN_CONFIDENCE = 0.9

# Our code → the model's label. NTREX-128's Central Kurdish (ckb-Arab) reads as the model's
# "sdh" in 300 of 300 sentences; its "ku" is Kurmanji.
_MODEL_CODE = {"ckb": "sdh"}
_NAMES = {
    "ckb": "Central Kurdish",
    "ps": "Pashto",
    "hi": "Hindi",
    "id": "Indonesian",
    "ms": "Malay",
    "tr": "Turkish",
    "ru": "Russian",
    "zh": "Chinese",
    "de": "German",
    "es": "Spanish",
    "sw": "Swahili",
    "az": "Azerbaijani",
    "ku": "Kurmanji Kurdish",
}
# What a language cannot be told by: links, e-mail addresses, markup, format placeholders.
_NOISE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\w+|<[^>]*>|%(?:\(\w+\))?[sdif]|\{\w*\}")
_LETTER = re.compile(r"[^\W\d_]")
_CASED_WORD = re.compile(r"\b[^\W\d_]")
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]"
)  # Thai, Lao, kana, Han: no spaces

_lock = threading.Lock()
_model: Any = None  # py3langid's LanguageIdentifier over all its languages, once loaded
_restricted: dict[frozenset[str], Any] = {}  # candidate labels → an identifier choosing among them


def _load() -> Any:
    global _model
    with _lock:
        if _model is None:
            try:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier
            except ImportError as exc:
                raise EngineError(
                    "the language check needs py3langid: pip install 'py3langid>=0.4'"
                ) from exc
            _model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _model


def _identifier(labels: frozenset[str]) -> Any:
    identifier = _restricted.get(labels)
    if identifier is None:
        model = _load()
        unknown = sorted(labels - set(model.nb_classes))
        if unknown:
            raise ProjectError(
                f"the language check does not know {', '.join(unknown)}; give ISO 639-1 codes"
                " (fa, ar, ur, en, fr, ps, hi, tr …) or ckb"
            )
        # A shallow copy shares the model's tables; set_languages gives the copy its own slices.
        identifier = copy.copy(model)
        identifier.set_languages(sorted(labels))
        with _lock:
            identifier = _restricted.setdefault(labels, identifier)
    return identifier


def _label(code: str) -> str:
    """Our code → the model's label: the language subtag (``zh`` for ``zh-Hans``), ckb as sdh."""
    subtag = code.split("-")[0]
    return _MODEL_CODE.get(subtag, subtag)


def knows(code: str) -> bool:
    """Whether the identifier can tell ``code`` at all (it knows 97 languages)."""
    return _label(code) in set(_load().nb_classes)


def language_name(code: str) -> str:
    """``"fr"`` → ``"French"``; a code it has no name for comes back as it is."""
    if code in _NAMES:
        return _NAMES[code]
    return language(code).name if is_language(code) else code


def judgeable(text: str) -> bool:
    """Whether ``text`` has enough to tell its language by (see the thresholds above)."""
    text = _NOISE.sub(" ", text)
    words = [w for w in text.split() if _LETTER.search(w)]
    if len(_LETTER.findall(text)) < MIN_LETTERS or (
        len(words) < MIN_WORDS and not _UNSPACED.search(text)
    ):
        return False
    initials = [m.group() for m in _CASED_WORD.finditer(text)]
    cased = [c for c in initials if c.isupper() or c.islower()]
    return not cased or len(cased) < len(initials) or not all(c.isupper() for c in cased)


def _probabilities(text: str, candidates: Iterable[str]) -> dict[str, float]:
    """Each candidate's probability for ``text``, best first; empty if it cannot be judged."""
    codes = sorted(set(candidates))
    if not codes:
        raise ValueError("a language check needs at least one candidate language")
    labels = {_label(c): c for c in codes}
    identifier = _identifier(frozenset(labels))
    if not judgeable(text):
        return {}
    return {labels[label]: float(p) for label, p in identifier.rank(_NOISE.sub(" ", text))}


def identify(text: str, candidates: Iterable[str]) -> tuple[str | None, float]:
    """The candidate ``text`` is most likely written in, and the model's probability for it.

    Codes are ISO 639-1 (``"fa"``, ``"ar"``, ``"ur"``, ``"en"``, ``"fr"``, ``"ps"``, ``"hi"``,
    ``"tr"`` …, and ``"ckb"``). ``(None, 0.0)`` when the text is too short to judge: fewer
    than ``MIN_LETTERS`` letters or ``MIN_WORDS`` words, or only capitalised words (names).
    An unknown code is a :class:`ProjectError`; py3langid missing, an :class:`EngineError`.
    """
    probabilities = _probabilities(text, candidates)
    if not probabilities:
        return None, 0.0
    code = next(iter(probabilities))
    return code, probabilities[code]


def wrong_language(
    text: str, lang: str, *, source_lang: str = "fa", others: Iterable[str] = ()
) -> str | None:
    """Why ``text``, meant to be in ``lang``, reads as another language; None if it may well be
    in ``lang`` or cannot be judged.

    The candidates are ``lang``, ``source_lang`` and ``others`` (the book's other targets, so
    that French in the English file can be named). The reason names the likeliest candidate and
    the model's confidence that the text is not in ``lang``, for example
    ``"reads as French, not English (confidence 0.97)"``.
    """
    probabilities = _probabilities(text, {lang, source_lang, *others})
    if not probabilities:
        return None
    code = next(iter(probabilities))
    confidence = 1.0 - probabilities[lang]
    if code == lang or confidence < MIN_CONFIDENCE:
        return None
    name = language_name(code) + (" (the source language)" if code == source_lang else "")
    return f"reads as {name}, not {language_name(lang)} (confidence {confidence:.2f})"
