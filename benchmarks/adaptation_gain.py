"""What adapting on approved chapters does for the next chapter, and how good the demo model is.

    .venv/bin/python benchmarks/adaptation_gain.py [--epochs N] [--demo-model DIR]

The demo setup: an NLLB-architecture model of the demo size (d256, 3+3 layers) with
random weights and the demo vocabulary (benchmarks/make_model.py --size demo). It is
adapted (``tarjoman.adapt``, trained from its random start) on the reference
translations of the sample's first chapters (front matter and chapters 1–3, four
languages, with the glossary's terms taught), then scored on the last chapter,
which it never saw: chrF (sacrebleu) of its drafts against the references, before
and after. Goal: +10 points. The demo model (sources/demo-model, trained on the
whole sample) is scored on the whole sample: goal ≥ 80, since it has seen it all.
Last line: ``RESULT chrf_before=… chrf_after=… demo_chrf=…``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
LANGS = ["ar", "en", "fr", "ur"]


def chapters_of_units() -> dict[str, str]:
    from tarjoman.manuscript import read_manuscript

    manuscript, _ = read_manuscript(REPO / "sources" / "sample.docx", book="sample")
    return {unit.text: chapter.id for chapter in manuscript.chapters for unit in chapter.units()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--demo-model", default=str(REPO / "sources" / "demo-model"))
    args = parser.parse_args()

    from make_model import make

    from tarjoman.adapt import AdaptOptions, adapt_model, evaluate, mean_chrf, reference_pairs, with_terms
    from tarjoman.engines import GenerationSettings, load_engine
    from tarjoman.glossary import load_termbase
    from tarjoman.project import Project

    base = REPO / ".cache" / "bench-models" / "nllb-demo"
    if not (base / "config.json").is_file():
        make(base, "nllb", "demo")
    where = chapters_of_units()
    pairs = reference_pairs(REPO / "sources" / "sample.references.yaml", LANGS)
    last = max(where.values())
    # A couplet's lines are pairs of their own; their unit is the one whose text holds them.
    chapter = {p.source: where.get(p.source) or next(c for t, c in where.items() if p.source in t) for p in pairs}
    first = [p for p in pairs if chapter[p.source] != last]
    held = [p for p in pairs if chapter[p.source] == last]
    train = with_terms(first, load_termbase(Project(REPO), "sample"))
    print(f"train: {len(first)} pairs of {sorted({chapter[p.source] for p in first})} (+{len(train) - len(first)} with terms); "
          f"held out: {len(held)} pairs of {last}")
    # The demo model's recipe (Makefile, demo-model), on the first chapters only.
    options = AdaptOptions(epochs=args.epochs, learning_rate=1e-3, batch_size=32, holdout=0, label_smoothing=0.0, dropout=0.0,
                           eval_every=args.epochs, patience=100, from_scratch=True, seed=0)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = adapt_model(str(base), Path(tmp) / "adapted", train, held, options)
    print(f"adapted in {time.perf_counter() - started:.0f} s ({result.epochs_run} epochs)")
    print(f"  {'lang':<5} {'chrF before':>12} {'chrF after':>11}   (on {last}, never seen in training)")
    for lang in LANGS:
        print(f"  {lang:<5} {result.before[lang].chrf:>12.1f} {result.after[lang].chrf:>11.1f}")
    before, after = mean_chrf(result.before), mean_chrf(result.after)
    print(f"  all   {before:>12.1f} {after:>11.1f}   gain {after - before:+.1f} (goal +10)")

    demo = args.demo_model
    demo_chrf = float("nan")
    if (Path(demo) / "config.json").is_file():
        scores = evaluate(load_engine(demo, settings=GenerationSettings(num_beams=1)), pairs)
        demo_chrf = mean_chrf(scores)
        print(f"demo model {demo} on the whole sample: " + ", ".join(f"{lang} {s.chrf:.1f}" for lang, s in scores.items())
              + f"; all {demo_chrf:.1f} (goal ≥ 80)")
    else:
        print(f"no demo model at {demo}: build it with `make demo-model`")
    print(f"RESULT chrf_before={before:.2f} chrf_after={after:.2f} demo_chrf={demo_chrf:.2f}")


if __name__ == "__main__":
    main()
