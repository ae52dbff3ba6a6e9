"""Adapt: fine-tune the drafting model on the approved translations of a book, after a review round.

In:  ``books`` (the first is the one whose folder receives the model), ``langs``, the ``base``
     model, training settings, the project ``root``.
Out: the adapted model folder; the held-out chrF/BLEU before and after as a table artifact
     and a markdown artifact with the training history.

Deployed on the GPU work pool (``prefect.yaml``): a team runs it after each review round and
drafts the next chapters with the model it writes.

    .venv/bin/python -m flows.adapt sample --base facebook/nllb-200-distilled-600M
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows import embedded_settings
from tarjoman.adapt import AdaptOptions, adapt_books
from tarjoman.languages import parse_targets
from tarjoman.project import Project


@task(name="fine-tune", task_run_name="fine-tune {base}")
def fine_tune(root: str, books: list[str], base: str, out: str, langs: list[str], options: dict) -> dict:
    project = Project(Path(root))
    result = adapt_books(project, books, base, Path(out), langs=langs, options=AdaptOptions(**options),
                         progress=lambda record: print(f"epoch {record['epoch']}: loss {record['loss']}, chrF {record['chrf']}"))
    return {
        "out": str(result.out), "train_pairs": result.train_pairs, "heldout_pairs": result.heldout_pairs,
        "epochs_run": result.epochs_run, "best_epoch": result.best_epoch, "seconds": result.seconds, "history": result.history,
        "scores": [{"lang": lang, "pairs": after.pairs, "chrf_before": result.before[lang].chrf, "chrf_after": after.chrf,
                    "bleu_before": result.before[lang].bleu, "bleu_after": after.bleu} for lang, after in result.after.items()],
    }


@flow(name="adapt", log_prints=True)
def adapt_flow(books: list[str], base: str, out: str | None = None, langs: str = "all", epochs: int = 8, learning_rate: float = 5e-5,
               holdout: float = 0.1, seed: int = 0, device: str | None = None, root: str = ".") -> dict:
    """Fine-tune ``base`` on the approved pairs of ``books`` and score it before and after on held-out pairs."""
    out = out or str(Project(Path(root)).book_dir(books[0]) / "models" / "adapted")
    options = asdict(AdaptOptions(epochs=epochs, learning_rate=learning_rate, holdout=holdout, seed=seed, device=device))
    summary = fine_tune(root, list(books), base, out, parse_targets(langs, "adapt a model to"), options)
    create_table_artifact(summary["scores"], key=f"adapt-{books[0]}", description=f"held-out chrF/BLEU of {base} before and after adapting")
    lines = [f"# Adapted {base}", "", f"{summary['train_pairs']} training pairs, {summary['heldout_pairs']} held out; "
             f"best epoch {summary['best_epoch']} of {summary['epochs_run']}; {summary['seconds']} s.", "", f"Model: `{summary['out']}`", ""]
    lines += [f"- epoch {r['epoch']}: loss {r['loss']}, held-out chrF {r['chrf']}" for r in summary["history"]]
    create_markdown_artifact("\n".join(lines), key=f"adapt-{books[0]}-history")
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("books", nargs="+")
    parser.add_argument("--base", required=True)
    parser.add_argument("--out")
    parser.add_argument("--langs", default="all")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--root", default=".")
    args = parser.parse_args()
    with embedded_settings():
        adapt_flow(args.books, args.base, args.out, args.langs, args.epochs, root=args.root)
