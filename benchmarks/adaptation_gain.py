"""What adapting on approved chapters does for the next chapter, and how good the demo model is.

    .venv/bin/python benchmarks/adaptation_gain.py [--epochs N] [--demo-model DIR]

The demo setup: an NLLB-architecture model of the demo size (d256, 3+3 layers) with
random weights and the demo vocabulary (benchmarks/make_model.py --size demo). It is
adapted (``tarjoman.adapt``, trained from its random start) on the reference
translations of the sample's first chapters (front matter and chapters 1–3, four
languages, with the glossary's terms taught; 15 % of those sentences held out for
early stopping), then scored on the last chapter, which neither training nor early
stopping saw: chrF (sacrebleu) of its drafts against the references, before and
after. Goal: +10 points. The demo model (sources/demo-model, trained on the
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
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--demo-model", default=str(REPO / "sources" / "demo-model"))
    args = parser.parse_args()

    from make_model import make

    from tarjoman.adapt import AdaptOptions, adapt_model, evaluate, mean_chrf, reference_pairs, split_heldout, with_terms
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
    test = [p for p in pairs if chapter[p.source] == last]
    fit, stop = split_heldout(first, 0.15)
    train = with_terms(fit, load_termbase(Project(REPO), "sample"))
    print(f"train: {len(fit)} pairs of {sorted({chapter[p.source] for p in first})} (+{len(train) - len(fit)} with terms), "
          f"{len(stop)} held out for early stopping; test: {len(test)} pairs of {last}")
    # Generalising, not memorising: dropout and label smoothing on, early stopping on held-out chrF.
    options = AdaptOptions(epochs=args.epochs, learning_rate=1e-3, batch_size=32, label_smoothing=0.1, dropout=0.1,
                           eval_every=5, patience=3, from_scratch=True, seed=0)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = adapt_model(str(base), Path(tmp) / "adapted", train, stop, options)
        settings = GenerationSettings(num_beams=1)
        before_scores = evaluate(load_engine(str(base), settings=settings), test)
        after_scores = evaluate(load_engine(str(result.out), settings=settings), test)
    print(f"adapted in {time.perf_counter() - started:.0f} s ({result.epochs_run} epochs, best {result.best_epoch})")
    print(f"  {'lang':<5} {'chrF before':>12} {'chrF after':>11}   (on {last}, never seen in training)")
    for lang in LANGS:
        print(f"  {lang:<5} {before_scores[lang].chrf:>12.1f} {after_scores[lang].chrf:>11.1f}")
    before, after = mean_chrf(before_scores), mean_chrf(after_scores)
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
