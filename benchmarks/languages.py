"""Embedded fonts, whole or subset: the EPUB's size and the time subsetting adds to ``publish``.

The bundled sample is extracted into a scratch project, drafted with the demo model into Urdu and
Chinese (simplified), and every sentence approved as an NTREX-128 reference sentence of the
language (../shared/realdata), so the books hold real Nastaliq and real Han text. Each book is then
published twice per round, alternated (whole subset whole subset …):

- whole: what Tarjoman did before, and what a competent user writes by hand: the font files as
  they are (Noto Nastaliq Urdu; Noto Serif CJK SC, the face taken out of its collection
  whole), embedded beside the book;
- subset: ``publish`` as it is: each font cut to the characters the book uses (fontTools), from a
  cold cache (the cache of cuts is emptied first: a book's first publication);
- cached: ``publish`` again with nothing changed, the cuts taken from the cache (a book
  republished after a review round that brought no new character).

Included in each time: the whole of ``publish_book`` for the EPUB (rendering, the cover, EPUBCheck).
The subsetting alone is timed too (``typefaces.subset``, every call of the round).

    .venv/bin/python benchmarks/languages.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NTREX = ROOT.parent / "shared" / "realdata" / "parallel" / "ntrex128"
LANGS = {"ur": "urd", "zh-Hans": "zho-CN"}


def _approve(root: Path, lang: str) -> int:
    import polib

    from tarjoman.project import Project
    from tarjoman.queue import import_reviews

    lines = [line for line in (NTREX / f"newstest2019-ref.{LANGS[lang]}.txt").read_text(encoding="utf-8").splitlines() if 20 < len(line) < 200]
    n = 0
    for path in sorted((root / "outputs" / "sample" / "review").glob(f"*/{lang}.po")):
        catalog = polib.pofile(str(path))
        for entry in catalog:
            if entry.msgid and not entry.obsolete:
                entry.msgstr, entry.flags, n = lines[n % len(lines)], [f for f in entry.flags if f != "fuzzy"], n + 1
        catalog.save(str(path))
    result = import_reviews(Project(root), "sample", [lang], who="benchmark")
    if result.problems:
        sys.exit(f"approving {lang}: {result.problems[0]}")
    return n


def _whole(face, chars, *, bold=False):
    """The baseline: the font as it is (a collection's face saved on its own, nothing cut)."""
    from fontTools.ttLib import TTFont

    from tarjoman.typefaces import Subset

    path, index = (face.bold, face.bold_index) if bold and face.bold else (face.regular, face.index)
    if path.suffix.lower() == ".ttc":
        out = io.BytesIO()
        TTFont(str(path), fontNumber=index).save(out)
        data = out.getvalue()
    else:
        data = path.read_bytes()
    font = TTFont(io.BytesIO(data), lazy=True)
    suffix = "otf" if "CFF " in font else "ttf"
    stem = "".join(ch for ch in face.family if ch.isalnum())
    weight = "Bold" if bold and face.bold else "Regular"
    return Subset(face.family, weight.lower() if bold else "normal", f"fonts/{stem}-{weight}-whole.{suffix}", data, len(data), "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not NTREX.is_dir():
        sys.exit(f"{NTREX}: the NTREX-128 references are missing (../shared/realdata)")
    from tarjoman import typefaces
    from tarjoman.book import draft_book, publish_book
    from tarjoman.engines import GenerationSettings, load_engine
    from tarjoman.manuscript import extract
    from tarjoman.project import Project

    real_subset = typefaces.subset
    spent = {"s": 0.0}

    def timed_subset(*a, **k):
        start = time.perf_counter()
        try:
            return real_subset(*a, **k)
        finally:
            spent["s"] += time.perf_counter() - start

    with tempfile.TemporaryDirectory(prefix="tarjoman-bench-") as scratch:
        root = Path(scratch)
        os.environ["TARJOMAN_CACHE"] = str(root / "cache")
        (root / "sources").mkdir()
        for name in ("sample.docx", "sample.yaml"):
            shutil.copy(ROOT / "sources" / name, root / "sources" / name)
        project = Project(root)
        extract(root / "sources" / "sample.docx", project, book="sample")
        engine = load_engine(str(ROOT / "sources" / "demo-model"), settings=GenerationSettings(num_beams=1, max_new_tokens=8))
        draft_book(project, "sample", list(LANGS), engine)
        for lang in LANGS:
            print(f"{lang}: {_approve(root, lang)} sentences approved with NTREX-128 references")
        ways = ("whole", "subset", "cached")
        times = {(lang, way): [] for lang in LANGS for way in ways}
        sizes, fonts, subsetting = {}, {}, {lang: [] for lang in LANGS}
        for round_ in range(args.rounds):
            for lang in LANGS:
                for way in ways:
                    if way == "subset":
                        shutil.rmtree(root / "cache" / "fonts", ignore_errors=True)
                    typefaces.subset = _whole if way == "whole" else timed_subset
                    spent["s"] = 0.0
                    start = time.perf_counter()
                    book = publish_book(project, "sample", lang).files["epub"]
                    times[(lang, way)].append(time.perf_counter() - start)
                    typefaces.subset = real_subset
                    import zipfile

                    with zipfile.ZipFile(book) as z:
                        fonts[(lang, way)] = sum(i.file_size for i in z.infolist() if i.filename.startswith("EPUB/fonts/") and not i.filename.endswith(".txt"))
                    sizes[(lang, way)] = book.stat().st_size
                    if way == "subset":
                        subsetting[lang].append(spent["s"])
                    print(f"  round {round_ + 1} {lang:<8} {way:<6} {times[(lang, way)][-1]:6.2f} s  book {sizes[(lang, way)] / 2**20:6.2f} MiB  fonts {fonts[(lang, way)] / 2**20:6.2f} MiB")
    print(f"{'lang':<8} {'way':<7} {'min s':>7} {'median s':>9} {'book MiB':>9} {'fonts MiB':>10}")
    result = {}
    for lang in LANGS:
        for way in ways:
            t = times[(lang, way)]
            print(f"{lang:<8} {way:<7} {min(t):7.2f} {statistics.median(t):9.2f} {sizes[(lang, way)] / 2**20:9.2f} {fonts[(lang, way)] / 2**20:10.2f}")
        key = lang.split("-")[0]
        result[f"{key}_whole_mib"] = round(sizes[(lang, "whole")] / 2**20, 2)
        result[f"{key}_subset_mib"] = round(sizes[(lang, "subset")] / 2**20, 2)
        result[f"{key}_publish_whole_s"] = round(min(times[(lang, "whole")]), 2)
        result[f"{key}_publish_subset_s"] = round(min(times[(lang, "subset")]), 2)
        result[f"{key}_publish_cached_s"] = round(min(times[(lang, "cached")]), 2)
        result[f"{key}_subsetting_s"] = round(min(subsetting[lang]), 2)
        result[f"{key}_size_ratio"] = round(sizes[(lang, "subset")] / sizes[(lang, "whole")], 3)
        print(f"{lang}: subsetting takes {min(subsetting[lang]):.2f} s (min) of a publish; the book is "
              f"{sizes[(lang, 'subset')] / sizes[(lang, 'whole')]:.1%} of its size with whole fonts")
    print("RESULT " + " ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
