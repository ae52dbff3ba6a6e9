"""The languages Tarjoman translates into: any living language, described by CLDR, not a list of four.

A language is data. :func:`language` takes a BCP 47 code as a user types it (``id``, ``zh-Hans``,
``ckb``, or a model's own spelling: ``ind_Latn``, ``__id__``, ``zh_CN``) and gives a
:class:`Language` built from the Unicode CLDR:

- its canonical code, its name in English and in itself, its script and direction, its gettext
  plural rule and its numbering system: Babel's copy of CLDR (``babel``), with langcodes (the IANA
  subtag registry and CLDR's aliases) to read and tidy the code;
- its quotation marks and its full stop: CLDR's ``delimiters`` and punctuation exemplars, which
  Babel leaves out, kept in ``data/cldr-typography.json`` (built from the pinned CLDR release by
  ``tools/cldr/build.py``);
- the code each model family writes for it: read from the model's own tokenizer
  (:func:`model_languages`), never guessed.

Codes are canonical: ``zh-CN`` is ``zh-Hans-CN``, ``pes`` is ``fa``, ``zsm`` is ``ms``. The script
is written only where it tells something: where it is not the language's usual one (``ar-Latn``),
or where CLDR keeps the language's locales apart by script (``zh-Hans``, ``zh-Hant``, ``sr-Cyrl``).

Two house decisions sit on top of CLDR, both about the four first languages: Arabic and Urdu books
are printed with the language's native digits (CLDR's ``native`` numbering system: ٠١٢, ۰۱۲), as
Persian is, where CLDR's default for both is Latin; and every other language takes CLDR's default.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import ProjectError

SOURCE = "fa"
DEFAULT_TARGETS = ("ar", "en", "fr", "ur")
TARGETS = DEFAULT_TARGETS  # the targets of a book that names none

LATIN_DIGITS = "0123456789"
PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"  # Extended Arabic-Indic: Persian, Urdu, Pashto
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"  # Arabic-Indic: Arabic, Central Kurdish
NATIVE_DIGITS = frozenset({"fa", "ar", "ur"})  # the house decision above

_TYPOGRAPHY = Path(__file__).with_name("data") / "cldr-typography.json"
_CODE_SHAPE = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")


@dataclass(frozen=True)
class Language:
    code: str  # canonical BCP 47: file names, PO and EPUB language, the store
    name: str  # in English
    native_name: str  # in itself
    script: str  # ISO 15924, the usual one where the code names none
    rtl: bool
    digits: str  # the ten digits, 0 to 9, books in this language print
    quotes: str  # four characters: opening and closing mark, then the inner pair
    full_stop: str  # the mark that ends a sentence ("." "۔" "।" "。")
    plural_forms: str  # the gettext Plural-Forms header
    locale: str  # Babel's (CLDR's) identifier, as the PO header's Language wants it: zh_Hans, pt_BR

    @property
    def subtag(self) -> str:
        """The language subtag alone: ``zh`` for ``zh-Hans``."""
        return self.code.split("-")[0]

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"

    @property
    def spaced(self) -> bool:
        """Whether words are separated by spaces (not in Chinese, Japanese, Thai…)."""
        return self.script not in _UNSPACED_SCRIPTS


_UNSPACED_SCRIPTS = frozenset({"Hans", "Hant", "Hani", "Jpan", "Hira", "Kana", "Thai", "Laoo", "Khmr", "Mymr", "Tibt", "Bali", "Java"})


class UnknownLanguage(ProjectError):
    """A code that is no language, or one a model cannot write."""


# --- codes -------------------------------------------------------------------


def _langcodes():
    import langcodes

    return langcodes


@functools.lru_cache(maxsize=1)
def _locale_identifiers() -> frozenset[str]:
    from babel.localedata import locale_identifiers

    return frozenset(locale_identifiers())


def _script_split(language: str, usual: str | None) -> bool:
    """Whether CLDR keeps the language's locales apart by script: its usual script has a locale
    of its own (zh_Hans beside zh_Hant, sr_Cyrl beside sr_Latn), not only a rarer one (en_Shaw)."""
    return bool(usual) and f"{language}_{usual}" in _locale_identifiers()


@functools.lru_cache(maxsize=4096)
def canonical(value: str, *, territory: bool = True) -> str:
    """``"zh_CN"`` → ``"zh-Hans-CN"``, ``"ind_Latn"`` → ``"id"``; a code that is no language is
    an :class:`UnknownLanguage` naming the nearest ones. ``territory=False`` drops a region
    (mBART writes ``ar_AR``, ``en_XX``)."""
    raw = value.strip().replace("_", "-").strip("-")
    langcodes = _langcodes()
    try:
        if not _CODE_SHAPE.fullmatch(raw):
            raise ValueError(raw)
        tag = langcodes.Language.get(langcodes.standardize_tag(raw, macro=True))
    except (ValueError, langcodes.tag_parser.LanguageTagError):
        raise UnknownLanguage(f"{value!r} is not a language code{_nearest_text(value)}") from None
    if not tag.language or not tag.is_valid() or tag.language in ("und", "mul", "zxx", "mis"):
        raise UnknownLanguage(f"{value!r} is not a language code{_nearest_text(value)}")
    usual = langcodes.Language.get(tag.language).maximize().script
    script = tag.script or tag.maximize().script
    keep_script = (tag.script and tag.script != usual) or _script_split(tag.language, usual)
    region = tag.territory if territory and tag.territory not in (None, "XX", "ZZ") else None
    return "-".join(p for p in (tag.language, script if keep_script else None, region) if p)


def _nearest_text(value: str, candidates: list[str] | None = None) -> str:
    near = nearest(value, candidates)
    return f"; nearest: {', '.join(near)}" if near else ""


def nearest(value: str, candidates: list[str] | None = None, n: int = 5) -> list[str]:
    """Codes a user may have meant: by spelling, and by name (``Indonesian`` → ``id``)."""
    pool = sorted(set(candidates) if candidates is not None else _known_codes())
    typed = value.strip().replace("_", "-")
    found = difflib.get_close_matches(typed.lower(), pool, n=n, cutoff=0.5)
    try:
        by_name = _langcodes().find(typed).language
    except LookupError:
        by_name = None
    if by_name:
        found = [c for c in pool if c == by_name or c.startswith(by_name + "-")] + found
    return list(dict.fromkeys(found))[:n]


@functools.lru_cache(maxsize=1)
def _known_codes() -> tuple[str, ...]:
    return tuple(sorted({i.split("_")[0] for i in _locale_identifiers() if i != "root"}))


# --- what CLDR says of a language --------------------------------------------------


@functools.lru_cache(maxsize=1)
def _typography() -> dict:
    return json.loads(_TYPOGRAPHY.read_text(encoding="utf-8"))["locales"]


def _babel_locale(code: str):
    from babel import Locale, UnknownLocaleError

    parts = code.split("-")
    tries = ["_".join(parts[:n]) for n in range(len(parts), 0, -1)]
    for ident in tries:
        try:
            return Locale.parse(ident)
        except (UnknownLocaleError, ValueError):
            continue
    return None


def _digits(numbering: str) -> str:
    """CLDR's numbering system ``deva`` → ``०१२३४५६७८९``, from Unicode's digit names."""
    if numbering == "latn":
        return LATIN_DIGITS
    from fontTools import unicodedata as fonttools_unicodedata

    names = {"arab": "ARABIC-INDIC", "arabext": "EXTENDED ARABIC-INDIC"}
    script = names.get(numbering) or fonttools_unicodedata.script_name(numbering.title(), default="").upper()
    try:
        zero = ord(unicodedata.lookup(f"{script} DIGIT ZERO"))
    except KeyError:
        return LATIN_DIGITS  # a numbering system with no decimal digits of its own (hanidec…)
    digits = "".join(chr(zero + i) for i in range(10))
    return digits if all(unicodedata.digit(d, -1) == i for i, d in enumerate(digits)) else LATIN_DIGITS


def _typography_for(locale_ids: list[str]) -> dict:
    table = _typography()
    for ident in locale_ids:
        if ident in table:
            return table[ident]
    return {"quotes": "“”‘’", "stop": "."}


@functools.lru_cache(maxsize=1024)
def _describe(code: str) -> Language:
    from fontTools import unicodedata as fonttools_unicodedata

    langcodes = _langcodes()
    tag = langcodes.Language.get(code)
    script = tag.maximize().script or "Latn"
    locale = _babel_locale(code)
    if locale is not None and locale.language == tag.language:
        from babel.messages.plurals import get_plural

        ident = str(locale)
        name = locale.get_display_name("en") or tag.display_name("en")
        if tag.territory and not locale.territory:
            name = tag.display_name("en")
        native = locale.get_display_name(locale) or name
        rtl = locale.character_order == "right-to-left"
        systems = dict(locale.other_numbering_systems)
        numbering = systems.get("native", locale.default_numbering_system) if tag.language in NATIVE_DIGITS else locale.default_numbering_system
        plural = get_plural(locale)
        plural_forms = f"nplurals={plural.num_plurals}; plural={plural.plural_expr};"
    else:  # a language CLDR has no locale for: what its script says, and the plainest rules
        ident = code.replace("-", "_")
        name = native = tag.display_name("en")
        rtl = fonttools_unicodedata.script_horizontal_direction(script, "LTR") == "RTL"
        numbering = "latn"
        plural_forms = "nplurals=2; plural=(n != 1);"
    typography = _typography_for([ident, f"{tag.language}_{script}", tag.language])
    return Language(
        code=code, name=name, native_name=native, script=script, rtl=rtl, digits=_digits(numbering),
        quotes=typography["quotes"], full_stop=typography["stop"], plural_forms=plural_forms, locale=ident,
    )


def language(code: str) -> Language:
    """The language ``code`` names (any spelling :func:`canonical` reads); refused with the
    nearest codes when it names none."""
    if not isinstance(code, str) or not code.strip():
        raise UnknownLanguage("no language code given")
    return _describe(canonical(code))


def is_language(code: str) -> bool:
    try:
        language(code)
    except UnknownLanguage:
        return False
    return True


def parse_targets(value: str, action: str = "translate into", default: tuple[str, ...] | list[str] | None = None) -> list[str]:
    """``"id,zh-Hans"`` or ``"all"`` → canonical target codes, checked; ``all`` (or nothing) is
    ``default`` (a book's own targets) or the four default ones. ``action`` says in the refusal
    what the command was asked to do (``"publish in"``: "cannot publish in 'xx'")."""
    if value.strip() in ("all", ""):
        return list(default or DEFAULT_TARGETS)
    codes = []
    for raw in (c.strip() for c in value.split(",")):
        if not raw:
            continue
        try:
            code = canonical(raw)
        except UnknownLanguage as exc:
            raise UnknownLanguage(f"cannot {action} {raw!r}: {exc.detail}") from None
        if code == SOURCE:
            raise UnknownLanguage(f"cannot {action} {raw!r}: Persian is the language the books are written in")
        if code not in codes:
            codes.append(code)
    return codes


# --- the codes a model writes ------------------------------------------------------

_FAMILY_TOKEN = {
    "nllb": re.compile(r"^([a-z]{3})_([A-Z][a-z]{3})$"),  # FLORES-200: pes_Arab
    "m2m100": re.compile(r"^__([a-z]{2,3})__$"),  # __fa__
    "mbart50": re.compile(r"^([a-z]{2,3})_([A-Z]{2})$"),  # fa_IR, en_XX
}


@functools.lru_cache(maxsize=1)
def _macrolanguages() -> dict[str, str]:
    """Individual language → its macrolanguage (pbt → ps, arz → ar), from the IANA registry langcodes ships."""
    import language_data

    registry = Path(language_data.__file__).with_name("data") / "language-subtag-registry.txt"
    out, subtag = {}, None
    for line in registry.read_text(encoding="utf-8").splitlines():
        if line.startswith("Subtag: "):
            subtag = line[8:].strip()
        elif line.startswith("Macrolanguage: ") and subtag:
            out[subtag] = line[15:].strip()
        elif line == "%%":
            subtag = None
    return out


def model_languages(family: str, tokens) -> dict[str, str]:
    """Canonical code → the model's own code, for every language the tokenizer's language tokens
    name (NLLB ``pes_Arab``, M2M100 ``__fa__``, mBART-50 ``fa_IR``). A language present only
    through one member of its macrolanguage answers for the macrolanguage too: Pashto (``ps``)
    is NLLB's Southern Pashto, ``pbt_Arab``."""
    pattern = _FAMILY_TOKEN.get(family)
    if pattern is None:
        return {}
    found: dict[str, str] = {}
    for token in sorted(tokens):
        match = pattern.match(token)
        if not match:
            continue
        tag = match.group(1) + (f"-{match.group(2)}" if family == "nllb" else "")
        try:
            code = canonical(tag, territory=False)
        except UnknownLanguage:
            continue
        found.setdefault(code, token)
    macro = _macrolanguages()
    members: dict[str, list[str]] = {}
    for code in found:
        head, _, rest = code.partition("-")
        if head in macro:
            members.setdefault(macro[head] + (f"-{rest}" if rest else ""), []).append(code)
    for alias, codes in members.items():
        try:
            alias = canonical(alias, territory=False)
        except UnknownLanguage:
            continue
        if alias not in found and len(codes) == 1:
            found[alias] = found[codes[0]]
    return found


def model_code(family: str, lang: str, languages: dict[str, str], *, model: str = "the model") -> str:
    """The code the model writes for ``lang``; refused naming the model and the nearest codes it has."""
    code = canonical(lang)
    for key in (code, canonical(code, territory=False)):
        if key in languages:
            return languages[key]
    raise UnknownLanguage(f"{model} cannot write {language(code).name} ({code}){_nearest_text(code, list(languages))}")
