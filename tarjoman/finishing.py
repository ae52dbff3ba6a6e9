"""Target-language finishing of machine drafts: digits and punctuation as each language writes them.

Applied when drafts are written out, not before they are cached, so changing
a convention never costs a model call.
"""

from __future__ import annotations

import re

from .languages import ARABIC_DIGITS, LATIN_DIGITS, PERSIAN_DIGITS, language

NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space: French typography before ; ! ? and inside « »

_ALL_DIGITS = LATIN_DIGITS + PERSIAN_DIGITS + ARABIC_DIGITS


def convert_digits(text: str, digits: str) -> str:
    """Write every digit, whatever script it is in, with ``digits`` (ten characters, 0 to 9)."""
    table = {ord(c): digits[i % 10] for i, c in enumerate(_ALL_DIGITS)}
    return text.translate(table)


def finish(text: str, lang: str, *, digits: str = "native") -> str:
    """Finish a draft in ``lang``. ``digits``: ``native`` (the language's own), ``latin`` or ``keep``."""
    target = language(lang)
    if digits == "native":
        text = convert_digits(text, target.digits)
    elif digits == "latin":
        text = convert_digits(text, LATIN_DIGITS)
    if lang == "fr":
        return _french(text)
    if lang in ("ar", "ur"):
        text = _arabic_script_punctuation(text)
    if lang == "ur":
        # Urdu ends sentences with the full stop «۔», not a Latin period.
        text = re.sub(r"(?<![\d۰-۹٠-٩.])\.(?=\s|$|[»\"”)])", "۔", text)
    return text


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
