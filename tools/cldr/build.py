"""Build tarjoman/data/cldr-typography.json from CLDR's JSON release (the npm package cldr-misc-full).

Babel carries most of CLDR (names, direction, numbering systems, plural rules) but not two things a
translation's typography needs: the quotation marks of each language (``delimiters.json``) and its
sentence punctuation (the punctuation exemplar set in ``characters.json``). This script takes them from
the pinned CLDR release, so they are CLDR's, not typed by hand:

    cd tools/cldr && npm pack cldr-misc-full@48.2.0 && tar xzf cldr-misc-full-48.2.0.tgz
    ../../.venv/bin/python build.py package

For each locale: the four quotation marks, and the language's full stop: the first sentence
terminator (Unicode Sentence_Terminal) of its punctuation exemplars that is not a question or an
exclamation mark nor a full- or half-width form, preferring one of the language's own to the Latin «.».
"""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

import regex

OUT = Path(__file__).resolve().parents[2] / "tarjoman" / "data" / "cldr-typography.json"


def _exemplar(text: str) -> list[str]:
    """``[\\- ‐ , ; \\: ! ? . … ।]`` → the characters, in order (ranges and escapes as CLDR writes them)."""
    body = text.strip()[1:-1]
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            c, i = body[i + 1], i + 1
        elif c in " {}":
            i += 1
            continue
        out.append(c)
        i += 1
    return out


def full_stop(punctuation: list[str]) -> str:
    stops = [c for c in punctuation if regex.match(r"\p{Sentence_Terminal}", c)
             and not any(w in unicodedata.name(c, "") for w in ("QUESTION", "EXCLAMATION"))
             and not unicodedata.decomposition(c).startswith(("<wide>", "<narrow>", "<small>"))]
    own = [c for c in stops if c not in ".…"]
    return (own or stops or ["."])[0]


def build(package: Path) -> dict:
    version = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    locales = {}
    for folder in sorted((package / "main").iterdir()):
        name = folder.name
        try:
            delimiters = json.loads((folder / "delimiters.json").read_text(encoding="utf-8"))["main"][name]["delimiters"]
            characters = json.loads((folder / "characters.json").read_text(encoding="utf-8"))["main"][name]["characters"]
        except (FileNotFoundError, KeyError):
            continue
        quotes = [delimiters[k] for k in ("quotationStart", "quotationEnd", "alternateQuotationStart", "alternateQuotationEnd")]
        locales[name.replace("-", "_")] = {"quotes": "".join(quotes), "stop": full_stop(_exemplar(characters.get("punctuation", "[.]")))}
    return {"cldr": version, "source": "npm cldr-misc-full " + version + " (Unicode License v3)", "locales": locales}


if __name__ == "__main__":
    data = build(Path(sys.argv[1]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(data['locales'])} locales from CLDR {data['cldr']}")
