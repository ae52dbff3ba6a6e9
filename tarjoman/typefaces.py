"""Fonts for every script a book is written in, embedded as subsets of what the book uses.

A published book must show every character it holds, outside the Latin script and common
punctuation (which every reading system has), in a font it carries: Naskh for Arabic, Persian,
Kurdish and Pashto, Nastaliq for Urdu (both shipped with Tarjoman, under the OFL), and for any
other script the best font fontconfig finds on this machine (Noto Serif Devanagari for Hindi,
Noto Serif CJK for Chinese, Noto Serif for Cyrillic…), checked character by character against
its ``cmap`` with fontTools. A script no font covers is refused with one line naming it and the
Debian package that has a font for it.

Embedded fonts are subset to the characters the book uses (fontTools' subsetter, every OpenType
layout feature kept, so Arabic joining, Nastaliq's cascades and Devanagari conjuncts still
form): a Chinese book carries a few hundred kilobytes of its 20 MB font, an Urdu book a part of
Nastaliq's 570 KB.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import shutil
import subprocess
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import EpubError
from .files import cache_root, write_atomic
from .languages import language

FONTS = Path(__file__).resolve().parent / "fonts"
NASKH = "Noto Naskh Arabic"
NASTALIQ = "Noto Nastaliq Urdu"
SHIPPED = {
    NASKH: (FONTS / "NotoNaskhArabic-Regular.ttf", FONTS / "NotoNaskhArabic-Bold.ttf"),
    NASTALIQ: (FONTS / "NotoNastaliqUrdu-Regular.ttf", FONTS / "NotoNastaliqUrdu-Bold.ttf"),
}
# Scripts every reading system can show without help, and those that only mark others.
READER_SCRIPTS = frozenset({"Latn", "Zyyy", "Zinh", "Zzzz"})
# Where to find a font for a script (Debian): the one-line hint of a refusal.
PACKAGES = {"Hani": "fonts-noto-cjk", "Hira": "fonts-noto-cjk", "Kana": "fonts-noto-cjk", "Hang": "fonts-noto-cjk", "Bopo": "fonts-noto-cjk"}


@dataclass(frozen=True)
class Face:
    family: str  # the CSS family name the book uses
    regular: Path
    bold: Path | None
    index: int = 0  # the face's number inside a collection (.ttc)
    bold_index: int = 0
    shipped: bool = False


def script_of(char: str, prefer: str = "") -> str:
    """ISO 15924 script of a character. A common mark only some scripts use (، । 。) counts as one
    of them, the book's own (``prefer``) where it is among them; a full-width form (，！) as Han."""
    from fontTools import unicodedata as ucd

    script = ucd.script(char)
    if script in ("Zyyy", "Zinh"):
        extensions = set(ucd.script_extension(char))
        if extensions and not extensions & {"Latn", "Zyyy", "Zinh"}:
            extensions = {"Hani" if e in ("Hira", "Kana", "Bopo") else e for e in extensions}
            for choice in (prefer, "Arab", "Deva", "Hani"):
                if choice and choice in extensions:
                    return choice
            return sorted(extensions)[0]
        if unicodedata.decomposition(char).startswith(("<wide>", "<narrow>")) or 0x3000 <= ord(char) < 0x3040:
            return "Hani"
    if script in ("Hira", "Kana", "Hani", "Bopo"):
        return "Hani"
    return script


def script_of_language(script: str) -> str:
    """A language's script (CLDR: ``Hans``, ``Jpan``) as :func:`script_of` counts its characters (``Hani``)."""
    return "Hani" if script in ("Hans", "Hant", "Hani", "Jpan") else "Hang" if script == "Kore" else script


def needed(text: str, prefer: str = "") -> dict[str, set[str]]:
    """Script → the characters of ``text`` that need a font the book carries (``prefer``: the
    book's own script, for the marks several scripts share)."""
    out: dict[str, set[str]] = {}
    for char in set(text):
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Co", "Cn", "Zs"):
            continue
        script = script_of(char, prefer)
        if script not in READER_SCRIPTS:
            out.setdefault(script, set()).add(char)
    return out


@functools.lru_cache(maxsize=64)
def _cmap(path: Path, index: int = 0) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(path), fontNumber=index, lazy=True) as font:
        return frozenset(font.getBestCmap() or {})


def covers(face: Face, chars) -> set[str]:
    """The characters of ``chars`` the face has no glyph for."""
    cmap = _cmap(face.regular, face.index)
    return {c for c in chars if ord(c) not in cmap}


_lock = threading.Lock()


# Han characters are drawn differently in each region: the CJK family for the language's own.
_HAN_REGION = {"zh-Hans": " SC", "zh-Hant": " TC", "zh-Hant-HK": " HK", "ja": " JP", "ko": " KR"}


