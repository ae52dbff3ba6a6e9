"""The languages Tarjoman works in, with the codes each model family uses for them."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ProjectError


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1, as in PO headers and file names
    name: str
    nllb: str  # NLLB-200 (FLORES-200) code
    m2m100: str  # M2M100 code
    mbart: str  # mBART-50 code
    opus: str  # OPUS-MT pair code
    rtl: bool
    digits: str  # the digits this language writes natively, 0 to 9


LATIN_DIGITS = "0123456789"
PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"  # also Urdu's
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"

LANGUAGES = {
    "fa": Language("fa", "Persian", "pes_Arab", "fa", "fa_IR", "fa", True, PERSIAN_DIGITS),
    "ar": Language("ar", "Arabic", "arb_Arab", "ar", "ar_AR", "ar", True, ARABIC_DIGITS),
    "en": Language("en", "English", "eng_Latn", "en", "en_XX", "en", False, LATIN_DIGITS),
    "fr": Language("fr", "French", "fra_Latn", "fr", "fr_XX", "fr", False, LATIN_DIGITS),
    "ur": Language("ur", "Urdu", "urd_Arab", "ur", "ur_PK", "ur", True, PERSIAN_DIGITS),
}
TARGETS = ("ar", "en", "fr", "ur")


def language(code: str) -> Language:
    try:
        return LANGUAGES[code]
    except KeyError:
        raise ProjectError(f"unknown language {code!r}; Tarjoman knows {', '.join(LANGUAGES)}") from None


def parse_targets(value: str, action: str = "translate into") -> list[str]:
    """``"ar,en"`` or ``"all"`` → target codes, checked; ``action`` says in the refusal what the
    command was asked to do (``"publish in"``: "cannot publish in 'de'")."""
    codes = list(TARGETS) if value.strip() in ("all", "") else [c.strip() for c in value.split(",") if c.strip()]
    for code in codes:
        if code not in TARGETS:
            raise ProjectError(f"cannot {action} {code!r}; the target languages are {', '.join(TARGETS)} (or 'all')")
    return codes
