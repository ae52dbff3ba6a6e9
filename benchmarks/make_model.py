"""Build a translation model of a real architecture offline, with random weights.

    .venv/bin/python benchmarks/make_model.py DIR --family nllb|mbart50|marian --size tiny|demo|half|full

The vocabulary is trained on the sample memoir (and, where ../shared/realdata
is present, a few hundred NTREX lines per language). For Marian, DIR becomes a
folder of pair models (fa-en, en-ar, en-fr, en-ur) that Tarjoman pivots through.
The output is nonsense; the shapes, tokenizers and code paths are real.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NTREX = REPO.parent / "shared" / "realdata" / "parallel" / "ntrex128"
NTREX_FILES = ["newstest2019-ref.fas.txt", "newstest2019-ref.arb.txt", "newstest2019-src.eng.txt", "newstest2019-ref.fra.txt", "newstest2019-ref.urd.txt"]
MARIAN_PAIRS = ["fa-en", "en-ar", "en-fr", "en-ur"]


def corpus(lines_per_language: int = 150, *, ntrex: bool = True) -> list[str]:
    """The sample, its reference translations, and (``ntrex``, when present) NTREX lines."""
    import yaml

    from tarjoman.manuscript import read_manuscript

    manuscript, _ = read_manuscript(REPO / "sources" / "sample.docx", book="sample")
    lines = [s.text for s in manuscript.segments()]
    for entry in yaml.safe_load((REPO / "sources" / "sample.references.yaml").read_text(encoding="utf-8")):
        lines += [line for lang in ("ar", "en", "fr", "ur") for line in str(entry.get(lang) or "").splitlines()]
    for name in NTREX_FILES if ntrex else []:
        path = NTREX / name
        if path.is_file():
            lines += path.read_text(encoding="utf-8").splitlines()[:lines_per_language]
    return lines


def make(folder: Path, family: str, size: str, seed: int = 0) -> Path:
    from tarjoman.engines.tiny import build_model

    lines = corpus(ntrex=size != "demo")  # the demo model is rebuilt from the repository alone
    if family == "marian":
        for pair in MARIAN_PAIRS:
            build_model(folder / pair, family="marian", size=size, lines=lines, seed=seed)
        return folder
    return build_model(folder, family=family, size=size, lines=lines, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--family", choices=["nllb", "mbart50", "marian"], default="nllb")
    parser.add_argument("--size", choices=["tiny", "demo", "half", "full"], default="tiny")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    make(args.folder, args.family, args.size, args.seed)
    print(f"wrote {args.family} ({args.size}) to {args.folder}", file=sys.stderr)


if __name__ == "__main__":
    main()