@functools.lru_cache(maxsize=256)
def _system_face(script: str, sample: str, lang: str = "") -> Face | None:
    """The best installed font for ``script`` covering ``sample``: a serif before a sans, regular
    weight, Noto before others (for Han, the family of the language's region); found with
    fc-list, checked with fontTools."""
    region = next((suffix for prefix, suffix in sorted(_HAN_REGION.items(), key=lambda kv: -len(kv[0])) if lang == prefix or lang.startswith(prefix + "-")), "") if script in ("Hani", "Hang") else ""
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return None
    pattern = ":charset=" + " ".join(f"{ord(c):x}" for c in sorted(sample)[:64])
    try:
        listing = subprocess.run([fc_list, "--format", "%{file}|%{index}|%{family[0]}|%{style[0]}\\n", pattern],
                                 capture_output=True, text=True, timeout=60, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    candidates = []
    for line in listing.splitlines():
        parts = line.split("|")
        if len(parts) != 4 or not parts[0].lower().endswith((".ttf", ".otf", ".ttc")):
            continue
        file, index, family, style = Path(parts[0]), int(parts[1] or 0), parts[2], parts[3]
        candidates.append((file, index, family, style))
    def rank(c):
        file, index, family, style = c
        return (bool(region) and not family.endswith(region), "Serif" not in family, style not in ("Regular", "Book"), "Noto" not in family, " UI" in family, family, str(file))
    regulars = sorted((c for c in candidates if c[3] in ("Regular", "Book", "Medium") or "Regular" in c[3]), key=rank)
    for file, index, family, style in regulars:
        face = Face(family, file, None, index)
        if covers(face, sample):
            continue
        bold = next(((f, i) for f, i, fam, st in candidates if fam == family and st == "Bold"), (None, 0))
        return Face(family, file, bold[0], index, bold[1])
    return None


def face_for(script: str, chars, lang: str = "") -> Face | None:
    """The face a book sets ``chars`` of ``script`` in: Tarjoman's own where it covers them, else the system's."""
    if script == "Arab":
        face = Face(NASTALIQ if lang == "ur" else NASKH, *SHIPPED[NASTALIQ if lang == "ur" else NASKH], shipped=True)
        if not covers(face, chars):
            return face
    with _lock:
        return _system_face(script, "".join(sorted(chars)), lang)


def script_name(script: str) -> str:
    from fontTools import unicodedata as ucd

    return {"Hani": "Han (Chinese characters)"}.get(script) or ucd.script_name(script, default=script).replace("_", " ")


def faces_for(text: str, lang: str, *, what: str) -> dict[str, Face]:
    """Script → face for every script of ``text`` that needs one; a script no installed font
    covers is an :class:`EpubError` naming it, a few of its characters and the package to install."""
    out = {}
    for script, chars in sorted(needed(text, script_of_language(language(lang).script) if lang else "").items()):
        face = face_for(script, chars, lang)
        if face is None:
            sample = " ".join(sorted(chars)[:5])
            package = PACKAGES.get(script, "fonts-noto-core")
            raise EpubError(f"no font on this machine covers the {script_name(script)} script ({sample}) of {what}; "
                            f"install one (Debian: apt-get install {package}) and publish again")
        missing = covers(face, chars)
        if missing:
            raise EpubError(f"{face.family} lacks {len(missing)} characters of {what} ({' '.join(sorted(missing)[:5])}); "
                            f"install a font for the {script_name(script)} script (Debian: {PACKAGES.get(script, 'fonts-noto-core')})")
        out[script] = face
    return out


@dataclass(frozen=True)
class Subset:
    family: str
    weight: str  # normal, bold
    file_name: str  # fonts/….ttf or .otf
    data: bytes
    whole_size: int
    licence: str  # the licence text the font carries (name IDs 13 and 14)


def subset(face: Face, chars, *, bold: bool = False) -> Subset:
    """The face cut down to ``chars`` (every layout feature kept). A cut made before for the same
    font file and characters is taken from the cache ($TARJOMAN_CACHE/fonts): republishing a book
    after a review round costs nothing (Nastaliq's closure takes seconds)."""
    path, index = (face.bold, face.bold_index) if bold and face.bold else (face.regular, face.index)
    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{index}|{face.family}|{bold}|{''.join(sorted(set(chars)))}".encode()).hexdigest()[:24]
    cached = cache_root() / "fonts" / f"{key}.json"
    try:
        meta = json.loads(cached.read_text(encoding="utf-8"))
        data = cached.with_suffix(".font").read_bytes()
        if hashlib.sha256(data).hexdigest() == meta["sha256"]:
            return Subset(meta["family"], meta["weight"], meta["file_name"], data, meta["whole_size"], meta["licence"])
    except (OSError, ValueError, KeyError):
        pass
    made = _cut(face, path, index, chars, bold and bool(face.bold))
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(cached.with_suffix(".font"), made.data)
        write_atomic(cached, json.dumps({"family": made.family, "weight": made.weight, "file_name": made.file_name, "whole_size": made.whole_size,
                                         "licence": made.licence, "sha256": hashlib.sha256(made.data).hexdigest()}))
    except OSError:
        pass  # a read-only or full cache: the cut is still good
    return made


def _cut(face: Face, path: Path, index: int, chars, bold: bool) -> Subset:
    from fontTools import subset as ft_subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(path), fontNumber=index, recalcBBoxes=False, recalcTimestamp=False)
    licence = "\n".join(str(font["name"].getDebugName(i) or "") for i in (0, 13, 14)).strip()
    options = ft_subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = False
    options.hinting = False
    options.drop_tables += ["DSIG"]
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(unicodes=sorted({ord(c) for c in chars}))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    data = out.getvalue()
    suffix = "otf" if "CFF " in font or "CFF2" in font else "ttf"
    stem = "".join(ch for ch in face.family if ch.isalnum())
    digest = hashlib.sha256(data).hexdigest()[:8]
    return Subset(face.family, "bold" if bold else "normal", f"fonts/{stem}-{'Bold' if bold else 'Regular'}-{digest}.{suffix}",
                  data, path.stat().st_size, licence)
