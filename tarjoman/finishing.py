"""Target-language finishing of machine drafts: digits and punctuation as each language writes them.

Applied when drafts are written out, not before they are cached, so changing
a convention never costs a model call.
"""

from __future__ import annotations

import re
import unicodedata

from .languages import LATIN_DIGITS, language

NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space: French typography before ; ! ? and inside « »
_FIRST_FOUR = ("ar", "en", "fr", "ur")  # finished as they always were (their books stay the same)


def convert_digits(text: str, digits: str) -> str:
    """Write every decimal digit, whatever script it is in (Unicode category Nd), with ``digits``
    (ten characters, 0 to 9)."""
    return "".join(digits[unicodedata.digit(c)] if c.isdigit() and unicodedata.category(c) == "Nd" else c for c in text) if any(
        c.isdigit() for c in text) else text


def finish(text: str, lang: str, *, digits: str = "native") -> str:
    """Finish a draft in ``lang``. ``digits``: ``native`` (the language's own), ``latin`` or ``keep``."""
    target = language(lang)
    if digits == "native":
        text = convert_digits(text, target.digits)
    elif digits == "latin":
        text = convert_digits(text, LATIN_DIGITS)
    if lang == "fr":
        return _french(text)
    if target.script == "Arab":
        text = _arabic_script_punctuation(text)
    if target.full_stop != "." and target.spaced:
        # Urdu and Pashto end sentences with «۔», Hindi with «।»: not a Latin period.
        text = re.sub(r"(?<![\d.])\.(?=\s|$|[»\"”)])", target.full_stop, text)
    if not target.spaced:
        text = _fullwidth(text, target.full_stop)
    if lang not in _FIRST_FOUR:
        # "…" as the language quotes: “…” in Indonesian and Hindi, «…» in Russian, “…” in Chinese.
        text = re.sub(r'"([^"\n]+)"', target.quotes[0] + r"\1" + target.quotes[1], text)
    return text


_WIDE = str.maketrans({",": "，", "?": "？", "!": "！", ":": "：", ";": "；", "(": "（", ")": "）"})


def _fullwidth(text: str, stop: str) -> str:
    """Chinese and Japanese punctuation is full-width, with no space after it; after a Latin word
    or a number it stays as it is."""
    text = re.sub(r"(?<=[^\x00-\x7f])([,?!:;])\s*", lambda m: m.group(1).translate(_WIDE), text)
    return re.sub(r"(?<=[^\x00-\x7f\d])\.(?=\s|$)\s*", stop, text)


def _arabic_script_punctuation(text: str) -> str:
    text = re.sub(r",(?!\d)", "،", text)
    text = re.sub(r";", "؛", text)
    return text.replace("?", "؟")


def _french(text: str) -> str:
    text = re.sub(r"[ \u00a0\u202f]*([;!?])", NNBSP + r"\1", text)
    text = re.sub(r"(?<=\S)[ \u00a0\u202f]*:(?=\s|$)", NBSP + ":", text)
    text = re.sub(r"«[ \u00a0\u202f]*", "«" + NNBSP, text)
    text = re.sub(r"[ \u00a0\u202f]*»", NNBSP + "»", text)
    text = re.sub(r'"([^"]+)"', "«" + NNBSP + r"\1" + NNBSP + "»", text)
    return text.replace(NNBSP + NNBSP, NNBSP).lstrip(NNBSP)
