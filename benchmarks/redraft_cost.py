"""What a draft that has nothing new to draft costs, whole process, as a user runs it.

    .venv/bin/python benchmarks/redraft_cost.py [--rounds 5] [--book sample|novel] [--lang all]

Three ways, each a fresh ``tarjoman`` process, alternated in every round (A B C A B C …):

- A: ``tarjoman --version`` (Python, click and the package: the floor of any command);
- B: ``tarjoman draft BOOK`` on a project whose every sentence is already drafted (the draft
  cache holds them all): what a user pays to re-run an unchanged book;
- C: the same draft on a fresh copy of the extracted project (cold cache): the first draft.

Goals (issue #17): B − A ≤ 1 s, and B ÷ C ≤ 5 %. Included in B and C: the interpreter's start,
imports, opening the store, reading the manuscript and the glossary, the model's check, writing
the review files. Not included: the extraction, made once before the rounds. The model is the
demo model (``sources/demo-model``, on the transformers back-end, greedy). ``--book novel`` takes
the 150k-word novel from ``../shared/realdata`` (its first draft takes many minutes a language).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOVEL = REPO.parent / "shared" / "realdata" / "docx" / "fa" / "fa_novel_anche-bar-man-gozasht.docx"
TARJOMAN = [sys.executable, "-m", "tarjoman"]


def timed(args: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--book", choices=["sample", "novel"], default="sample")
    parser.add_argument("--lang", default="all")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="redraft-"))
    pristine = work / "pristine"
    (pristine / "sources").mkdir(parents=True)
    if args.book == "sample":
        shutil.copy(REPO / "sources" / "sample.docx", pristine / "sources" / "sample.docx")
        shutil.copy(REPO / "sources" / "sample.yaml", pristine / "sources" / "sample.yaml")
        (pristine / "glossaries").mkdir()
        shutil.copy(REPO / "glossaries" / "sample.csv", pristine / "glossaries" / "sample.csv")
        source = pristine / "sources" / "sample.docx"
    else:
        source = pristine / "sources" / "novel.docx"
        shutil.copy(NOVEL, source)
    book = args.book
    subprocess.run([*TARJOMAN, "extract", str(source), "--book", book], cwd=pristine, check=True, stdout=subprocess.DEVNULL)
    draft = [*TARJOMAN, "draft", book, "--lang", args.lang, "--model", str(REPO / "sources" / "demo-model"), "--beams", "1"]

    drafted = work / "drafted"
    shutil.copytree(pristine, drafted)
    first = timed(draft, drafted)
    print(f"first draft of {book} ({args.lang}) to fill the cache: {first:.1f} s", flush=True)

    times: dict[str, list[float]] = {"version": [], "redraft": [], "first": []}
    for round_ in range(args.rounds):
        times["version"].append(timed([*TARJOMAN, "--version"], drafted))
        times["redraft"].append(timed(draft, drafted))
        fresh = work / f"fresh-{round_}"
        shutil.copytree(pristine, fresh)
        times["first"].append(timed(draft, fresh))
        shutil.rmtree(fresh)
        print(f"round {round_ + 1}: --version {times['version'][-1]:.2f} s, re-draft {times['redraft'][-1]:.2f} s, "
              f"first draft {times['first'][-1]:.2f} s", flush=True)
    shutil.rmtree(work, ignore_errors=True)

    low = {k: min(v) for k, v in times.items()}
    mid = {k: statistics.median(v) for k, v in times.items()}
    for name in times:
        print(f"{name:>8}: min {low[name]:.3f} s, median {mid[name]:.3f} s")
    extra = low["redraft"] - low["version"]
    share = low["redraft"] / low["first"]
    print(f"re-draft − --version: {extra:.2f} s (min), {mid['redraft'] - mid['version']:.2f} s (median); goal ≤ 1 s")
    print(f"re-draft ÷ first draft: {share:.1%} (min), {mid['redraft'] / mid['first']:.1%} (median); goal ≤ 5 %")
    print(f"RESULT book={book} lang={args.lang} version_s={low['version']:.3f} redraft_s={low['redraft']:.3f} first_s={low['first']:.3f} "
          f"redraft_extra_s={extra:.3f} redraft_share={share:.4f} redraft_extra_median_s={mid['redraft'] - mid['version']:.3f} "
          f"redraft_share_median={mid['redraft'] / mid['first']:.4f}")


if __name__ == "__main__":
    main()
