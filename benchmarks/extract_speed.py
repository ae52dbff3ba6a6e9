"""How long extraction takes on a real 150k-word Persian novel-memoir.

    .venv/bin/python benchmarks/extract_speed.py [MANUSCRIPT]

The baseline, measured in the same run, is the least any reader must do:
python-docx opening the file and joining ``paragraph.text``. The ratio says what
chapter detection, normalisation, footnotes, images and segmentation cost on
top of that. Goal: under 5 s for the novel. Best of three runs each.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOVEL = REPO.parent / "shared" / "realdata" / "docx" / "fa" / "fa_novel_anche-bar-man-gozasht.docx"


def best_of(runs: int, work) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    import docx

    from tarjoman.manuscript import read_manuscript

    source = Path(sys.argv[1]) if len(sys.argv) > 1 else NOVEL
    if not source.is_file():
        sys.exit(f"manuscript not found: {source}")
    baseline, text = best_of(3, lambda: "\n".join(p.text for p in docx.Document(str(source)).paragraphs))
    seconds, (manuscript, _) = best_of(3, lambda: read_manuscript(source, book="bench"))
    summary = manuscript.summary()
    words = len(text.split())
    print(f"manuscript: {source.name} ({words} words, {summary['chapters']} chapters, {summary['segments']} segments)")
    print(f"baseline (python-docx paragraph text): {baseline:.2f} s")
    print(f"tarjoman extract:                      {seconds:.2f} s  ({seconds / baseline:.1f}× the baseline, {words / seconds:,.0f} words/s)")
    print(f"goal under 5 s: {'met' if seconds < 5 else 'NOT met'}")
    print(f"RESULT extract_seconds={seconds:.3f} baseline_seconds={baseline:.3f} ratio={seconds / baseline:.2f} segments={summary['segments']} words={words}")


if __name__ == "__main__":
    main()
