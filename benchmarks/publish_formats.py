"""Publishing the 150k-word novel in one language as EPUB, PDF and Word: time and size of each.

The real novel-memoir from ../shared/realdata is extracted into a scratch project and published as
a draft edition (no drafts: every sentence is its Persian, as a proof before translation begins,
so the book is the full length of the novel); each format is built with ``publish_book`` alone,
the three alternated round by round (EPUB PDF DOCX EPUB PDF DOCX …) so that a load on the shared
machine falls on all of them. The EPUB's figure is the pair for the others: the ratio says how
much longer a print or Word edition takes than the ebook a publisher already waits for (EPUBCheck
included in the EPUB's time).

    .venv/bin/python benchmarks/publish_formats.py [--lang ar] [--rounds 2]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NOVEL = ROOT.parent / "shared" / "realdata" / "docx" / "fa" / "fa_novel_anche-bar-man-gozasht.docx"
FORMATS = ("epub", "pdf", "docx")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default="ar", choices=["ar", "en", "fr", "ur"])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not NOVEL.is_file():
        sys.exit(f"{NOVEL}: the novel is missing (../shared/realdata)")
    from tarjoman.book import publish_book
    from tarjoman.manuscript import extract
    from tarjoman.project import Project

    with tempfile.TemporaryDirectory(prefix="tarjoman-bench-") as scratch:
        root = Path(scratch)
        (root / "sources").mkdir()
        shutil.copy(NOVEL, root / "sources" / "novel.docx")
        project = Project(root)
        manuscript = extract(root / "sources" / "novel.docx", project)
        words = sum(len(unit.text.split()) for chapter in manuscript.chapters for unit in chapter.units())
        print(f"novel: {len(manuscript.chapters)} chapters, {words} words, published in {args.lang} as a draft")
        times: dict[str, list[float]] = {f: [] for f in FORMATS}
        sizes, pages = {}, None
        for round_ in range(args.rounds):
            for form in FORMATS:
                start = time.perf_counter()
                result = publish_book(project, "novel", args.lang, draft=True, formats=(form,))
                times[form].append(time.perf_counter() - start)
                sizes[form] = result.files[form].stat().st_size
                pages = result.pages if form == "pdf" else pages
                print(f"  round {round_ + 1} {form:<4} {times[form][-1]:7.1f} s  {sizes[form] / 2**20:6.2f} MiB")
    print(f"{'format':<6} {'min s':>7} {'median s':>9} {'× epub':>7} {'MiB':>7}")
    epub = min(times["epub"])
    for form in FORMATS:
        print(f"{form:<6} {min(times[form]):7.1f} {statistics.median(times[form]):9.1f} {min(times[form]) / epub:7.2f} {sizes[form] / 2**20:7.2f}")
    print(f"PDF: {pages} pages, {min(times['pdf']) / pages * 1000:.0f} ms a page")
    print("RESULT " + " ".join(
        [f"lang={args.lang}", f"words={words}", f"pdf_pages={pages}"]
        + [f"{form}_s={min(times[form]):.2f}" for form in FORMATS]
        + [f"{form}_median_s={statistics.median(times[form]):.2f}" for form in FORMATS]
        + [f"{form}_mib={sizes[form] / 2**20:.2f}" for form in FORMATS]
        + [f"pdf_over_epub={min(times['pdf']) / epub:.2f}", f"docx_over_epub={min(times['docx']) / epub:.2f}"]))


if __name__ == "__main__":
    main()
