"""How long extraction takes on a real 150k-word Persian novel-memoir, against the least a reader must do.

    .venv/bin/python benchmarks/extract_speed.py [MANUSCRIPT] [--rounds 5]

Ways, alternated in every round (Z P T Z P T …), min and median of each printed:

- Z, the baseline: a plain pass a competent user writes: ``zipfile`` opens the .docx, lxml
  parses ``word/document.xml`` and the text of every ``w:p`` is joined from its ``w:t``;
- P: python-docx opening the file and joining ``paragraph.text`` (its paragraph walk);
- T: Tarjoman's ``read_manuscript``: chapters, normalisation, footnotes, images, the language
  of every block and sentence segmentation (nothing written to disk).

Goal (issue #17): T ≤ 2× Z.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOVEL = REPO.parent / "shared" / "realdata" / "docx" / "fa" / "fa_novel_anche-bar-man-gozasht.docx"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def plain_pass(source: Path) -> str:
    from lxml import etree

    with zipfile.ZipFile(source) as archive:
        root = etree.fromstring(archive.read("word/document.xml"))
    return "\n".join("".join(t.text or "" for t in p.iter(f"{W}t")) for p in root.iter(f"{W}p"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manuscript", nargs="?", type=Path, default=NOVEL)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    import docx

    from tarjoman.manuscript import read_manuscript

    source = args.manuscript
    if not source.is_file():
        sys.exit(f"manuscript not found: {source}")
    ways = {
        "Z": lambda: plain_pass(source),
        "P": lambda: "\n".join(p.text for p in docx.Document(str(source)).paragraphs),
        "T": lambda: read_manuscript(source, book="bench")[0],
    }
    ways["T"]()  # imports and first-use tables, outside the rounds
    times: dict[str, list[float]] = {name: [] for name in ways}
    results = {}
    for _ in range(args.rounds):
        for name, way in ways.items():
            started = time.perf_counter()
            results[name] = way()
            times[name].append(time.perf_counter() - started)
    summary = results["T"].summary()
    words = len(results["Z"].split())
    print(f"manuscript: {source.name} ({words} words, {summary['chapters']} chapters, {summary['segments']} segments), {args.rounds} rounds")
    low = {k: min(v) for k, v in times.items()}
    mid = {k: statistics.median(v) for k, v in times.items()}
    labels = {"Z": "zip + lxml, every w:p's text (baseline)", "P": "python-docx, paragraph.text", "T": "tarjoman read_manuscript"}
    for name in ways:
        print(f"{name} {labels[name]:<42} min {low[name]:6.2f} s  median {mid[name]:6.2f} s  {low[name] / low['Z']:5.2f}× the baseline")
    ratio = low["T"] / low["Z"]
    print(f"Tarjoman ÷ plain pass: {ratio:.2f} (min), {mid['T'] / mid['Z']:.2f} (median); goal ≤ 2")
    print(f"RESULT extract_s={low['T']:.3f} baseline_s={low['Z']:.3f} python_docx_s={low['P']:.3f} ratio={ratio:.2f} "
          f"ratio_median={mid['T'] / mid['Z']:.2f} segments={summary['segments']} words={words}")


if __name__ == "__main__":
    main()
